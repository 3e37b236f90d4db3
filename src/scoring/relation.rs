//! The scored relation: one row per (model, item), with every policy's
//! choice, rule and correctness computed once, in parallel, by the
//! extraction functions of the rule-set registry.

use super::rules::{RuleSet, RULE_SETS};
use super::udf::ExtractUdf;
use crate::data::items::{Items, ITEM_COLUMNS};
use crate::data::PredictionSet;
use crate::error::{Error, Result};
use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::functions::core::expr_fn::get_field;
use datafusion::prelude::*;
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

/// The columns a model's cache entry keeps, aligned with the items: the
/// loaded ones, and each rule set's `choice_<name>` and `rule_<name>`
/// (`correct_<name>` is recomputed from the choice).
pub fn cached_columns() -> &'static [&'static str] {
    static COLUMNS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    COLUMNS.get_or_init(|| {
        let mut c = vec!["answered", "prediction", "hit"];
        for r in RULE_SETS {
            c.push(r.choice());
            c.push(r.rule());
        }
        c.push("thinking");
        c
    })
}

/// The scored relation, partitioned for parallel scans, and for every
/// set that was scored here (not read from the cache) its
/// [`cached_columns`] for the cache.
pub struct Scored {
    pub schema: SchemaRef,
    pub partitions: Vec<Vec<RecordBatch>>,
    pub fresh: Vec<Option<RecordBatch>>,
}

/// Build the loaded (unscored) rows, score them with the extraction
/// functions (sets read from the cache keep their scores), and return the
/// scored batches partitioned for parallel scans.
pub async fn score(ctx: &SessionContext, items: &Items, sets: &[PredictionSet]) -> Result<Scored> {
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
    let schema = Arc::new(Schema::new(fields));
    let n = items.len();
    let parts = ctx.state().config().target_partitions().max(1);
    // Every set's rows in chunks of BATCH_ROWS, numbered in order; chunk k
    // goes to partition k % parts, as its (k / parts)-th batch.
    let chunks = n.div_ceil(BATCH_ROWS);
    let fresh_sets = sets.iter().filter(|s| s.cached.is_none()).count();
    // Every rule set's function counts its rows.
    crate::data::progress::to_score((RULE_SETS.len() * fresh_sets * n) as u64);
    let mut partitions: Vec<Vec<RecordBatch>> = vec![vec![]; parts];
    let mut k = 0;
    for (ordinal, set) in sets.iter().enumerate().filter(|(_, s)| s.cached.is_none()) {
        let mut start = 0;
        while start < n {
            let len = BATCH_ROWS.min(n - start);
            let mut cols: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
            cols.push(model_column(&set.model, len));
            cols.push(Arc::new(Int32Array::from(vec![ordinal as i32; len])));
            cols.push(item_id_column(start, len));
            cols.extend(item_cols.iter().map(|a| a.slice(start, len)));
            cols.push(Arc::new(BooleanArray::from(
                set.answered[start..start + len].to_vec(),
            )));
            cols.push(Arc::new(StringArray::from_iter(
                set.prediction[start..start + len].iter(),
            )));
            if with_thinking {
                cols.push(match &set.thinking {
                    Some(t) => {
                        Arc::new(StringArray::from_iter(t[start..start + len].iter())) as ArrayRef
                    }
                    None => new_null_array(&DataType::Utf8, len),
                });
            }
            cols.push(Arc::new(match &set.hit {
                Some(h) => BooleanArray::from(h[start..start + len].to_vec()),
                None => BooleanArray::from(vec![None; len]),
            }));
            let b = RecordBatch::try_new(schema.clone(), cols)
                .map_err(|e| Error::engine("building predictions", e))?;
            partitions[k % parts].push(b);
            k += 1;
            start += len;
        }
    }
    let loaded = MemTable::try_new(schema.clone(), partitions)
        .map_err(|e| Error::engine("building predictions", e))?;
    let df = ctx
        .read_table(Arc::new(loaded))
        .map_err(|e| Error::engine("scoring", e))?;
    let fail = |e: datafusion::error::DataFusionError| Error::engine("scoring", e);

    // Step 1: each rule set's {choice, rule}, computed once per answered row.
    let opts = || -> Vec<Expr> {
        let mut v = vec![col("prediction")];
        v.extend(["A", "B", "C", "D", "E"].iter().map(|c| ident(*c)));
        v
    };
    let answered = col("answered");
    let mut step1: Vec<Expr> = schema.fields().iter().map(|f| ident(f.name())).collect();
    let extracted = |r: &RuleSet| format!("x_{}", r.name);
    for r in RULE_SETS {
        step1.push(
            when(answered.clone(), ExtractUdf::udf(r).call(opts()))
                .end()
                .map_err(fail)?
                .alias(extracted(r)),
        );
    }
    let df = df.select(step1).map_err(fail)?;

    // Step 2: choices, rules and correctness under every policy.
    let answer = col("answer");
    let mut select: Vec<Expr> = schema.fields().iter().map(|f| ident(f.name())).collect();
    for r in RULE_SETS {
        let x = col(extracted(r));
        let choice = when(answered.clone(), get_field(x.clone(), "choice"))
            .otherwise(lit("Z"))
            .map_err(fail)?;
        let rule = when(answered.clone(), get_field(x, "rule"))
            .otherwise(lit("none"))
            .map_err(fail)?;
        let correct = when(answer.clone().is_null(), lit(ScalarValue::Boolean(None)))
            .otherwise(choice.clone().eq(answer.clone()))
            .map_err(fail)?;
        select.push(choice.alias(r.choice()));
        select.push(rule.alias(r.rule()));
        select.push(correct.alias(r.correct()));
    }
    // `recorded`: VLMEvalKit's own hit; an unanswered item is wrong. A
    // model with no `hit` column at all has no recorded verdicts: null.
    let unrecorded: Vec<Expr> = sets
        .iter()
        .enumerate()
        .filter(|(_, s)| s.hit.is_none())
        .map(|(i, _)| lit(i as i32))
        .collect();
    let no_verdicts = if unrecorded.is_empty() {
        lit(false)
    } else {
        col("model_id").in_list(unrecorded, false)
    };
    let recorded = when(answer.clone().is_null(), lit(ScalarValue::Boolean(None)))
        .when(no_verdicts, lit(ScalarValue::Boolean(None)))
        .when(answered.not(), lit(false))
        .otherwise(col("hit"))
        .map_err(fail)?;
    select.push(recorded.alias("correct_recorded"));
    let scored = df.select(select).map_err(fail)?;
    let out_schema: SchemaRef = Arc::new(scored.schema().as_arrow().clone());
    let mut batches = scored.collect_partitioned().await.map_err(fail)?;
    if batches.len() < parts {
        batches.resize(parts, vec![]);
    }

    // The scored columns of every set scored here, for the cache.
    let mut fresh = vec![];
    let mut s = 0;
    for set in sets.iter() {
        if set.cached.is_some() {
            fresh.push(None);
            continue;
        }
        s += 1;
        let s = s - 1;
        let mut pieces: Vec<Vec<ArrayRef>> = vec![vec![]; cached_columns().len()];
        for c in 0..chunks {
            let k = s * chunks + c;
            let b = batches
                .get(k % parts)
                .and_then(|p| p.get(k / parts))
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
                let ty = match out_schema.field_with_name(name) {
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
        fresh.push(Some(
            RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).map_err(fail_arrow)?,
        ));
    }

    // Sets from the cache: their columns as they are, correctness from the
    // cached choices, without a pass through the engine.
    let mut k = fresh.iter().filter(|f| f.is_some()).count() * chunks;
    let answer_col = item_cols[2 + ITEM_COLUMNS
        .iter()
        .position(|(c, _)| *c == "answer")
        .expect("answer is an item column")]
    .clone();
    // `correct_<name>` -> `choice_<name>`, for every rule set.
    let correct_of: std::collections::HashMap<&str, &str> = RULE_SETS
        .iter()
        .map(|r| (r.correct(), r.choice()))
        .collect();
    for (ordinal, set) in sets.iter().enumerate() {
        let Some(c) = &set.cached else { continue };
        let mut start = 0;
        while start < n {
            let len = BATCH_ROWS.min(n - start);
            let answer = answer_col.slice(start, len);
            let cached = |name: &str| -> Result<ArrayRef> {
                let i = cached_columns()
                    .iter()
                    .position(|c| *c == name)
                    .ok_or_else(|| Error::engine("reading the cache", name))?;
                Ok(c.column(i).slice(start, len))
            };
            let mut cols: Vec<ArrayRef> = Vec::with_capacity(out_schema.fields().len());
            for f in out_schema.fields() {
                let name = f.name().as_str();
                let a: ArrayRef = match name {
                    "model" => model_column(&set.model, len),
                    "model_id" => Arc::new(Int32Array::from(vec![ordinal as i32; len])),
                    "item_id" => item_id_column(start, len),
                    _ if cached_columns().contains(&name) => cached(name)?,
                    _ if correct_of.contains_key(name) => {
                        let choice = cached(correct_of[name])?;
                        Arc::new(eq(&choice, &answer).map_err(fail_arrow)?)
                    }
                    "correct_recorded" if set.hit.is_none() => {
                        new_null_array(&DataType::Boolean, len)
                    }
                    "correct_recorded" => {
                        let answered = cached("answered")?;
                        let answered = answered.as_boolean();
                        let hit = cached("hit")?;
                        let hit = hit.as_boolean();
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
                    other => {
                        let i = schema
                            .index_of(other)
                            .map_err(|e| Error::engine("reading the cache", e))?;
                        item_cols[i - 3].slice(start, len)
                    }
                };
                let a = if a.data_type() == f.data_type() {
                    a
                } else {
                    cast(&a, f.data_type()).map_err(fail_arrow)?
                };
                cols.push(a);
            }
            let b = RecordBatch::try_new(out_schema.clone(), cols).map_err(fail_arrow)?;
            batches[k % parts].push(b);
            k += 1;
            start += len;
        }
    }
    Ok(Scored {
        schema: out_schema,
        partitions: batches,
        fresh,
    })
}

/// A batch's `item_id` column: the positions `start..start + len`.
fn item_id_column(start: usize, len: usize) -> ArrayRef {
    Arc::new(Int32Array::from_iter_values(
        (start..start + len).map(|i| i as i32),
    ))
}

/// A batch's `model` column: one name, `len` times.
fn model_column(model: &str, len: usize) -> ArrayRef {
    Arc::new(StringViewArray::from_iter_values(std::iter::repeat_n(
        model, len,
    )))
}

fn fail_arrow(e: datafusion::arrow::error::ArrowError) -> Error {
    Error::engine("scoring", e)
}

use datafusion::arrow::array::{new_null_array, Array};
use datafusion::arrow::array::{AsArray, Int32Array, StringViewArray};
use datafusion::arrow::compute::kernels::cmp::eq;
use datafusion::arrow::compute::{cast, concat};
use datafusion::common::ScalarValue;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::udf::is_pandas_na;

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

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
        let ctx = SessionContext::new();
        let scored = run(score(&ctx, &loaded.items, &loaded.sets)).unwrap();
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
                    let e = (r.extract)(p, &opts);
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
            set.prediction.clear();
            set.answered.clear();
            set.hit = set.hit.as_ref().map(|_| vec![]);
            set.thinking = set.thinking.as_ref().map(|_| vec![]);
            set.cached = Some(batch);
        }
        let again = run(score(&ctx, &loaded.items, &from_cache)).unwrap();
        assert_eq!(again.schema, scored.schema);
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
