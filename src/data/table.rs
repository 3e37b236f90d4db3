//! Reading a prediction table from any of the supported file formats into
//! columns of optional text cells (Arrow arrays), each row with the number a
//! person would use to find it in the file.

use crate::error::{Error, Result};
use datafusion::arrow::array::{Array, Int32Array, StringArray, StringBuilder};
use std::path::Path;

/// One column's text cells: as read, or coded (the distinct texts once and
/// each row's key into them), as Parquet stores the item columns a
/// prediction file repeats; a coded column is checked against the items
/// once per distinct text, and never expanded.
#[derive(Clone, Debug)]
pub enum TextColumn {
    Plain(StringArray),
    Coded {
        keys: Int32Array,
        values: StringArray,
    },
}

impl TextColumn {
    pub fn len(&self) -> usize {
        match self {
            TextColumn::Plain(a) => a.len(),
            TextColumn::Coded { keys, .. } => keys.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `r`'s text; None when it is null.
    pub fn get(&self, r: usize) -> Option<&str> {
        match self {
            TextColumn::Plain(a) => text_of(a, r),
            TextColumn::Coded { values, .. } => text_of(values, self.key(r)?),
        }
    }

    /// Row `r`'s place among a coded column's distinct texts; None when
    /// the row is null or the column is not coded.
    pub fn key(&self, r: usize) -> Option<usize> {
        match self {
            TextColumn::Plain(_) => None,
            TextColumn::Coded { keys, values } => {
                let k = keys.is_valid(r).then(|| keys.value(r))?;
                usize::try_from(k).ok().filter(|&k| k < values.len())
            }
        }
    }

    /// The column as one text array (a coded column expanded).
    pub fn plain(&self) -> std::result::Result<std::borrow::Cow<'_, StringArray>, String> {
        use datafusion::arrow::array::AsArray;
        match self {
            TextColumn::Plain(a) => Ok(std::borrow::Cow::Borrowed(a)),
            TextColumn::Coded { keys, values } => {
                datafusion::arrow::compute::take(values, keys, None)
                    .map(|a| std::borrow::Cow::Owned(a.as_string::<i32>().clone()))
                    .map_err(|e| e.to_string())
            }
        }
    }
}

/// Text `i` of an array; None when it is null.
pub fn text_of(a: &StringArray, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i))
}

/// A table read from a file: header names and, for each, a column of
/// optional text cells held as one Arrow array (no allocation per cell).
#[derive(Debug, Default)]
pub struct RawTable {
    pub file: String,
    pub headers: Vec<String>,
    /// One array per header, each `len` long.
    pub columns: Vec<TextColumn>,
    pub len: usize,
    /// The number a person would use to find each row in the file.
    pub row_numbers: RowNumbers,
    /// What `row_numbers` count, for messages.
    pub row_unit: &'static str,
    /// What reading it had to say (item columns that differ from the items).
    pub notes: Vec<String>,
}

/// Each row's number in its file: the spreadsheet row (header = 1), the
/// line of a text file, or the 1-based record of JSON, JSONL and Parquet.
#[derive(Clone, Debug)]
pub enum RowNumbers {
    /// Row `r` is number `first + r` (no row skipped: Parquet's records).
    From(u64),
    /// Each row's number (blank lines and rows skipped).
    Listed(Vec<u64>),
}

impl Default for RowNumbers {
    fn default() -> RowNumbers {
        RowNumbers::Listed(vec![])
    }
}

impl RawTable {
    /// A table from rows of cells (generated data, tests).
    pub fn from_rows(
        file: impl Into<String>,
        headers: Vec<String>,
        rows: &[Vec<Option<String>>],
        row_numbers: Vec<u64>,
        row_unit: &'static str,
    ) -> RawTable {
        let mut b = TableBuilder::new(headers.len());
        for (row, n) in rows.iter().zip(row_numbers) {
            b.push(n, row.iter().map(Option::as_deref));
        }
        b.finish(file, headers, row_unit)
    }

    /// The position of a header, matched case-insensitively and ignoring
    /// surrounding spaces.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    }

    /// The cell of row `r` in column `c`; None when it is empty.
    pub fn cell(&self, r: usize, c: usize) -> Option<&str> {
        let col = self.columns.get(c)?;
        if r < col.len() {
            col.get(r)
        } else {
            None
        }
    }

    /// Row `r`'s number in its file (see [`RowNumbers`]).
    pub fn row_number(&self, r: usize) -> u64 {
        match &self.row_numbers {
            RowNumbers::From(first) => first + r as u64,
            RowNumbers::Listed(n) => n.get(r).copied().unwrap_or(0),
        }
    }

    /// Keep only the columns at `keep` (in that order).
    pub fn project(&mut self, keep: &[usize]) {
        self.headers = keep.iter().map(|&i| self.headers[i].clone()).collect();
        self.columns = keep.iter().map(|&i| self.columns[i].clone()).collect();
    }
}

/// Builds a [`RawTable`] row by row, a column builder per header.
pub struct TableBuilder {
    columns: Vec<StringBuilder>,
    numbers: Vec<u64>,
}

impl TableBuilder {
    pub fn new(width: usize) -> TableBuilder {
        TableBuilder {
            columns: (0..width).map(|_| StringBuilder::new()).collect(),
            numbers: vec![],
        }
    }

    /// Append a row: its number and its cells (missing cells are empty,
    /// cells beyond the header ignored).
    pub fn push<'a>(&mut self, number: u64, cells: impl IntoIterator<Item = Option<&'a str>>) {
        let mut cells = cells.into_iter();
        for b in &mut self.columns {
            b.append_option(cells.next().flatten());
        }
        self.numbers.push(number);
    }

    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    pub fn finish(
        mut self,
        file: impl Into<String>,
        headers: Vec<String>,
        row_unit: &'static str,
    ) -> RawTable {
        RawTable {
            file: file.into(),
            headers,
            columns: self
                .columns
                .iter_mut()
                .map(|b| TextColumn::Plain(b.finish()))
                .collect(),
            len: self.numbers.len(),
            row_numbers: RowNumbers::Listed(self.numbers),
            row_unit,
            notes: vec![],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Csv,
    Tsv,
    Json,
    Jsonl,
    Parquet,
}

impl Format {
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "xlsx" => Format::Xlsx,
            "csv" => Format::Csv,
            "tsv" => Format::Tsv,
            "json" => Format::Json,
            "jsonl" | "ndjson" => Format::Jsonl,
            "parquet" => Format::Parquet,
            _ => return None,
        })
    }
}

/// Read several files on all cores; results in the order of `paths`.
/// Each table is passed through `then` on the thread that read it.
pub fn read_tables(
    paths: &[&Path],
    then: &(dyn Fn(RawTable) -> RawTable + Sync),
) -> Vec<Result<RawTable>> {
    crate::data::parallel_map(paths, |p| read_table(p).map(then))
}

pub fn read_table(path: &Path) -> Result<RawTable> {
    let file = path.display().to_string();
    let format = Format::from_path(path)
        .ok_or_else(|| Error::data(&file, "not a supported prediction file format"))?;
    let meta = std::fs::metadata(path).map_err(|e| Error::io(&file, e))?;
    if meta.len() == 0 {
        return Err(Error::data(&file, "the file is empty"));
    }
    if !matches!(format, Format::Xlsx | Format::Parquet) {
        check_not_utf16(path, &file)?;
    }
    let mut t = match format {
        Format::Xlsx => read_xlsx(path, &file)?,
        Format::Csv => read_delimited(path, &file, b',')?,
        Format::Tsv => read_delimited(path, &file, b'\t')?,
        Format::Json => read_json(path, &file)?,
        Format::Jsonl => read_jsonl(path, &file)?,
        Format::Parquet => read_parquet(path, &file)?,
    };
    t.file = file;
    if t.headers.is_empty() {
        return Err(Error::data(&t.file, "no header row"));
    }
    check_header(&t.file, &t.headers)?;
    if format != Format::Csv && format != Format::Tsv {
        crate::data::progress::bytes_read(meta.len());
    }
    crate::data::progress::file_done(t.len as u64);
    Ok(t)
}

/// A text file saved as UTF-16 (Windows' "Unicode" text) starts with a
/// byte order mark; say so instead of failing on its first bytes.
pub fn check_not_utf16(path: &Path, file: &str) -> Result<()> {
    use std::io::Read;
    let mut head = [0u8; 2];
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(file, e))?;
    let n = f.read(&mut head).map_err(|e| Error::io(file, e))?;
    let order = match &head[..n] {
        [0xFF, 0xFE] => "little-endian, FF FE",
        [0xFE, 0xFF] => "big-endian, FE FF",
        _ => return Ok(()),
    };
    Err(Error::data(
        file,
        format!(
            "the file is UTF-16 (it starts with the {order} byte order mark); save it as UTF-8"
        ),
    ))
}

/// A column medql reads may appear only once: which of two `prediction`
/// columns would be the model's?
pub fn check_header(file: &str, headers: &[String]) -> Result<()> {
    let used = |h: &str| {
        ["index", "prediction", "model", "hit", "thinking"]
            .iter()
            .any(|u| h.eq_ignore_ascii_case(u))
            || crate::data::items::canonical_item_column(h).is_some()
    };
    for (i, h) in headers.iter().enumerate() {
        let key = h.trim();
        if !used(key) {
            continue;
        }
        let canon = |x: &str| {
            crate::data::items::canonical_item_column(x)
                .map(str::to_string)
                .unwrap_or_else(|| x.trim().to_ascii_lowercase())
        };
        if let Some(j) = headers[..i].iter().position(|o| canon(o) == canon(key)) {
            return Err(Error::data_at(
                file,
                Some(1),
                Some(key),
                format!(
                    "the column appears twice in the header (columns {} and {}); keep one",
                    j + 1,
                    i + 1
                ),
            ));
        }
    }
    Ok(())
}

/// Watches the bytes a CSV/TSV reader consumes for a quoted field that
/// never closes: the csv reader would silently run it to the end of the
/// file, swallowing the rows after it.
pub struct QuoteWatch<R> {
    inner: R,
    delimiter: u8,
    line: u64,
    field: usize,
    at_field_start: bool,
    in_quotes: bool,
    quote_pending: bool,
    opened: (u64, usize),
}

impl<R: std::io::Read> QuoteWatch<R> {
    pub fn new(inner: R, delimiter: u8) -> QuoteWatch<R> {
        QuoteWatch {
            inner,
            delimiter,
            line: 1,
            field: 0,
            at_field_start: true,
            in_quotes: false,
            quote_pending: false,
            opened: (0, 0),
        }
    }

    /// Where (line, 0-based field) a quote opened and never closed.
    pub fn unterminated(&self) -> Option<(u64, usize)> {
        (self.in_quotes && !self.quote_pending).then_some(self.opened)
    }

    /// Follow the quote state over a block, jumping with memchr over the
    /// long stretches (a base64 image cell) where nothing can change it.
    fn scan(&mut self, buf: &[u8]) {
        let mut i = 0;
        while i < buf.len() {
            if self.in_quotes && !self.quote_pending {
                match memchr::memchr2(b'"', b'\n', &buf[i..]) {
                    None => return,
                    Some(k) => {
                        i += k;
                        if buf[i] == b'\n' {
                            self.line += 1;
                        } else {
                            self.quote_pending = true;
                        }
                        i += 1;
                    }
                }
                continue;
            }
            if !self.in_quotes && !self.at_field_start {
                match memchr::memchr2(self.delimiter, b'\n', &buf[i..]) {
                    None => return,
                    Some(k) => i += k,
                }
            }
            self.eat(buf[i]);
            i += 1;
        }
    }

    fn eat(&mut self, b: u8) {
        if self.in_quotes {
            if self.quote_pending {
                self.quote_pending = false;
                if b == b'"' {
                    return; // an escaped quote
                }
                self.in_quotes = false; // the closing quote; this byte is plain
            } else {
                if b == b'"' {
                    self.quote_pending = true;
                } else if b == b'\n' {
                    self.line += 1;
                }
                return;
            }
        }
        if b == b'\n' {
            self.line += 1;
            self.field = 0;
            self.at_field_start = true;
        } else if b == self.delimiter {
            self.field += 1;
            self.at_field_start = true;
        } else if b == b'"' && self.at_field_start {
            self.in_quotes = true;
            self.opened = (self.line, self.field);
            self.at_field_start = false;
        } else if b != b'\r' {
            self.at_field_start = false;
        }
    }
}

impl<R: std::io::Read> std::io::Read for QuoteWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        crate::data::progress::bytes_read(n as u64);
        self.scan(&buf[..n]);
        Ok(n)
    }
}

/// The error for a quote that never closed.
pub fn unterminated_quote(file: &str, headers: &[String], (line, field): (u64, usize)) -> Error {
    Error::data_at(
        file,
        Some(line),
        headers.get(field).map(String::as_str),
        "a quoted field opens here and never closes, so every line after it would be read into this cell; close the quote or escape it as \"\"",
    )
}

/// A number as Python's `str()` prints it: `17`, `1.5`, `1e-05`.
pub fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        // Python's repr: shortest digits, exponent with sign and two digits.
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    if f.fract() == 0.0 {
        // Integral values: an xlsx number cell `17` reads as the int 17.
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn read_xlsx(path: &Path, file: &str) -> Result<RawTable> {
    use calamine::{Data, Reader};
    let mut wb = calamine::open_workbook_auto(path).map_err(|e| {
        Error::data(
            file,
            format!("cannot read as an .xlsx workbook ({e}); is the file complete?"),
        )
    })?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(|| Error::data(file, "the workbook has no sheet"))?
        .map_err(|e| Error::data(file, format!("cannot read the first sheet: {e}")))?;
    let (start_row, _) = range.start().unwrap_or((0, 0));
    let mut rows = range.rows();
    let header: Vec<String> = match rows.next() {
        Some(r) => r
            .iter()
            .map(|c| cell_text(c).unwrap_or_default().into_owned())
            .collect(),
        None => return Err(Error::data(file, "the first sheet is empty")),
    };
    let mut b = TableBuilder::new(header.len());
    let mut texts: Vec<Option<std::borrow::Cow<'_, str>>> = vec![];
    for (i, r) in rows.enumerate() {
        texts.clear();
        texts.extend(r.iter().map(cell_text));
        if texts.iter().all(Option::is_none) {
            continue;
        }
        // Absolute 0-based sheet row of the header is start_row; this row is
        // i + 1 below it; people count from 1.
        b.push(
            start_row as u64 + i as u64 + 2,
            texts.iter().map(|c| c.as_deref()),
        );
    }
    let t = b.finish(file, header, "row");
    fn cell_text(c: &Data) -> Option<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow;
        match c {
            Data::Empty => None,
            Data::String(s) => Some(openpyxl_text(s)),
            Data::Float(f) => Some(Cow::Owned(python_float(*f))),
            Data::Int(i) => Some(Cow::Owned(i.to_string())),
            Data::Bool(b) => Some(Cow::Borrowed(if *b { "True" } else { "False" })),
            Data::DateTimeIso(s) | Data::DurationIso(s) => Some(Cow::Borrowed(s)),
            Data::DateTime(d) => Some(Cow::Owned(d.to_string())),
            Data::Error(e) => Some(Cow::Owned(format!("#{e:?}"))),
        }
    }
    Ok(t)
}

/// A workbook string as openpyxl (pandas' `read_excel`, and so VLMEvalKit)
/// reads it, given the text calamine decoded.
///
/// xlsxwriter stores C0 control characters (except TAB and LF) and U+FFFE,
/// U+FFFF as `_xHHHH_`, and a literal `_xHHHH_` as `_x005F_xHHHH_`.
/// calamine decodes every such escape; openpyxl decodes none, and only
/// deletes `x005F_`. So: write the escapes back as xlsxwriter wrote them,
/// then delete `x005F_` as openpyxl does. For a workbook written by
/// xlsxwriter the result is exactly openpyxl's text (`B\r\n` in the
/// DataFrame, `B_x000D_\n` to VLMEvalKit).
pub fn openpyxl_text(decoded: &str) -> std::borrow::Cow<'_, str> {
    let escaped =
        |c: char| matches!(c, '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}');
    if !decoded.chars().any(escaped) && !decoded.contains("_x") && !decoded.contains("x005F_") {
        return std::borrow::Cow::Borrowed(decoded);
    }
    let is_escape = |b: &[u8]| {
        b.len() >= 7
            && b[0] == b'_'
            && b[1] == b'x'
            && b[2..6].iter().all(u8::is_ascii_hexdigit)
            && b[6] == b'_'
    };
    // As xlsxwriter: escape the escapes, then the control characters.
    let mut raw = String::with_capacity(decoded.len() + 16);
    let mut rest = decoded;
    while let Some(c) = rest.chars().next() {
        if is_escape(rest.as_bytes()) {
            raw.push_str("_x005F");
            raw.push_str(&rest[..7]);
            rest = &rest[7..];
            continue;
        }
        if escaped(c) {
            raw.push_str(&format!("_x{:04X}_", c as u32));
        } else {
            raw.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    // As openpyxl's shared strings reader.
    std::borrow::Cow::Owned(raw.replace("x005F_", ""))
}

fn read_delimited(path: &Path, file: &str, delimiter: u8) -> Result<RawTable> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(file, e))?;
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(QuoteWatch::new(std::io::BufReader::new(f), delimiter));
    let headers = rdr
        .byte_headers()
        .map_err(|e| csv_error(file, e))?
        .iter()
        .enumerate()
        .map(|(i, h)| utf8(file, 1, &format!("header {}", i + 1), h))
        .collect::<Result<Vec<_>>>()?;
    let mut b = TableBuilder::new(headers.len());
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(file, e)),
        }
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.len() == 1 && rec.get(0) == Some(b"") {
            continue; // a blank line
        }
        if rec.len() != headers.len() {
            return Err(Error::data_at(
                file,
                Some(line),
                None,
                format!(
                    "{} fields where the header has {}",
                    rec.len(),
                    headers.len()
                ),
            ));
        }
        // Checked as UTF-8 in place; the text is copied once, into its
        // column.
        let mut texts = Vec::with_capacity(rec.len());
        for (i, f) in rec.iter().enumerate() {
            texts.push(if f.is_empty() {
                None
            } else {
                Some(utf8_str(file, line, &headers[i], f)?)
            });
        }
        b.push(line, texts);
    }
    if let Some(at) = rdr.get_ref().unterminated() {
        return Err(unterminated_quote(file, &headers, at));
    }
    Ok(b.finish(file, headers, "line"))
}

pub fn utf8(file: &str, line: u64, column: &str, bytes: &[u8]) -> Result<String> {
    utf8_str(file, line, column, bytes).map(str::to_string)
}

/// A cell's bytes as text, or the error that names where they are not UTF-8.
pub fn utf8_str<'a>(file: &str, line: u64, column: &str, bytes: &'a [u8]) -> Result<&'a str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => Err(Error::data_at(
            file,
            Some(line),
            Some(column),
            format!(
                "invalid UTF-8 at byte {} of the cell; save the file as UTF-8",
                e.valid_up_to()
            ),
        )),
    }
}

pub fn csv_error(file: &str, e: csv::Error) -> Error {
    let line = e.position().map(|p| p.line());
    let msg = match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8: {err}"),
        _ => e.to_string(),
    };
    Error::data_at(file, line, None, msg)
}

fn json_cell(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "True".into() } else { "False".into() }),
        Value::Number(n) => Some(if let Some(i) = n.as_i64() {
            i.to_string()
        } else if let Some(u) = n.as_u64() {
            u.to_string()
        } else {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // JSON `17.0` is a float in Python: str() gives `17.0`.
            let s = python_float(f);
            if f.fract() == 0.0 && !s.contains('e') {
                format!("{s}.0")
            } else {
                s
            }
        }),
        other => Some(other.to_string()),
    }
}

/// A table from JSON records: the header is every key met, in the order
/// first met.
fn records_table(
    file: &str,
    records: impl Iterator<Item = (u64, serde_json::Value)>,
    row_unit: &'static str,
) -> Result<RawTable> {
    use std::collections::HashMap;
    let mut headers: Vec<String> = vec![];
    let mut pos: HashMap<String, usize> = HashMap::new();
    // Each record: its number, and its (column, cell) pairs.
    type Record = (u64, Vec<(usize, Option<String>)>);
    let mut raw_rows: Vec<Record> = vec![];
    for (n, rec) in records {
        let serde_json::Value::Object(map) = rec else {
            return Err(Error::data_at(
                file,
                Some(n),
                None,
                "expected a JSON object (one record per prediction)",
            ));
        };
        let mut row = Vec::with_capacity(map.len());
        for (k, v) in map.iter() {
            let idx = *pos.entry(k.clone()).or_insert_with(|| {
                headers.push(k.clone());
                headers.len() - 1
            });
            row.push((idx, json_cell(v)));
        }
        raw_rows.push((n, row));
    }
    let mut b = TableBuilder::new(headers.len());
    let mut cells: Vec<Option<String>> = vec![None; headers.len()];
    for (n, r) in raw_rows {
        cells.iter_mut().for_each(|c| *c = None);
        for (i, v) in r {
            cells[i] = v;
        }
        b.push(n, cells.iter().map(Option::as_deref));
    }
    Ok(b.finish(file, headers, row_unit))
}

fn read_json(path: &Path, file: &str) -> Result<RawTable> {
    let text = std::fs::read(path).map_err(|e| Error::io(file, e))?;
    let text = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&text);
    let (strict, inserted) = python_json(text);
    let v: serde_json::Value = serde_json::from_slice(&strict).map_err(|e| {
        let (what, line, column) = json_error_at(&e, &strict, &inserted);
        Error::data_at(
            file,
            json_record_at(&strict, e.line(), e.column()),
            None,
            format!("invalid JSON: {what} at line {line} column {column}"),
        )
    })?;
    let serde_json::Value::Array(items) = v else {
        return Err(Error::data(
            file,
            "expected a JSON array of records (pandas `orient='records'`)",
        ));
    };
    records_table(
        file,
        items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i as u64 + 1, v)),
        "record",
    )
}

/// Python's JSON dialect as strict JSON. `json.dump` writes a missing
/// cell (a float NaN) as a bare `NaN`, and infinities as `Infinity` and
/// `-Infinity`; outside strings these become `null` (missing). Returns the
/// text and the positions, in it, of the bytes added (`NaN` is one byte
/// shorter than `null`; the infinities are padded with spaces), so that
/// error positions can be given in the file's own columns.
pub fn python_json(text: &[u8]) -> (std::borrow::Cow<'_, [u8]>, Vec<usize>) {
    use std::borrow::Cow;
    // Where each token starts, outside strings.
    let mut found: Vec<(usize, usize)> = vec![]; // (start, length)
    let (mut in_string, mut escaped) = (false, false);
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if in_string {
            // Jump to the next quote or backslash.
            if !escaped {
                match memchr::memchr2(b'"', b'\\', &text[i..]) {
                    None => break,
                    Some(k) => i += k,
                }
            }
            match (escaped, text[i]) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        let boundary = |end: usize| {
            text.get(end)
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
        };
        match b {
            b'"' => in_string = true,
            b'N' if text[i..].starts_with(b"NaN") && boundary(i + 3) => {
                found.push((i, 3));
                i += 3;
                continue;
            }
            b'I' if text[i..].starts_with(b"Infinity") && boundary(i + 8) => {
                found.push((i, 8));
                i += 8;
                continue;
            }
            b'-' if text[i..].starts_with(b"-Infinity") && boundary(i + 9) => {
                found.push((i, 9));
                i += 9;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if found.is_empty() {
        return (Cow::Borrowed(text), vec![]);
    }
    let mut out = Vec::with_capacity(text.len() + found.len());
    let mut inserted = vec![];
    let mut copied = 0;
    for (start, len) in found {
        out.extend_from_slice(&text[copied..start]);
        out.extend_from_slice(b"null");
        if len == 3 {
            inserted.push(out.len() - 1);
        } else {
            out.resize(out.len() + len - 4, b' ');
        }
        copied = start + len;
    }
    out.extend_from_slice(&text[copied..]);
    (Cow::Owned(out), inserted)
}

/// A serde error on text made by [`python_json`]: the message without its
/// position, and the position (line, column) in the original text.
fn json_error_at(
    e: &serde_json::Error,
    strict: &[u8],
    inserted: &[usize],
) -> (String, usize, usize) {
    let text = e.to_string();
    let what = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(w, _)| w)
        .to_string();
    let (line, column) = (e.line(), e.column());
    // The byte offset of the error's line in the strict text.
    let mut start = 0;
    for _ in 1..line {
        match strict[start.min(strict.len())..]
            .iter()
            .position(|&b| b == b'\n')
        {
            Some(k) => start += k + 1,
            None => break,
        }
    }
    let at = start + column;
    let added = inserted.iter().filter(|&&p| p >= start && p < at).count();
    (what, line, column.saturating_sub(added))
}

/// The 1-based record of a JSON array that holds text position
/// (line, column): one more than the commas between records before it.
fn json_record_at(text: &[u8], line: usize, column: usize) -> Option<u64> {
    let mut offset = 0;
    for _ in 1..line {
        offset += text[offset..].iter().position(|&b| b == b'\n')? + 1;
    }
    let offset = (offset + column.saturating_sub(1)).min(text.len());
    let (mut depth, mut in_string, mut escaped, mut commas) = (0i64, false, false, 0u64);
    for &b in &text[..offset] {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth -= 1,
            b',' if depth == 1 => commas += 1,
            _ => {}
        }
    }
    Some(commas + 1)
}

fn read_jsonl(path: &Path, file: &str) -> Result<RawTable> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(file, e))?;
    let mut recs = vec![];
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let n = i as u64 + 1;
        let line = match std::str::from_utf8(raw) {
            Ok(l) => l,
            Err(e) => {
                // Name the key whose value holds the bad bytes, when the
                // record parses once they are replaced.
                let lossy = String::from_utf8_lossy(raw);
                let key = serde_json::from_str::<serde_json::Value>(lossy.trim())
                    .ok()
                    .and_then(|v| match v {
                        serde_json::Value::Object(m) => m
                            .into_iter()
                            .find(|(_, v)| v.as_str().is_some_and(|s| s.contains('\u{fffd}')))
                            .map(|(k, _)| k),
                        _ => None,
                    });
                return Err(Error::data_at(
                    file,
                    Some(n),
                    key.as_deref(),
                    format!(
                        "invalid UTF-8 at byte {} of the line; save the file as UTF-8",
                        e.valid_up_to() + 1
                    ),
                ));
            }
        };
        let l = line.trim_start_matches('\u{feff}').trim();
        if l.is_empty() {
            continue;
        }
        let (strict, inserted) = python_json(l.as_bytes());
        let v: serde_json::Value = serde_json::from_slice(&strict).map_err(|e| {
            // serde counts lines within this one line; say the column only.
            let (what, _, column) = json_error_at(&e, &strict, &inserted);
            Error::data_at(
                file,
                Some(n),
                None,
                format!("invalid JSON at character {column}: {what}"),
            )
        })?;
        recs.push((n, v));
    }
    records_table(file, recs.into_iter(), "line")
}

fn read_parquet(path: &Path, file: &str) -> Result<RawTable> {
    use datafusion::arrow::array::{ArrayRef, AsArray};
    use datafusion::arrow::datatypes::{
        DataType, Field, Float32Type, Float64Type, Int32Type, Schema,
    };
    use datafusion::parquet::arrow::arrow_reader::{
        ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
    };
    let unreadable =
        |e: &dyn std::fmt::Display| Error::data(file, format!("cannot read as Parquet: {e}"));
    let f = std::fs::File::open(path).map_err(|e| Error::io(file, e))?;
    let plain =
        ArrowReaderMetadata::load(&f, ArrowReaderOptions::new()).map_err(|e| unreadable(&e))?;
    // Item columns (question, options, ...) repeat a few texts over many
    // rows: read as Parquet codes them, each distinct text once.
    let schema = plain.schema().clone();
    let coded = |f: &Field| {
        f.data_type() == &DataType::Utf8
            && crate::data::items::canonical_item_column(f.name()).is_some()
    };
    let metadata = if schema.fields().iter().any(|f| coded(f)) {
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .map(|f| {
                let f = f.as_ref().clone();
                if coded(&f) {
                    f.with_data_type(DataType::Dictionary(
                        Box::new(DataType::Int32),
                        Box::new(DataType::Utf8),
                    ))
                } else {
                    f
                }
            })
            .collect();
        let hinted =
            std::sync::Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
        ArrowReaderMetadata::try_new(
            plain.metadata().clone(),
            ArrowReaderOptions::new().with_schema(hinted),
        )
        .unwrap_or(plain)
    } else {
        plain
    };
    // One batch for the whole file: nothing to join afterwards.
    let rows = usize::try_from(metadata.metadata().file_metadata().num_rows()).unwrap_or(0);
    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(f, metadata)
        .with_batch_size(rows.max(1))
        .build()
        .map_err(|e| unreadable(&e))?;
    let headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    // Each column's text, a piece per batch: string columns as they are
    // read (no copy), numbers and booleans as Python prints them.
    let mut pieces: Vec<Vec<ArrayRef>> = vec![vec![]; headers.len()];
    let mut len = 0;
    for batch in reader {
        let batch = batch.map_err(|e| unreadable(&e))?;
        len += batch.num_rows();
        for (c, col) in batch.columns().iter().enumerate() {
            let text: ArrayRef = match col.data_type() {
                DataType::Utf8 => col.clone(),
                DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
                    col.clone()
                }
                DataType::Float64 => std::sync::Arc::new(StringArray::from_iter(
                    col.as_primitive::<Float64Type>()
                        .iter()
                        .map(|v| v.map(python_float_typed)),
                )),
                DataType::Float32 => std::sync::Arc::new(StringArray::from_iter(
                    col.as_primitive::<Float32Type>()
                        .iter()
                        .map(|v| v.map(|x| python_float_typed(x as f64))),
                )),
                DataType::Boolean => std::sync::Arc::new(StringArray::from_iter(
                    col.as_boolean()
                        .iter()
                        .map(|v| v.map(|b| if b { "True" } else { "False" })),
                )),
                _ => datafusion::arrow::compute::cast(col, &DataType::Utf8)
                    .map_err(|e| Error::data(file, format!("cannot read a column as text: {e}")))?,
            };
            pieces[c].push(text);
        }
    }
    let columns = pieces
        .into_iter()
        .map(|p| {
            let as_text = |e: &dyn std::fmt::Display| {
                Error::data(file, format!("cannot read a column as text: {e}"))
            };
            let joined = match p.as_slice() {
                [] => std::sync::Arc::new(StringArray::new_null(0)) as ArrayRef,
                [one] => one.clone(),
                _ => {
                    let refs: Vec<&dyn Array> = p.iter().map(|a| a.as_ref()).collect();
                    datafusion::arrow::compute::concat(&refs).map_err(|e| as_text(&e))?
                }
            };
            Ok(match joined.as_dictionary_opt::<Int32Type>() {
                Some(d) => match d.values().as_string_opt::<i32>() {
                    Some(values) => TextColumn::Coded {
                        keys: d.keys().clone(),
                        values: values.clone(),
                    },
                    None => TextColumn::Plain(
                        datafusion::arrow::compute::cast(&joined, &DataType::Utf8)
                            .map_err(|e| as_text(&e))?
                            .as_string::<i32>()
                            .clone(),
                    ),
                },
                None => TextColumn::Plain(joined.as_string::<i32>().clone()),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RawTable {
        file: file.to_string(),
        headers,
        columns,
        len,
        row_numbers: RowNumbers::From(1),
        row_unit: "record",
        notes: vec![],
    })
}

/// A float column's value as Python's `str()` of a float prints it (`17.0`).
fn python_float_typed(f: f64) -> String {
    let s = python_float(f);
    if f.is_finite() && f.fract() == 0.0 && !s.contains('e') {
        format!("{s}.0")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_number_text() {
        assert_eq!(python_float(17.0), "17");
        assert_eq!(python_float(1.5), "1.5");
        assert_eq!(python_float(0.1), "0.1");
        assert_eq!(python_float(1e-5), "1e-05");
        assert_eq!(python_float(1e16), "1e+16");
        assert_eq!(python_float_typed(17.0), "17.0");
    }

    #[test]
    fn python_json_dialect() {
        let text = br#"[{"a": NaN, "b": "NaN \" Infinity", "c": -Infinity, "d": Infinity}]"#;
        let (strict, inserted) = python_json(text);
        let v: serde_json::Value = serde_json::from_slice(&strict).unwrap();
        assert_eq!(
            v,
            serde_json::json!([{"a": null, "b": "NaN \" Infinity", "c": null, "d": null}])
        );
        assert_eq!(inserted.len(), 1);
        // Nothing to change: the text itself.
        let plain = br#"[{"NaN": "x"}]"#;
        assert!(matches!(
            python_json(plain).0,
            std::borrow::Cow::Borrowed(_)
        ));
        // Not a token of its own: left for the parser to refuse.
        assert!(serde_json::from_slice::<serde_json::Value>(&python_json(b"[NaNa]").0).is_err());
    }

    #[test]
    fn xlsx_text_as_openpyxl_reads_it() {
        // calamine's decoded text -> openpyxl's text of the same cell.
        for (decoded, openpyxl) in [
            ("B\r\n", "B_x000D_\n"),
            ("x\u{1c}y\u{1f}", "x_x001C_y_x001F_"),
            ("_x000D_", "_x000D_"),
            ("_x005F_", "_"),
            ("tab\tand\nnewline", "tab\tand\nnewline"),
            ("plain", "plain"),
        ] {
            assert_eq!(openpyxl_text(decoded), openpyxl, "{decoded:?}");
        }
    }
}
