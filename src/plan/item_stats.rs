//! `item_stats`: one row per item with how the loaded models did on it,
//! under the session's policy: an item analysis across models that finds
//! items most models get wrong the same way (a possible answer-key error).
//!
//! It is a plan over `results`: each model's accuracy per dataset (a
//! window), the answering models' verdicts per item (an aggregate), their
//! most chosen wrong letter (an aggregate and a window), joined to `items`.

use super::{engine, labelled, results_view, MODEL_ID};
use crate::error::Result;
use crate::metrics::registry::{f64e, one_if};
use crate::scoring::provenance::Detected;
use crate::scoring::Policy;
use crate::style::{Role, Style};
use datafusion::dataframe::DataFrame;
use datafusion::functions_aggregate::count::count_udaf;
use datafusion::functions_aggregate::expr_fn::{corr, count, max, min, sum};
use datafusion::functions_aggregate::sum::sum_udaf;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{
    case, lit, Expr, ExprFunctionExt, JoinType, WindowFunctionDefinition,
};
use datafusion::prelude::{ident, SessionContext};

use crate::bind::columns::{SUSPECT_MODELS, SUSPECT_P_CORRECT, SUSPECT_SHARE};

/// The `item_stats` relation under `policy`.
/// `detected` and `unrecorded` as the catalog has them (empty for the
/// schema alone).
pub async fn view(
    ctx: &SessionContext,
    policy: Policy,
    detected: &[Detected],
    unrecorded: &[i32],
) -> Result<DataFrame> {
    let scored = ctx.table("scored").await.map_err(engine)?;
    let mut rows = results_view(scored, policy, false, detected)?;
    if policy == Policy::Recorded {
        // Models without recorded verdicts have no verdicts to count.
        let ids: Vec<Expr> = unrecorded.iter().map(|i| lit(*i)).collect();
        if !ids.is_empty() {
            rows = rows
                .filter(ident(MODEL_ID).in_list(ids, true))
                .map_err(engine)?;
        }
    }
    // Each model's accuracy over each dataset: hits / rows with an answer.
    let per_model = |udaf, arg: Expr| -> Result<Expr> {
        Expr::from(WindowFunction::new(
            WindowFunctionDefinition::AggregateUDF(udaf),
            vec![arg],
        ))
        .partition_by(vec![ident(MODEL_ID), ident("dataset")])
        .build()
        .map_err(engine)
    };
    let rows = rows
        .window(vec![
            per_model(sum_udaf(), one_if(ident("correct")))?.alias("__m_hits"),
            per_model(count_udaf(), ident("answer"))?.alias("__m_n"),
        ])
        .map_err(engine)?
        .filter(ident("answered").is_true())
        .map_err(engine)?;
    let model_acc = case(ident("__m_n").gt(lit(0i64)))
        .when(lit(true), f64e(ident("__m_hits")) / f64e(ident("__m_n")))
        .end()
        .map_err(engine)?;
    let rows = rows.with_column("__acc", model_acc).map_err(engine)?;
    // The item's verdict as 0 or 1.
    let x = || f64e(one_if(ident("correct")));

    // Per item: the answering models, their verdicts, and the correlation.
    let judged = ident("correct")
        .is_not_null()
        .and(ident("__acc").is_not_null());
    let only_judged =
        |e: Expr| -> Result<Expr> { e.filter(judged.clone()).build().map_err(engine) };
    let stats = rows
        .clone()
        .aggregate(
            vec![ident("dataset"), ident("index")],
            vec![
                count(lit(1i64)).alias("__n"),
                sum(one_if(ident("correct"))).alias("__hits"),
                count(ident("correct")).alias("__judged"),
                only_judged(count(lit(1i64)))?.alias("__k"),
                only_judged(sum(x()))?.alias("__xs"),
                only_judged(min(ident("__acc")))?.alias("__ymin"),
                only_judged(max(ident("__acc")))?.alias("__ymax"),
                only_judged(corr(x(), ident("__acc")))?.alias("__corr"),
            ],
        )
        .map_err(engine)?
        .select(vec![
            ident("dataset").alias("__s_dataset"),
            ident("index").alias("__s_index"),
            ident("__n"),
            ident("__hits"),
            ident("__judged"),
            ident("__k"),
            ident("__xs"),
            ident("__ymin"),
            ident("__ymax"),
            ident("__corr"),
        ])
        .map_err(engine)?;

    // Per item: the most chosen wrong letter, ties to the earlier letter.
    let wrong = rows
        .filter(
            ident("answer").is_not_null().and(
                ident("choice")
                    .not_eq(ident("answer"))
                    .and(ident("choice").not_eq(lit("Z"))),
            ),
        )
        .map_err(engine)?
        .aggregate(
            vec![ident("dataset"), ident("index"), ident("choice")],
            vec![count(lit(1i64)).alias("__w_count")],
        )
        .map_err(engine)?;
    let first = datafusion::functions_window::expr_fn::row_number()
        .partition_by(vec![ident("dataset"), ident("index")])
        .order_by(vec![
            ident("__w_count").sort(false, false),
            ident("choice").sort(true, false),
        ])
        .build()
        .map_err(engine)?;
    let wrong = wrong
        .window(vec![first.alias("__w_rank")])
        .map_err(engine)?
        .filter(ident("__w_rank").eq(lit(1u64)))
        .map_err(engine)?
        .select(vec![
            ident("dataset").alias("__w_dataset"),
            ident("index").alias("__w_index"),
            ident("choice").alias("__w_choice"),
            ident("__w_count"),
        ])
        .map_err(engine)?;

    let items = ctx.table("items").await.map_err(engine)?;
    let item_fields = super::fields_of(&items);
    let joined = items
        .join_on(
            stats,
            JoinType::Left,
            vec![
                ident("dataset").eq(ident("__s_dataset")),
                ident("index").eq(ident("__s_index")),
            ],
        )
        .map_err(engine)?
        .join_on(
            wrong,
            JoinType::Left,
            vec![
                ident("dataset").eq(ident("__w_dataset")),
                ident("index").eq(ident("__w_index")),
            ],
        )
        .map_err(engine)?;

    let n_models = datafusion::functions::core::expr_fn::coalesce(vec![ident("__n"), lit(0i64)]);
    let p_correct = case(ident("__judged").gt(lit(0i64)))
        .when(
            lit(true),
            f64e(ident("__hits")) / f64e(ident("__judged")) * lit(100.0f64),
        )
        .end()
        .map_err(engine)?;
    let discrimination = case(
        ident("__k")
            .gt_eq(lit(3i64))
            .and(ident("__xs").gt(lit(0.0f64)))
            .and(ident("__xs").lt(f64e(ident("__k"))))
            .and(ident("__ymin").lt(ident("__ymax"))),
    )
    .when(lit(true), ident("__corr"))
    .end()
    .map_err(engine)?;
    let share = case(ident("__n").gt(lit(0i64)))
        .when(
            lit(true),
            f64e(ident("__w_count")) / f64e(ident("__n")) * lit(100.0f64),
        )
        .end()
        .map_err(engine)?;
    let suspect = datafusion::functions::core::expr_fn::coalesce(vec![
        n_models
            .clone()
            .gt_eq(lit(SUSPECT_MODELS))
            .and(p_correct.clone().lt(lit(SUSPECT_P_CORRECT)))
            .and(share.clone().gt_eq(lit(SUSPECT_SHARE))),
        lit(false),
    ]);

    let mut select: Vec<Expr> = item_fields
        .into_iter()
        .map(|(name, meta)| {
            let e = ident(name.as_str());
            if meta.is_empty() {
                e.alias(name)
            } else {
                e.alias_with_metadata(name, Some(meta.into()))
            }
        })
        .collect();
    select.extend([
        labelled(n_models, "n_models", Role::Metric, None),
        labelled(p_correct, "p_correct", Role::Metric, Some(Style::Percent)),
        labelled(discrimination, "discrimination", Role::Metric, None),
        labelled(ident("__w_choice"), "top_wrong", Role::Metric, None),
        labelled(share, "top_wrong_share", Role::Metric, Some(Style::Percent)),
        labelled(suspect, "suspect", Role::Metric, None),
    ]);
    joined.select(select).map_err(engine)
}
