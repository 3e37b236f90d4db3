//! Loading data: benchmark items (TSV), model predictions (xlsx, csv, tsv,
//! json, jsonl, parquet) and the built-in synthetic demo benchmark.

pub mod cache;
pub mod demo;
pub mod generate;
pub mod images;
pub mod items;
pub mod predictions;
pub mod progress;
pub mod provenance;
mod shapes;
pub mod table;
pub mod trees;

use crate::error::Result;
pub use items::Items;
pub use predictions::{Coverage, PredictionSet};
use std::collections::{BTreeMap, BTreeSet};

/// What to load.
#[derive(Clone, Debug, Default)]
pub struct LoadSpec {
    /// Items TSV files or globs, concatenated in order.
    pub items: Vec<String>,
    /// Prediction files, globs or directories.
    pub predictions: Vec<String>,
    /// Lexical trees declared for datasets (`--tree DATASET=PATHS`, or a
    /// file of such lines).
    pub trees: Vec<String>,
}

impl LoadSpec {
    pub fn is_demo(&self) -> bool {
        self.items.is_empty() && self.predictions.is_empty()
    }

    /// The declared trees, parsed; a bad declaration is a usage error.
    pub fn declared_trees(&self) -> Result<Vec<trees::Declared>> {
        trees::parse_declarations(&self.trees).map_err(crate::Error::Usage)
    }
}

/// Items and aligned predictions, with what the loader had to say.
#[derive(Debug)]
pub struct Loaded {
    pub items: Items,
    pub sets: Vec<PredictionSet>,
    pub warnings: Vec<String>,
    /// What loading noted that is no problem (files skipped, a file read
    /// once of two alike); not warnings, so `--strict` lets them pass.
    pub notes: Vec<String>,
    pub demo: bool,
    pub prediction_files: Vec<String>,
    /// Lexical trees declared for datasets.
    pub trees: Vec<trees::Declared>,
    /// Which run each prediction file belongs to, and the run records
    /// (`status.json`) found beside them.
    pub runs: predictions::Runs,
    /// Where sets scored in this load are to be kept: the cache and, per
    /// set, the key and description of its entry (None: read from it).
    pub pending: Option<(cache::Cache, Vec<Option<cache::Pending>>)>,
    /// Prediction sets read from the cache, and sets read from their files.
    pub cache_hits: usize,
    pub cache_misses: usize,
}

pub fn load(spec: &LoadSpec) -> Result<Loaded> {
    load_with(spec, None)
}

/// Load through a cache: unchanged files' models come back scored.
pub fn load_with(spec: &LoadSpec, cache: Option<&cache::Cache>) -> Result<Loaded> {
    let trees = spec.declared_trees()?;
    let mut loaded = load_data(spec, cache)?;
    loaded.trees = trees;
    Ok(loaded)
}

/// [`load_with`] without the declared trees.
fn load_data(spec: &LoadSpec, cache: Option<&cache::Cache>) -> Result<Loaded> {
    if spec.items.is_empty() && spec.predictions.is_empty() {
        return Ok(demo_loaded());
    }
    if let Some(c) = cache {
        if !spec.items.is_empty() {
            return load_cached(spec, c);
        }
    }
    if spec.items.is_empty() {
        return Err(crate::Error::Usage(
            "--predictions needs --items: the benchmark TSV the predictions answer".into(),
        ));
    }
    let mut items = Items::new();
    let item_files = items::items_files(&spec.items)?;
    progress::stage(progress::Stage::Items, item_files.len() as u64);
    for f in item_files {
        items::load_items_file(&f, &mut items)?;
    }
    let (files, mut notes, mut runs) = predictions::discover_noted(&spec.predictions)?;
    let (files, skipped) = predictions::sort_files(files, &items.datasets(), &mut runs);
    notes.extend(skipped);
    let mut warnings = runs.warnings.clone();
    progress::stage(progress::Stage::Predictions, files.len() as u64);
    let sets = predictions::load_predictions(&files, &items, &runs, &mut warnings)?;
    notes.extend(sets.iter().flat_map(|s| s.notes.iter().cloned()));
    let n = sets.len();
    Ok(Loaded {
        items,
        sets,
        warnings,
        notes,
        demo: false,
        prediction_files: files.iter().map(|p| p.display().to_string()).collect(),
        trees: vec![],
        runs,
        pending: None,
        cache_hits: 0,
        cache_misses: n,
    })
}

/// [`load_with`] through a cache.
fn load_cached(spec: &LoadSpec, c: &cache::Cache) -> Result<Loaded> {
    let items = KeyedItems::load(spec, c)?;
    // Prediction files: known ones say which models they hold; new or
    // changed ones are read now.
    let (files, mut notes, mut runs) = predictions::discover_noted(&spec.predictions)?;
    let (files, skipped) = predictions::sort_files(files, &items.datasets, &mut runs);
    notes.extend(skipped);
    progress::stage(progress::Stage::Predictions, files.len() as u64);
    let mut files = PredictionFiles::look_up(files, c, &items);
    let misses = files.unknown();
    files.read(&misses, c, &items, &runs)?;
    files.recall_warnings();
    let (sources, several) = files.sources(&runs);
    let (mut from_cache, rebuild) = models_from_cache(c, &items, &files, &sources, &misses);
    // Models to score: read every file they come from, then assemble.
    let wanted: Vec<usize> = rebuild.iter().flat_map(|m| sources[m].clone()).collect();
    files.read(&wanted, c, &items, &runs)?;
    let tables = std::mem::take(&mut files.tables);
    let mut fresh = assemble_fresh(tables, &items.items, &runs, &several, &rebuild)?;

    // Every model in name order, scored here or from the cache; the
    // files' warnings first, then each model's.
    let mut warnings: Vec<String> = runs.warnings.clone();
    warnings.extend(std::mem::take(&mut files.warnings).into_iter().flatten());
    let mut sets: Vec<PredictionSet> = vec![];
    let mut pending = vec![];
    let (mut hits, mut misses_n) = (0, 0);
    for (m, srcs) in &sources {
        if let Some(set) = fresh.remove(m) {
            warnings.extend(set.warnings.iter().cloned());
            notes.extend(set.notes.iter().cloned());
            pending.push(Some((
                files.model_key(c, &items.key, m, srcs),
                entry_meta(&set),
            )));
            sets.push(set);
            misses_n += 1;
        } else if let Some((batch, meta)) = from_cache.remove(m) {
            warnings.extend(meta.warnings.iter().cloned());
            notes.extend(meta.notes.iter().cloned());
            sets.push(cached_set(&items.items, batch, meta));
            pending.push(None);
            hits += 1;
        }
    }
    // By model, then dataset in the items' order, as a load without the
    // cache has them.
    let order = |d: &str| items.datasets.iter().position(|x| x == d);
    let mut both: Vec<_> = sets.into_iter().zip(pending).collect();
    both.sort_by(|(a, _), (b, _)| {
        (a.model.as_str(), order(&a.dataset)).cmp(&(b.model.as_str(), order(&b.dataset)))
    });
    let (sets, pending): (Vec<_>, Vec<_>) = both.into_iter().unzip();
    Ok(Loaded {
        items: items.items,
        sets,
        warnings,
        notes,
        demo: false,
        prediction_files: files
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        trees: vec![],
        runs,
        pending: Some((c.clone(), pending)),
        cache_hits: hits,
        cache_misses: misses_n,
    })
}

/// A cached load's items, with what its cache entries are keyed by.
struct KeyedItems {
    items: Items,
    /// The key of the items files' contents: model entries are made
    /// under it, and file entries are valid only under it.
    key: String,
    /// The items' datasets, which name the models in file names.
    datasets: Vec<String>,
}

impl KeyedItems {
    /// The items: one cache entry per set of items files. Every items file
    /// gets a file entry (its content hash), of which the key is made; the
    /// items come from the cache under that key, or are read from the
    /// files and kept there.
    fn load(spec: &LoadSpec, c: &cache::Cache) -> Result<KeyedItems> {
        let item_files = items::items_files(&spec.items)?;
        let mut item_entries = vec![];
        for f in &item_files {
            match c.lookup(f).or_else(|| c.identify(f)) {
                Some(e) => {
                    c.store_entry(&e);
                    item_entries.push(e)
                }
                None => return Err(crate::Error::Usage(format!("cannot read {}", f.display()))),
            }
        }
        let key = c.items_key(&item_entries);
        // From the cache, the files are named as this load names them, and
        // their image cells are read while they stay as they are now.
        let named: Vec<String> = item_files.iter().map(|f| f.display().to_string()).collect();
        let cached = c.get_items(&key).filter(|i| i.files.len() == named.len());
        let items = match cached {
            Some(mut items) => {
                items.reopened(named);
                items
            }
            None => {
                let mut items = Items::new();
                progress::stage(progress::Stage::Items, item_files.len() as u64);
                for f in &item_files {
                    items::load_items_file(f, &mut items)?;
                }
                c.put_items(&key, &items);
                items
            }
        };
        let datasets = items.datasets();
        Ok(KeyedItems {
            items,
            key,
            datasets,
        })
    }
}

/// A cached load's prediction files and what is known of each. A file is
/// read at most once, and only when it must be: when it is new or
/// changed, or when a model it holds is to be scored.
struct PredictionFiles {
    paths: Vec<std::path::PathBuf>,
    /// Each file's entry: the cache's, when valid for these items, else
    /// the one made when the file is read.
    entries: Vec<Option<cache::FileEntry>>,
    /// The files read so far, by position.
    tables: BTreeMap<usize, table::RawTable>,
    /// Each file's warnings and notes.
    warnings: Vec<Vec<String>>,
}

impl PredictionFiles {
    /// The files, with the entries the cache holds for them: only entries
    /// that name their models and were made under these items count.
    fn look_up(paths: Vec<std::path::PathBuf>, c: &cache::Cache, items: &KeyedItems) -> Self {
        let entries: Vec<Option<cache::FileEntry>> = paths
            .iter()
            .map(|f| {
                c.lookup(f).filter(|e| {
                    e.models.is_some() && e.datasets == items.datasets && e.items_key == items.key
                })
            })
            .collect();
        let warnings = vec![vec![]; paths.len()];
        PredictionFiles {
            paths,
            entries,
            tables: BTreeMap::new(),
            warnings,
        }
    }

    /// The files without an entry: new, or changed since they were read.
    fn unknown(&self) -> Vec<usize> {
        (0..self.paths.len())
            .filter(|&i| self.entries[i].is_none())
            .collect()
    }

    /// Read the `wanted` files not read yet, on all cores, and note what
    /// they hold: their warnings, and for a file without an entry a new
    /// one (its models and their datasets), kept in the cache.
    fn read(
        &mut self,
        wanted: &[usize],
        c: &cache::Cache,
        items: &KeyedItems,
        runs: &predictions::Runs,
    ) -> Result<()> {
        let todo: Vec<usize> = wanted
            .iter()
            .copied()
            .filter(|i| !self.tables.contains_key(i))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if todo.is_empty() {
            return Ok(());
        }
        let paths: Vec<&std::path::Path> = todo.iter().map(|&i| self.paths[i].as_path()).collect();
        let check = predictions::ItemCheck::new(&items.items);
        let reduce = |t| predictions::reduce(t, &check, runs);
        for (&i, t) in todo.iter().zip(table::read_tables(&paths, &reduce)) {
            let t = t?;
            let (groups, _, warning) = predictions::table_models(&t, &items.datasets, runs)?;
            self.warnings[i] = warning.into_iter().chain(t.notes.iter().cloned()).collect();
            if self.entries[i].is_none() {
                let mut e = c.identify(&self.paths[i]).ok_or_else(|| {
                    crate::Error::Usage(format!("cannot read {}", self.paths[i].display()))
                })?;
                e.models = Some(groups.into_iter().map(|(m, _)| m).collect());
                e.datasets = items.datasets.clone();
                e.items_key = items.key.clone();
                e.warnings = self.warnings[i].clone();
                c.store_entry(&e);
                self.entries[i] = Some(e);
            }
            self.tables.insert(i, t);
        }
        Ok(())
    }

    /// The warnings of the files not read, as their entries recorded them.
    fn recall_warnings(&mut self) {
        for (i, e) in self.entries.iter().enumerate() {
            if !self.tables.contains_key(&i) {
                self.warnings[i] = e.as_ref().map(|e| e.warnings.clone()).unwrap_or_default();
            }
        }
    }

    /// Which files each prediction set (a model, or each run of a model
    /// with several, on a dataset) comes from, by the files' entries; and
    /// the models with several runs.
    fn sources(
        &self,
        runs: &predictions::Runs,
    ) -> (
        BTreeMap<SetKey, Vec<usize>>,
        std::collections::HashSet<String>,
    ) {
        let paths: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        let mut triples: Vec<(&str, &str, usize)> = vec![];
        for (i, e) in self.entries.iter().enumerate() {
            for (m, d) in e
                .as_ref()
                .and_then(|e| e.models.as_ref())
                .into_iter()
                .flatten()
            {
                triples.push((m.as_str(), d.as_str(), i));
            }
        }
        let several = runs.several(triples.iter().map(|(m, d, i)| (*m, *d, paths[*i].as_str())));
        let mut sources: BTreeMap<SetKey, Vec<usize>> = BTreeMap::new();
        for (m, d, i) in triples {
            sources
                .entry((runs.name(m, &paths[i], &several), d.to_string()))
                .or_default()
                .push(i);
        }
        (sources, several)
    }

    /// The key of a set's cache entry: the items, the model, the dataset
    /// and the entries of the files it comes from (`srcs`).
    fn model_key(
        &self,
        c: &cache::Cache,
        items_key: &str,
        (m, d): &SetKey,
        srcs: &[usize],
    ) -> String {
        let es: Vec<&cache::FileEntry> = srcs
            .iter()
            .filter_map(|&i| self.entries[i].as_ref())
            .collect();
        c.model_key(items_key, &format!("{m}\u{1f}{d}"), &es)
    }
}

/// A prediction set's name: its model (with `@run` for one of several
/// runs) and its dataset.
type SetKey = (String, String);

/// A model's scored columns and description, as its cache entry holds them.
type CachedModel = (datafusion::arrow::array::RecordBatch, cache::ModelMeta);

/// Which models come from the cache (looked up on all cores) and which
/// are to be scored: those with a file new or changed (`misses`), and
/// those whose entry is missing or unreadable.
fn models_from_cache(
    c: &cache::Cache,
    items: &KeyedItems,
    files: &PredictionFiles,
    sources: &BTreeMap<SetKey, Vec<usize>>,
    misses: &[usize],
) -> (BTreeMap<SetKey, CachedModel>, BTreeSet<SetKey>) {
    let mut from_cache: BTreeMap<SetKey, CachedModel> = BTreeMap::new();
    let mut rebuild: BTreeSet<SetKey> = BTreeSet::new();
    let candidates: Vec<(&SetKey, &Vec<usize>)> = sources.iter().collect();
    let hits = parallel_map(&candidates, |(m, srcs)| {
        let changed = srcs.iter().any(|i| misses.contains(i));
        let rows = items.items.range(&m.1).map_or(0, |r| r.len());
        if changed {
            None
        } else {
            c.get_model(&files.model_key(c, &items.key, m, srcs), rows)
        }
    });
    for ((m, _), hit) in candidates.iter().zip(hits) {
        let m = *m;
        match hit {
            Some(h) => {
                from_cache.insert(m.clone(), h);
            }
            None => {
                rebuild.insert(m.clone());
            }
        }
    }
    (from_cache, rebuild)
}

/// The prediction sets of the models to score, by name, assembled from
/// every file read as a load without the cache would (so a model's rows
/// in several files meet); the other models those files hold are read
/// from the cache and dropped here, and so are the assembly's warnings,
/// which the sets carry.
fn assemble_fresh(
    tables: BTreeMap<usize, table::RawTable>,
    items: &Items,
    runs: &predictions::Runs,
    several: &std::collections::HashSet<String>,
    rebuild: &BTreeSet<SetKey>,
) -> Result<BTreeMap<SetKey, PredictionSet>> {
    let mut assembled_warnings = vec![];
    let assembled = predictions::assemble(
        tables.into_values().collect(),
        items,
        runs,
        Some(several),
        &mut assembled_warnings,
    )?;
    Ok(assembled
        .into_iter()
        .map(|s| ((s.model.clone(), s.dataset.clone()), s))
        .filter(|(k, _)| rebuild.contains(k))
        .collect())
}

/// The description kept in the cache entry of a set scored in this load,
/// for a later load to rebuild the set from.
fn entry_meta(set: &PredictionSet) -> cache::ModelMeta {
    cache::ModelMeta {
        model: set.model.clone(),
        dataset: set.dataset.clone(),
        files: set.files.clone(),
        coverage: set.coverage.clone(),
        warnings: set.warnings.clone(),
        has_hit: set.hit.is_some(),
        has_log: set.log.is_some(),
        has_thinking: set.thinking.is_some(),
        notes: set.notes.clone(),
        counts: None,
    }
}

/// A set from its cache entry: its scored columns, and what the entry
/// recorded; `hit`, `log` and `thinking` are empty but present when the
/// set had them, and scoring is skipped.
fn cached_set(
    items: &Items,
    batch: datafusion::arrow::array::RecordBatch,
    meta: cache::ModelMeta,
) -> PredictionSet {
    let hit = meta.has_hit.then(Vec::new);
    PredictionSet {
        range: items.range(&meta.dataset).unwrap_or(0..0),
        model: meta.model,
        dataset: meta.dataset,
        files: meta.files,
        prediction: empty_text(),
        answered: vec![],
        hit,
        log: meta.has_log.then(empty_text),
        thinking: meta.has_thinking.then(empty_text),
        coverage: meta.coverage,
        warnings: meta.warnings,
        notes: meta.notes,
        cached: Some(batch),
        counts: meta.counts,
    }
}

fn empty_text() -> datafusion::arrow::array::StringArray {
    datafusion::arrow::array::StringArray::new_null(0)
}

/// `f` over every element on all cores; results in order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(x) = items.get(i) else { break };
                let r = f(x);
                out.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    out.into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every element is mapped"))
        .collect()
}

/// The built-in demo benchmark, as loaded data.
pub fn demo_loaded() -> Loaded {
    let d = demo::demo();
    from_demo(d)
}

/// Turn generated demo data into loaded items and prediction sets, through
/// the same assembly as files take.
pub fn from_demo(d: demo::DemoData) -> Loaded {
    let mut items = Items::new();
    items.has_answers = true;
    for (line, it) in d.items.iter().enumerate() {
        let mut cells: Vec<Option<String>> = Vec::with_capacity(items::ITEM_COLUMNS.len());
        cells.push(Some(it.question.clone()));
        for l in 0..5 {
            cells.push(it.options.get(l).cloned());
        }
        cells.push(Some(it.answer.to_string()));
        cells.push(Some(it.category.clone()));
        cells.push(Some(it.task.clone()));
        cells.push(it.department.clone());
        cells.push(Some(it.granularity.clone()));
        cells.push(Some(it.modality.clone()));
        cells.push(Some(it.original_task.clone()));
        items
            .push(&d.dataset, it.index, cells, "<demo>", line as u64 + 2)
            .expect("demo indexes are unique");
    }
    items.files.push("<demo>".into());
    let tables = d
        .models
        .iter()
        .map(|m| {
            let rows: Vec<Vec<Option<String>>> = m
                .predictions
                .iter()
                .map(|(i, p)| vec![Some(m.name.clone()), Some(i.to_string()), p.clone()])
                .collect();
            table::RawTable::from_rows(
                format!("<demo>/{}", m.name),
                vec!["model".into(), "index".into(), "prediction".into()],
                &rows,
                (2..rows.len() as u64 + 2).collect(),
                "row",
            )
        })
        .collect();
    let mut warnings = vec![];
    let sets = predictions::assemble(
        tables,
        &items,
        &predictions::Runs::default(),
        None,
        &mut warnings,
    )
    .expect("demo predictions assemble");
    let n = sets.len();
    Loaded {
        items,
        sets,
        warnings,
        notes: vec![],
        demo: true,
        prediction_files: vec![],
        trees: vec![],
        runs: predictions::Runs::default(),
        pending: None,
        cache_hits: 0,
        cache_misses: n,
    }
}
