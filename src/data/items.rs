//! Loading benchmark items from VLMEvalKit TSV files. Columns are found by
//! header name in any order, and every column is kept: GMAI-MMBench's under
//! their short names, the others under a name that needs no quoting (see
//! [`column_name`]). Image columns (base64 pictures, gigabytes in the
//! published files) are read past and never kept: only where each item's
//! image cell lies in its file (see [`crate::data::images`]).

use crate::data::images::{CellTap, FileState, ImageCell, ImageIndex};
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

/// Names an items column may not take (the relation's own columns): such
/// a column is named with `_item` after it.
const RESERVED: &[&str] = &[
    "model",
    "model_id",
    "item_id",
    "dataset",
    "index",
    "answered",
    "prediction",
    "thinking",
    "choice",
    "rule",
    "correct",
    "hit",
    "policy",
    "log",
    "n_options",
    "correct_recorded",
];

/// Whether a column is an option of the items: a single capital letter
/// (`A`..`Z`, as VLMEvalKit's `build_choices` scans).
pub fn is_option(name: &str) -> bool {
    name.len() == 1 && name.as_bytes()[0].is_ascii_uppercase()
}

/// The relation's name of an items column: GMAI-MMBench's columns by their
/// short names (`task` for `clinical VQA task`), options as their letter,
/// any other lower-cased with each run of characters other than letters,
/// digits and `_` made one `_`, a leading digit prefixed with `_`
/// (`l2-category` -> `l2_category`); a name the relation has already
/// (`model`, `dataset`, `choice`, ...) or a keyword takes `_item` after it.
pub fn column_name(header: &str) -> String {
    let h = header.trim();
    if let Some(c) = canonical_item_column(h) {
        return c.to_string();
    }
    if is_option(h) {
        return h.to_string();
    }
    let mut name = String::with_capacity(h.len());
    let mut gap = false;
    for c in h.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            if gap {
                name.push('_');
                gap = false;
            }
            name.push(c.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    if gap || name.is_empty() {
        name.push('_');
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    let taken = RESERVED.contains(&name.as_str())
        || crate::syntax::keywords::is_keyword(&name)
        || is_scored_name(&name);
    if taken {
        name.push_str("_item");
    }
    name
}

/// Whether a name has the shape of a rule set's scored column
/// (`choice_v2024`, `correct_legacy`, `rule_current`): a stem, then a
/// rule set's name (an era `v` and four digits, or an alias).
fn is_scored_name(name: &str) -> bool {
    let Some((stem, set)) = name.split_once('_') else {
        return false;
    };
    let era =
        set.len() == 5 && set.starts_with('v') && set[1..].bytes().all(|b| b.is_ascii_digit());
    matches!(stem, "choice" | "rule" | "correct")
        && (era || matches!(set, "legacy" | "current" | "recorded"))
}

/// Whether a header names an image column: `image`, `image_<n>`.
fn is_image_header(h: &str) -> bool {
    let h = h.trim().to_ascii_lowercase();
    h == "image"
        || h.strip_prefix("image_")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether a cell looks like a base64 picture: over 1 KiB of the base64
/// alphabet.
fn looks_like_base64(cell: &[u8]) -> bool {
    cell.len() > 1024
        && cell
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\n' | b'\r'))
}

/// What the loader does with a header's cells.
enum Slot {
    /// Keep them in this items column.
    Keep(usize),
    /// Drop them (the index, read apart; an image column).
    Drop,
    /// Decide at the first non-empty cell.
    Pending,
}

/// One column of the items: its name in the relation, its header as first
/// written, and a value per item.
#[derive(Debug, Clone)]
pub struct ItemColumn {
    pub name: String,
    pub header: String,
    pub values: Vec<Option<String>>,
}

/// The canonical column for a header, matched case-insensitively, or None.
pub fn canonical_item_column(header: &str) -> Option<&'static str> {
    let h = header.trim();
    ITEM_COLUMNS.iter().find_map(|(canon, tsv)| {
        (h.eq_ignore_ascii_case(tsv) || h.eq_ignore_ascii_case(canon)).then_some(*canon)
    })
}

/// Hashing for (dataset, index) keys: every prediction row looks its item
/// up, so a multiply-and-rotate of the two integers, not SipHash (the keys
/// come from files the user chose to load, not from an adversary).
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyHash;

impl std::hash::BuildHasher for KeyHash {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(0)
    }
}

#[derive(Clone, Copy, Debug)]
pub struct KeyHasher(u64);

impl KeyHasher {
    #[inline]
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        // The table takes its bucket from the low bits and a tag from the
        // high ones: fold the well-mixed high half into both.
        self.0 ^ (self.0 >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.add(u64::from(*b));
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.add(u64::from(v));
    }
    fn write_i64(&mut self, v: i64) {
        self.add(v as u64);
    }
}

/// Items, column by column: GMAI-MMBench's columns ([`ITEM_COLUMNS`]) first,
/// always there, then every other column in the order first met.
#[derive(Debug, Default, Clone)]
pub struct Items {
    pub dataset: Vec<String>,
    pub index: Vec<i64>,
    pub columns: Vec<ItemColumn>,
    /// The files read, in order.
    pub files: Vec<String>,
    /// Whether any loaded file had an `answer` column.
    pub has_answers: bool,
    /// The row of each (dataset, index): indexes repeat across datasets.
    position: HashMap<(u32, i64), usize, KeyHash>,
    /// Each dataset's rows, in order of loading: a dataset's items are
    /// contiguous (its files are read one after another).
    ranges: Vec<(String, std::ops::Range<usize>)>,
    /// Where each item was read: (file number in `origin_files`, line).
    origins: Vec<(u32, u64)>,
    origin_files: Vec<String>,
    /// Where each item's image cell lies in its file (none: no cell).
    image_cells: Vec<ImageCell>,
    /// Each file of `files` as it was when read (size, time): image cells
    /// are read only from a file still so.
    file_states: Vec<Option<FileState>>,
}

impl Items {
    pub fn new() -> Items {
        Items {
            columns: ITEM_COLUMNS
                .iter()
                .map(|(name, header)| ItemColumn {
                    name: name.to_string(),
                    header: header.to_string(),
                    values: vec![],
                })
                .collect(),
            ..Default::default()
        }
    }

    /// The position of the column a header names, made (empty for the
    /// items so far) when new. A header that names a column of another
    /// spelling already in the file is the caller's to catch.
    pub fn column_id(&mut self, header: &str) -> usize {
        let name = column_name(header);
        if let Some(i) = self.columns.iter().position(|c| c.name == name) {
            return i;
        }
        self.columns.push(ItemColumn {
            name,
            header: header.trim().to_string(),
            values: vec![None; self.index.len()],
        });
        self.columns.len() - 1
    }

    /// A column's values by its name in the relation.
    pub fn column(&self, name: &str) -> Option<&[Option<String>]> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.values.as_slice())
    }

    /// One value of a column by its name.
    pub fn value(&self, name: &str, row: usize) -> Option<&str> {
        self.column(name)?.get(row)?.as_deref()
    }

    /// The option columns (`A`, `B`, ...), in letter order, as positions.
    pub fn options(&self) -> Vec<usize> {
        let mut o: Vec<usize> = (0..self.columns.len())
            .filter(|&i| is_option(&self.columns[i].name))
            .collect();
        o.sort_by(|a, b| self.columns[*a].name.cmp(&self.columns[*b].name));
        o
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The row of an item of a dataset.
    pub fn row_of(&self, dataset: &str, index: i64) -> Option<usize> {
        self.row_in(self.dataset_id(dataset)?, index)
    }

    /// A dataset's number, for [`Items::row_in`] (found once, not per row).
    pub fn dataset_id(&self, dataset: &str) -> Option<u32> {
        self.ranges
            .iter()
            .position(|(n, _)| n == dataset)
            .map(|d| d as u32)
    }

    /// The row of an item of the dataset numbered `d`.
    pub fn row_in(&self, d: u32, index: i64) -> Option<usize> {
        self.position.get(&(d, index)).copied()
    }

    /// The rows of a dataset.
    pub fn range(&self, dataset: &str) -> Option<std::ops::Range<usize>> {
        self.ranges
            .iter()
            .find(|(n, _)| n == dataset)
            .map(|(_, r)| r.clone())
    }

    /// Number of non-empty options of a row.
    pub fn n_options(&self, row: usize) -> i64 {
        self.columns
            .iter()
            .filter(|c| is_option(&c.name))
            .filter(|c| c.values[row].as_deref().is_some_and(|s| !s.is_empty()))
            .count() as i64
    }

    /// Add one item, `cells` by column position (fewer than the columns:
    /// the rest empty); an index seen before in its dataset is an error
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
        self.image_cells.push(ImageCell::default());
        let mut cells = cells.into_iter();
        for c in &mut self.columns {
            c.values.push(cells.next().flatten());
        }
        Ok(())
    }

    /// The dataset names, in order of first appearance.
    pub fn datasets(&self) -> Vec<String> {
        self.ranges.iter().map(|(d, _)| d.clone()).collect()
    }

    /// Where a row's image cell lies in its items file (see
    /// [`crate::data::images`]); `is_none()` when it has none.
    pub fn image_cell(&self, row: usize) -> ImageCell {
        self.image_cells.get(row).copied().unwrap_or_default()
    }

    /// Say where a row's image cell lies.
    pub fn set_image_cell(&mut self, row: usize, cell: ImageCell) {
        if let Some(c) = self.image_cells.get_mut(row) {
            *c = cell;
        }
    }

    /// Each items file's state when read, in the order of `files`.
    pub fn file_states(&self) -> &[Option<FileState>] {
        &self.file_states
    }

    /// Name the items files anew (the same files, as this load spells
    /// them) and take their state now: items from the cache, whose files
    /// were just found unchanged.
    pub fn reopened(&mut self, files: Vec<String>) {
        self.file_states = files.iter().map(|f| FileState::now(f)).collect();
        self.files = files;
    }

    /// The images of an item, read from its items file now (see
    /// [`ImageIndex::item_images`]).
    pub fn item_images(
        &self,
        dataset: &str,
        index: i64,
    ) -> Result<Vec<crate::data::images::Image>> {
        let d = self.dataset_id(dataset);
        let files = crate::data::images::Files {
            paths: &self.files,
            states: &self.file_states,
        };
        crate::data::images::item_images_with(files, dataset, index, |i| {
            d.and_then(|d| self.row_in(d, i))
                .map(|r| self.image_cell(r))
        })
    }

    /// Every item's image cell with the files they lie in, for a session
    /// to keep (the items' text is not kept with it).
    pub fn image_index(&self) -> ImageIndex {
        let mut cells = std::collections::HashMap::new();
        for (&(d, index), &row) in &self.position {
            let c = self.image_cell(row);
            if !c.is_none() {
                cells.insert((d, index), c);
            }
        }
        ImageIndex::new(
            self.files.clone(),
            self.file_states.clone(),
            self.datasets(),
            cells,
        )
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
    // The tap records where each record's image cell lies in the file.
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(CellTap::new(
            QuoteWatch::new(std::io::BufReader::with_capacity(1 << 20, f), b'\t'),
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
    // What becomes of each header's cells: kept in an items column, dropped
    // (the index, image columns), or decided at its first non-empty cell
    // (a base64 picture is dropped).
    let columns_before = items.columns.len();
    let mut slots: Vec<Slot> = Vec::with_capacity(headers.len());
    let mut names: HashMap<String, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        if i == index_col || is_image_header(h) {
            slots.push(Slot::Drop);
            continue;
        }
        let name = column_name(h);
        if let Some(&j) = names.get(&name) {
            return Err(Error::data_at(
                &file,
                Some(1),
                Some(h),
                format!(
                    "the columns `{}` and `{h}` are both the column `{name}`; rename one",
                    headers[j]
                ),
            ));
        }
        names.insert(name.clone(), i);
        if canonical_item_column(h).is_some() || is_option(&name) {
            slots.push(Slot::Keep(items.column_id(h)));
        } else {
            slots.push(Slot::Pending);
        }
    }
    if names.contains_key("answer") {
        items.has_answers = true;
    }
    // The image column whose cells' places are kept: `image`, else the
    // first `image_<n>`.
    let image_col = headers
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case("image"))
        .or_else(|| headers.iter().position(|h| is_image_header(h)));
    let file_no = items.files.len();
    let tap = rdr.get_mut();
    tap.watch(image_col);
    tap.next_record(); // the header
                       // Whether the tap still agrees with the reader: a record it split
                       // otherwise leaves the rest of the file without image places.
    let mut in_step = image_col.is_some();
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(&file, e)),
        }
        let tapped = rdr.get_mut().next_record();
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
        // Columns decided at this row's cells.
        for (i, slot) in slots.iter_mut().enumerate() {
            if let Slot::Pending = slot {
                let b = rec.get(i).unwrap_or(b"");
                if !b.is_empty() {
                    *slot = if looks_like_base64(b) {
                        Slot::Drop
                    } else {
                        Slot::Keep(items.column_id(&headers[i]))
                    };
                }
            }
        }
        let mut cells: Vec<Option<String>> = vec![None; items.columns.len()];
        for (i, slot) in slots.iter().enumerate() {
            if let Slot::Keep(c) = slot {
                let b = rec.get(i).unwrap_or(b"");
                if !b.is_empty() {
                    cells[*c] = Some(utf8(&file, line, &headers[i], b)?);
                }
            }
        }
        items.push(&dataset, index, cells, &file, line)?;
        if let (Some(c), true) = (image_col, in_step) {
            match tapped.filter(|t| t.fields == rec.len()) {
                Some(t) => {
                    let cell = t.cell.and_then(|f| {
                        crate::data::images::tapped_cell(f, rec.get(c).unwrap_or(b""), file_no)
                    });
                    if let Some(cell) = cell {
                        items.set_image_cell(items.len() - 1, cell);
                    }
                }
                None => in_step = false,
            }
        }
    }
    // A column empty in every row is a column still.
    for (i, slot) in slots.iter().enumerate() {
        if let Slot::Pending = slot {
            items.column_id(&headers[i]);
        }
    }
    // The columns this file brought, in its header's order.
    items.columns[columns_before..].sort_by_key(|c| names.get(&c.name).copied());
    if let Some(at) = rdr.get_ref().get_ref().unterminated() {
        return Err(unterminated_quote(&file, &headers, at));
    }
    crate::data::progress::file_done((items.len() - before) as u64);
    items.files.push(file);
    items.file_states.push(Some(FileState::of(&meta)));
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

/// The field-metadata key of an items column's header as written, where
/// it differs from the column's name: a query may name the column so.
pub const HEADER_KEY: &str = "medql.header";

/// The type of an items column other than GMAI-MMBench's: integers when
/// every non-empty value is one, else numbers when every one is, else text.
fn column_type(values: &[Option<String>]) -> datafusion::arrow::datatypes::DataType {
    use datafusion::arrow::datatypes::DataType;
    let mut any = false;
    let mut ints = true;
    for v in values.iter().flatten() {
        let t = v.trim();
        any = true;
        if ints && t.parse::<i64>().is_ok() {
            continue;
        }
        ints = false;
        if !t.parse::<f64>().is_ok_and(f64::is_finite) {
            return DataType::Utf8;
        }
    }
    match (any, ints) {
        (false, _) => DataType::Utf8,
        (true, true) => DataType::Int64,
        (true, false) => DataType::Float64,
    }
}

/// The order of the items' columns in the relations: `question`, the
/// options in letter order, `answer`, GMAI-MMBench's labels, then every
/// other column as first met.
pub fn column_order(items: &Items) -> Vec<usize> {
    let pos = |name: &str| items.columns.iter().position(|c| c.name == name);
    let known = |names: &[&str]| -> Vec<usize> { names.iter().filter_map(|n| pos(n)).collect() };
    let mut order = known(&["question"]);
    order.extend(items.options());
    order.extend(known(&["answer"]));
    let labels: Vec<&str> = ITEM_COLUMNS[7..].iter().map(|(n, _)| *n).collect();
    order.extend(known(&labels));
    for i in 0..items.columns.len() {
        if !order.contains(&i) {
            order.push(i);
        }
    }
    order
}

/// The item columns as Arrow arrays, in relation order, with `dataset`,
/// `index` and `n_options`. GMAI-MMBench's columns and the options are
/// text; the others are typed by their values ([`column_type`]) and carry
/// their header as written ([`HEADER_KEY`]) where it differs from the name.
pub fn item_arrays(
    items: &Items,
) -> (
    Vec<datafusion::arrow::datatypes::Field>,
    Vec<datafusion::arrow::array::ArrayRef>,
) {
    use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
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
    for c in column_order(items) {
        let col = &items.columns[c];
        let known = canonical_item_column(&col.name).is_some() || is_option(&col.name);
        let ty = if known {
            DataType::Utf8
        } else {
            column_type(&col.values)
        };
        let array: ArrayRef = match ty {
            DataType::Int64 => {
                Arc::new(Int64Array::from_iter(col.values.iter().map(|v| {
                    v.as_deref().and_then(|t| t.trim().parse::<i64>().ok())
                })))
            }
            DataType::Float64 => {
                Arc::new(Float64Array::from_iter(col.values.iter().map(|v| {
                    v.as_deref().and_then(|t| t.trim().parse::<f64>().ok())
                })))
            }
            _ => Arc::new(StringArray::from_iter(col.values.iter())),
        };
        let mut field = Field::new(&col.name, ty, true);
        if !known && col.header != col.name {
            field = field.with_metadata(
                [(HEADER_KEY.to_string(), col.header.clone())]
                    .into_iter()
                    .collect(),
            );
        }
        fields.push(field);
        arrays.push(array);
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
    fn column_names_need_no_quoting() {
        assert_eq!(column_name("clinical VQA task"), "task");
        assert_eq!(column_name("Perceptual Granularity"), "granularity");
        assert_eq!(column_name("F"), "F");
        assert_eq!(column_name("l2-category"), "l2_category");
        assert_eq!(column_name("L2 -- Category "), "l2_category");
        assert_eq!(column_name("weight%"), "weight_");
        assert_eq!(column_name("Body System"), "body_system");
        assert_eq!(column_name("2nd opinion"), "_2nd_opinion");
        assert_eq!(column_name("image_path"), "image_path");
        // Names the relation has, keywords and scored columns take `_item`.
        for (h, n) in [
            ("model", "model_item"),
            ("Dataset", "dataset_item"),
            ("score", "score_item"),
            ("split", "split"),
            ("choice_v2024", "choice_v2024_item"),
            ("rule_based", "rule_based"),
        ] {
            assert_eq!(column_name(h), n, "{h}");
        }
        assert!(is_image_header("image") && is_image_header("Image_2"));
        assert!(!is_image_header("image_path") && !is_image_header("image_x"));
        assert!(looks_like_base64(&[b'Q'; 1025]));
        assert!(!looks_like_base64(&[b'Q'; 1024]));
        assert!(!looks_like_base64(&[b' '; 2000]));
    }

    #[test]
    fn column_types_from_values() {
        use datafusion::arrow::datatypes::DataType;
        let v = |xs: &[&str]| -> Vec<Option<String>> {
            xs.iter()
                .map(|x| (!x.is_empty()).then(|| x.to_string()))
                .collect()
        };
        assert_eq!(column_type(&v(&["1", "", "-3"])), DataType::Int64);
        assert_eq!(column_type(&v(&["1", "0.5"])), DataType::Float64);
        assert_eq!(column_type(&v(&["1", "x"])), DataType::Utf8);
        assert_eq!(column_type(&v(&["1", "inf"])), DataType::Utf8);
        assert_eq!(column_type(&v(&["", ""])), DataType::Utf8);
    }

    #[test]
    fn indexes() {
        assert_eq!(parse_index("17"), Some(17));
        assert_eq!(parse_index("17.0"), Some(17));
        assert_eq!(parse_index("1.5"), None);
        assert_eq!(parse_index("x"), None);
    }
}
