//! Rendering Arrow record batches as text for people (table, markdown) and
//! for programs (csv, tsv, json, ndjson), and writing Parquet files. Model
//! output is untrusted: text for people has control characters neutralised.

use crate::error::{Error, Result};
use crate::style::Style;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Schema};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::str::FromStr;

pub mod paged;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Tsv,
    Json,
    Ndjson,
    Markdown,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Format, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "table" => Format::Table,
            "csv" => Format::Csv,
            "tsv" => Format::Tsv,
            "json" => Format::Json,
            "ndjson" | "jsonl" => Format::Ndjson,
            "markdown" | "md" => Format::Markdown,
            other => {
                return Err(format!(
                    "unknown format `{other}`; formats: table, csv, tsv, json, ndjson, markdown"
                ))
            }
        })
    }
}

impl Format {
    pub const NAMES: [&'static str; 6] = ["table", "csv", "tsv", "json", "ndjson", "markdown"];

    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Markdown => "markdown",
        }
    }

    /// The format named by an output file's extension; `Ok(None)` for Parquet.
    pub fn from_extension(path: &str) -> std::result::Result<Option<Format>, String> {
        let ext = std::path::Path::new(path)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        Ok(Some(match ext.as_str() {
            "csv" => Format::Csv,
            "tsv" => Format::Tsv,
            "json" => Format::Json,
            "ndjson" | "jsonl" => Format::Ndjson,
            "md" | "markdown" => Format::Markdown,
            "txt" => Format::Table,
            "parquet" => return Ok(None),
            _ => {
                return Err(format!(
                    "{path}: cannot tell the output format from the extension; use .csv .tsv .json .ndjson .md .parquet"
                ))
            }
        }))
    }
}

/// Options of text rendering.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    /// Fit tables to the terminal (or to `width`): long cells wrap.
    pub fit: bool,
    /// The width to fit to; None: the terminal's, when there is one.
    pub width: Option<u16>,
    /// Longest text cell shown in a table, in characters.
    pub max_cell: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            fit: false,
            width: None,
            max_cell: 80,
        }
    }
}

/// One value of a result.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

/// The value at `row` of `array`.
pub fn cell(array: &ArrayRef, row: usize) -> Cell {
    use datafusion::arrow::datatypes::*;
    if array.is_null(row) {
        return Cell::Null;
    }
    match array.data_type() {
        DataType::Boolean => Cell::Bool(array.as_boolean().value(row)),
        DataType::Int8 => Cell::Int(array.as_primitive::<Int8Type>().value(row) as i64),
        DataType::Int16 => Cell::Int(array.as_primitive::<Int16Type>().value(row) as i64),
        DataType::Int32 => Cell::Int(array.as_primitive::<Int32Type>().value(row) as i64),
        DataType::Int64 => Cell::Int(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => Cell::Int(array.as_primitive::<UInt8Type>().value(row) as i64),
        DataType::UInt16 => Cell::Int(array.as_primitive::<UInt16Type>().value(row) as i64),
        DataType::UInt32 => Cell::Int(array.as_primitive::<UInt32Type>().value(row) as i64),
        DataType::UInt64 => {
            let v = array.as_primitive::<UInt64Type>().value(row);
            i64::try_from(v)
                .map(Cell::Int)
                .unwrap_or(Cell::Float(v as f64))
        }
        DataType::Float32 => Cell::Float(array.as_primitive::<Float32Type>().value(row) as f64),
        DataType::Float64 => Cell::Float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => Cell::Text(array.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Cell::Text(array.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Cell::Text(array.as_string_view().value(row).to_string()),
        _ => {
            let fmt = datafusion::arrow::util::display::ArrayFormatter::try_new(
                array.as_ref(),
                &Default::default(),
            );
            match fmt {
                Ok(f) => Cell::Text(f.value(row).to_string()),
                Err(_) => Cell::Null,
            }
        }
    }
}

pub use crate::text::neutralize;

fn clip(s: String, max: usize) -> String {
    if s.chars().count() <= max {
        s
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A cell as people read it: percentages with two decimals, p-values with
/// three significant digits, control characters neutralised.
pub fn human(c: &Cell, style: Option<Style>) -> String {
    match c {
        Cell::Null => String::new(),
        Cell::Bool(b) => b.to_string(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(f) => match style {
            Some(Style::Percent) => format!("{f:.2}"),
            Some(Style::PValue) => p_value(*f),
            None => format!("{f}"),
        },
        Cell::Text(s) => neutralize(s),
    }
}

/// A p-value as people read it: three significant digits in exponent
/// form, in every row alike (`5.57e-3`, `1.00e0`), so that a column of
/// p-values lines up digit for digit and none is rounded to nothing.
pub fn p_value(f: f64) -> String {
    if !f.is_finite() {
        return format!("{f}");
    }
    format!("{f:.2e}")
}

/// A number with `digits` significant digits, not in exponent form above 1e-4.
pub fn significant(f: f64, digits: i32) -> String {
    if f == 0.0 || !f.is_finite() {
        return format!("{f}");
    }
    let mag = f.abs().log10().floor() as i32;
    if mag < -4 {
        return format!("{:.*e}", (digits - 1) as usize, f);
    }
    let decimals = (digits - 1 - mag).max(0) as usize;
    format!("{f:.decimals$}")
}

/// A cell as programs read it (csv, tsv): full precision, empty for null.
fn machine(c: &Cell) -> String {
    match c {
        Cell::Null => String::new(),
        Cell::Bool(b) => b.to_string(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(f) => format!("{f}"),
        Cell::Text(s) => s.clone(),
    }
}

fn json_value(c: &Cell) -> String {
    match c {
        Cell::Null => "null".into(),
        Cell::Bool(b) => b.to_string(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(f) if f.is_finite() => {
            let s = format!("{f}");
            if s.contains(['.', 'e', 'E']) {
                s
            } else {
                format!("{s}.0")
            }
        }
        Cell::Float(_) => "null".into(),
        Cell::Text(s) => serde_json::to_string(s).unwrap_or_else(|_| "null".into()),
    }
}

fn is_numeric(t: &DataType) -> bool {
    t.is_numeric()
}

/// Let a table wrap to the terminal when there is a usable one (at least
/// 40 columns); elsewhere it keeps its natural width.
pub fn fit_to_terminal(t: &mut comfy_table::Table) {
    if t.width().is_some_and(|w| w >= 40) {
        t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    }
}

/// A table of `rows` in medql's style: no lines between rows, numbers
/// right-aligned, text neutralised and clipped.
fn new_table(
    names: &[&str],
    schema: &Schema,
    style_of: &[Option<Style>],
    rows: impl Iterator<Item = Vec<Cell>>,
    opts: &RenderOptions,
) -> comfy_table::Table {
    use comfy_table::{presets, CellAlignment, Table, TableComponent};
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.remove_style(TableComponent::HorizontalLines);
    t.remove_style(TableComponent::MiddleIntersections);
    t.remove_style(TableComponent::LeftBorderIntersections);
    t.remove_style(TableComponent::RightBorderIntersections);
    t.set_header(names.iter().map(|n| neutralize(n)));
    for row in rows {
        t.add_row(
            row.iter()
                .enumerate()
                .map(|(i, c)| comfy_table::Cell::new(clip(human(c, style_of[i]), opts.max_cell))),
        );
    }
    for (i, f) in schema.fields().iter().enumerate() {
        if is_numeric(f.data_type()) {
            if let Some(c) = t.column_mut(i) {
                c.set_cell_alignment(CellAlignment::Right);
            }
        }
    }
    t
}

/// A table laid out with given column widths (padding included), for the
/// blocks of a long table after the first; longer cells wrap.
pub(crate) fn table_with_widths(
    batches: &[RecordBatch],
    schema: &Schema,
    styles: &HashMap<String, Style>,
    opts: &RenderOptions,
    widths: &[u16],
) -> String {
    use comfy_table::{ColumnConstraint, ContentArrangement, Width};
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let style_of: Vec<Option<Style>> = names.iter().map(|n| styles.get(*n).copied()).collect();
    let rows = batches.iter().flat_map(|b| {
        (0..b.num_rows()).map(move |r| b.columns().iter().map(|a| cell(a, r)).collect::<Vec<_>>())
    });
    let mut t = new_table(&names, schema, &style_of, rows, opts);
    for (i, w) in widths.iter().enumerate() {
        if let Some(c) = t.column_mut(i) {
            c.set_constraint(ColumnConstraint::Absolute(Width::Fixed(*w)));
        }
    }
    let total: usize = widths.iter().map(|w| *w as usize).sum::<usize>() + widths.len() + 1;
    t.set_width(total.min(u16::MAX as usize) as u16);
    t.set_content_arrangement(ContentArrangement::Dynamic);
    let mut s = t.to_string();
    s.push('\n');
    s
}

/// Render batches in a text format.
pub fn render(
    batches: &[RecordBatch],
    schema: &Schema,
    styles: &HashMap<String, Style>,
    format: Format,
    opts: &RenderOptions,
) -> Result<String> {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let style_of: Vec<Option<Style>> = names.iter().map(|n| styles.get(*n).copied()).collect();
    let rows = batches.iter().flat_map(|b| {
        (0..b.num_rows()).map(move |r| b.columns().iter().map(|a| cell(a, r)).collect::<Vec<_>>())
    });
    Ok(match format {
        Format::Table => {
            use comfy_table::{ColumnConstraint, ContentArrangement, Width};
            let mut t = new_table(&names, schema, &style_of, rows, opts);
            let natural = t.to_string();
            let widest = |s: &str| s.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            let limit = if opts.fit {
                opts.width.or_else(|| t.width()).filter(|w| *w >= 40)
            } else {
                None
            };
            let mut s = match limit {
                Some(w) if widest(&natural) > w as usize => {
                    // Wrap text columns (down to 12 characters), never numbers;
                    // when even that is too wide, keep the unwrapped table.
                    t.set_width(w);
                    t.set_content_arrangement(ContentArrangement::Dynamic);
                    for (i, f) in schema.fields().iter().enumerate() {
                        if let Some(c) = t.column_mut(i) {
                            c.set_constraint(if is_numeric(f.data_type()) {
                                ColumnConstraint::ContentWidth
                            } else {
                                ColumnConstraint::LowerBoundary(Width::Fixed(12))
                            });
                        }
                    }
                    let wrapped = t.to_string();
                    if widest(&wrapped) <= w as usize {
                        wrapped
                    } else {
                        natural
                    }
                }
                _ => natural,
            };
            s.push('\n');
            s
        }
        Format::Markdown => {
            let esc = |s: String| {
                s.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
                    .replace('|', "\\|")
            };
            let mut s = String::new();
            let _ = writeln!(
                s,
                "| {} |",
                names
                    .iter()
                    .map(|n| esc(neutralize(n)))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
            let _ = writeln!(
                s,
                "|{}|",
                schema
                    .fields()
                    .iter()
                    .map(|f| if is_numeric(f.data_type()) {
                        "---:"
                    } else {
                        "---"
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            );
            for row in rows {
                let cells: Vec<String> = row
                    .iter()
                    .enumerate()
                    .map(|(i, c)| esc(human(c, style_of[i])))
                    .collect();
                let _ = writeln!(s, "| {} |", cells.join(" | "));
            }
            s
        }
        Format::Csv | Format::Tsv | Format::Json | Format::Ndjson => {
            let mut w = StreamWriter::new(Vec::new(), schema, format)?;
            for b in batches {
                w.write(b)?;
            }
            String::from_utf8(w.finish()?).map_err(|e| Error::engine("writing text", e))?
        }
    })
}

/// Longest text cell of an HTML table, in characters.
pub const HTML_MAX_CELL: usize = 200;

/// A result as an HTML table, for notebooks: every cell as the table
/// format shows it (percentages with two decimals, p-values with three
/// significant digits, control characters neutralised, long text clipped)
/// and escaped, numbers right-aligned, at most `max_rows` rows; a line
/// under the table says how many rows there are when some were left out.
pub fn html(
    batches: &[RecordBatch],
    schema: &Schema,
    styles: &HashMap<String, Style>,
    max_rows: usize,
) -> String {
    use crate::text::html_escape;
    let fields = schema.fields();
    let numeric: Vec<bool> = fields.iter().map(|f| is_numeric(f.data_type())).collect();
    let style_of: Vec<Option<Style>> = fields
        .iter()
        .map(|f| styles.get(f.name()).copied())
        .collect();
    let align = |i: usize| {
        if numeric[i] {
            " style=\"text-align:right\""
        } else {
            " style=\"text-align:left\""
        }
    };
    let mut s = String::from("<table class=\"medql\">\n<thead><tr>");
    for (i, f) in fields.iter().enumerate() {
        let _ = write!(
            s,
            "<th{}>{}</th>",
            align(i),
            html_escape(&neutralize(f.name()))
        );
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let rows = batches
        .iter()
        .flat_map(|b| (0..b.num_rows()).map(move |r| (b, r)))
        .take(max_rows);
    for (b, r) in rows {
        s.push_str("<tr>");
        for (i, a) in b.columns().iter().enumerate() {
            let text = clip(human(&cell(a, r), style_of[i]), HTML_MAX_CELL);
            let _ = write!(s, "<td{}>{}</td>", align(i), html_escape(&text));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table>\n");
    if total > max_rows {
        let _ = writeln!(s, "<p>showing the first {max_rows} of {total} rows</p>");
    } else {
        let _ = writeln!(s, "<p>{total} row{}</p>", if total == 1 { "" } else { "s" });
    }
    s
}

/// Writes a result batch by batch in a format for programs (csv, tsv, json,
/// ndjson), so that a huge result never has to be held in memory.
pub struct StreamWriter<W: std::io::Write> {
    sink: Sink<W>,
    keys: Vec<String>,
    rows: u64,
}

enum Sink<W: std::io::Write> {
    Delimited(Box<csv::Writer<W>>),
    Json(W),
    Ndjson(W),
}

fn write_err(e: std::io::Error) -> Error {
    Error::io("output", e)
}

fn csv_err(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => write_err(e),
        other => Error::engine("writing csv", format!("{other:?}")),
    }
}

impl<W: std::io::Write> StreamWriter<W> {
    /// Start the output (the header line of csv and tsv, the `[` of json).
    pub fn new(mut out: W, schema: &Schema, format: Format) -> Result<StreamWriter<W>> {
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let keys = names
            .iter()
            .map(|n| serde_json::to_string(n).unwrap_or_default())
            .collect();
        let sink = match format {
            Format::Csv | Format::Tsv => {
                let mut w = csv::WriterBuilder::new()
                    .delimiter(if format == Format::Csv { b',' } else { b'\t' })
                    .from_writer(out);
                w.write_record(&names).map_err(csv_err)?;
                Sink::Delimited(Box::new(w))
            }
            Format::Json => {
                out.write_all(b"[").map_err(write_err)?;
                Sink::Json(out)
            }
            Format::Ndjson => Sink::Ndjson(out),
            other => {
                return Err(Error::Usage(format!(
                    "the {} format cannot be written as a stream",
                    other.name()
                )))
            }
        };
        Ok(StreamWriter {
            sink,
            keys,
            rows: 0,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut buf = Vec::new();
        for r in 0..batch.num_rows() {
            let cells = batch.columns().iter().map(|a| cell(a, r));
            match &mut self.sink {
                Sink::Delimited(w) => w
                    .write_record(cells.map(|c| machine(&c)))
                    .map_err(csv_err)?,
                Sink::Json(_) | Sink::Ndjson(_) => {
                    let json = matches!(self.sink, Sink::Json(_));
                    if json && self.rows > 0 {
                        buf.extend_from_slice(b",\n");
                    }
                    buf.push(b'{');
                    for (i, c) in cells.enumerate() {
                        if i > 0 {
                            buf.push(b',');
                        }
                        buf.extend_from_slice(self.keys[i].as_bytes());
                        buf.push(b':');
                        buf.extend_from_slice(json_value(&c).as_bytes());
                    }
                    buf.push(b'}');
                    if !json {
                        buf.push(b'\n');
                    }
                }
            }
            self.rows += 1;
        }
        match &mut self.sink {
            Sink::Delimited(w) => w.flush().map_err(write_err),
            Sink::Json(out) | Sink::Ndjson(out) => out.write_all(&buf).map_err(write_err),
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// End the output (the `]` of json) and hand back the writer.
    pub fn finish(self) -> Result<W> {
        let mut out = match self.sink {
            Sink::Delimited(w) => w
                .into_inner()
                .map_err(|e| Error::io("output", std::io::Error::other(e.error().to_string())))?,
            Sink::Json(mut out) => {
                out.write_all(b"]\n").map_err(write_err)?;
                out
            }
            Sink::Ndjson(out) => out,
        };
        out.flush().map_err(write_err)?;
        Ok(out)
    }
}

/// Write batches to a Parquet file with medql's metadata (policy, version).
pub fn write_parquet(
    path: &str,
    batches: &[RecordBatch],
    schema: std::sync::Arc<Schema>,
    metadata: &[(&str, String)],
) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = ParquetStream::new(file, path, schema, metadata)?;
    for b in batches {
        w.write(b)?;
    }
    w.finish()
}

/// A Parquet file written batch by batch.
pub struct ParquetStream<W: std::io::Write + Send> {
    writer: datafusion::parquet::arrow::ArrowWriter<W>,
    path: String,
}

impl<W: std::io::Write + Send> ParquetStream<W> {
    pub fn new(
        out: W,
        path: &str,
        schema: std::sync::Arc<Schema>,
        metadata: &[(&str, String)],
    ) -> Result<ParquetStream<W>> {
        use datafusion::parquet::file::metadata::KeyValue;
        use datafusion::parquet::file::properties::WriterProperties;
        let props = WriterProperties::builder()
            .set_key_value_metadata(Some(
                metadata
                    .iter()
                    .map(|(k, v)| KeyValue::new(k.to_string(), v.clone()))
                    .collect(),
            ))
            .build();
        let writer = datafusion::parquet::arrow::ArrowWriter::try_new(out, schema, Some(props))
            .map_err(|e| Error::engine(format!("writing {path}"), e))?;
        Ok(ParquetStream {
            writer,
            path: path.to_string(),
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer
            .write(batch)
            .map_err(|e| Error::engine(format!("writing {}", self.path), e))
    }

    pub fn finish(self) -> Result<()> {
        self.writer
            .close()
            .map(|_| ())
            .map_err(|e| Error::engine(format!("writing {}", self.path), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_neutralised() {
        assert_eq!(neutralize("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(neutralize("x\ny"), "x\\ny");
        assert_eq!(neutralize("plain"), "plain");
        assert_eq!(neutralize("\u{202e}abc"), "\\u{202e}abc");
    }

    #[test]
    fn significant_digits() {
        assert_eq!(significant(0.012345, 3), "0.0123");
        assert_eq!(significant(0.5, 3), "0.500");
        assert_eq!(significant(1.0, 3), "1.00");
        assert_eq!(significant(0.00001234, 3), "1.23e-5");
    }

    #[test]
    fn p_values_share_one_shape() {
        let shown: Vec<String> = [0.00557, 0.0223, 3.69e-6, 0.572, 1.0, 0.0, 2.74e-22]
            .iter()
            .map(|p| p_value(*p))
            .collect();
        assert_eq!(
            shown,
            ["5.57e-3", "2.23e-2", "3.69e-6", "5.72e-1", "1.00e0", "0.00e0", "2.74e-22"]
        );
        for s in &shown {
            let mantissa = s.split('e').next().unwrap();
            assert_eq!(mantissa.len(), 4, "{s}");
        }
    }
}
