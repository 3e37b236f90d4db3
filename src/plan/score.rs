//! `score` (and `score ... pivot`): one aggregate computes the parts every
//! metric needs, per scope - the whole group, and with `pivot` one scope per
//! value of the pivot key (a FILTER on the aggregates) - then one projection
//! turns the parts into the metrics.

use super::{engine, qerr, Style, METRICS};
use crate::error::{Error, QueryError, Result};
use crate::metrics::WilsonUdf;
use crate::syntax::ast::{self, Name, Span};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::functions_aggregate::count::count_udaf;
use datafusion::functions_aggregate::expr_fn::{avg, count, sum};
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{case, cast, lit, Expr, ExprFunctionExt, WindowFunctionDefinition};
use datafusion::prelude::ident;
use std::collections::HashMap;

/// A metric as requested, resolved.
#[derive(Clone, Debug)]
pub enum Kind {
    N,
    Hits,
    Acc,
    Ci,
    Fail,
    Missing,
    Random,
    /// The unweighted mean of per-key accuracies; the key's column name.
    Macro(String),
    /// `acc(legacy)`, `acc(current)`: accuracy under one rule set,
    /// whatever the session's policy.
    AccUnder(&'static str),
    /// Points gained by the current rules over the legacy ones.
    Shift,
    /// Rows whose extracted letter differs between the two rule sets.
    Flips,
}

pub struct Metric {
    pub kind: Kind,
    /// Output names (two for `ci`).
    pub names: Vec<String>,
    pub span: Span,
}

/// One set of aggregates: the whole group, or the rows of one pivot value.
pub struct Scope {
    /// Column-name prefix of the scope's parts.
    pub id: String,
    /// The rows of the scope within the group (None: all).
    pub cond: Option<Expr>,
    /// For pivot cells, the pivot key: macro windows partition by it too.
    pub pivot_key: Option<String>,
    /// Output name of each metric column in this scope.
    pub names: Vec<Vec<String>>,
}

pub fn resolve_metrics(
    metrics: &[ast::Metric],
    schema: &datafusion::common::DFSchema,
    from_items: bool,
) -> Result<Vec<Metric>> {
    let mut out: Vec<Metric> = vec![];
    for m in metrics {
        let name = m.name.text.to_ascii_lowercase();
        let kind = match name.as_str() {
            "n" => Kind::N,
            "hits" => Kind::Hits,
            "acc" => match &m.arg {
                None => Kind::Acc,
                Some(a) => match a.text.to_ascii_lowercase().as_str() {
                    "legacy" => Kind::AccUnder("legacy"),
                    "current" => Kind::AccUnder("current"),
                    _ => {
                        return Err(Error::query(
                            QueryError::new(format!("`acc({})`: no such rule set", a.text), a.span)
                                .with_help("write `acc(legacy)` or `acc(current)`, or `acc` for the session's policy"),
                        ))
                    }
                },
            },
            "shift" => Kind::Shift,
            "flips" => Kind::Flips,
            "ci" => Kind::Ci,
            "fail" => Kind::Fail,
            "missing" => Kind::Missing,
            "random" => Kind::Random,
            "macro" => {
                let Some(arg) = &m.arg else {
                    return Err(Error::query(
                        QueryError::new("`macro` needs a key", m.name.span).with_help(
                            "for example `macro(task)`: the mean of the per-task accuracies",
                        ),
                    ));
                };
                Kind::Macro(super::columns::resolve(arg, schema, "columns")?)
            }
            _ => {
                let known: Vec<&str> = METRICS.iter().map(|(m, _)| *m).collect();
                let mut help = crate::names::did_you_mean(&m.name.text, known.iter().copied())
                    .map(|s| format!("{s} "))
                    .unwrap_or_default();
                help.push_str(&format!("metrics: {}", known.join(", ")));
                return Err(Error::query(
                    QueryError::new(format!("unknown metric `{}`", m.name.text), m.name.span)
                        .with_help(help),
                ));
            }
        };
        if !matches!(kind, Kind::Macro(_) | Kind::AccUnder(_)) {
            if let Some(arg) = &m.arg {
                return Err(Error::query(
                    QueryError::new(format!("`{name}` takes no argument"), arg.span)
                        .with_help(format!("write `{name}`")),
                ));
            }
        }
        if from_items && !matches!(kind, Kind::N | Kind::Random) {
            return Err(Error::query(
                QueryError::new(format!("`{name}` needs predictions"), m.name.span).with_help(
                    "`from items` has item rows only: use `n` and `random`, or query `results`",
                ),
            ));
        }
        let default_names: Vec<String> = match &kind {
            Kind::Ci => vec!["ci_low".into(), "ci_high".into()],
            Kind::Macro(k) => vec![format!("macro_{k}")],
            Kind::AccUnder(p) => vec![format!("acc_{p}")],
            _ => vec![name.clone()],
        };
        let names = match &m.alias {
            Some(a) if default_names.len() > 1 => {
                return Err(qerr(
                    format!(
                        "`{name}` gives {} columns and cannot be renamed",
                        default_names.len()
                    ),
                    a.span,
                ))
            }
            Some(a) => vec![a.text.clone()],
            None => default_names,
        };
        for n in &names {
            if out
                .iter()
                .flat_map(|m| &m.names)
                .any(|x| x.eq_ignore_ascii_case(n))
            {
                return Err(Error::query(
                    QueryError::new(format!("two output columns are named `{n}`"), m.span)
                        .with_help("rename one with `as`"),
                ));
            }
        }
        out.push(Metric {
            kind,
            names,
            span: m.span,
        });
    }
    Ok(out)
}

pub fn style_of(kind: &Kind) -> Option<Style> {
    match kind {
        Kind::N | Kind::Hits | Kind::Missing | Kind::Flips => None,
        _ => Some(Style::Percent),
    }
}

fn f64e(e: Expr) -> Expr {
    cast(e, DataType::Float64)
}

/// A fraction as a fixed-point decimal (20 places), so that sums of
/// fractions are exact integer sums: the same in any order, hence the same
/// bytes from run to run however the rows are split among threads (a sum
/// of floats is not associative).
fn exact(e: Expr) -> Expr {
    cast(e, DataType::Decimal128(38, 20))
}

/// 1 where `cond` holds, else 0 (null counts as not holding). A cast of
/// a boolean is a single vectorised kernel, far cheaper than a CASE.
pub(crate) fn one_if(cond: Expr) -> Result<Expr> {
    Ok(cast(cond.is_true(), DataType::Int64))
}

fn scoped(agg: Expr, cond: &Option<Expr>) -> Result<Expr> {
    match cond {
        None => Ok(agg),
        Some(c) => agg.filter(c.clone()).build().map_err(engine),
    }
}

/// What scoring needs from the session.
pub struct Context<'a> {
    /// The loaded models, in order (their ids are positions here).
    pub models: &'a [String],
    /// Some rows with an answer may have no verdict (null `correct`: a
    /// model without recorded verdicts under `recorded`); accuracy then
    /// counts only the rows with one.
    pub partial_verdicts: bool,
}

/// Aggregate `df` by `keys` and compute `metrics` in every scope. Output:
/// the keys, then each scope's metric columns in order.
pub fn score(
    df: DataFrame,
    keys: &[String],
    metrics: &[Metric],
    scopes: &[Scope],
    cx: &Context<'_>,
    styles: &mut HashMap<String, Style>,
) -> Result<DataFrame> {
    let models = cx.models;
    let from_items = !df.schema().has_column_with_unqualified_name("correct");
    // Grouping by model groups by its integer id (hashing an integer, not
    // a name), and the name is put back after the aggregate.
    let by_id = keys.iter().any(|k| k == "model")
        && !models.is_empty()
        && df
            .schema()
            .has_column_with_unqualified_name(super::MODEL_ID);
    // Windows for macro(key): rows per (group, [pivot value], key value).
    let mut macro_keys: Vec<String> = vec![];
    for m in metrics {
        if let Kind::Macro(k) = &m.kind {
            if keys.contains(k) {
                let span = m.span;
                return Err(Error::query(
                    QueryError::new(
                        format!("`macro({k})` inside groups of `{k}` is plain `acc`"),
                        span,
                    )
                    .with_help(format!("drop `{k}` from `by`, or use `acc`")),
                ));
            }
            if !macro_keys.contains(k) {
                macro_keys.push(k.clone());
            }
        }
    }
    let mut df = df;
    let pivot_keys: Vec<Option<String>> = {
        let mut v: Vec<Option<String>> = scopes.iter().map(|s| s.pivot_key.clone()).collect();
        v.dedup();
        v
    };
    for (i, mk) in macro_keys.iter().enumerate() {
        for pk in &pivot_keys {
            let mut part: Vec<Expr> = keys.iter().map(|k| ident(k.as_str())).collect();
            if let Some(p) = pk {
                part.push(ident(p.as_str()));
            }
            part.push(ident(mk.as_str()));
            let w = Expr::from(WindowFunction::new(
                WindowFunctionDefinition::AggregateUDF(count_udaf()),
                vec![lit(1i64)],
            ))
            .partition_by(part)
            .build()
            .map_err(engine)?;
            // One window node per partitioning: DataFusion's planner wants
            // the expressions of one node to share their partition keys.
            df = df
                .window(vec![w.alias(window_name(i, pk.is_some()))])
                .map_err(engine)?;
        }
    }

    let per_policy = metrics
        .iter()
        .any(|m| matches!(m.kind, Kind::AccUnder(_) | Kind::Shift | Kind::Flips));
    let group: Vec<Expr> = keys
        .iter()
        .map(|k| match k.as_str() {
            "model" if by_id => ident(super::MODEL_ID),
            k => ident(k),
        })
        .collect();
    // The additive parts every metric is computed from.
    let mut parts: Vec<(&str, Part)> = vec![("n", Part::Count(lit(1i64)))];
    if !from_items {
        parts.push(("hits", Part::Sum(one_if(ident("correct"))?)));
        parts.push(("answers", Part::Count(ident("answer"))));
        parts.push(("z", Part::Sum(one_if(ident("choice").eq(lit("Z")))?)));
        parts.push(("missing", Part::Sum(one_if(ident("answered").is_false())?)));
        if cx.partial_verdicts {
            let unjudged = ident("answer")
                .is_not_null()
                .and(ident("correct").is_null());
            parts.push(("unjudged", Part::Sum(one_if(unjudged)?)));
        }
        // Parts of the per-policy metrics, only when one is asked for.
        if per_policy {
            parts.push(("hits_legacy", Part::Sum(one_if(ident("correct_legacy"))?)));
            parts.push(("hits_current", Part::Sum(one_if(ident("correct_current"))?)));
            let flip = one_if(ident("choice_legacy").not_eq(ident("choice_current")))?;
            parts.push(("flips", Part::Sum(flip)));
        }
    }
    let inv = case(ident("n_options").gt(lit(0i64)))
        .when(lit(true), exact(lit(1.0f64) / f64e(ident("n_options"))))
        .end()
        .map_err(engine)?;
    parts.push(("inv", Part::Avg(inv)));

    // A pivot without macro metrics aggregates in two phases: first by the
    // keys and the pivot key (one pass over the rows), then each pivot
    // column's parts from those few groups, instead of one filtered pass
    // over every row per pivot value.
    let pivot_key = scopes.iter().find_map(|s| s.pivot_key.clone());
    if let (Some(pk), true) = (pivot_key, macro_keys.is_empty()) {
        let mut first_group = group.clone();
        first_group.push(ident(pk.as_str()));
        let mut first = vec![];
        for (name, part) in &parts {
            let c = format!("__p1_{name}");
            match part {
                Part::Count(e) => first.push(count(e.clone()).alias(c)),
                Part::Sum(e) => first.push(sum(e.clone()).alias(c)),
                Part::Avg(e) => {
                    first.push(sum(e.clone()).alias(format!("{c}_s")));
                    first.push(count(e.clone()).alias(format!("{c}_c")));
                }
            }
        }
        df = df.aggregate(first_group, first).map_err(engine)?;
        let mut aggs = vec![];
        let mut tidy: Vec<Expr> = group.clone();
        for s in scopes {
            let p = |name: &str| format!("__{}{}", name, s.id);
            for (name, part) in &parts {
                let c = format!("__p1_{name}");
                match part {
                    Part::Count(_) => {
                        aggs.push(scoped(sum(ident(&c)), &s.cond)?.alias(p(name)));
                        tidy.push(coalesce(vec![ident(p(name)), lit(0i64)]).alias(p(name)));
                    }
                    Part::Sum(_) => {
                        aggs.push(scoped(sum(ident(&c)), &s.cond)?.alias(p(name)));
                        tidy.push(ident(p(name)));
                    }
                    Part::Avg(_) => {
                        let (ps, pc) = (p(&format!("{name}_s")), p(&format!("{name}_c")));
                        aggs.push(scoped(sum(ident(format!("{c}_s"))), &s.cond)?.alias(&ps));
                        aggs.push(scoped(sum(ident(format!("{c}_c"))), &s.cond)?.alias(&pc));
                        let mean = case(ident(&pc).gt(lit(0i64)))
                            .when(lit(true), f64e(ident(&ps)) / f64e(ident(&pc)))
                            .end()
                            .map_err(engine)?;
                        tidy.push(mean.alias(p(name)));
                    }
                }
            }
        }
        df = df
            .aggregate(group.clone(), aggs)
            .map_err(engine)?
            .select(tidy)
            .map_err(engine)?;
    } else {
        let mut aggs: Vec<Expr> = vec![];
        for s in scopes {
            let p = |name: &str| format!("__{}{}", name, s.id);
            for (name, part) in &parts {
                let agg = match part {
                    Part::Count(e) => count(e.clone()),
                    Part::Sum(e) => sum(e.clone()),
                    Part::Avg(e) => avg(e.clone()),
                };
                aggs.push(scoped(agg, &s.cond)?.alias(p(name)));
            }
            for (i, mk) in macro_keys.iter().enumerate() {
                let w = ident(window_name(i, s.pivot_key.is_some()));
                let share = case(
                    ident(mk.as_str())
                        .is_not_null()
                        .and(ident("correct").is_true()),
                )
                .when(lit(true), exact(lit(1.0f64) / f64e(w)))
                .otherwise(exact(lit(0.0f64)))
                .map_err(engine)?;
                aggs.push(scoped(sum(share), &s.cond)?.alias(p(&format!("msum{i}"))));
                let distinct = count(ident(mk.as_str())).distinct();
                let distinct = match &s.cond {
                    None => distinct.build(),
                    Some(c) => distinct.filter(c.clone()).build(),
                }
                .map_err(engine)?;
                aggs.push(distinct.alias(p(&format!("mk{i}"))));
            }
        }
        df = df.aggregate(group, aggs).map_err(engine)?;
    }

    let model_name = || -> Result<Expr> {
        let mut c = case(ident(super::MODEL_ID));
        for (i, m) in models.iter().enumerate() {
            c = c.when(lit(i as i32), lit(m.as_str()));
        }
        Ok(c.end().map_err(engine)?.alias("model"))
    };
    let mut select: Vec<Expr> = keys
        .iter()
        .map(|k| match k.as_str() {
            "model" if by_id => model_name(),
            k => Ok(ident(k)),
        })
        .collect::<Result<_>>()?;
    for s in scopes {
        let p = |name: &str| ident(format!("__{}{}", name, s.id));
        // Rows and answered items that count: without the rows that have
        // an answer but no verdict, when there can be such rows.
        let (judged_n, judged_answers) = if cx.partial_verdicts {
            (p("n") - p("unjudged"), p("answers") - p("unjudged"))
        } else {
            (p("n"), p("answers"))
        };
        let n = || f64e(judged_n.clone());
        let pct_of = |num: Expr, n_rows: Expr| -> Result<Expr> {
            case(n_rows.clone().gt(lit(0i64)))
                .when(lit(true), num / f64e(n_rows) * lit(100.0f64))
                .end()
                .map_err(engine)
        };
        let pct = |num: Expr| pct_of(num, judged_n.clone());
        let gate_all = |e: Expr| -> Result<Expr> {
            case(p("answers").gt(lit(0i64)))
                .when(lit(true), e)
                .end()
                .map_err(engine)
        };
        let gate = |e: Expr| -> Result<Expr> {
            case(judged_answers.clone().gt(lit(0i64)))
                .when(lit(true), e)
                .end()
                .map_err(engine)
        };
        for (m, names) in metrics.iter().zip(&s.names) {
            let exprs: Vec<Expr> = match &m.kind {
                Kind::N => vec![p("n")],
                Kind::Hits if cx.partial_verdicts => {
                    // No hits to count where there are answers but no verdicts.
                    let none = p("answers")
                        .gt(lit(0i64))
                        .and(judged_answers.clone().eq(lit(0i64)));
                    vec![case(none)
                        .when(lit(false), p("hits"))
                        .end()
                        .map_err(engine)?]
                }
                Kind::Hits => vec![p("hits")],
                Kind::Acc => vec![gate(pct(f64e(p("hits")))?)?],
                Kind::Fail => vec![pct_of(f64e(p("z")), p("n"))?],
                Kind::Missing => vec![p("missing")],
                Kind::Random => vec![f64e(p("inv")) * lit(100.0f64)],
                Kind::Ci => {
                    let args = vec![f64e(p("hits")), n()];
                    vec![
                        gate(WilsonUdf::udf(false).call(args.clone()))?,
                        gate(WilsonUdf::udf(true).call(args))?,
                    ]
                }
                // Under one rule set every answered row has a verdict.
                Kind::AccUnder(pol) => {
                    vec![gate_all(pct_of(f64e(p(&format!("hits_{pol}"))), p("n"))?)?]
                }
                Kind::Shift => vec![gate_all(pct_of(
                    f64e(p("hits_current")) - f64e(p("hits_legacy")),
                    p("n"),
                )?)?],
                Kind::Flips => vec![p("flips")],
                Kind::Macro(mk) => {
                    let i = macro_keys.iter().position(|k| k == mk).expect("macro key");
                    let k = p(&format!("mk{i}"));
                    let e = case(k.clone().gt(lit(0i64)))
                        .when(
                            lit(true),
                            f64e(p(&format!("msum{i}"))) / f64e(k) * lit(100.0f64),
                        )
                        .end()
                        .map_err(engine)?;
                    vec![gate(e)?]
                }
            };
            for (e, name) in exprs.into_iter().zip(names) {
                if let Some(st) = style_of(&m.kind) {
                    styles.insert(name.clone(), st);
                }
                select.push(e.alias(name.as_str()));
            }
        }
    }
    df.select(select).map_err(engine)
}

fn window_name(i: usize, pivot: bool) -> String {
    format!("__nk{i}{}", if pivot { "p" } else { "" })
}

/// A part of the metrics: how it is aggregated, over which value.
enum Part {
    Count(Expr),
    Sum(Expr),
    Avg(Expr),
}

/// The default `n, acc` of a query with `by` and no output clause.
pub fn default_metrics(span: Span) -> Vec<ast::Metric> {
    ["n", "acc"]
        .iter()
        .map(|n| ast::Metric {
            name: Name {
                text: n.to_string(),
                span,
            },
            arg: None,
            alias: None,
            span,
        })
        .collect()
}

/// The literal that selects one pivot value, or `is null` for the null group.
pub fn value_condition(key: &str, v: &ScalarValue) -> Expr {
    if v.is_null() {
        ident(key).is_null()
    } else {
        ident(key).eq(lit(v.clone()))
    }
}
