//! `compare`: paired model comparisons. The rows of the left models are
//! joined with the rows of the right model on the item (and policy), kept
//! where both answered, and aggregated per group and pair; the exact McNemar
//! test gives `p_value`, and Holm's adjustment over the statement's rows
//! gives `p_holm`.

use super::{engine, labelled, Style};
use crate::bind::{Bound, Env, Side};
use crate::error::{Error, Result};
use crate::metrics::registry::{count_if, f64e, one_if};
use crate::metrics::{benjamini_hochberg, holm, McnemarUdf, Stat, StatUdf};
use crate::render::Cell;
use crate::style::Role;
use datafusion::arrow::array::{Array, ArrayRef, Float64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::JoinType;
use datafusion::dataframe::DataFrame;
use datafusion::functions_aggregate::expr_fn::{count, sum};
use datafusion::logical_expr::{case, lit, Expr};
use datafusion::prelude::ident;
use std::sync::Arc;

/// The plan that finds the best model: hits and rows per model over the
/// filtered rows.
pub fn best_model_plan(df: DataFrame) -> Result<DataFrame> {
    let hits = sum(one_if(ident("correct")));
    df.aggregate(
        vec![ident(super::MODEL_ID)],
        vec![hits.alias("h"), count(lit(1i64)).alias("n")],
    )
    .map_err(engine)
}

/// The model with the highest accuracy in [`best_model_plan`]'s rows
/// (ties: the first name in order), by id.
pub fn best_model(batches: &[RecordBatch], models: &[String]) -> Result<i32> {
    let mut best: Option<(f64, String)> = None;
    for b in batches {
        for r in 0..b.num_rows() {
            let (Cell::Int(id), Some(h), Some(n)) = (
                crate::render::cell(b.column(0), r),
                num(&crate::render::cell(b.column(1), r)),
                num(&crate::render::cell(b.column(2), r)),
            ) else {
                continue;
            };
            let Some(m) = models.get(id as usize).cloned() else {
                continue;
            };
            let acc = if n > 0.0 { h / n } else { 0.0 };
            let better = match &best {
                None => true,
                Some((a, name)) => acc > *a || (acc == *a && m < *name),
            };
            if better {
                best = Some((acc, m));
            }
        }
    }
    best.and_then(|b| models.iter().position(|m| *m == b.1))
        .map(|i| i as i32)
        .ok_or_else(|| Error::Usage("no rows to find the best model in".into()))
}

fn num(c: &Cell) -> Option<f64> {
    match c {
        Cell::Int(i) => Some(*i as f64),
        Cell::Float(f) => Some(*f),
        _ => None,
    }
}

/// The comparison's rows: per group and pair, the paired counts, both
/// accuracies and the exact McNemar test. `right` is a model id (the best
/// model's once it is found); `left_rows` and `right_rows` are the filtered
/// rows the sides are taken from (each may be its one model's table).
pub fn compare(
    left_rows: DataFrame,
    right_rows: DataFrame,
    keys: &[String],
    left: Side,
    right: i32,
    b: &Bound,
    env: &Env<'_>,
) -> Result<DataFrame> {
    let models = &env.catalog.models;
    let left: Vec<i32> = match left {
        Side::Model(l) => vec![l],
        _ => (0..models.len() as i32).filter(|i| *i != right).collect(),
    };
    // Models are picked, grouped and paired by their integer ids (named
    // at the end), and pairs join on the item's integer id (and the policy
    // when rows carry several).
    let by_policy = keys.iter().any(|k| k == "policy");
    let mut lsel: Vec<Expr> = keys.iter().map(|k| ident(k.as_str())).collect();
    lsel.extend([
        ident(super::ITEM_ID),
        ident("policy"),
        ident(super::MODEL_ID).alias("__ma"),
        ident("answered").alias("__aa"),
        ident("correct").alias("__ca"),
        ident("correct").is_not_null().alias("__va"),
    ]);
    let l = left_rows
        .filter(if left.len() + 1 == models.len() {
            ident(super::MODEL_ID).not_eq(lit(right))
        } else {
            ident(super::MODEL_ID).in_list(left.iter().map(|m| lit(*m)).collect(), false)
        })
        .map_err(engine)?
        .select(lsel)
        .map_err(engine)?;
    let r = right_rows
        .filter(ident(super::MODEL_ID).eq(lit(right)))
        .map_err(engine)?
        .select(vec![
            ident(super::ITEM_ID).alias("__i"),
            ident("policy").alias("__p"),
            ident(super::MODEL_ID).alias("__mb"),
            ident("answered").alias("__ab"),
            ident("correct").alias("__cb"),
            ident("correct").is_not_null().alias("__vb"),
        ])
        .map_err(engine)?;
    let (lk, rk): (&[&str], &[&str]) = if by_policy {
        (&[super::ITEM_ID, "policy"], &["__i", "__p"])
    } else {
        (&[super::ITEM_ID], &["__i"])
    };
    let joined = l.join(r, JoinType::Inner, lk, rk, None).map_err(engine)?;
    // The items both answered: counted by conditions, not filtered out,
    // so that a group where they have none keeps its row (n = 0).
    let mut both = ident("__aa").and(ident("__ab"));
    if b.partial_verdicts {
        // A pair is compared on the items both have a verdict for (under
        // `recorded`, a model without a result file has none).
        both = both.and(ident("__va").eq(ident("__vb")));
    }
    let ca = || both.clone().and(ident("__ca"));
    let cb = || both.clone().and(ident("__cb"));
    let mut group: Vec<Expr> = keys.iter().map(|k| ident(k.as_str())).collect();
    group.push(ident("__ma"));
    group.push(ident("__mb"));
    let agg = joined
        .aggregate(
            group,
            vec![
                count_if(both.clone()).map_err(engine)?.alias("__n"),
                count_if(both.clone().and(ident("__va")))
                    .map_err(engine)?
                    .alias("__answers"),
                count_if(ca()).map_err(engine)?.alias("__ha"),
                count_if(cb()).map_err(engine)?.alias("__hb"),
                count_if(ca().and(ident("__cb").is_not_true()))
                    .map_err(engine)?
                    .alias("__oa"),
                count_if(cb().and(ident("__ca").is_not_true()))
                    .map_err(engine)?
                    .alias("__ob"),
            ],
        )
        .map_err(engine)?;
    let acc = |h: &str| -> Result<Expr> {
        case(ident("__answers").gt(lit(0i64)))
            .when(
                lit(true),
                f64e(ident(h)) / f64e(ident("__n")) * lit(100.0f64),
            )
            .end()
            .map_err(engine)
    };
    // Half the 95% interval of the paired difference.
    let half = || {
        StatUdf::udf(Stat::DeltaHalf).call(vec![
            f64e(ident("__oa")),
            f64e(ident("__ob")),
            f64e(ident("__n")),
        ])
    };
    let key = |e: Expr, name: &str| labelled(e, name, Role::Key, None);
    let value = |e: Expr, name: &str, style: Option<Style>| labelled(e, name, Role::Metric, style);
    let pct = Some(Style::Percent);
    let mut sel: Vec<Expr> = keys
        .iter()
        .map(|k| key(ident(k.as_str()), b.key_header(k)))
        .collect();
    sel.extend([
        key(model_name(ident("__ma"), models)?, "model_a"),
        key(model_name(ident("__mb"), models)?, "model_b"),
        value(ident("__n"), "n", None),
        value(acc("__ha")?, "acc_a", pct),
        value(acc("__hb")?, "acc_b", pct),
        value(acc("__ha")? - acc("__hb")?, "delta", pct),
        value(acc("__ha")? - acc("__hb")? - half(), "delta_low", pct),
        value(acc("__ha")? - acc("__hb")? + half(), "delta_high", pct),
        value(ident("__oa"), "only_a", None),
        value(ident("__ob"), "only_b", None),
        // No item in common: no test.
        value(
            case(ident("__n").gt(lit(0i64)))
                .when(
                    lit(true),
                    McnemarUdf::udf().call(vec![ident("__oa"), ident("__ob")]),
                )
                .end()
                .map_err(engine)?,
            "p_value",
            Some(Style::PValue),
        ),
    ]);
    let mut order: Vec<_> = keys
        .iter()
        .map(|k| ident(b.key_header(k)).sort(true, false))
        .collect();
    order.push(ident("model_a").sort(true, false));
    agg.select(sel).map_err(engine)?.sort(order).map_err(engine)
}

/// A model's name from its id.
fn model_name(id: Expr, models: &[String]) -> Result<Expr> {
    let mut c = case(id);
    for (i, m) in models.iter().enumerate() {
        c = c.when(lit(i as i32), lit(m.as_str()));
    }
    c.end().map_err(engine)
}

/// The comparison's rows with `p_holm`, Holm's adjustment of `p_value`
/// over all of them (a missing p-value counts as 1).
pub fn with_holm(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<RecordBatch> {
    let fail = |e: datafusion::arrow::error::ArrowError| Error::engine("running the comparison", e);
    let batch = datafusion::arrow::compute::concat_batches(schema, batches).map_err(fail)?;
    let pcol = batch
        .column(schema.index_of("p_value").map_err(fail)?)
        .as_any()
        .downcast_ref::<Float64Array>()
        .cloned()
        .ok_or_else(|| Error::engine("running the comparison", "p_value is not Float64"))?;
    let ps: Vec<f64> = (0..pcol.len())
        .map(|i| if pcol.is_null(i) { 1.0 } else { pcol.value(i) })
        .collect();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut cols: Vec<ArrayRef> = batch.columns().to_vec();
    // Holm's and Benjamini-Hochberg's adjustments.
    for (name, adjusted) in [("p_holm", holm(&ps)), ("p_bh", benjamini_hochberg(&ps))] {
        fields.push(
            Field::new(name, DataType::Float64, true).with_metadata(
                crate::style::metadata(Role::Metric, Some(Style::PValue))
                    .into_iter()
                    .collect(),
            ),
        );
        cols.push(Arc::new(Float64Array::from(adjusted)));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).map_err(fail)
}
