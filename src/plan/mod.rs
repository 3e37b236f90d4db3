//! Lowering and execution steps: a [`Bound`] query to DataFusion logical
//! plans, through the DataFrame API (never SQL text). This is the one place
//! that knows both the language and DataFusion.
//!
//! A query runs as: the execution steps its plan needs data for
//! ([`gather`]: the values of a pivot key, the best model), [`lower`] to the
//! body's plan (the rows up to `score`, `show` or `compare`), Holm's
//! adjustment over a comparison's rows ([`holm`], in memory), then the tail
//! (`having`, `sort`, `limit`). [`prepare`] does all of it; a check lowers
//! with [`Facts::placeholder`] and runs nothing.

pub mod compare;
pub mod item_stats;
pub mod rank_ci;
pub mod score;

use crate::bind::{self, Bound, Env, Output, Relation};
use crate::error::{Error, QueryError, Result};
use crate::scoring::Policy;
use crate::style::Role;
use crate::syntax::ast::Span;
use datafusion::arrow::array::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::{lit, Expr, ExprFunctionExt, LogicalPlan, SortExpr};
use datafusion::prelude::{ident, SessionContext};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use crate::bind::{ITEM_ID, MODEL_ID};
pub use crate::style::Style;

/// `e AS name`, with the column's role and style as field metadata.
pub fn labelled(e: Expr, name: &str, role: Role, style: Option<Style>) -> Expr {
    e.alias_with_metadata(name, Some(crate::style::metadata(role, style).into()))
}

fn engine(e: impl std::fmt::Display) -> Error {
    Error::engine("planning the query", e)
}

fn qerr(msg: impl Into<String>, span: Span) -> Error {
    Error::query(QueryError::new(msg, span))
}

/// A plan's columns by name, each with its field metadata (role, style,
/// header as written).
pub(crate) fn fields_of(df: &DataFrame) -> Vec<(String, HashMap<String, String>)> {
    df.schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.metadata().clone()))
        .collect()
}

/// A column kept under its name, with its metadata when it has any.
pub(crate) fn kept(name: &str, meta: &HashMap<String, String>) -> Expr {
    let e = ident(name);
    if meta.is_empty() {
        e
    } else {
        e.alias_with_metadata(name, Some(meta.clone().into()))
    }
}

/// The table of one model's scored rows (by its id).
pub fn model_table(id: i32) -> String {
    format!("scored_model_{id}")
}

/// What execution steps found out before lowering.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// The pivot key's values in the filtered rows, in column order, with
    /// their labels.
    pub pivot_values: Vec<(ScalarValue, String)>,
    /// The best model's id, for `compare ... vs best`.
    pub best: Option<i32>,
    /// Placeholders, not found from data (a check): pivot columns may be
    /// missing, so `having` and `sort` on them are not bound.
    pub placeholder: bool,
    /// `rank_ci`: each model's interval in each group.
    pub rank_ci: Vec<rank_ci::Interval>,
}

impl Facts {
    /// Stand-ins that need no data: the pivot key's values as the catalog
    /// knows them (models, datasets, policies, the lexical tree's values),
    /// and the first model as the best.
    pub fn placeholder(b: &Bound, env: &Env<'_>) -> Facts {
        let mut f = Facts {
            best: Some(0),
            ..Facts::default()
        };
        if let Output::Score { pivot: Some(p), .. } = &b.output {
            match env.catalog.known_values(&p.key) {
                Some(mut values) => {
                    crate::tree::paper_order(&p.key, &mut values);
                    f.pivot_values = values
                        .into_iter()
                        .map(|v| (ScalarValue::Utf8(Some(v.clone())), v))
                        .collect();
                }
                None => f.placeholder = true,
            }
        }
        f
    }
}

/// An execution step a query needed, with the plan it ran.
pub struct Step {
    pub what: String,
    pub plan: LogicalPlan,
}

/// Counts the plans a session executes (queries and execution steps).
#[derive(Debug, Default)]
pub struct Runs(AtomicU64);

impl Runs {
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn one(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Run a plan to the end.
    pub async fn collect(&self, df: DataFrame, what: &str) -> Result<Vec<RecordBatch>> {
        self.one();
        df.collect()
            .await
            .map_err(|e| crate::error::engine_error(what, e))
    }

    /// Start running a plan; the batches come as they are computed.
    pub async fn stream(
        &self,
        df: DataFrame,
    ) -> Result<datafusion::execution::SendableRecordBatchStream> {
        self.one();
        df.execute_stream()
            .await
            .map_err(|e| crate::error::engine_error("running the query", e))
    }
}

/// The `results` relation under one policy.
pub fn results_view(
    scored: DataFrame,
    policy: Policy,
    with_policy_col: bool,
    detected: &[crate::scoring::provenance::Detected],
) -> Result<DataFrame> {
    let mut select: Vec<Expr> = vec![];
    let schema = scored.schema().clone();
    let fields: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    for c in bind::columns::result_columns_of(&fields) {
        // `choice`, `rule`, `correct`: the policy's columns.
        let e = policy
            .column_with(&c, detected)
            .unwrap_or_else(|| ident(&c));
        // An items column keeps its header as written, for queries to name it.
        let meta = schema
            .field_with_unqualified_name(&c)
            .ok()
            .map(|f| f.metadata().clone())
            .filter(|m| !m.is_empty());
        select.push(match meta {
            Some(m) => e.alias_with_metadata(&c, Some(m.into())),
            None => e.alias(&c),
        });
    }
    if with_policy_col {
        select.push(lit(policy.name()).alias("policy"));
    }
    select.push(ident("correct_recorded").alias(crate::metrics::registry::RECORDED_CORRECT));
    select.push(ident("model_id").alias(MODEL_ID));
    select.push(ident("item_id").alias(ITEM_ID));
    scored.select(select).map_err(engine)
}

/// The rows a bound query reads, filtered: the relation, under the
/// session's policy (every policy with `by policy`), from the pinned
/// model's own table when the filter pins one.
pub async fn scan(ctx: &SessionContext, b: &Bound, env: &Env<'_>) -> Result<DataFrame> {
    scan_pinned(ctx, b, env, b.pinned).await
}

/// [`scan`], reading the results from model `pinned`'s own table when
/// given (the rows are those of the query's filter either way: a side of
/// `compare` reads its one model's rows without scanning the others).
async fn scan_pinned(
    ctx: &SessionContext,
    b: &Bound,
    env: &Env<'_>,
    pinned: Option<i32>,
) -> Result<DataFrame> {
    let mut df = match b.relation {
        Relation::Items | Relation::Coverage | Relation::Provenance => {
            ctx.table(b.relation.name()).await.map_err(engine)?
        }
        Relation::ItemStats => {
            item_stats::view(
                ctx,
                b.policy,
                &env.catalog.detected,
                &env.catalog.unrecorded_ids(),
            )
            .await?
        }
        Relation::Results => {
            let mut scored = ctx.table("scored").await.map_err(engine)?;
            if let Some(id) = pinned {
                if let Ok(t) = ctx.table(model_table(id).as_str()).await {
                    scored = t;
                }
            }
            if b.by_policy {
                let mut out: Option<DataFrame> = None;
                let unrecorded = env.catalog.unrecorded_ids();
                for p in env.catalog.policies() {
                    let mut v = results_view(scored.clone(), p, true, &env.catalog.detected)?;
                    if p == Policy::Recorded && !unrecorded.is_empty() {
                        // No `recorded` rows for models without verdicts.
                        let ids = unrecorded.iter().map(|i| lit(*i)).collect();
                        v = v
                            .filter(ident(MODEL_ID).in_list(ids, true))
                            .map_err(engine)?;
                    }
                    out = Some(match out {
                        None => v,
                        Some(o) => o.union(v).map_err(engine)?,
                    });
                }
                out.expect("at least one policy")
            } else {
                results_view(scored, b.policy, true, &env.catalog.detected)?
            }
        }
    };
    if let Some(f) = &b.filter {
        df = df.filter(f.clone()).map_err(engine)?;
    }
    for (name, e) in &b.computed {
        df = df.with_column(name, e.clone()).map_err(engine)?;
    }
    Ok(df)
}

/// Run the execution steps a bound query needs before it can be lowered.
pub async fn gather(
    ctx: &SessionContext,
    b: &Bound,
    env: &Env<'_>,
    runs: &Runs,
) -> Result<(Facts, Vec<Step>)> {
    let mut facts = Facts::default();
    let mut steps = vec![];
    match &b.output {
        Output::Score { pivot: Some(p), .. } => {
            let df = pivot_values_plan(scan(ctx, b, env).await?, &p.key)?;
            steps.push(Step {
                what: format!("the values of `{}` in the filtered rows", p.key),
                plan: df.logical_plan().clone(),
            });
            let batches = runs.collect(df, "finding the pivot columns").await?;
            facts.pivot_values = pivot_values(&batches, &p.key)?;
        }
        Output::Compare {
            right: bind::Side::Best,
            ..
        } => {
            let df = compare::best_model_plan(scan(ctx, b, env).await?)?;
            steps.push(Step {
                what: "the best model over the filtered rows".into(),
                plan: df.logical_plan().clone(),
            });
            let batches = runs.collect(df, "finding the best model").await?;
            facts.best = Some(compare::best_model(&batches, &env.catalog.models)?);
        }
        _ => {}
    }
    if let Some(m) = rank_ci_metric(b) {
        let df = rank_ci::rows_plan(scan(ctx, b, env).await?, &b.keys)?;
        steps.push(Step {
            what: "the rows rank_ci resamples (the bootstrap then runs in memory)".into(),
            plan: df.logical_plan().clone(),
        });
        let batches = runs
            .collect(df, "reading the rows rank_ci resamples")
            .await?;
        let n_keys = rank_ci::group_keys(&b.keys).len();
        facts.rank_ci = rank_ci::intervals(&batches, n_keys, env.bootstrap, m)?;
    }
    Ok((facts, steps))
}

/// The query's `rank_ci` metric, if it asks for one.
fn rank_ci_metric(b: &Bound) -> Option<&score::Metric> {
    match &b.output {
        Output::Score { metrics, .. } => metrics.iter().find(|m| m.def.name == "rank_ci"),
        _ => None,
    }
}

/// A lowered query: its body, and what comes after it.
pub struct Lowered {
    /// The rows up to the output clause (`score`, `show`, `compare`); its
    /// fields carry each column's role and style as metadata.
    pub body: DataFrame,
    /// `compare`: `p_holm` is added over the body's rows, in memory,
    /// before the tail.
    pub holm: bool,
    /// The order of rows when `sort` names none.
    default_order: Vec<String>,
    /// `show` rows were sorted before the projection.
    presorted: bool,
    /// Names in the tail may be pivot columns a check does not know.
    lenient: bool,
}

/// Lower a bound query's body, given what the execution steps found.
pub async fn lower(
    ctx: &SessionContext,
    b: &Bound,
    facts: &Facts,
    env: &Env<'_>,
) -> Result<Lowered> {
    let mut df = scan(ctx, b, env).await?;
    let headed = |keys: &[String]| -> Vec<String> {
        keys.iter().map(|k| b.key_header(k).to_string()).collect()
    };
    let mut default_order = headed(&b.keys);
    let mut presorted = false;
    let mut holm = false;
    let rank_ci = match rank_ci_metric(b) {
        Some(_) => Some(rank_ci::table(ctx, &df, &b.keys, &facts.rank_ci)?),
        None => None,
    };
    let cx = score::Context {
        models: &env.catalog.models,
        partial_verdicts: b.partial_verdicts,
        headers: &b.key_headers,
        rank_ci,
    };
    match &b.output {
        Output::Score {
            metrics,
            pivot: None,
            outputs,
        } => {
            let scopes = vec![score::Scope {
                id: String::new(),
                cond: None,
                pivot_key: None,
                names: metrics.iter().map(|m| m.names.clone()).collect(),
                label: None,
            }];
            df = score::score(df, &b.keys, metrics, &scopes, &cx)?;
            if !outputs.is_empty() {
                let keys: Vec<String> =
                    b.keys.iter().map(|k| b.key_header(k).to_string()).collect();
                df = score::outputs(df, &keys, metrics, outputs, &scopes)?;
            }
        }
        Output::Score {
            metrics,
            pivot: Some(pv),
            outputs,
        } => {
            let scopes = score::pivot_scopes(pv, metrics, outputs, &facts.pivot_values)?;
            df = score::score(df, &pv.rest, metrics, &scopes, &cx)?;
            if !outputs.is_empty() {
                let keys: Vec<String> = pv
                    .rest
                    .iter()
                    .map(|k| b.key_header(k).to_string())
                    .collect();
                df = score::outputs(df, &keys, metrics, outputs, &scopes)?;
            }
            default_order = headed(&pv.rest);
        }
        Output::Show {
            columns,
            headers,
            presort,
            default_order: order,
        } => {
            let pre: Vec<SortExpr> = presort
                .iter()
                .map(|(c, desc)| ident(c.as_str()).sort(!desc, false))
                .collect();
            if !pre.is_empty() {
                df = df.sort(pre).map_err(engine)?;
            }
            presorted = true;
            default_order = order.clone();
            let select: Vec<Expr> = columns
                .iter()
                .zip(headers)
                .map(|(c, h)| match c == h {
                    true => ident(c.as_str()),
                    false => ident(c.as_str()).alias(h.as_str()),
                })
                .collect();
            df = df.select(select).map_err(engine)?;
        }
        Output::Compare { left, right, .. } => {
            let right = match right {
                bind::Side::Best => facts.best.unwrap_or(-1),
                bind::Side::Model(id) => *id,
                bind::Side::Each => -1,
            };
            // One model's side reads that model's own table.
            let one = |id: i32| scan_pinned(ctx, b, env, Some(id));
            let left_rows = match left {
                bind::Side::Model(l) => one(*l).await?,
                _ => df,
            };
            let right_rows = one(right).await?;
            df = compare::compare(left_rows, right_rows, &b.keys, *left, right, b, env)?;
            default_order.push("model_a".into());
            holm = true;
        }
    }
    Ok(Lowered {
        body: df,
        holm,
        default_order,
        presorted,
        lenient: facts.placeholder,
    })
}

/// Holm's adjustment: run the comparison, and add `p_holm` over every row
/// of it (an execution step; the tail runs over the result).
pub async fn holm(ctx: &SessionContext, body: DataFrame, runs: &Runs) -> Result<DataFrame> {
    let schema = Arc::new(body.schema().as_arrow().clone());
    let batches = runs.collect(body, "running the comparison").await?;
    ctx.read_batch(compare::with_holm(&schema, &batches)?)
        .map_err(engine)
}

/// [`holm`] without running anything: the tail over no rows, for a check.
fn holm_placeholder(ctx: &SessionContext, body: &DataFrame) -> Result<DataFrame> {
    let schema = Arc::new(body.schema().as_arrow().clone());
    ctx.read_batch(compare::with_holm(&schema, &[])?)
        .map_err(engine)
}

/// `having`, `sort` and `limit` over the output's rows.
pub fn tail(df: DataFrame, l: &Lowered, b: &Bound, env: &Env<'_>) -> Result<DataFrame> {
    match tail_inner(df.clone(), l, b, env) {
        Err(Error::Query(_)) if l.lenient => Ok(df),
        other => other,
    }
}

fn tail_inner(mut df: DataFrame, l: &Lowered, b: &Bound, env: &Env<'_>) -> Result<DataFrame> {
    use bind::columns;
    if let Some(h) = &b.having {
        let e = bind::condition(h, df.schema(), env)?;
        df = df.filter(e).map_err(engine)?;
        // Metrics only `having` used are dropped once it has filtered.
        let fields = fields_of(&df);
        if fields
            .iter()
            .any(|(n, _)| n.starts_with(bind::HAVING_PREFIX))
        {
            let keep: Vec<Expr> = fields
                .iter()
                .filter(|(n, _)| !n.starts_with(bind::HAVING_PREFIX))
                .map(|(n, m)| kept(n, m))
                .collect();
            df = df.select(keep).map_err(engine)?;
        }
    }
    let mut order: Vec<SortExpr> = vec![];
    for s in &b.sort {
        if let Some(e) = &s.expr {
            let v = bind::value(e, df.schema(), env)?;
            order.push(v.sort(!s.descending, false));
            continue;
        }
        if l.presorted && columns::resolve(&s.column, df.schema(), "").is_err() {
            continue; // a hidden column `show` was sorted by already
        }
        let c = columns::resolve(&s.column, df.schema(), "output columns")?;
        order.push(ident(c).sort(!s.descending, false));
    }
    // Ties are broken by the default order, so that results are stable.
    let named: Vec<String> = b
        .sort
        .iter()
        .map(|s| s.column.text.to_lowercase())
        .collect();
    for k in &l.default_order {
        if !named.contains(&k.to_lowercase()) {
            order.push(ident(k.as_str()).sort(true, false));
        }
    }
    match &b.limit {
        Some(lim) if lim.per.is_some() => {
            let per = lim.per.as_ref().expect("per");
            let pc = columns::resolve(per, df.schema(), "output columns")?;
            let names: Vec<Expr> = df
                .schema()
                .fields()
                .iter()
                .map(|f| ident(f.name().as_str()))
                .collect();
            let rn = datafusion::functions_window::expr_fn::row_number()
                .partition_by(vec![ident(pc.as_str())])
                .order_by(order.clone())
                .build()
                .map_err(engine)?;
            df = df
                .window(vec![rn.alias("__rn")])
                .map_err(engine)?
                .filter(ident("__rn").lt_eq(lit(lim.n)))
                .map_err(engine)?
                .select(names)
                .map_err(engine)?;
            let mut final_order = vec![ident(pc.as_str()).sort(true, false)];
            final_order.extend(order);
            df = df.sort(final_order).map_err(engine)?;
        }
        limit => {
            if !order.is_empty() && !l.presorted {
                df = df.sort(order).map_err(engine)?;
            }
            if let Some(lim) = limit {
                df = df.limit(0, Some(lim.n as usize)).map_err(engine)?;
            }
        }
    }
    Ok(df)
}

/// A query ready to run: its final plan, and how to print its columns
/// (read from the plan's field metadata).
pub struct Prepared {
    pub df: DataFrame,
    pub styles: HashMap<String, Style>,
}

/// Everything before the final plan runs: the execution steps, lowering,
/// Holm's adjustment, and the tail.
pub async fn prepare(
    ctx: &SessionContext,
    b: &Bound,
    env: &Env<'_>,
    runs: &Runs,
) -> Result<Prepared> {
    let (facts, _) = gather(ctx, b, env, runs).await?;
    let l = lower(ctx, b, &facts, env).await?;
    let rows = if l.holm {
        holm(ctx, l.body.clone(), runs).await?
    } else {
        l.body.clone()
    };
    let df = tail(rows, &l, b, env)?;
    let styles = crate::style::styles_of(df.schema().as_arrow());
    Ok(Prepared { df, styles })
}

/// Lower a bound query with placeholders for what needs data, running
/// nothing: every error binding and lowering can find.
pub async fn check(ctx: &SessionContext, b: &Bound, env: &Env<'_>) -> Result<()> {
    let facts = Facts::placeholder(b, env);
    let l = lower(ctx, b, &facts, env).await?;
    tail_unrun(ctx, &l, b, env).map(|_| ())
}

/// The final plan of a lowered query without running Holm's step: the
/// tail over the body, or over no adjusted rows (a check, `explain`).
pub fn tail_unrun(
    ctx: &SessionContext,
    l: &Lowered,
    b: &Bound,
    env: &Env<'_>,
) -> Result<DataFrame> {
    let rows = if l.holm {
        holm_placeholder(ctx, &l.body)?
    } else {
        l.body.clone()
    };
    tail(rows, l, b, env)
}

/// The plan that finds a pivot key's values.
fn pivot_values_plan(df: DataFrame, key: &str) -> Result<DataFrame> {
    df.aggregate(vec![ident(key)], vec![]).map_err(engine)
}

/// The values of a pivot key in the filtered rows, in column order: the
/// paper's order for tasks and departments, else ascending, null last
/// (named `None`, as VLMEvalKit names the items without a department).
fn pivot_values(batches: &[RecordBatch], key: &str) -> Result<Vec<(ScalarValue, String)>> {
    let mut values: Vec<(ScalarValue, String)> = vec![];
    for b in batches {
        for r in 0..b.num_rows() {
            let v = ScalarValue::try_from_array(b.column(0), r).map_err(engine)?;
            let label = match crate::render::cell(b.column(0), r) {
                crate::render::Cell::Null => "None".to_string(),
                crate::render::Cell::Text(s) => s,
                crate::render::Cell::Int(i) => i.to_string(),
                crate::render::Cell::Float(f) => f.to_string(),
                crate::render::Cell::Bool(x) => x.to_string(),
            };
            values.push((v, label));
        }
    }
    let mut labels: Vec<String> = values
        .iter()
        .filter(|(v, _)| !v.is_null())
        .map(|(_, l)| l.clone())
        .collect();
    let numeric = values
        .iter()
        .all(|(v, _)| v.is_null() || v.data_type().is_numeric());
    if numeric {
        values.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    } else {
        crate::tree::paper_order(key, &mut labels);
        values.sort_by_key(|(v, l)| {
            if v.is_null() {
                usize::MAX
            } else {
                labels.iter().position(|x| x == l).unwrap_or(usize::MAX - 1)
            }
        });
    }
    if let Some(pos) = values.iter().position(|(v, _)| v.is_null()) {
        let n = values.remove(pos);
        values.push(n);
    }
    Ok(values)
}
