//! The scored relation: one row per (model, item), with every policy's
//! choice, rule and correctness computed once, in parallel, by the
//! extraction functions of the rule-set registry.

use super::kernel::{result_fields, score_columns};
use super::rules::RULE_SETS;
use crate::data::items::Items;
use crate::data::provenance::Counts;
use crate::data::PredictionSet;
use crate::error::{Error, Result};
use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use std::collections::HashMap;
use std::sync::Arc;

/// Rows per batch of the scored relation.
const BATCH_ROWS: usize = 8192;

pub use crate::data::items::item_arrays;

/// The `items` table: the item rows alone.
pub fn items_table(items: &Items) -> Result<MemTable> {
    let (fields, arrays) = item_arrays(items);
    let schema = Arc::new(Schema::new(fields));
    let mut batches = vec![];
    let n = items.len();
    let mut start = 0;
    while start < n {
        let len = BATCH_ROWS.min(n - start);
        let cols = arrays.iter().map(|a| a.slice(start, len)).collect();
        batches.push(
            RecordBatch::try_new(schema.clone(), cols)
                .map_err(|e| Error::engine("building items", e))?,
        );
        start += len;
    }
    MemTable::try_new(schema, vec![batches]).map_err(|e| Error::engine("building items", e))
}

/// The columns a model's cache entry keeps, aligned with the items, with
/// their types: the loaded ones, and the scored ones (each rule set's
/// `choice_<name>`, `rule_<name>` and `correct_<name>`, as the kernel
/// makes them: kept, not recomputed, so a warm start compares no text).
pub fn cached_fields() -> &'static [(&'static str, DataType)] {
    static FIELDS: std::sync::OnceLock<Vec<(&'static str, DataType)>> = std::sync::OnceLock::new();
    FIELDS.get_or_init(|| {
        let mut c = vec![
            ("answered", DataType::Boolean),
            ("prediction", DataType::Utf8),
            ("hit", DataType::Boolean),
            ("log", DataType::Utf8),
        ];
        let scored = result_fields();
        for r in RULE_SETS {
            for name in [r.choice(), r.rule(), r.correct()] {
                if let Some(f) = scored.iter().find(|f| f.name() == name) {
                    c.push((name, f.data_type().clone()));
                }
            }
        }
        c.push(("thinking", DataType::Utf8));
        c
    })
}

/// The names of [`cached_fields`], in order.
pub fn cached_columns() -> &'static [&'static str] {
    static COLUMNS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    COLUMNS.get_or_init(|| cached_fields().iter().map(|(c, _)| *c).collect())
}

/// The scored relation, partitioned for parallel scans; for every set
/// that was scored here (not read from the cache) its [`cached_columns`]
/// for the cache, when asked for; and every set's provenance [`Counts`].
pub struct Scored {
    pub schema: SchemaRef,
    pub partitions: Vec<Vec<RecordBatch>>,
    pub fresh: Vec<Option<RecordBatch>>,
    pub counts: Vec<Counts>,
}

/// Build the loaded (unscored) rows, score them with the extraction
/// functions (sets read from the cache keep their scores), and return the
/// scored batches in `parts` partitions for parallel scans. With `keep`,
/// the cached columns of the sets scored here are gathered for the cache
/// (a load without a cache does not pay for the copy). Scoring runs on
/// all cores and blocks the calling thread.
pub fn score(items: &Items, sets: &[PredictionSet], parts: usize, keep: bool) -> Result<Scored> {
    let loaded = LoadedColumns::new(items, sets);
    let layout = Layout::new(sets, parts);
    let fresh_rows: usize = sets
        .iter()
        .filter(|s| s.cached.is_none())
        .map(|s| s.range.len())
        .sum();
    // Every rule set's function counts its rows.
    crate::data::progress::to_score((RULE_SETS.len() * fresh_rows) as u64);
    let partitions = loaded.partitions(sets, &layout)?;
    let (schema, mut batches) = score_loaded(&loaded.schema, partitions, &layout)?;
    let fresh = if keep {
        fresh_columns(sets, &batches, &schema, &layout)?
    } else {
        vec![None; sets.len()]
    };
    add_cached_sets(sets, &loaded, &schema, &layout, &mut batches)?;
    let indices: Vec<usize> = (0..sets.len()).collect();
    let counts = crate::data::parallel_map(&indices, |&i| match &sets[i].counts {
        Some(c) => Ok(c.clone()),
        None => super::provenance::count(layout.set_batches(i, &sets[i], &batches)),
    })
    .into_iter()
    .collect::<Result<Vec<_>>>()?;
    Ok(Scored {
        schema,
        partitions: batches,
        fresh,
        counts,
    })
}

/// How the relation's rows are laid out in batches: every set's rows (its
/// dataset's items) in chunks of BATCH_ROWS, numbered in order, the sets
/// to score first and then those from the cache; chunk k goes to
/// partition k % parts, as its (k / parts)-th batch.
struct Layout {
    /// Partitions, for parallel scans.
    parts: usize,
    /// Each set's first chunk.
    first: Vec<usize>,
}

impl Layout {
    fn new(sets: &[PredictionSet], target_partitions: usize) -> Layout {
        let mut first = vec![0; sets.len()];
        let mut k = 0;
        let order = sets
            .iter()
            .enumerate()
            .filter(|(_, s)| s.cached.is_none())
            .chain(sets.iter().enumerate().filter(|(_, s)| s.cached.is_some()));
        for (i, s) in order {
            first[i] = k;
            k += s.range.len().div_ceil(BATCH_ROWS);
        }
        Layout {
            parts: target_partitions.max(1),
            first,
        }
    }

    /// A set's chunks, as (first row within the set, rows).
    fn chunks(set: &PredictionSet) -> impl Iterator<Item = (usize, usize)> {
        let n = set.range.len();
        (0..n)
            .step_by(BATCH_ROWS)
            .map(move |start| (start, BATCH_ROWS.min(n - start)))
    }

    /// Where chunk k lies: (partition, batch within it).
    fn place(&self, k: usize) -> (usize, usize) {
        (k % self.parts, k / self.parts)
    }

    /// Set `i`'s batches among the partitions, in order.
    fn set_batches<'a>(
        &'a self,
        i: usize,
        set: &PredictionSet,
        batches: &'a [Vec<RecordBatch>],
    ) -> impl Iterator<Item = &'a RecordBatch> + 'a {
        let n = Layout::chunks(set).count();
        (0..n).filter_map(move |c| {
            let (part, at) = self.place(self.first[i] + c);
            batches.get(part).and_then(|p| p.get(at))
        })
    }
}

/// Each set's model id: its model's position among the loaded models,
/// sorted by name (a model with several datasets has one id).
pub fn model_ids(sets: &[PredictionSet]) -> Vec<i32> {
    let mut names: Vec<&str> = sets.iter().map(|s| s.model.as_str()).collect();
    names.sort();
    names.dedup();
    sets.iter()
        .map(|s| names.binary_search(&s.model.as_str()).unwrap_or(0) as i32)
        .collect()
}

/// The loaded relation's columns before scoring: its schema, the item
/// columns every set's rows share (sliced, not copied), and whether it
/// has a `thinking` column.
struct LoadedColumns {
    schema: SchemaRef,
    item_cols: Vec<ArrayRef>,
    with_thinking: bool,
}

impl LoadedColumns {
    /// `model`, `model_id` and `item_id`, the item columns, then each
    /// prediction's `answered`, `prediction`, `thinking` (when any set has
    /// it), `hit` and `log`.
    fn new(items: &Items, sets: &[PredictionSet]) -> LoadedColumns {
        let (mut fields, item_cols) = item_arrays(items);
        // Model names as string views: short names sit inline, so grouping and
        // filtering by model compare 16-byte views, not heap strings.
        fields.insert(0, Field::new("model", DataType::Utf8View, false));
        // The model's position among the loaded models (sorted by name): the
        // planner groups by this integer instead of the name.
        fields.insert(1, Field::new("model_id", DataType::Int32, false));
        // The item's position among the loaded items: pairs of models join on
        // this integer instead of (dataset, index).
        fields.insert(2, Field::new("item_id", DataType::Int32, false));
        fields.push(Field::new("answered", DataType::Boolean, false));
        fields.push(Field::new("prediction", DataType::Utf8, true));
        // VLMEvalKit's `thinking` column (SPLIT_THINK=1): in the relation when
        // any model's file has one, null for the others.
        let with_thinking = sets.iter().any(|s| s.thinking.is_some());
        if with_thinking {
            fields.push(Field::new("thinking", DataType::Utf8, true));
        }
        fields.push(Field::new("hit", DataType::Boolean, true));
        // The judge's account of each verdict: null without a result file.
        fields.push(Field::new("log", DataType::Utf8, true));
        fields.push(Field::new("correct_recorded", DataType::Boolean, true));
        LoadedColumns {
            schema: Arc::new(Schema::new(fields)),
            item_cols,
            with_thinking,
        }
    }

    /// The rows of every set to score (not read from the cache), in
    /// [`Layout`]'s batches and partitions.
    fn partitions(&self, sets: &[PredictionSet], layout: &Layout) -> Result<Vec<Vec<RecordBatch>>> {
        let mut partitions: Vec<Vec<RecordBatch>> = vec![vec![]; layout.parts];
        let ids = model_ids(sets);
        for (i, set) in sets.iter().enumerate().filter(|(_, s)| s.cached.is_none()) {
            let names = model_column(&set.model, set.range.len());
            for (c, (start, len)) in Layout::chunks(set).enumerate() {
                let b = self.batch(ids[i], set, &names, start, len)?;
                let (part, at) = layout.place(layout.first[i] + c);
                debug_assert_eq!(partitions[part].len(), at);
                partitions[part].push(b);
            }
        }
        Ok(partitions)
    }

    /// Rows `start..start + len` of a set (positions within the set), with
    /// its model's id, unscored.
    fn batch(
        &self,
        id: i32,
        set: &PredictionSet,
        names: &StringViewArray,
        start: usize,
        len: usize,
    ) -> Result<RecordBatch> {
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        let row = set.range.start + start;
        cols.push(Arc::new(names.slice(0, len)));
        cols.push(Arc::new(Int32Array::from(vec![id; len])));
        cols.push(item_id_column(row, len));
        cols.extend(self.item_cols.iter().map(|a| a.slice(row, len)));
        cols.push(Arc::new(BooleanArray::from(
            set.answered[start..start + len].to_vec(),
        )));
        cols.push(Arc::new(set.prediction.slice(start, len)));
        if self.with_thinking {
            cols.push(match &set.thinking {
                Some(t) => Arc::new(t.slice(start, len)) as ArrayRef,
                None => new_null_array(&DataType::Utf8, len),
            });
        }
        cols.push(Arc::new(match &set.hit {
            Some(h) => BooleanArray::from(h[start..start + len].to_vec()),
            None => BooleanArray::from(vec![None; len]),
        }));
        cols.push(match &set.log {
            Some(l) => Arc::new(l.slice(start, len)) as ArrayRef,
            None => new_null_array(&DataType::Utf8, len),
        });
        let answered = BooleanArray::from(set.answered[start..start + len].to_vec());
        let hit = set
            .hit
            .as_ref()
            .map(|h| BooleanArray::from(h[start..start + len].to_vec()));
        cols.push(recorded_column(
            &self.answer_column().slice(row, len),
            &answered,
            hit.as_ref(),
        ));
        RecordBatch::try_new(self.schema.clone(), cols)
            .map_err(|e| Error::engine("building predictions", e))
    }

    /// The items' `answer` column, every row.
    fn answer_column(&self) -> &ArrayRef {
        let i = self
            .schema
            .index_of("answer")
            .expect("answer is an item column");
        &self.item_cols[i - 3]
    }
}

/// `recorded`'s correctness: VLMEvalKit's own `hit`; an unanswered item is
/// wrong; null where the item has no answer, and for a set without a `hit`
/// column (`hit` None) everywhere.
fn recorded_column(
    answer: &ArrayRef,
    answered: &BooleanArray,
    hit: Option<&BooleanArray>,
) -> ArrayRef {
    let len = answered.len();
    let Some(hit) = hit else {
        return new_null_array(&DataType::Boolean, len);
    };
    Arc::new(BooleanArray::from_iter((0..len).map(|r| {
        if answer.is_null(r) {
            None
        } else if !answered.value(r) {
            Some(false)
        } else {
            hit.is_valid(r).then(|| hit.value(r))
        }
    })))
}

/// Score the loaded rows: every rule set's choice, rule and correctness
/// (see [`score_columns`]) added to each batch, the batches scored on all
/// cores; the scored schema and batches, one list per partition.
fn score_loaded(
    schema: &SchemaRef,
    partitions: Vec<Vec<RecordBatch>>,
    layout: &Layout,
) -> Result<(SchemaRef, Vec<Vec<RecordBatch>>)> {
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.extend(result_fields());
    let out_schema: SchemaRef = Arc::new(Schema::new(fields));
    let at = |name: &str| schema.index_of(name).map_err(fail_arrow);
    let (answered, answer, prediction) = (at("answered")?, at("answer")?, at("prediction")?);
    // The option columns from A to the last letter there is (a letter
    // without a column: no such option).
    let last = schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .filter(|n| crate::data::items::is_option(n))
        .max()
        .map_or(b'E', |l| l.as_bytes()[0]);
    let options: Vec<Option<usize>> = (b'A'..=last)
        .map(|l| schema.index_of(&(l as char).to_string()).ok())
        .collect();
    let score_batch = |b: &RecordBatch| -> Result<RecordBatch> {
        let text = |c: usize| {
            b.column(c).as_string_opt::<i32>().ok_or_else(|| {
                Error::engine("scoring", format!("{} is not text", schema.field(c).name()))
            })
        };
        let answered = b
            .column(answered)
            .as_boolean_opt()
            .ok_or_else(|| Error::engine("scoring", "answered is not boolean"))?;
        let opts = options
            .iter()
            .map(|o| o.map(text).transpose())
            .collect::<Result<Vec<_>>>()?;
        let mut cols = b.columns().to_vec();
        cols.extend(score_columns(
            answered,
            text(answer)?,
            text(prediction)?,
            &opts,
        ));
        RecordBatch::try_new(out_schema.clone(), cols).map_err(fail_arrow)
    };
    let flat: Vec<&RecordBatch> = partitions.iter().flatten().collect();
    let mut scored = crate::data::parallel_map(&flat, |b| score_batch(b)).into_iter();
    let mut batches = Vec::with_capacity(layout.parts.max(partitions.len()));
    for p in &partitions {
        batches.push(scored.by_ref().take(p.len()).collect::<Result<Vec<_>>>()?);
    }
    if batches.len() < layout.parts {
        batches.resize(layout.parts, vec![]);
    }
    Ok((out_schema, batches))
}

/// The scored columns of every set scored here, for the cache (None for
/// the sets read from it).
fn fresh_columns(
    sets: &[PredictionSet],
    batches: &[Vec<RecordBatch>],
    schema: &Schema,
    layout: &Layout,
) -> Result<Vec<Option<RecordBatch>>> {
    let mut fresh = vec![];
    for (i, set) in sets.iter().enumerate() {
        if set.cached.is_some() {
            fresh.push(None);
            continue;
        }
        fresh.push(Some(cache_batch(i, set, batches, schema, layout)?));
    }
    Ok(fresh)
}

/// The [`cached_columns`] of set `i`, scored here, concatenated from its
/// scored chunks.
fn cache_batch(
    i: usize,
    set: &PredictionSet,
    batches: &[Vec<RecordBatch>],
    schema: &Schema,
    layout: &Layout,
) -> Result<RecordBatch> {
    let mut pieces: Vec<Vec<ArrayRef>> = vec![vec![]; cached_columns().len()];
    for c in 0..Layout::chunks(set).count() {
        let (part, at) = layout.place(layout.first[i] + c);
        let b = batches
            .get(part)
            .and_then(|p| p.get(at))
            .ok_or_else(|| Error::engine("scoring", "a scored batch is missing"))?;
        for (i, name) in cached_columns().iter().enumerate() {
            let a = match b.column_by_name(name) {
                Some(a) => a.clone(),
                None if *name == "thinking" => new_null_array(&DataType::Utf8, b.num_rows()),
                None => return Err(Error::engine("scoring", format!("no column {name}"))),
            };
            pieces[i].push(a);
        }
    }
    let mut cols = vec![];
    let mut fields = vec![];
    for (i, name) in cached_columns().iter().enumerate() {
        let refs: Vec<&dyn Array> = pieces[i].iter().map(|a| a.as_ref()).collect();
        let a = if refs.is_empty() {
            let ty = match schema.field_with_name(name) {
                Ok(f) => f.data_type().clone(),
                Err(_) if *name == "thinking" => DataType::Utf8,
                Err(e) => return Err(fail_arrow(e)),
            };
            new_null_array(&ty, 0)
        } else {
            concat(&refs).map_err(fail_arrow)?
        };
        fields.push(Field::new(*name, a.data_type().clone(), true));
        cols.push(a);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).map_err(fail_arrow)
}

/// Sets from the cache: their columns as they are, correctness from the
/// cached choices, without a pass through the engine; their chunks (which
/// follow the scored ones) are added to `batches`.
fn add_cached_sets(
    sets: &[PredictionSet],
    loaded: &LoadedColumns,
    schema: &SchemaRef,
    layout: &Layout,
    batches: &mut [Vec<RecordBatch>],
) -> Result<()> {
    let answer_col = loaded.answer_column();
    // `correct_<name>` -> `choice_<name>`, for every rule set.
    let correct_of: HashMap<&str, &str> = RULE_SETS
        .iter()
        .map(|r| (r.correct(), r.choice()))
        .collect();
    let ids = model_ids(sets);
    for (i, set) in sets.iter().enumerate() {
        let Some(columns) = &set.cached else { continue };
        let names = model_column(&set.model, set.range.len());
        for (c, (start, len)) in Layout::chunks(set).enumerate() {
            let chunk = CachedChunk {
                set,
                names: &names,
                id: ids[i],
                columns,
                start,
                len,
                answer: answer_col.slice(set.range.start + start, len),
            };
            let mut cols: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
            for f in schema.fields() {
                let a = chunk.column(f.name(), loaded, &correct_of)?;
                let a = if a.data_type() == f.data_type() {
                    a
                } else {
                    cast(&a, f.data_type()).map_err(fail_arrow)?
                };
                cols.push(a);
            }
            let b = RecordBatch::try_new(schema.clone(), cols).map_err(fail_arrow)?;
            let (part, at) = layout.place(layout.first[i] + c);
            debug_assert_eq!(batches[part].len(), at);
            batches[part].push(b);
        }
    }
    Ok(())
}

/// Rows `start..start + len` of a set read from the cache.
struct CachedChunk<'a> {
    set: &'a PredictionSet,
    /// The set's model column (see [`model_column`]).
    names: &'a StringViewArray,
    /// The set's model's id.
    id: i32,
    /// The set's [`cached_columns`].
    columns: &'a RecordBatch,
    start: usize,
    len: usize,
    /// The items' `answer` in these rows.
    answer: ArrayRef,
}

impl CachedChunk<'_> {
    /// A cached column in these rows.
    fn cached(&self, name: &str) -> Result<ArrayRef> {
        let i = cached_columns()
            .iter()
            .position(|c| *c == name)
            .ok_or_else(|| Error::engine("reading the cache", name))?;
        Ok(self.columns.column(i).slice(self.start, self.len))
    }

    /// The scored relation's column `name` in these rows: made (`model`,
    /// `model_id`, `item_id`), cached, computed from cached ones
    /// (`correct_<name>`, `correct_recorded`), or an item column.
    fn column(
        &self,
        name: &str,
        loaded: &LoadedColumns,
        correct_of: &HashMap<&str, &str>,
    ) -> Result<ArrayRef> {
        let len = self.len;
        // The rows among the items.
        let row = self.set.range.start + self.start;
        Ok(match name {
            "model" => Arc::new(self.names.slice(0, len)),
            "model_id" => Arc::new(Int32Array::from(vec![self.id; len])),
            "item_id" => item_id_column(row, len),
            _ if cached_columns().contains(&name) => self.cached(name)?,
            _ if correct_of.contains_key(name) => {
                let choice = self.cached(correct_of[name])?;
                Arc::new(eq(&choice, &self.answer).map_err(fail_arrow)?)
            }
            "correct_recorded" => {
                let answered = self.cached("answered")?;
                let hit = self.cached("hit")?;
                let hit = self.set.hit.as_ref().map(|_| hit.as_boolean().clone());
                recorded_column(&self.answer, answered.as_boolean(), hit.as_ref())
            }
            other => {
                let i = loaded
                    .schema
                    .index_of(other)
                    .map_err(|e| Error::engine("reading the cache", e))?;
                loaded.item_cols[i - 3].slice(row, len)
            }
        })
    }
}

/// A batch's `item_id` column: the positions `start..start + len`.
fn item_id_column(start: usize, len: usize) -> ArrayRef {
    Arc::new(Int32Array::from_iter_values(
        (start..start + len).map(|i| i as i32),
    ))
}

/// A set's `model` column for its longest chunk: one name, repeated. Its
/// chunks slice it (made once per set, not once per chunk).
fn model_column(model: &str, rows: usize) -> StringViewArray {
    StringViewArray::from_iter_values(std::iter::repeat_n(model, rows.min(BATCH_ROWS)))
}

fn fail_arrow(e: datafusion::arrow::error::ArrowError) -> Error {
    Error::engine("scoring", e)
}

use datafusion::arrow::array::{new_null_array, Array};
use datafusion::arrow::array::{AsArray, Int32Array, StringViewArray};
use datafusion::arrow::compute::kernels::cmp::eq;
use datafusion::arrow::compute::{cast, concat};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::kernel::is_pandas_na;

    /// Rows of a column of the scored batches, as text (`None` for null).
    fn texts(s: &Scored, name: &str) -> Vec<Option<String>> {
        let mut out = vec![];
        for b in s.partitions.iter().flatten() {
            let a = cast(b.column_by_name(name).expect(name), &DataType::Utf8).unwrap();
            let a = a.as_string::<i32>();
            out.extend((0..a.len()).map(|r| a.is_valid(r).then(|| a.value(r).to_string())));
        }
        out
    }

    #[test]
    fn every_rule_set_gives_its_scored_and_cached_columns() {
        let loaded = crate::data::demo_loaded();
        let scored = score(&loaded.items, &loaded.sets, 2, true).unwrap();
        for r in RULE_SETS {
            for (name, ty) in [
                (r.choice(), DataType::Utf8),
                (r.rule(), DataType::Utf8),
                (r.correct(), DataType::Boolean),
            ] {
                let f = scored.schema.field_with_name(name).expect(name);
                assert_eq!(f.data_type(), &ty, "{name}");
            }
            assert!(cached_columns().contains(&r.choice()));
            assert!(cached_columns().contains(&r.rule()));
            // The columns hold the registry entry's extraction.
            let preds = texts(&scored, "prediction");
            let answered = texts(&scored, "answered");
            let options: Vec<Vec<Option<String>>> = ["A", "B", "C", "D", "E"]
                .map(|c| texts(&scored, c))
                .to_vec();
            let (choices, rules) = (texts(&scored, r.choice()), texts(&scored, r.rule()));
            for i in 0..preds.len() {
                let (choice, rule) = if answered[i].as_deref() == Some("true") {
                    let opts: Vec<Option<&str>> = options
                        .iter()
                        .map(|o| o[i].as_deref().filter(|v| !is_pandas_na(v)))
                        .collect();
                    let p = preds[i].as_deref().filter(|v| !is_pandas_na(v));
                    let e = r.extract(p, &opts);
                    ((e.choice as char).to_string(), e.rule.as_str().to_string())
                } else {
                    ("Z".to_string(), "none".to_string())
                };
                assert_eq!(
                    choices[i].as_deref(),
                    Some(choice.as_str()),
                    "{} row {i}",
                    r.name
                );
                assert_eq!(
                    rules[i].as_deref(),
                    Some(rule.as_str()),
                    "{} row {i}",
                    r.name
                );
            }
        }
        // The cache keeps each column with the type the relation has.
        for (name, ty) in cached_fields() {
            if let Ok(f) = scored.schema.field_with_name(name) {
                assert_eq!(f.data_type(), ty, "{name}");
            }
        }
        // Read back as cache entries, the sets give the same relation.
        let mut from_cache = loaded.sets.clone();
        for (set, fresh) in from_cache.iter_mut().zip(&scored.fresh) {
            let batch = fresh.clone().expect("every set was scored");
            let names: Vec<&str> = batch
                .schema_ref()
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            assert_eq!(names, cached_columns());
            set.prediction = datafusion::arrow::array::StringArray::new_null(0);
            set.answered.clear();
            set.hit = set.hit.as_ref().map(|_| vec![]);
            set.thinking = set
                .thinking
                .as_ref()
                .map(|_| datafusion::arrow::array::StringArray::new_null(0));
            set.cached = Some(batch);
        }
        let again = score(&loaded.items, &from_cache, 2, true).unwrap();
        assert_eq!(again.schema, scored.schema);
        // The provenance counts, made again from the cached columns.
        assert_eq!(again.counts.len(), loaded.sets.len());
        assert_eq!(again.counts, scored.counts);
        assert!(again.fresh.iter().all(Option::is_none));
        // Row by row (the partitions may hold the rows in another order).
        let rows = |s: &Scored| {
            let cols: Vec<Vec<Option<String>>> = s
                .schema
                .fields()
                .iter()
                .map(|f| texts(s, f.name()))
                .collect();
            let mut rows: Vec<Vec<Option<String>>> = (0..cols[0].len())
                .map(|i| cols.iter().map(|c| c[i].clone()).collect())
                .collect();
            rows.sort();
            rows
        };
        assert_eq!(rows(&again), rows(&scored));
    }
}
