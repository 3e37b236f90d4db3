//! `score` (and `score ... pivot`): one aggregate computes the parts every
//! metric needs, per scope - the whole group, and with `pivot` one scope per
//! value of the pivot key (a FILTER on the aggregates) - then one projection
//! turns the parts into the metrics.

use super::{engine, qerr, Style};
use crate::error::{Error, QueryError, Result};
use crate::metrics::registry::{self, exact, Aggregate, Arg, Cells, MetricDef, Part};
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

/// A metric as requested, resolved against the registry.
pub struct Metric {
    pub def: &'static MetricDef,
    /// The resolved argument: a column name (`macro`) or a rule set (`acc`).
    pub arg: Option<String>,
    /// Output names (two for `ci`).
    pub names: Vec<String>,
    pub span: Span,
}

impl Metric {
    /// The key column of `macro(<key>)`.
    fn macro_key(&self) -> Option<&str> {
        (self.def.arg == Arg::Column)
            .then_some(self.arg.as_deref())
            .flatten()
    }
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
        let Some(def) = registry::find(&name) else {
            let known: Vec<&str> = registry::names().collect();
            let mut help = crate::names::did_you_mean(&m.name.text, known.iter().copied())
                .map(|s| format!("{s} "))
                .unwrap_or_default();
            help.push_str(&format!("metrics: {}", known.join(", ")));
            return Err(Error::query(
                QueryError::new(format!("unknown metric `{}`", m.name.text), m.name.span)
                    .with_help(help),
            ));
        };
        let arg = match (def.arg, &m.arg) {
            (Arg::None, Some(a)) => {
                return Err(Error::query(
                    QueryError::new(format!("`{name}` takes no argument"), a.span)
                        .with_help(format!("write `{name}`")),
                ))
            }
            (Arg::None | Arg::RuleSet, None) => None,
            (Arg::Column, None) => {
                return Err(Error::query(
                    QueryError::new(format!("`{name}` needs a key"), m.name.span).with_help(
                        format!("for example `{name}(task)`: the mean of the per-task accuracies"),
                    ),
                ))
            }
            (Arg::Column, Some(a)) => Some(super::columns::resolve(a, schema, "columns")?),
            (Arg::RuleSet, Some(a)) => {
                // The rule sets `acc(<rule set>)` can name: the registry's.
                let Some(r) = crate::scoring::rules::find(&a.text) else {
                    return Err(Error::query(
                        QueryError::new(format!("`{name}({})`: no such rule set", a.text), a.span)
                            .with_help(format!(
                                "write {}, or `{name}` for the session's policy",
                                crate::scoring::rules::names()
                                    .map(|r| format!("`{name}({r})`"))
                                    .collect::<Vec<_>>()
                                    .join(" or ")
                            )),
                    ));
                };
                Some(r.name.to_string())
            }
        };
        let probe = Cells {
            part: &|_| lit(0i64),
            partial_verdicts: false,
            macro_cells: None,
            rule_set: arg.as_deref().filter(|_| def.arg == Arg::RuleSet),
        };
        if from_items && !def.on_items(&probe) {
            let usable: Vec<&str> = registry::METRICS
                .iter()
                .filter(|d| d.on_items(&probe))
                .map(|d| d.name)
                .collect();
            return Err(Error::query(
                QueryError::new(format!("`{name}` needs predictions"), m.name.span).with_help(
                    format!(
                        "`from items` has item rows only: use {}, or query `results`",
                        usable
                            .iter()
                            .map(|u| format!("`{u}`"))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ),
                ),
            ));
        }
        // `acc` under the session's policy is plain `acc`; under a rule set `acc_<set>`.
        let default_names: Vec<String> = match (&arg, def.arg) {
            (Some(a), _) => def
                .output_names(Some(a))
                .into_iter()
                .map(|n| if n == def.name { format!("{n}_{a}") } else { n })
                .collect(),
            (None, _) => def.output_names(None),
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
            def,
            arg,
            names,
            span: m.span,
        });
    }
    Ok(out)
}

fn f64e(e: Expr) -> Expr {
    cast(e, DataType::Float64)
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
    let partial = cx.partial_verdicts && !from_items;
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
        if let Some(k) = m.macro_key() {
            if keys.iter().any(|x| x == k) {
                return Err(Error::query(
                    QueryError::new(
                        format!("`macro({k})` inside groups of `{k}` is plain `acc`"),
                        m.span,
                    )
                    .with_help(format!("drop `{k}` from `by`, or use `acc`")),
                ));
            }
            if !macro_keys.iter().any(|x| x == k) {
                macro_keys.push(k.to_string());
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

    let group: Vec<Expr> = keys
        .iter()
        .map(|k| match k.as_str() {
            "model" if by_id => ident(super::MODEL_ID),
            k => ident(k),
        })
        .collect();
    // The additive parts the requested metrics are computed from, each once.
    let mut parts: Vec<Part> = vec![Part::N];
    for m in metrics {
        let probe = Cells {
            part: &|_| lit(0i64),
            partial_verdicts: partial,
            macro_cells: None,
            rule_set: rule_set_of(m),
        };
        for p in (m.def.parts)(&probe) {
            if !parts.contains(&p) {
                parts.push(p);
            }
        }
    }
    let parts: Vec<(Part, Aggregate)> = parts
        .into_iter()
        .map(|p| Ok((p, p.aggregate().map_err(engine)?)))
        .collect::<Result<_>>()?;

    // A pivot without macro metrics aggregates in two phases: first by the
    // keys and the pivot key (one pass over the rows), then each pivot
    // column's parts from those few groups, instead of one filtered pass
    // over every row per pivot value.
    let pivot_key = scopes.iter().find_map(|s| s.pivot_key.clone());
    if let (Some(pk), true) = (pivot_key, macro_keys.is_empty()) {
        let mut first_group = group.clone();
        first_group.push(ident(pk.as_str()));
        let mut first = vec![];
        for (part, agg) in &parts {
            let c = format!("__p1_{}", part.name());
            match agg {
                Aggregate::Count(e) => first.push(count(e.clone()).alias(c)),
                Aggregate::Sum(e) => first.push(sum(e.clone()).alias(c)),
                Aggregate::Avg(e) => {
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
            for (part, agg) in &parts {
                let name = part.name();
                let c = format!("__p1_{name}");
                match agg {
                    Aggregate::Count(_) => {
                        aggs.push(scoped(sum(ident(&c)), &s.cond)?.alias(p(name)));
                        tidy.push(coalesce(vec![ident(p(name)), lit(0i64)]).alias(p(name)));
                    }
                    Aggregate::Sum(_) => {
                        aggs.push(scoped(sum(ident(&c)), &s.cond)?.alias(p(name)));
                        tidy.push(ident(p(name)));
                    }
                    Aggregate::Avg(_) => {
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
            for (part, agg) in &parts {
                let agg = match agg {
                    Aggregate::Count(e) => count(e.clone()),
                    Aggregate::Sum(e) => sum(e.clone()),
                    Aggregate::Avg(e) => avg(e.clone()),
                };
                aggs.push(scoped(agg, &s.cond)?.alias(p(part.name())));
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
        let part = |x: Part| p(x.name());
        for (m, names) in metrics.iter().zip(&s.names) {
            let macro_cells = m.macro_key().map(|k| {
                let i = macro_keys.iter().position(|x| x == k).expect("macro key");
                (p(&format!("msum{i}")), p(&format!("mk{i}")))
            });
            let cells = Cells {
                part: &part,
                partial_verdicts: partial,
                macro_cells,
                rule_set: rule_set_of(m),
            };
            let exprs = (m.def.value)(&cells).map_err(engine)?;
            for (e, name) in exprs.into_iter().zip(names) {
                if let Some(st) = m.def.style {
                    styles.insert(name.clone(), st);
                }
                select.push(e.alias(name.as_str()));
            }
        }
    }
    df.select(select).map_err(engine)
}

/// The rule set a metric is evaluated under, when it names one.
fn rule_set_of(m: &Metric) -> Option<&str> {
    (m.def.arg == Arg::RuleSet)
        .then_some(m.arg.as_deref())
        .flatten()
}

fn window_name(i: usize, pivot: bool) -> String {
    format!("__nk{i}{}", if pivot { "p" } else { "" })
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
