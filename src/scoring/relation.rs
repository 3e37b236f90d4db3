//! The scored relation: one row per (model, item), with every policy's
//! choice, rule and correctness computed once, in parallel, by the
//! extraction functions.

use super::extract::Policy as Rules;
use super::udf::ExtractUdf;
use crate::data::items::{Items, ITEM_COLUMNS};
use crate::data::PredictionSet;
use crate::error::{Error, Result};
use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::functions::core::expr_fn::get_field;
use datafusion::prelude::*;
use std::sync::Arc;

/// Rows per batch of the scored relation.
const BATCH_ROWS: usize = 8192;

/// The item columns as Arrow arrays, in relation order, with `dataset`,
/// `index` and `n_options`.
pub fn item_arrays(items: &Items) -> (Vec<Field>, Vec<ArrayRef>) {
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

/// Build the loaded (unscored) rows, score them with the extraction
/// functions, and return the scored batches partitioned for parallel scans.
pub async fn score(
    ctx: &SessionContext,
    items: &Items,
    sets: &[PredictionSet],
) -> Result<(SchemaRef, Vec<Vec<RecordBatch>>)> {
    let (mut fields, item_cols) = item_arrays(items);
    fields.insert(0, Field::new("model", DataType::Utf8, false));
    fields.push(Field::new("answered", DataType::Boolean, false));
    fields.push(Field::new("prediction", DataType::Utf8, true));
    fields.push(Field::new("hit", DataType::Boolean, true));
    let schema = Arc::new(Schema::new(fields));
    let n = items.len();
    let parts = ctx.state().config().target_partitions().max(1);
    let mut partitions: Vec<Vec<RecordBatch>> = vec![vec![]; parts];
    let mut k = 0;
    for set in sets {
        let mut start = 0;
        while start < n {
            let len = BATCH_ROWS.min(n - start);
            let mut cols: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
            cols.push(Arc::new(StringArray::from_iter_values(
                std::iter::repeat_n(set.model.as_str(), len),
            )));
            cols.extend(item_cols.iter().map(|a| a.slice(start, len)));
            cols.push(Arc::new(BooleanArray::from(
                set.answered[start..start + len].to_vec(),
            )));
            cols.push(Arc::new(StringArray::from_iter(
                set.prediction[start..start + len].iter(),
            )));
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

    let opts = || -> Vec<Expr> {
        let mut v = vec![col("prediction")];
        v.extend(["A", "B", "C", "D", "E"].iter().map(|c| ident(*c)));
        v
    };
    let legacy = ExtractUdf::udf(Rules::Legacy).call(opts());
    let current = ExtractUdf::udf(Rules::Current).call(opts());
    let mut select: Vec<Expr> = schema.fields().iter().map(|f| ident(f.name())).collect();
    let answered = col("answered");
    let answer = col("answer");
    for (name, e) in [("legacy", legacy), ("current", current)] {
        let choice = when(answered.clone(), get_field(e.clone(), "choice"))
            .otherwise(lit("Z"))
            .map_err(|e| Error::engine("scoring", e))?;
        let rule = when(answered.clone(), get_field(e, "rule"))
            .otherwise(lit("none"))
            .map_err(|e| Error::engine("scoring", e))?;
        let correct = when(answer.clone().is_null(), lit(ScalarValue::Boolean(None)))
            .otherwise(choice.clone().eq(answer.clone()))
            .map_err(|e| Error::engine("scoring", e))?;
        select.push(choice.alias(format!("choice_{name}")));
        select.push(rule.alias(format!("rule_{name}")));
        select.push(correct.alias(format!("correct_{name}")));
    }
    // `recorded`: VLMEvalKit's own hit; an unanswered item is wrong.
    let recorded = when(answer.clone().is_null(), lit(ScalarValue::Boolean(None)))
        .when(answered.not(), lit(false))
        .otherwise(col("hit"))
        .map_err(|e| Error::engine("scoring", e))?;
    select.push(recorded.alias("correct_recorded"));
    let scored = df.select(select).map_err(|e| Error::engine("scoring", e))?;
    let out_schema: SchemaRef = Arc::new(scored.schema().as_arrow().clone());
    let batches = scored
        .collect_partitioned()
        .await
        .map_err(|e| Error::engine("scoring", e))?;
    Ok((out_schema, batches))
}

use datafusion::common::ScalarValue;
