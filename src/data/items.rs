//! Loading benchmark items from VLMEvalKit TSV files. Columns are found by
//! header name in any order; the `image` column (base64 pictures, gigabytes
//! in the published files) is read past and never kept.

use crate::data::table::{csv_error, unterminated_quote, utf8, QuoteWatch};
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

/// The item columns medql knows, by their canonical (relation) name, with the
/// header spelling of VLMEvalKit's TSV.
pub const ITEM_COLUMNS: &[(&str, &str)] = &[
    ("question", "question"),
    ("A", "A"),
    ("B", "B"),
    ("C", "C"),
    ("D", "D"),
    ("E", "E"),
    ("answer", "answer"),
    ("category", "category"),
    ("task", "clinical VQA task"),
    ("department", "department"),
    ("granularity", "perceptual granularity"),
    ("modality", "modality"),
    ("original_task", "original task"),
];

pub const OPTION_LETTERS: [&str; 5] = ["A", "B", "C", "D", "E"];

/// The canonical column for a header, matched case-insensitively, or None.
pub fn canonical_item_column(header: &str) -> Option<&'static str> {
    let h = header.trim();
    ITEM_COLUMNS.iter().find_map(|(canon, tsv)| {
        (h.eq_ignore_ascii_case(tsv) || h.eq_ignore_ascii_case(canon)).then_some(*canon)
    })
}

/// Items, column by column. `text[c][row]` holds the column `ITEM_COLUMNS[c]`.
#[derive(Debug, Default, Clone)]
pub struct Items {
    pub dataset: Vec<String>,
    pub index: Vec<i64>,
    pub text: Vec<Vec<Option<String>>>,
    /// The files read, in order.
    pub files: Vec<String>,
    /// Whether any loaded file had an `answer` column.
    pub has_answers: bool,
    /// The row of each (dataset, index): indexes repeat across datasets.
    position: HashMap<(u32, i64), usize>,
    /// Each dataset's rows, in order of loading: a dataset's items are
    /// contiguous (its files are read one after another).
    ranges: Vec<(String, std::ops::Range<usize>)>,
    /// Where each item was read: (file number in `origin_files`, line).
    origins: Vec<(u32, u64)>,
    origin_files: Vec<String>,
}

impl Items {
    pub fn new() -> Items {
        Items {
            text: vec![Vec::new(); ITEM_COLUMNS.len()],
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The row of an item of a dataset.
    pub fn row_of(&self, dataset: &str, index: i64) -> Option<usize> {
        let d = self.ranges.iter().position(|(n, _)| n == dataset)?;
        self.position.get(&(d as u32, index)).copied()
    }

    /// The rows of a dataset.
    pub fn range(&self, dataset: &str) -> Option<std::ops::Range<usize>> {
        self.ranges
            .iter()
            .find(|(n, _)| n == dataset)
            .map(|(_, r)| r.clone())
    }

    pub fn column(&self, canon: &str) -> &[Option<String>] {
        let c = ITEM_COLUMNS
            .iter()
            .position(|(n, _)| *n == canon)
            .expect("a known item column");
        &self.text[c]
    }

    pub fn option(&self, letter: usize, row: usize) -> Option<&str> {
        self.text[1 + letter][row].as_deref()
    }

    /// Number of non-empty options of a row.
    pub fn n_options(&self, row: usize) -> i64 {
        (0..5)
            .filter(|&l| self.option(l, row).is_some_and(|s| !s.is_empty()))
            .count() as i64
    }

    /// Add one item; an index seen before in its dataset is an error
    /// naming both places. A dataset's items must come one after another.
    pub fn push(
        &mut self,
        dataset: &str,
        index: i64,
        cells: Vec<Option<String>>,
        file: &str,
        line: u64,
    ) -> Result<()> {
        let row = self.index.len();
        match self.ranges.last_mut() {
            Some((d, r)) if d == dataset => r.end = row + 1,
            _ => {
                if self.ranges.iter().any(|(d, _)| d == dataset) {
                    return Err(Error::data_at(
                        file,
                        Some(line),
                        None,
                        format!(
                            "the items of dataset `{dataset}` must be read one file after another"
                        ),
                    ));
                }
                self.ranges.push((dataset.to_string(), row..row + 1));
            }
        }
        let d = (self.ranges.len() - 1) as u32;
        if let Some(&prev) = self.position.get(&(d, index)) {
            let (f, l) = self.origins[prev];
            let first = &self.origin_files[f as usize];
            let place = if first == file {
                format!("line {l}")
            } else {
                format!("{first}, line {l}")
            };
            return Err(Error::data_at(
                file,
                Some(line),
                Some("index"),
                format!("duplicate item index {index} in dataset `{dataset}` (first at {place}); an index names one item of a dataset"),
            ));
        }
        if self.origin_files.last().map(String::as_str) != Some(file) {
            self.origin_files.push(file.to_string());
        }
        self.origins
            .push(((self.origin_files.len() - 1) as u32, line));
        self.position.insert((d, index), row);
        self.dataset.push(dataset.to_string());
        self.index.push(index);
        for (c, v) in cells.into_iter().enumerate() {
            self.text[c].push(v);
        }
        Ok(())
    }

    /// The dataset names, in order of first appearance.
    pub fn datasets(&self) -> Vec<String> {
        self.ranges.iter().map(|(d, _)| d.clone()).collect()
    }
}

/// The dataset name of an items file: its stem without a trailing `_local`
/// (VLMEvalKit's localised copies) and then without a `_part_N` suffix. The
/// parts of VLMEvalKit's GMAI-MMBench TEST split, `GMAI_mm_bench_TEST_part_N`
/// (and `..._part_N_local`), are the dataset `GMAI-MMBench_TEST`, the name
/// its prediction files carry.
pub fn dataset_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("items")
        .to_string();
    let mut name = stem.as_str();
    if name.len() > "_local".len() && name.to_ascii_lowercase().ends_with("_local") {
        name = &name[..name.len() - "_local".len()];
    }
    let lower = name.to_ascii_lowercase();
    if let Some(pos) = lower.rfind("_part") {
        let rest = lower[pos + 5..].trim_start_matches('_');
        if pos > 0 && !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()) {
            name = &name[..pos];
        }
    }
    if name.eq_ignore_ascii_case("GMAI_mm_bench_TEST") {
        return "GMAI-MMBench_TEST".to_string();
    }
    name.to_string()
}

/// Parse an item or prediction index cell: an integer, possibly written as
/// a float with no fraction (`17.0`).
pub fn parse_index(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(i);
    }
    let f: f64 = t.parse().ok()?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

/// Read one TSV file of items into `items`.
pub fn load_items_file(path: &Path, items: &mut Items) -> Result<()> {
    let file = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| Error::io(&file, e))?;
    if meta.len() == 0 {
        return Err(Error::data(&file, "the items file is empty"));
    }
    crate::data::table::check_not_utf16(path, &file)?;
    let dataset = dataset_name(path);
    let before = items.len();
    let f = std::fs::File::open(path).map_err(|e| Error::io(&file, e))?;
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(QuoteWatch::new(
            std::io::BufReader::with_capacity(1 << 20, f),
            b'\t',
        ));
    let headers: Vec<String> = rdr
        .byte_headers()
        .map_err(|e| csv_error(&file, e))?
        .iter()
        .enumerate()
        .map(|(i, h)| utf8(&file, 1, &format!("header {}", i + 1), h))
        .collect::<Result<_>>()?;
    crate::data::table::check_header(&file, &headers)?;
    let index_col = headers
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case("index"))
        .ok_or_else(|| {
            Error::data_at(
                &file,
                Some(1),
                Some("index"),
                format!(
                    "missing required column `index` (the header has: {})",
                    headers.join(", ")
                ),
            )
        })?;
    // For each item column, the position of its header (if present).
    let mut pos: Vec<Option<usize>> = vec![None; ITEM_COLUMNS.len()];
    for (i, h) in headers.iter().enumerate() {
        if let Some(canon) = canonical_item_column(h) {
            let c = ITEM_COLUMNS
                .iter()
                .position(|(n, _)| *n == canon)
                .expect("canonical name");
            if pos[c].is_some() {
                return Err(Error::data_at(
                    &file,
                    Some(1),
                    Some(h),
                    "the column appears twice in the header",
                ));
            }
            pos[c] = Some(i);
        }
    }
    if pos[6].is_some() {
        items.has_answers = true;
    }
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(&file, e)),
        }
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.len() == 1 && rec.get(0) == Some(b"") {
            continue;
        }
        if rec.len() != headers.len() {
            return Err(Error::data_at(
                &file,
                Some(line),
                None,
                format!(
                    "{} fields where the header has {} (a ragged row: check for an unquoted TAB or a cut-off line)",
                    rec.len(),
                    headers.len()
                ),
            ));
        }
        let raw_index = utf8(&file, line, "index", rec.get(index_col).unwrap_or(b""))?;
        let index = parse_index(&raw_index).ok_or_else(|| {
            Error::data_at(
                &file,
                Some(line),
                Some(&headers[index_col]),
                format!("expected an integer item index, found `{raw_index}`"),
            )
        })?;
        let mut cells = Vec::with_capacity(ITEM_COLUMNS.len());
        for p in &pos {
            cells.push(match p {
                Some(i) => {
                    let b = rec.get(*i).unwrap_or(b"");
                    if b.is_empty() {
                        None
                    } else {
                        Some(utf8(&file, line, &headers[*i], b)?)
                    }
                }
                None => None,
            });
        }
        items.push(&dataset, index, cells, &file, line)?;
    }
    if let Some(at) = rdr.get_ref().unterminated() {
        return Err(unterminated_quote(&file, &headers, at));
    }
    crate::data::progress::file_done((items.len() - before) as u64);
    items.files.push(file);
    Ok(())
}

/// Expand a list of paths and globs into files, in a stable order. A path
/// that exists is taken as it is, even when it holds `[`, `]`, `*` or `?`;
/// only then is it tried as a pattern. A file named twice (also through a
/// pattern, a link or another spelling of its path) is read once.
pub fn expand_paths(specs: &[String], what: &str) -> Result<Vec<std::path::PathBuf>> {
    let mut out = vec![];
    let mut seen = std::collections::HashSet::new();
    let mut add = |p: std::path::PathBuf, out: &mut Vec<std::path::PathBuf>| {
        let key = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
        if seen.insert(key) {
            out.push(p);
        }
    };
    for spec in specs {
        let p = std::path::PathBuf::from(spec);
        if p.exists() {
            add(p, &mut out);
        } else if spec.contains(['*', '?', '[']) {
            let mut matched: Vec<_> = glob::glob(spec)
                .map_err(|e| Error::Usage(format!("bad {what} pattern `{spec}`: {e}")))?
                .filter_map(|p| p.ok())
                .collect();
            if matched.is_empty() {
                return Err(Error::Usage(format!("no {what} file matches `{spec}`")));
            }
            matched.sort();
            for m in matched {
                add(m, &mut out);
            }
        } else {
            return Err(Error::Usage(format!("{what} file not found: {spec}")));
        }
    }
    Ok(out)
}

/// Items files in reading order: each dataset's files one after another
/// (datasets in order of first mention, files in the order given).
pub fn items_files(specs: &[String]) -> Result<Vec<std::path::PathBuf>> {
    let files = expand_paths(specs, "items")?;
    let mut order: Vec<String> = vec![];
    for f in &files {
        let d = dataset_name(f);
        if !order.contains(&d) {
            order.push(d);
        }
    }
    let mut grouped = files;
    grouped.sort_by_key(|f| {
        let d = dataset_name(f);
        order.iter().position(|x| *x == d)
    });
    Ok(grouped)
}

/// The item columns as Arrow arrays, in relation order, with `dataset`,
/// `index` and `n_options`.
pub fn item_arrays(
    items: &Items,
) -> (
    Vec<datafusion::arrow::datatypes::Field>,
    Vec<datafusion::arrow::array::ArrayRef>,
) {
    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field};
    use std::sync::Arc;
    let mut fields = vec![
        Field::new("dataset", DataType::Utf8, false),
        Field::new("index", DataType::Int64, false),
    ];
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(items.dataset.iter())),
        Arc::new(Int64Array::from(items.index.clone())),
    ];
    for (c, (name, _)) in ITEM_COLUMNS.iter().enumerate() {
        fields.push(Field::new(*name, DataType::Utf8, true));
        arrays.push(Arc::new(StringArray::from_iter(items.text[c].iter())));
    }
    fields.push(Field::new("n_options", DataType::Int64, false));
    arrays.push(Arc::new(Int64Array::from_iter_values(
        (0..items.len()).map(|r| items.n_options(r)),
    )));
    (fields, arrays)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_names() {
        assert_eq!(
            dataset_name(Path::new("/x/GMAI-MMBench_VAL.tsv")),
            "GMAI-MMBench_VAL"
        );
        assert_eq!(
            dataset_name(Path::new("GMAI-MMBench_TEST_part_3.tsv")),
            "GMAI-MMBench_TEST"
        );
        // VLMEvalKit's localised files.
        for n in 1..=11 {
            assert_eq!(
                dataset_name(Path::new(&format!("GMAI_mm_bench_TEST_part_{n}_local.tsv"))),
                "GMAI-MMBench_TEST"
            );
            assert_eq!(
                dataset_name(Path::new(&format!("GMAI_mm_bench_TEST_part_{n}.tsv"))),
                "GMAI-MMBench_TEST"
            );
        }
        assert_eq!(
            dataset_name(Path::new("GMAI-MMBench_VAL_local.tsv")),
            "GMAI-MMBench_VAL"
        );
        assert_eq!(dataset_name(Path::new("Bench_part_2_local.tsv")), "Bench");
        // Only a whole trailing `_local` or `_part_N` goes.
        assert_eq!(dataset_name(Path::new("_local.tsv")), "_local");
        assert_eq!(dataset_name(Path::new("Bench_locale.tsv")), "Bench_locale");
        assert_eq!(dataset_name(Path::new("Bench_part_x.tsv")), "Bench_part_x");
    }

    #[test]
    fn indexes() {
        assert_eq!(parse_index("17"), Some(17));
        assert_eq!(parse_index("17.0"), Some(17));
        assert_eq!(parse_index("1.5"), None);
        assert_eq!(parse_index("x"), None);
    }
}
