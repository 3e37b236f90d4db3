//! `rank_ci`: an execution step reads the rows the bootstrap resamples
//! (per group of the `by` keys other than `model`: each model's verdict on
//! each item), the bootstrap runs in memory
//! ([`crate::metrics::bootstrap`]), and its intervals become a small table
//! that the scored groups are joined to.

use super::{engine, ITEM_ID, MODEL_ID};
use crate::bind::{Bootstrap, Metric};
use crate::error::{Error, QueryError, Result};
use crate::metrics::bootstrap::{self, Group};
use datafusion::arrow::array::{ArrayRef, AsArray, Int32Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema};
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::{binary_expr, Expr, JoinType, Operator};
use datafusion::prelude::{ident, SessionContext};
use std::collections::HashMap;
use std::sync::Arc;

/// One model's interval in one group.
#[derive(Clone, Debug)]
pub struct Interval {
    /// The group's values of the `by` keys other than `model`.
    pub keys: Vec<ScalarValue>,
    pub model: i32,
    pub low: Option<i64>,
    pub high: Option<i64>,
}

/// The `by` keys a group of ranked models shares.
pub fn group_keys(keys: &[String]) -> Vec<String> {
    keys.iter().filter(|k| *k != "model").cloned().collect()
}

/// The rows the bootstrap reads: the group keys, the model, the item, and
/// whether the row is correct, for the rows that count for accuracy (an
/// answer and a verdict).
pub fn rows_plan(df: DataFrame, keys: &[String]) -> Result<DataFrame> {
    let mut select: Vec<Expr> = group_keys(keys).iter().map(|k| ident(k.as_str())).collect();
    select.extend([ident(MODEL_ID), ident(ITEM_ID), ident("correct")]);
    df.filter(
        ident("answer")
            .is_not_null()
            .and(ident("correct").is_not_null()),
    )
    .map_err(engine)?
    .select(select)
    .map_err(engine)
}

/// Group the rows, refuse when the work would pass [`bootstrap::BOUND`],
/// and run the bootstrap of every group.
pub fn intervals(
    batches: &[RecordBatch],
    n_keys: usize,
    settings: Bootstrap,
    metric: &Metric,
) -> Result<Vec<Interval>> {
    struct Building {
        models: Vec<i32>,
        model_pos: HashMap<i32, usize>,
        /// (item id, model position, correct)
        rows: Vec<(i32, usize, bool)>,
    }
    let mut groups: HashMap<Vec<ScalarValue>, Building> = HashMap::new();
    for b in batches {
        let model = b.column(n_keys).as_primitive::<Int32Type>();
        let item = b.column(n_keys + 1).as_primitive::<Int32Type>();
        let correct = b.column(n_keys + 2).as_boolean();
        for r in 0..b.num_rows() {
            let key = (0..n_keys)
                .map(|k| ScalarValue::try_from_array(b.column(k), r))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(engine)?;
            let g = groups.entry(key).or_insert_with(|| Building {
                models: vec![],
                model_pos: HashMap::new(),
                rows: vec![],
            });
            let m = model.value(r);
            let next = g.models.len();
            let mi = *g.model_pos.entry(m).or_insert(next);
            if mi == next {
                g.models.push(m);
            }
            g.rows.push((item.value(r), mi, correct.value(r)));
        }
    }
    // A group's items in the order of their ids, whatever order the rows
    // came in: a draw picks positions in this order.
    let groups: Vec<(Vec<ScalarValue>, Building, Vec<i32>)> = groups
        .into_iter()
        .map(|(k, g)| {
            let mut ids: Vec<i32> = g.rows.iter().map(|r| r.0).collect();
            ids.sort_unstable();
            ids.dedup();
            (k, g, ids)
        })
        .collect();
    let resamples = u64::from(settings.resamples);
    let cells: u64 = groups
        .iter()
        .map(|(_, g, ids)| ids.len() as u64 * g.models.len() as u64)
        .sum();
    if cells.saturating_mul(resamples) > bootstrap::BOUND {
        let most = (bootstrap::BOUND / cells.max(1)).max(1);
        return Err(Error::query(
            QueryError::new(
                format!(
                    "rank_ci would resample {cells} model-item cells {resamples} times, more than the {} it allows",
                    bootstrap::BOUND
                ),
                metric.span,
            )
            .with_help(format!(
                "fewer resamples: `set bootstrap = {}`, or fewer models or items (`where`)",
                most.min(u64::from(settings.resamples))
            )),
        ));
    }
    let mut out = vec![];
    for (key, g, ids) in groups {
        let mut group = Group::new(ids.len(), g.models.len());
        for (id, m, c) in g.rows {
            if let Ok(i) = ids.binary_search(&id) {
                group.add(i, m, c);
            }
        }
        let text: Vec<Option<String>> = key
            .iter()
            .map(|v| (!v.is_null()).then(|| v.to_string()))
            .collect();
        let seed = bootstrap::group_seed(settings.seed, &text);
        for (m, iv) in group
            .intervals(settings.resamples, seed)
            .into_iter()
            .enumerate()
        {
            out.push(Interval {
                keys: key.clone(),
                model: g.models[m],
                low: iv.map(|(l, _)| i64::from(l)),
                high: iv.map(|(_, h)| i64::from(h)),
            });
        }
    }
    Ok(out)
}

/// The intervals as a table to join: `__rk<i>` for the group keys (typed as
/// in `scanned`), `__rk_model`, `__rank_low`, `__rank_high`.
pub fn table(
    ctx: &SessionContext,
    scanned: &DataFrame,
    keys: &[String],
    rows: &[Interval],
) -> Result<DataFrame> {
    let group = group_keys(keys);
    let mut fields = vec![];
    let mut columns: Vec<ArrayRef> = vec![];
    for (i, k) in group.iter().enumerate() {
        let ty = scanned
            .schema()
            .field_with_unqualified_name(k)
            .map_err(engine)?
            .data_type()
            .clone();
        let array = if rows.is_empty() {
            datafusion::arrow::array::new_empty_array(&ty)
        } else {
            ScalarValue::iter_to_array(rows.iter().map(|r| r.keys[i].clone())).map_err(engine)?
        };
        fields.push(Field::new(key_column(i), ty, true));
        columns.push(array);
    }
    fields.push(Field::new("__rk_model", DataType::Int32, false));
    columns.push(Arc::new(Int32Array::from_iter_values(
        rows.iter().map(|r| r.model),
    )));
    for (name, get) in [
        (
            "__rank_low",
            (|r: &Interval| r.low) as fn(&Interval) -> Option<i64>,
        ),
        ("__rank_high", |r: &Interval| r.high),
    ] {
        fields.push(Field::new(name, DataType::Int64, true));
        columns.push(Arc::new(Int64Array::from_iter(rows.iter().map(get))));
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(engine)?;
    ctx.read_batch(batch).map_err(engine)
}

fn key_column(i: usize) -> String {
    format!("__rk{i}")
}

/// Join the aggregated groups (the keys, `model` as its id) to the
/// intervals: every group keeps its row; a model without an interval gets
/// nulls. Key values match null to null.
pub fn join(groups: DataFrame, keys: &[String], intervals: DataFrame) -> Result<DataFrame> {
    let mut on: Vec<Expr> = group_keys(keys)
        .iter()
        .enumerate()
        .map(|(i, k)| same(ident(k.as_str()), ident(key_column(i))))
        .collect();
    on.push(same(ident(MODEL_ID), ident("__rk_model")));
    groups
        .join_on(intervals, JoinType::Left, on)
        .map_err(engine)
}

/// `l IS NOT DISTINCT FROM r`: equal, null matching null.
fn same(l: Expr, r: Expr) -> Expr {
    binary_expr(l, Operator::IsNotDistinctFrom, r)
}

/// The output columns of `rank_ci` after [`join`].
pub fn outputs() -> Vec<Expr> {
    vec![ident("__rank_low"), ident("__rank_high")]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_keys_leave_out_the_model() {
        let k = group_keys(&["task".into(), "model".into(), "dataset".into()]);
        assert_eq!(k, vec!["task".to_string(), "dataset".to_string()]);
    }
}
