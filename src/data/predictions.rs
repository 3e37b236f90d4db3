//! Loading model predictions: finding the files, naming the model of each,
//! pairing a raw prediction file with its VLMEvalKit `_result` file, and
//! aligning every prediction row with the loaded items. Every row read is
//! either scored or counted (duplicated, unknown item, invalid index).

use crate::data::items::{canonical_item_column, parse_index, Items};
use crate::data::table::{text_of, Format, RawTable, TextColumn};
use crate::error::{Error, Result};
use datafusion::arrow::array::{Array, AsArray, StringArray, UInt32Array};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// What happened to a model's prediction rows. Always
/// `read == scored + duplicated + unknown + invalid`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Coverage {
    pub read: u64,
    pub scored: u64,
    pub duplicated: u64,
    pub unknown: u64,
    pub invalid: u64,
    /// Items with no prediction row (scored wrong).
    pub missing: u64,
}

/// One model's predictions on one dataset (one run), aligned with that
/// dataset's items: position `i` of every vector is item row
/// `range.start + i`.
#[derive(Clone, Debug)]
pub struct PredictionSet {
    pub model: String,
    pub dataset: String,
    /// The dataset's rows among the loaded items.
    pub range: std::ops::Range<usize>,
    pub files: Vec<String>,
    pub prediction: StringArray,
    pub answered: Vec<bool>,
    /// The `hit` column of a VLMEvalKit result file, where there is one.
    pub hit: Option<Vec<Option<bool>>>,
    /// The `log` column of a VLMEvalKit result file (how each verdict was
    /// reached), where there is one. For a set from the cache: `Some`
    /// (empty) when its file had one.
    pub log: Option<StringArray>,
    /// The `thinking` column (VLMEvalKit's `SPLIT_THINK=1`), where there
    /// is one. For a set from the cache: `Some` (empty) when its file had one.
    pub thinking: Option<StringArray>,
    pub coverage: Coverage,
    /// What loading had to say about this model (counts, column mismatches).
    pub warnings: Vec<String>,
    /// What loading noted without a problem (a file read once of two alike).
    pub notes: Vec<String>,
    /// Columns read back from the cache, aligned with the items:
    /// `answered`, `prediction`, `hit` and each rule set's choice and rule.
    /// When present, the vectors above are empty and scoring is skipped.
    pub cached: Option<datafusion::arrow::array::RecordBatch>,
    /// For a set from the cache: its provenance counts, as kept in its entry.
    pub counts: Option<crate::data::provenance::Counts>,
}

/// Files to read: each spec a file, a glob or a directory (searched
/// recursively). Unsupported files and VLMEvalKit accuracy tables found in
/// directories and globs are skipped.
pub fn discover(specs: &[String]) -> Result<Vec<PathBuf>> {
    Ok(discover_noted(specs)?.0)
}

/// Which run of its model each prediction file is: the label given with
/// `--predictions LABEL=PATH`, else the VLMEvalKit run folder
/// (`{work_dir}/{model}/{eval_id}/`, an eval_id such as `T20260409-153012`)
/// the file really lies in. A model whose files come from two or more runs
/// is one model per run, named `model@run`; a model with one run keeps its
/// name.
#[derive(Clone, Debug, Default)]
pub struct Runs {
    /// Each file's run (files as their paths are shown), found once when
    /// the files are discovered.
    labels: HashMap<String, String>,
    /// The VLMEvalKit run folder (eval_id) of each file that lies in one.
    folders: HashMap<String, String>,
    /// The loaded dataset each file answers, where its name says (see
    /// [`sort_files`]).
    datasets: HashMap<String, String>,
    /// The run records (`status.json`) found beside the files.
    pub records: Vec<crate::data::provenance::RunRecord>,
    /// Run records that could not be read, each with why.
    pub warnings: Vec<String>,
}

impl Runs {
    /// The run a file belongs to, if any is known.
    pub fn label(&self, file: &str) -> Option<String> {
        self.labels.get(file).cloned()
    }

    /// The VLMEvalKit run folder (eval_id) a file lies in, if any.
    pub fn folder(&self, file: &str) -> Option<String> {
        self.folders.get(file).cloned()
    }

    /// The loaded dataset a file answers, where its name says.
    pub fn dataset_of(&self, file: &str) -> Option<&str> {
        self.datasets.get(file).map(String::as_str)
    }

    /// The models with files of one dataset in more than one run, from
    /// `(model, dataset, file)` triples.
    pub fn several<'a>(
        &self,
        triples: impl Iterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> HashSet<String> {
        let mut seen: HashMap<(&str, &str), Option<String>> = HashMap::new();
        let mut several = HashSet::new();
        for (model, dataset, file) in triples {
            let label = self.label(file);
            match seen.get(&(model, dataset)) {
                None => {
                    seen.insert((model, dataset), label);
                }
                Some(first) if *first != label => {
                    several.insert(model.to_string());
                }
                Some(_) => {}
            }
        }
        several
    }

    /// The name of the run of `model` that `file` belongs to.
    pub fn name(&self, model: &str, file: &str, several: &HashSet<String>) -> String {
        match self.label(file) {
            Some(l) if several.contains(model) => format!("{model}@{l}"),
            _ => model.to_string(),
        }
    }
}

/// The VLMEvalKit run folder (an eval_id) a file really lies in.
fn run_folder(real: &Path) -> Option<String> {
    real.parent()?
        .components()
        .rev()
        .filter_map(|c| c.as_os_str().to_str())
        .find(|c| is_eval_id(c))
        .map(str::to_string)
}

/// A VLMEvalKit eval_id: `T`, a date of 8 digits, `-` or `_`, and more
/// (`T20260409-153012`, `T20250409_Gabc1234`).
fn is_eval_id(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 10
        && b[0] == b'T'
        && b[1..9].iter().all(u8::is_ascii_digit)
        && matches!(b[9], b'-' | b'_')
        && b[10..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'))
}

/// `LABEL=PATH`: a run's label and where its files are, when PATH exists
/// (or is a pattern) and the label is a plain name.
fn labelled(spec: &str) -> Option<(&str, &str)> {
    let (label, path) = spec.split_once('=')?;
    let plain = !label.is_empty()
        && label
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    (plain && (Path::new(path).exists() || path.contains(['*', '?', '[']))).then_some((label, path))
}

/// Files found, and what was skipped.
#[derive(Default)]
struct Found {
    files: Vec<PathBuf>,
    seen: std::collections::HashSet<PathBuf>,
    dirs: std::collections::HashSet<PathBuf>,
    skipped: std::collections::HashSet<PathBuf>,
    pickles: usize,
    /// VLMEvalKit's run records (`status.json`), each once.
    records: Vec<PathBuf>,
    /// The run folder of each file found in one, by its shown path.
    runs: HashMap<String, String>,
}

impl Found {
    /// Take a file found in a directory or by a pattern; true when it is a
    /// prediction file (even one already taken).
    fn consider(&mut self, p: &Path) -> bool {
        if wanted(p) {
            self.add(p);
            return true;
        }
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let pickle = name.ends_with(".pkl");
        if pickle || name == "status.json" {
            let key = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            if self.skipped.insert(key) {
                if pickle {
                    self.pickles += 1;
                } else {
                    self.records.push(p.to_path_buf());
                }
            }
        }
        false
    }

    /// A file is read once however often it is reached (VLMEvalKit links
    /// each run's files into the model's folder).
    fn add(&mut self, p: &Path) {
        let key = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let run = run_folder(&key);
        if self.seen.insert(key) {
            if let Some(run) = run {
                self.runs.insert(p.display().to_string(), run);
            }
            self.files.push(p.to_path_buf());
        }
    }

    fn notes(&self) -> Vec<String> {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let mut notes = vec![];
        if self.pickles > 0 {
            notes.push(format!(
                "skipped {} .pkl file{} (VLMEvalKit's pickles: checkpoints, judge caches; medql reads xlsx, csv, tsv, json, jsonl, parquet)",
                self.pickles,
                plural(self.pickles)
            ));
        }
        if !self.records.is_empty() {
            notes.push(format!(
                "read {} status.json file{} as VLMEvalKit's run record{} (`from provenance show *`)",
                self.records.len(),
                plural(self.records.len()),
                plural(self.records.len())
            ));
        }
        notes
    }

    /// The run records found, read; those that cannot be read are warnings.
    fn read_records(&self, runs: &mut Runs) {
        for p in &self.records {
            let real = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            match crate::data::provenance::RunRecord::read(p, run_folder(&real)) {
                Ok(r) => runs.records.push(r),
                Err(why) => runs.warnings.push(format!(
                    "{}: not read as VLMEvalKit's run record: {why}; its run has no judge, commit or date from it",
                    p.display()
                )),
            }
        }
    }
}

/// [`discover`], with notes on the files skipped (VLMEvalKit's pickles and
/// run records). A path that exists is taken as it is, even when it holds
/// `[`, `]`, `*` or `?`; only then is it tried as a pattern.
pub fn discover_noted(specs: &[String]) -> Result<(Vec<PathBuf>, Vec<String>, Runs)> {
    let mut found = Found::default();
    let mut runs = Runs::default();
    for spec in specs {
        let spec = spec.as_str();
        let (label, spec) = match labelled(spec) {
            Some((l, path)) if !Path::new(spec).exists() => (Some(l), path),
            _ => (None, spec),
        };
        let before = found.files.len();
        discover_one(spec, &mut found)?;
        if let Some(l) = label {
            for f in &found.files[before..] {
                runs.labels.insert(f.display().to_string(), l.to_string());
            }
        }
    }
    let notes = found.notes();
    found.read_records(&mut runs);
    // A label given on the command line wins over the run folder.
    for (file, run) in std::mem::take(&mut found.runs) {
        runs.labels.entry(file.clone()).or_insert(run.clone());
        runs.folders.insert(file, run);
    }
    Ok((found.files, notes, runs))
}

/// The files of one `--predictions` spec.
fn discover_one(spec: &str, found: &mut Found) -> Result<()> {
    {
        let p = Path::new(spec);
        if p.is_dir() {
            if walk(p, found)? == 0 {
                return Err(Error::Usage(format!(
                    "no prediction files (.xlsx .csv .tsv .json .jsonl .parquet) in {spec}"
                )));
            }
        } else if p.exists() {
            if p.file_name()
                .is_some_and(|n| n.eq_ignore_ascii_case("status.json"))
            {
                // A run record named on its own is read as one.
                found.consider(p);
                return Ok(());
            }
            if Format::from_path(p).is_none() {
                return Err(Error::Usage(format!(
                    "{spec}: not a prediction file (expected .xlsx .csv .tsv .json .jsonl .parquet)"
                )));
            }
            found.add(p);
        } else if spec.contains(['*', '?', '[']) {
            let mut matched: Vec<PathBuf> = glob::glob(spec)
                .map_err(|e| Error::Usage(format!("bad predictions pattern `{spec}`: {e}")))?
                .filter_map(|x| x.ok())
                .collect();
            matched.sort();
            let mut n = 0;
            for m in matched {
                if m.is_dir() {
                    n += walk(&m, found)?;
                } else if found.consider(&m) {
                    n += 1;
                }
            }
            if n == 0 {
                return Err(Error::Usage(format!("no prediction file matches `{spec}`")));
            }
        } else {
            return Err(Error::Usage(format!("predictions not found: {spec}")));
        }
    }
    Ok(())
}

fn wanted(p: &Path) -> bool {
    if Format::from_path(p).is_none() {
        return false;
    }
    let name = p
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
    // VLMEvalKit's accuracy tables (`_acc.csv`, `_acc.json`, GMAI's three
    // `..._department_acc.csv`), score and rating files (any extension) and
    // run records.
    !(stem.ends_with("_acc")
        || stem.ends_with("_score")
        || stem.ends_with("_rating")
        || name == "status.json"
        || name.starts_with('.'))
}

/// Walk a directory (following links, each directory once); the number of
/// prediction files met.
fn walk(dir: &Path, found: &mut Found) -> Result<usize> {
    let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if !found.dirs.insert(key) {
        return Ok(0);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir.display().to_string(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let mut n = 0;
    for e in entries {
        if e.is_dir() {
            n += walk(&e, found)?;
        } else if found.consider(&e) {
            n += 1;
        }
    }
    Ok(n)
}

/// What a file stem says: the model, the dataset, and for a judged
/// result file the judge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StemParts {
    pub model: Option<String>,
    /// The dataset named, spelt as in `names`.
    pub dataset: Option<String>,
    /// The text between `_<dataset>_` and `_result`, verbatim.
    pub judge: Option<String>,
    pub is_result: bool,
}

/// Split a file stem into model, dataset (one of `names`, matched
/// case-insensitively; the longest that matches wins) and judge.
///
/// Raw predictions are `{model}_{dataset}`; VLMEvalKit's judged results are
/// `{model}_{dataset}_{judge}_result`, where the judge is the name given to
/// VLMEvalKit (`openai`, `gpt4`, `gpt-4o-mini`, `exact_matching`,
/// `qwen-72b`, ...) and may contain `_`: all between `_{dataset}_` and
/// `_result` is the judge. A result file may also be `{model}_{dataset}_result`.
pub fn stem_parts<S: AsRef<str>>(stem: &str, names: &[S]) -> StemParts {
    let lower = stem.to_lowercase();
    let is_result = lower.ends_with("_result");
    let core = if is_result {
        &lower[..lower.len() - "_result".len()]
    } else {
        &lower[..]
    };
    // (position of `_<dataset>`, its length, the dataset)
    let mut best: Option<(usize, usize, &str)> = None;
    for d in names {
        let d = d.as_ref();
        let pat = format!("_{}", d.to_lowercase());
        let mut search = core.len();
        while let Some(pos) = core[..search].rfind(&pat) {
            let rest = &core[pos + pat.len()..];
            // `_<dataset>` ends the stem, or (result files) a judge follows.
            let ok = rest.is_empty() || (is_result && rest.len() > 1 && rest.starts_with('_'));
            if ok && pos > 0 {
                let better =
                    best.is_none_or(|(b, len, _)| pat.len() > len || (pat.len() == len && pos < b));
                if better {
                    best = Some((pos, pat.len(), d));
                }
                break;
            }
            search = pos;
        }
    }
    let Some((pos, len, dataset)) = best else {
        return StemParts {
            is_result,
            ..StemParts::default()
        };
    };
    // `to_lowercase` may change byte lengths outside ASCII: cut the stem
    // where the lower-case text was cut.
    let same = lower.len() == stem.len();
    let cut = |a: usize, b: usize| -> Option<String> {
        if same {
            stem.get(a..b).map(str::to_string)
        } else {
            lower.get(a..b).map(str::to_string)
        }
    };
    let judge = (is_result && pos + len < core.len())
        .then(|| cut(pos + len + 1, core.len()))
        .flatten();
    StemParts {
        model: cut(0, pos),
        dataset: Some(dataset.to_string()),
        judge,
        is_result,
    }
}

/// The dataset names VLMEvalKit registers (`run.py --data NAME`), from its
/// source: a prediction file named for one that is not loaded is skipped.
pub fn registered_datasets() -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        include_str!("../../data/vlmevalkit_datasets.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Which dataset a prediction file answers, by its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileClass {
    /// A loaded dataset.
    Of(String),
    /// A dataset that is not loaded: the file is skipped.
    Skip(String),
    /// The name says nothing about a dataset.
    Unknown,
}

/// The file's stem.
fn stem_of(path: &Path) -> &str {
    path.file_stem().and_then(|s| s.to_str()).unwrap_or("")
}

/// Which dataset a file answers, in order: (1) a loaded dataset named in
/// its stem (`_<dataset>` at the end, or before `_result` or
/// `_<judge>_result`); (2) VLMEvalKit's layout `.../{M}/{M}_{rest}` (the
/// model's folder, or a run folder in it): `rest` names a dataset that is
/// not loaded; (3) a dataset VLMEvalKit registers, not loaded, named at
/// the end of the stem the same way.
pub fn classify(path: &Path, loaded: &[String]) -> FileClass {
    let stem = stem_of(path);
    if let Some(d) = stem_parts(stem, loaded).dataset {
        return FileClass::Of(d);
    }
    let known = stem_parts(stem, registered_datasets());
    if let Some(m) = layout_model(path) {
        let lower = stem.to_lowercase();
        if let Some(rest) = lower.strip_prefix(&format!("{}_", m.to_lowercase())) {
            if !rest.is_empty() {
                let name = match &known.dataset {
                    Some(d) => d.clone(),
                    None => stem[stem.len() - rest.len()..]
                        .trim_end_matches("_result")
                        .to_string(),
                };
                return FileClass::Skip(name);
            }
        }
    }
    match known.dataset {
        Some(d) => FileClass::Skip(d),
        None => FileClass::Unknown,
    }
}

/// The model folder of VLMEvalKit's layout a file lies in: its folder, or
/// the folder above when its folder is a run folder (an eval_id).
fn layout_model(path: &Path) -> Option<String> {
    let mut dir = path.parent()?;
    let name = dir.file_name()?.to_str()?;
    if is_eval_id(name) {
        dir = dir.parent()?;
    }
    Some(dir.file_name()?.to_str()?.to_string())
}

/// Keep the prediction files of loaded datasets, noting each file's
/// dataset in `runs`; skip files of datasets not loaded, summed up in one
/// note (`skipped 14 prediction files of 6 datasets not loaded:
/// MMBench_DEV_EN (4), ...`). With one dataset loaded, a file whose name
/// says nothing answers it.
pub fn sort_files(
    files: Vec<PathBuf>,
    loaded: &[String],
    runs: &mut Runs,
) -> (Vec<PathBuf>, Option<String>) {
    let mut kept = vec![];
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    for f in files {
        let shown = f.display().to_string();
        match classify(&f, loaded) {
            FileClass::Of(d) => {
                runs.datasets.insert(shown, d);
                kept.push(f);
            }
            FileClass::Skip(d) => *skipped.entry(d).or_default() += 1,
            FileClass::Unknown => {
                if let [only] = loaded {
                    runs.datasets.insert(shown, only.clone());
                }
                kept.push(f);
            }
        }
    }
    if skipped.is_empty() {
        return (kept, None);
    }
    let total: usize = skipped.values().sum();
    let mut by_count: Vec<(String, usize)> = skipped.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let listed: Vec<String> = by_count.iter().map(|(d, n)| format!("{d} ({n})")).collect();
    let note = format!(
        "skipped {total} prediction file{} of {} dataset{} not loaded: {}",
        if total == 1 { "" } else { "s" },
        by_count.len(),
        if by_count.len() == 1 { "" } else { "s" },
        listed.join(", ")
    );
    (kept, Some(note))
}

/// A part of a file that holds one model's rows of one dataset.
struct Portion {
    file: String,
    dataset: String,
    is_result: bool,
    table: std::rc::Rc<RawTable>,
    rows: Vec<usize>,
}

/// Read prediction files and align them with `items`. Warnings (counts of
/// unknown, duplicated, invalid rows, unanswered items, column mismatches)
/// are appended to `warnings`.
pub fn load_predictions(
    files: &[PathBuf],
    items: &Items,
    runs: &Runs,
    warnings: &mut Vec<String>,
) -> Result<Vec<PredictionSet>> {
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let check = ItemCheck::new(items);
    let tables = crate::data::table::read_tables(&paths, &|t| reduce(t, &check, runs))
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    assemble(tables, items, runs, None, warnings)
}

/// Build prediction sets from tables already read (files, or generated data):
/// one per model, dataset and run. A model with files of one dataset in
/// several runs (see [`Runs`]) is one model per run; `several` names those
/// models when the tables are not all the files (a load through the
/// cache), else it is found from the tables.
pub fn assemble(
    tables: Vec<RawTable>,
    items: &Items,
    runs: &Runs,
    several: Option<&HashSet<String>>,
    warnings: &mut Vec<String>,
) -> Result<Vec<PredictionSet>> {
    let datasets = items.datasets();
    let mut portions: Vec<(String, Portion)> = vec![];
    for t in tables {
        let (groups, is_result, warning) = table_models(&t, &datasets, runs)?;
        warnings.extend(warning);
        warnings.extend(t.notes.iter().cloned());
        let table = std::rc::Rc::new(t);
        for ((m, dataset), rows) in groups {
            portions.push((
                m,
                Portion {
                    file: table.file.clone(),
                    dataset,
                    is_result,
                    table: table.clone(),
                    rows,
                },
            ));
        }
    }
    let found;
    let several = match several {
        Some(s) => s,
        None => {
            found = runs.several(
                portions
                    .iter()
                    .map(|(m, p)| (m.as_str(), p.dataset.as_str(), p.file.as_str())),
            );
            &found
        }
    };
    // By model, then dataset in the items' order.
    let order = |d: &str| datasets.iter().position(|x| x == d).unwrap_or(usize::MAX);
    let mut by_set: BTreeMap<(String, usize), Vec<Portion>> = BTreeMap::new();
    for (m, p) in portions {
        let name = runs.name(&m, &p.file, several);
        by_set.entry((name, order(&p.dataset))).or_default().push(p);
    }
    let mut sets = vec![];
    for ((model, _), portions) in by_set {
        let set = build_set(model, portions, items)?;
        warnings.extend(set.warnings.iter().cloned());
        sets.push(set);
    }
    Ok(sets)
}

/// A table's (model, dataset) groups with their rows, whether it is a
/// `_result` file, and a warning about its name.
pub type TableModels = (Vec<((String, String), Vec<usize>)>, bool, Option<String>);

/// The dataset of a table's rows: its `dataset` column where it has one,
/// else the one its file answers (see [`sort_files`]; with one dataset
/// loaded, that one).
fn table_dataset(t: &RawTable, datasets: &[String], runs: &Runs) -> Result<TableDataset> {
    if let Some(dc) = t.column("dataset") {
        return Ok(TableDataset::Column(dc));
    }
    if let Some(d) = runs.dataset_of(&t.file) {
        return Ok(TableDataset::File(d.to_string()));
    }
    match datasets {
        [only] => Ok(TableDataset::File(only.clone())),
        _ => Err(Error::data(
            &t.file,
            format!(
                "which loaded dataset this file answers cannot be told: its name holds none of {} and it has no `dataset` column; name it {{model}}_{{dataset}} as VLMEvalKit does",
                datasets.join(", ")
            ),
        )),
    }
}

/// Where a table's rows find their dataset.
enum TableDataset {
    /// Every row: the file's.
    File(String),
    /// Each row: this column's value.
    Column(usize),
}

impl TableDataset {
    /// The dataset of row `r` of `t`, spelt as loaded; None when the
    /// column names a dataset that is not loaded.
    fn of<'a>(&'a self, t: &RawTable, r: usize, datasets: &'a [String]) -> Option<&'a str> {
        match self {
            TableDataset::File(d) => Some(d),
            TableDataset::Column(c) => {
                let v = t.cell(r, *c)?.trim();
                datasets
                    .iter()
                    .find(|d| d.eq_ignore_ascii_case(v))
                    .map(String::as_str)
            }
        }
    }
}

/// The (model, dataset) groups a table holds, with their rows (models by
/// its `model` column, or one named by the file name; datasets by its
/// `dataset` column, or the file's), whether it is a `_result` file, and a
/// warning when the file name names no dataset or rows name a dataset that
/// is not loaded.
pub fn table_models(t: &RawTable, datasets: &[String], runs: &Runs) -> Result<TableModels> {
    let stem = stem_of(Path::new(&t.file)).to_string();
    let where_rows = table_dataset(t, datasets, runs)?;
    let file_dataset = match &where_rows {
        TableDataset::File(d) => Some(d.as_str()),
        TableDataset::Column(_) => None,
    };
    let parts = match file_dataset {
        Some(d) => stem_parts(&stem, &[d]),
        None => stem_parts(&stem, datasets),
    };
    let is_result = parts.is_result;
    let mc = t.column("model");
    let mut warning = None;
    let model_of_file = match (&parts.model, mc) {
        (Some(m), _) => m.clone(),
        (None, Some(_)) => String::new(),
        (None, None) => {
            warning = Some(format!(
                "{}: no dataset name ({}) in the file name; the model is named `{stem}`",
                t.file,
                datasets.join(", ")
            ));
            stem.clone()
        }
    };
    if let (None, TableDataset::File(d)) = (mc, &where_rows) {
        // One model, one dataset: every row (a set even without rows).
        return Ok((
            vec![((model_of_file, d.clone()), (0..t.len).collect())],
            is_result,
            warning,
        ));
    }
    let mut groups: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    let mut elsewhere: (usize, Option<String>) = (0, None);
    for r in 0..t.len {
        let model = match mc {
            Some(mc) => match t.cell(r, mc).map(str::trim) {
                Some(m) if !m.is_empty() => m,
                _ => {
                    return Err(Error::data_at(
                        &t.file,
                        Some(t.row_number(r)),
                        Some(&t.headers[mc]),
                        "empty model name",
                    ))
                }
            },
            None => model_of_file.as_str(),
        };
        match where_rows.of(t, r, datasets) {
            Some(d) => groups.entry((model, d)).or_default().push(r),
            None => {
                elsewhere.0 += 1;
                if elsewhere.1.is_none() {
                    elsewhere.1 = Some(format!(
                        "{} {}: `{}`",
                        t.row_unit,
                        t.row_number(r),
                        match &where_rows {
                            TableDataset::Column(c) => t.cell(r, *c).unwrap_or_default(),
                            TableDataset::File(d) => d.as_str(),
                        }
                    ));
                }
            }
        }
    }
    let groups: BTreeMap<(String, String), Vec<usize>> = groups
        .into_iter()
        .map(|((m, d), rows)| ((m.to_string(), d.to_string()), rows))
        .collect();
    if elsewhere.0 > 0 {
        warning = Some(format!(
            "{}: {} rows of datasets not loaded ignored (first: {})",
            t.file,
            elsewhere.0,
            elsewhere.1.unwrap_or_default()
        ));
    }
    Ok((groups.into_iter().collect(), is_result, warning))
}

/// A portion's rows as comparable keys: (index, prediction, hit,
/// thinking), sorted. Numbers compare as numbers (`1` in a TSV is `1.0`
/// in a JSON float column), `hit` as a verdict.
fn row_keys(p: &Portion) -> Vec<[Option<String>; 4]> {
    let t = &p.table;
    let cols = ["index", "prediction", "hit", "thinking"].map(|c| t.column(c));
    let mut keys: Vec<[Option<String>; 4]> = p
        .rows
        .iter()
        .map(|&r| {
            let cell = |k: usize| cols[k].and_then(|c| t.cell(r, c)).map(str::to_string);
            let index = cell(0).map(|s| parse_index(&s).map_or(s, |i| i.to_string()));
            let hit = cell(2).map(|s| match parse_hit(&s) {
                Ok(Some(h)) => (h as u8).to_string(),
                _ => s,
            });
            [index, cell(1), hit, cell(3)]
        })
        .collect();
    keys.sort();
    keys
}

/// Where two portions' rows first differ, or None when they hold the same rows.
fn first_difference(a: &Portion, b: &Portion) -> Option<String> {
    let (ka, kb) = (row_keys(a), row_keys(b));
    for (x, y) in ka.iter().zip(kb.iter()) {
        if x != y {
            let at = if x[0] != y[0] {
                x[0].as_ref().min(y[0].as_ref())
            } else {
                x[0].as_ref()
            };
            return Some(format!(
                "the two differ at index {}",
                at.map_or("(empty)", |s| s.as_str())
            ));
        }
    }
    (ka.len() != kb.len()).then(|| format!("{} rows against {}", ka.len(), kb.len()))
}

/// One model's prediction set from its portions: one run of raw rows
/// and one of judged (`_result`) rows at most; the rows of the raw file
/// (else of the result file) aligned with the items, the `hit` column of
/// the result file, and a warning that counts what was left out.
fn build_set(model: String, portions: Vec<Portion>, items: &Items) -> Result<PredictionSet> {
    let mut notes = vec![];
    let dataset = portions
        .first()
        .map(|p| p.dataset.clone())
        .unwrap_or_default();
    // How messages name the set: by its model, and with several datasets
    // loaded, its dataset too.
    let who = if items.datasets().len() > 1 {
        format!("{model} on {dataset}")
    } else {
        model.clone()
    };
    let raws = one_run(
        &who,
        portions.iter().filter(|p| !p.is_result).collect(),
        &mut notes,
    )?;
    let results = one_run(
        &who,
        portions.iter().filter(|p| p.is_result).collect(),
        &mut notes,
    )?;
    let primary = raws
        .first()
        .or(results.first())
        .copied()
        .expect("a portion");
    let secondary = if raws.is_empty() {
        None
    } else {
        results.first().copied()
    };

    let range = items.range(&dataset).unwrap_or(0..0);
    let n = range.len();
    let mut set = PredictionSet {
        model: model.clone(),
        dataset,
        range,
        files: raws
            .iter()
            .chain(&results)
            .map(|p| p.file.clone())
            .collect(),
        prediction: StringArray::new_null(0),
        answered: vec![false; n],
        hit: None,
        log: None,
        thinking: None,
        coverage: Coverage::default(),
        warnings: vec![],
        notes,
        cached: None,
        counts: None,
    };
    let ignored = align(&mut set, primary, items)?;

    // The hit column: from the result file (paired or alone).
    let hit_source = secondary.or(if primary.is_result {
        Some(primary)
    } else {
        None
    });
    if let Some(res) = hit_source {
        (set.hit, set.log) = verdict_columns(res, primary, &set, items)?;
    }

    set.warnings = coverage_warning(&who, &set.coverage, ignored, primary.table.row_unit, n)
        .into_iter()
        .collect();
    Ok(set)
}

/// A model's raw portions, or its result portions, as one run: the same
/// rows in two files (an .xlsx and a .tsv left by switching PRED_FORMAT)
/// are one set, read once, with a note; different rows are two runs, an
/// error, as which to score cannot be told.
fn one_run<'a>(
    model: &str,
    mut group: Vec<&'a Portion>,
    notes: &mut Vec<String>,
) -> Result<Vec<&'a Portion>> {
    while group.len() > 1 {
        let (first, second) = (group[0], group[1]);
        if let Some(diff) = first_difference(first, second) {
            return Err(Error::data(
                &second.file,
                format!(
                    "a second prediction set for model `{model}` (the first is {}; {diff}); point at one run, or name the model with a `model` column",
                    first.file
                ),
            ));
        }
        notes.push(format!(
            "{model}: {} holds the same {} rows as {} (VLMEvalKit writes one file per PRED_FORMAT); read once",
            second.file,
            second.rows.len(),
            first.file
        ));
        group.remove(1);
    }
    Ok(group)
}

/// The first row of each kind that [`align`] ignored, for the warning that
/// counts them.
#[derive(Default)]
struct Ignored {
    /// Where a row's index is not an integer, and what it is.
    invalid: Option<String>,
    /// An index no item has.
    unknown: Option<i64>,
    /// An index met again, and the row where it was.
    duplicate: Option<(i64, u64)>,
}

/// Align `primary`'s rows with the items: each row's prediction (and
/// thinking) goes to its item's position in `set`, and every row read is
/// counted in the coverage as scored, or as invalid, unknown or duplicated
/// (the first kept) and ignored; items left without a row are missing.
fn align(set: &mut PredictionSet, primary: &Portion, items: &Items) -> Result<Ignored> {
    let mut first = Ignored::default();
    let n = set.range.len();
    let t = &primary.table;
    let ic = require(t, "index")?;
    let pc = require(t, "prediction")?;
    let tc = t.column("thinking");
    // Each item's row in the table, for the text columns taken from it.
    let mut source: Vec<Option<u32>> = vec![None; n];
    let dataset = items.dataset_id(&set.dataset);
    for &r in &primary.rows {
        set.coverage.read += 1;
        let raw = t.cell(r, ic).unwrap_or("");
        let Some(index) = parse_index(raw) else {
            set.coverage.invalid += 1;
            first.invalid.get_or_insert_with(|| {
                format!(
                    "{} {}: index `{raw}` is not an integer",
                    t.row_unit,
                    t.row_number(r)
                )
            });
            continue;
        };
        let Some(pos) = dataset.and_then(|d| items.row_in(d, index)) else {
            set.coverage.unknown += 1;
            first.unknown.get_or_insert(index);
            continue;
        };
        let pos = pos - set.range.start;
        if set.answered[pos] {
            set.coverage.duplicated += 1;
            first.duplicate.get_or_insert((index, t.row_number(r)));
            continue;
        }
        set.answered[pos] = true;
        source[pos] = Some(r as u32);
        set.coverage.scored += 1;
    }
    let source = UInt32Array::from(source);
    set.prediction = taken(t, pc, &source)?;
    set.thinking = tc.map(|tc| taken(t, tc, &source)).transpose()?;
    set.coverage.missing = set.answered.iter().filter(|a| !**a).count() as u64;
    Ok(first)
}

/// Column `c` of `t` at the rows `source` gives (null where it gives none).
fn taken(t: &RawTable, c: usize, source: &UInt32Array) -> Result<StringArray> {
    let column = t
        .columns
        .get(c)
        .ok_or_else(|| Error::data(&t.file, format!("no column {}", c + 1)))?
        .plain()
        .map_err(|e| Error::data(&t.file, format!("cannot read column {}: {e}", c + 1)))?;
    let out = datafusion::arrow::compute::take(column.as_ref(), source, None)
        .map_err(|e| Error::engine(format!("reading {}", t.file), e))?;
    Ok(out.as_string::<i32>().clone())
}

/// A model's verdicts as VLMEvalKit recorded them: `hit`, and `log`.
type Verdicts = (Option<Vec<Option<bool>>>, Option<StringArray>);

/// The `hit` and `log` columns of result portion `res`, aligned with the
/// items; None for a column it does not have (no `log` without `hit`).
/// When `res` is paired with a raw `primary`, each of its predictions must
/// be the raw file's for the item (the same run). Rows whose index is
/// invalid or unknown are left out, as `primary`'s are.
fn verdict_columns(
    res: &Portion,
    primary: &Portion,
    set: &PredictionSet,
    items: &Items,
) -> Result<Verdicts> {
    let rt = &res.table;
    let Some(hc) = rt.column("hit") else {
        return Ok((None, None));
    };
    let rpc = rt.column("prediction");
    let ric = require(rt, "index")?;
    let lc = rt.column("log");
    let n = set.range.len();
    let mut hits = vec![None; n];
    let mut log_source: Vec<Option<u32>> = vec![None; n];
    let dataset = items.dataset_id(&set.dataset);
    for &r in &res.rows {
        let Some(index) = rt.cell(r, ric).and_then(parse_index) else {
            continue;
        };
        let Some(pos) = dataset.and_then(|d| items.row_in(d, index)) else {
            continue;
        };
        let pos = pos - set.range.start;
        if !std::ptr::eq(res, primary) {
            if let Some(rpc) = rpc {
                let theirs = rt.cell(r, rpc);
                let ours = set
                    .prediction
                    .is_valid(pos)
                    .then(|| set.prediction.value(pos));
                if !set.answered[pos] || theirs != ours {
                    return Err(Error::data_at(
                        &res.file,
                        Some(rt.row_number(r)),
                        Some(&rt.headers[rpc]),
                        format!(
                            "the prediction for item {index} differs from {}; a raw file and its result file must be the same run",
                            primary.file
                        ),
                    ));
                }
            }
        }
        let h = parse_hit(rt.cell(r, hc).unwrap_or("")).map_err(|other| {
            Error::data_at(
                &res.file,
                Some(rt.row_number(r)),
                Some(&rt.headers[hc]),
                format!("expected 0 or 1 in `hit`, found `{other}`"),
            )
        })?;
        hits[pos] = h;
        log_source[pos] = Some(r as u32);
    }
    let logs = lc
        .map(|lc| taken(rt, lc, &UInt32Array::from(log_source)))
        .transpose()?;
    Ok((Some(hits), logs))
}

/// The warning on a model's coverage, when any rows were ignored or items
/// left unanswered: the counts, each with its first example (`row_unit`:
/// what the primary file's rows are called), in one line.
fn coverage_warning(
    model: &str,
    c: &Coverage,
    first: Ignored,
    row_unit: &str,
    n: usize,
) -> Option<String> {
    let mut parts = vec![];
    if c.unknown > 0 {
        parts.push(format!(
            "{} predictions for unknown items ignored (first: index {})",
            c.unknown,
            first.unknown.unwrap_or_default()
        ));
    }
    if c.duplicated > 0 {
        let (i, row) = first.duplicate.unwrap_or_default();
        parts.push(format!(
            "{} duplicate predictions ignored, the first kept (first: index {i} again at {row_unit} {row})",
            c.duplicated
        ));
    }
    if c.invalid > 0 {
        parts.push(format!(
            "{} rows with an invalid index ignored ({})",
            c.invalid,
            first.invalid.unwrap_or_default()
        ));
    }
    if c.missing > 0 && (c.missing as usize) < n {
        parts.push(format!("{} items unanswered, scored wrong", c.missing));
    } else if c.missing as usize == n && n > 0 {
        parts.push(format!("no prediction matches any of the {n} loaded items"));
    }
    (!parts.is_empty()).then(|| format!("{model}: {}", parts.join("; ")))
}

/// A `hit` cell: a verdict, none (empty), or the text that is neither.
fn parse_hit(cell: &str) -> std::result::Result<Option<bool>, String> {
    match cell.trim() {
        "1" | "1.0" | "True" | "true" => Ok(Some(true)),
        "0" | "0.0" | "False" | "false" => Ok(Some(false)),
        "" => Ok(None),
        other => Err(other.to_string()),
    }
}

fn require(t: &RawTable, name: &str) -> Result<usize> {
    t.column(name).ok_or_else(|| {
        Error::data_at(
            &t.file,
            Some(1),
            Some(name),
            format!(
                "missing required column `{name}` (the header has: {})",
                t.headers.join(", ")
            ),
        )
    })
}

/// Compare the item columns a prediction file carries with the items; every
/// differing column is reported with a count and its first example.
/// Check a table's item columns against the items, then keep only the
/// columns scoring needs (`model`, `dataset`, `index`, `prediction`,
/// `hit`, the judge's `log`, and the `thinking` text of `SPLIT_THINK=1`):
/// a prediction file's copy of every question is not held in memory.
/// `runs` says which dataset the file answers.
pub fn reduce(mut t: RawTable, items: &ItemCheck, runs: &Runs) -> RawTable {
    let mut notes = vec![];
    if let Ok(d) = table_dataset(&t, &items.items.datasets(), runs) {
        check_item_columns(&t, items, &d, &mut notes);
    }
    let keep: Vec<usize> = (0..t.headers.len())
        .filter(|&i| {
            [
                "model",
                "dataset",
                "index",
                "prediction",
                "hit",
                "log",
                "thinking",
            ]
            .iter()
            .any(|k| t.headers[i].trim().eq_ignore_ascii_case(k))
        })
        .collect();
    // A table without its required columns keeps its header whole, for the
    // error that names what it has.
    let complete = t.column("index").is_some() && t.column("prediction").is_some();
    if complete && keep.len() < t.headers.len() {
        t.project(&keep);
    }
    t.notes.extend(notes);
    t
}

/// The items as prediction files are checked against them: each item
/// column a file may carry as one contiguous array, read in order rather
/// than chased through an allocation per cell, built once for every file.
pub struct ItemCheck<'a> {
    pub items: &'a Items,
    columns: Vec<ItemColumn>,
}

struct ItemColumn {
    name: &'static str,
    values: StringArray,
    /// Each item's text as a number (equal texts, equal numbers; an empty
    /// cell is the empty text) and each distinct text's number: made when
    /// a coded column is first checked against this one.
    numbered: std::sync::OnceLock<(Vec<u32>, HashMap<String, u32>)>,
}

impl<'a> ItemCheck<'a> {
    pub fn new(items: &'a Items) -> ItemCheck<'a> {
        let columns = crate::data::items::ITEM_COLUMNS
            .iter()
            .filter_map(|(name, _)| {
                let values = items.column(name)?;
                Some(ItemColumn {
                    name,
                    values: StringArray::from_iter(values.iter().map(Option::as_deref)),
                    numbered: std::sync::OnceLock::new(),
                })
            })
            .collect();
        ItemCheck { items, columns }
    }

    fn column(&self, name: &str) -> Option<&ItemColumn> {
        self.columns.iter().find(|c| c.name == name)
    }
}

impl ItemColumn {
    /// Item `pos`'s text (empty when it has none).
    fn text(&self, pos: usize) -> &str {
        text_of(&self.values, pos).unwrap_or("")
    }

    fn numbered(&self) -> &(Vec<u32>, HashMap<String, u32>) {
        self.numbered.get_or_init(|| {
            let mut id_of: HashMap<String, u32> = HashMap::new();
            let ids = (0..self.values.len())
                .map(|pos| {
                    let text = self.text(pos);
                    if let Some(&id) = id_of.get(text) {
                        return id;
                    }
                    let id = id_of.len() as u32;
                    id_of.insert(text.to_string(), id);
                    id
                })
                .collect();
            (ids, id_of)
        })
    }
}

/// Whether row `r` of a file's column holds the same text as the items
/// have at `pos` (an empty cell and a missing one are the same); a coded
/// column's distinct texts are looked up among the items' once each
/// (`known`, one place per distinct text), and its rows compare numbers.
fn same_text(
    theirs: &TextColumn,
    r: usize,
    ours: &ItemColumn,
    pos: usize,
    known: &mut [Option<Option<u32>>],
) -> bool {
    match theirs {
        TextColumn::Plain(_) => theirs.get(r).unwrap_or("") == ours.text(pos),
        TextColumn::Coded { values, .. } => {
            let Some(k) = theirs.key(r) else {
                return ours.text(pos).is_empty();
            };
            let (ids, id_of) = ours.numbered();
            let id = *known[k]
                .get_or_insert_with(|| id_of.get(text_of(values, k).unwrap_or("")).copied());
            id == Some(ids[pos])
        }
    }
}

fn check_item_columns(
    t: &RawTable,
    check: &ItemCheck,
    dataset: &TableDataset,
    warnings: &mut Vec<String>,
) {
    let items = check.items;
    let Some(ic) = t.column("index") else { return };
    let checked: Vec<(usize, &String, &ItemColumn)> = t
        .headers
        .iter()
        .enumerate()
        .filter_map(|(hc, header)| {
            let column = check.column(canonical_item_column(header)?)?;
            Some((hc, header, column))
        })
        .collect();
    if checked.is_empty() {
        return;
    }
    // Each row's item (its index and its row among the items), found once
    // for all the columns compared.
    let datasets = items.datasets();
    let file_dataset = match dataset {
        TableDataset::File(d) => Some(items.dataset_id(d)),
        TableDataset::Column(_) => None,
    };
    let found: Vec<Option<(i64, usize)>> = (0..t.len)
        .map(|r| {
            let index = parse_index(t.cell(r, ic)?)?;
            let d = match file_dataset {
                Some(d) => d?,
                None => items.dataset_id(dataset.of(t, r, &datasets)?)?,
            };
            Some((index, items.row_in(d, index)?))
        })
        .collect();
    for (hc, header, column) in checked {
        let mut count = 0u64;
        let mut first = None;
        let theirs_column = &t.columns[hc];
        let mut known = match theirs_column {
            TextColumn::Coded { values, .. } => vec![None; values.len()],
            TextColumn::Plain(_) => vec![],
        };
        for (r, found) in found.iter().enumerate() {
            let Some((index, pos)) = *found else {
                continue;
            };
            if !same_text(theirs_column, r, column, pos, &mut known) {
                count += 1;
                first.get_or_insert_with(|| {
                    let theirs = theirs_column.get(r).unwrap_or("");
                    (
                        t.row_number(r),
                        index,
                        column.text(pos).to_string(),
                        theirs.to_string(),
                    )
                });
            }
        }
        if let Some((row, index, ours, theirs)) = first {
            let (at, ours, theirs) = difference(&ours, &theirs);
            warnings.push(format!(
                "{}, {} {row}, column `{header}`: item {index} differs from the items file at character {at} ({ours:?} there, {theirs:?} here); {count} rows differ in this column; the items file is used",
                t.file,
                t.row_unit,
            ));
        }
    }
}

/// Where two texts first differ (the 1-based character), and each text
/// around that place: whole when both are short, else a window from a
/// little before it, cut with `…`.
fn difference(a: &str, b: &str) -> (usize, String, String) {
    const BEFORE: usize = 20;
    const WIDTH: usize = 60;
    let (ca, cb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let at = ca.iter().zip(&cb).take_while(|(x, y)| x == y).count();
    if ca.len() <= WIDTH && cb.len() <= WIDTH {
        return (at + 1, a.to_string(), b.to_string());
    }
    let start = at.saturating_sub(BEFORE);
    let window = |c: &[char]| {
        let end = (start + WIDTH).min(c.len());
        let mut s = String::new();
        if start > 0 {
            s.push('…');
        }
        s.extend(&c[start.min(c.len())..end]);
        if end < c.len() {
            s.push('…');
        }
        s
    };
    (at + 1, window(&ca), window(&cb))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model a stem names, and whether it is a result file.
    fn model_from_stem(stem: &str, datasets: &[String]) -> (Option<String>, bool) {
        let p = stem_parts(stem, datasets);
        (p.model, p.is_result)
    }

    #[test]
    fn model_names_from_stems() {
        let d = vec!["GMAI-MMBench_VAL".to_string()];
        assert_eq!(
            model_from_stem("qwen_chat_GMAI-MMBench_VAL", &d),
            (Some("qwen_chat".into()), false)
        );
        assert_eq!(
            model_from_stem("HuatuoGPT_Vision_7B_GMAI-MMBench_VAL_openai_result", &d),
            (Some("HuatuoGPT_Vision_7B".into()), true)
        );
        assert_eq!(
            model_from_stem("Qwen2-VL-7B-Instruct_gmai-mmbench_val_result", &d),
            (Some("Qwen2-VL-7B-Instruct".into()), true)
        );
        assert_eq!(
            model_from_stem("m_GMAI-MMBench_TEST", &["GMAI-MMBench_TEST".to_string()]),
            (Some("m".into()), false)
        );
        assert_eq!(model_from_stem("predictions", &d), (None, false));
        // Judges as VLMEvalKit names them, `_` and `-` included.
        for judge in [
            "openai",
            "gpt4",
            "gpt-4o-mini",
            "exact_matching",
            "qwen-72b",
        ] {
            assert_eq!(
                model_from_stem(&format!("qwen_chat_GMAI-MMBench_VAL_{judge}_result"), &d),
                (Some("qwen_chat".into()), true),
                "{judge}"
            );
            // The judge is read verbatim, case and all.
            let p = stem_parts(&format!("qwen_chat_gmai-mmbench_val_{judge}_result"), &d);
            assert_eq!(p.judge.as_deref(), Some(judge));
            assert_eq!(p.dataset.as_deref(), Some("GMAI-MMBench_VAL"));
        }
        let p = stem_parts("Qwen_GMAI-MMBench_VAL_GPT-4o-Mini_result", &d);
        assert_eq!(p.judge.as_deref(), Some("GPT-4o-Mini"));
        // No judge without one in the name, and none in raw files.
        assert_eq!(stem_parts("m_GMAI-MMBench_VAL_result", &d).judge, None);
        assert_eq!(stem_parts("m_GMAI-MMBench_VAL", &d).judge, None);
        // The longest dataset name that matches wins.
        let both = ["MMBench".to_string(), "MMBench_DEV_EN".to_string()];
        let p = stem_parts("m_MMBench_DEV_EN_openai_result", &both);
        assert_eq!(p.dataset.as_deref(), Some("MMBench_DEV_EN"));
        assert_eq!(p.judge.as_deref(), Some("openai"));
        assert_eq!(
            stem_parts("m_MMBench_openai_result", &both)
                .dataset
                .as_deref(),
            Some("MMBench")
        );
        // A raw file has nothing after the dataset.
        assert_eq!(
            model_from_stem("qwen_chat_GMAI-MMBench_VAL_exact_matching", &d),
            (None, false)
        );
    }

    #[test]
    fn files_are_sorted_to_their_datasets() {
        let loaded = vec!["GMAI-MMBench_VAL".to_string()];
        let of = |p: &str| classify(Path::new(p), &loaded);
        assert_eq!(
            of("out/qwen_chat_GMAI-MMBench_VAL.xlsx"),
            FileClass::Of("GMAI-MMBench_VAL".into())
        );
        assert_eq!(
            of("out/qwen_chat_gmai-mmbench_val_gpt-4o-mini_result.xlsx"),
            FileClass::Of("GMAI-MMBench_VAL".into())
        );
        // A dataset VLMEvalKit registers, not loaded: skipped.
        assert_eq!(
            of("out/qwen_chat_GMAI-MMBench_TEST.xlsx"),
            FileClass::Skip("GMAI-MMBench_TEST".into())
        );
        assert_eq!(
            of("flat/m_MMBench_DEV_EN_openai_result.xlsx"),
            FileClass::Skip("MMBench_DEV_EN".into())
        );
        // VLMEvalKit's layout names datasets it does not register too.
        assert_eq!(
            of("outputs/m/T20260409-153012/m_MyBench.xlsx"),
            FileClass::Skip("MyBench".into())
        );
        assert_eq!(
            of("outputs/m/m_MyBench_result.csv"),
            FileClass::Skip("MyBench".into())
        );
        assert_eq!(of("preds/predictions.csv"), FileClass::Unknown);

        let mut runs = Runs::default();
        let files: Vec<PathBuf> = [
            "o/a/a_GMAI-MMBench_VAL.xlsx",
            "o/a/a_GMAI-MMBench_TEST.xlsx",
            "o/a/a_MMBench_DEV_EN.xlsx",
            "o/b/b_MMBench_DEV_EN.xlsx",
            "o/x.csv",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let (kept, note) = sort_files(files, &loaded, &mut runs);
        assert_eq!(
            kept,
            [
                PathBuf::from("o/a/a_GMAI-MMBench_VAL.xlsx"),
                PathBuf::from("o/x.csv")
            ]
        );
        assert_eq!(
            note.as_deref(),
            Some("skipped 3 prediction files of 2 datasets not loaded: MMBench_DEV_EN (2), GMAI-MMBench_TEST (1)")
        );
        // With one dataset loaded, a file whose name says none answers it.
        assert_eq!(runs.dataset_of("o/x.csv"), Some("GMAI-MMBench_VAL"));
    }

    #[test]
    fn differences_are_shown_where_they_are() {
        assert_eq!(
            difference("abc", "abd"),
            (3, "abc".to_string(), "abd".to_string())
        );
        let long = "x".repeat(100);
        let (at, a, b) = difference(&format!("{long}A tail"), &format!("{long}B tail"));
        assert_eq!(at, 101);
        assert!(a.starts_with('…') && a.contains("xA tail"), "{a}");
        assert!(b.starts_with('…') && b.contains("xB tail"), "{b}");
    }
}
