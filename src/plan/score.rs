//! `score` (and `score ... pivot`): one aggregate computes the parts every
//! metric needs, per scope - the whole group, and with `pivot` one scope per
//! value of the pivot key (a FILTER on the aggregates) - then one projection
//! turns the parts into the metrics.

use super::{engine, labelled, qerr};
use crate::error::Result;
use crate::metrics::registry::{count_if, exact, f64e, one_if, Aggregate, Cells, Part};
use crate::style::Role;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::functions_aggregate::count::count_udaf;
use datafusion::functions_aggregate::expr_fn::{avg, count, max, median, min, sum};
use datafusion::functions_aggregate::sum::sum_udaf;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{case, cast, lit, Expr, ExprFunctionExt, WindowFunctionDefinition};
use datafusion::prelude::ident;

pub use crate::bind::Metric;

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
    /// A pivot scope's label (`Overall`, a value), which heads its
    /// columns; None without pivot.
    pub label: Option<String>,
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
    /// Output headers of keys that are not their names.
    pub headers: &'a std::collections::HashMap<String, String>,
    /// `rank_ci`: the intervals the bootstrap found, to join to the groups.
    pub rank_ci: Option<DataFrame>,
}

/// Aggregate `df` by `keys` and compute `metrics` in every scope. Output:
/// the keys, then each scope's metric columns in order.
pub fn score(
    df: DataFrame,
    keys: &[String],
    metrics: &[Metric],
    scopes: &[Scope],
    cx: &Context<'_>,
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
    // Windows for macro(key): rows with an answer per (group, [pivot
    // value], key value).
    let mut macro_keys: Vec<String> = vec![];
    for m in metrics {
        if let Some(k) = m.macro_key() {
            if !macro_keys.iter().any(|x| x == k) {
                macro_keys.push(k.to_string());
            }
        }
    }
    // And for se_clustered(key): each row's cluster size and hits.
    let mut cluster_keys: Vec<String> = vec![];
    for m in metrics {
        if let Some(k) = m.cluster_key() {
            if !cluster_keys.iter().any(|x| x == k) {
                cluster_keys.push(k.to_string());
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
                vec![ident("answer")],
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
    for (i, ck) in cluster_keys.iter().enumerate() {
        for pk in &pivot_keys {
            let mut part: Vec<Expr> = keys.iter().map(|k| ident(k.as_str())).collect();
            if let Some(p) = pk {
                part.push(ident(p.as_str()));
            }
            part.push(ident(ck.as_str()));
            let window = |udaf, arg: Expr, name: String| -> Result<Expr> {
                Ok(Expr::from(WindowFunction::new(
                    WindowFunctionDefinition::AggregateUDF(udaf),
                    vec![arg],
                ))
                .partition_by(part.clone())
                .build()
                .map_err(engine)?
                .alias(name))
            };
            // Rows with an answer in the row's cluster, and their hits.
            let n = window(
                count_udaf(),
                ident("answer"),
                cluster_name("n", i, pk.is_some()),
            )?;
            let h = window(
                sum_udaf(),
                one_if(ident("correct")),
                cluster_name("h", i, pk.is_some()),
            )?;
            df = df.window(vec![n, h]).map_err(engine)?;
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
            cluster_cells: None,
            rule_set: m.rule_set(),
            rule_pair: m.rule_pair(),
            agg: m.agg_slot(),
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
    // (A median cannot be combined from the first phase's groups.)
    let combinable = !parts.iter().any(|(_, a)| matches!(a, Aggregate::Median(_)));
    if let (Some(pk), true) = (
        pivot_key,
        macro_keys.is_empty() && cluster_keys.is_empty() && combinable,
    ) {
        let mut first_group = group.clone();
        first_group.push(ident(pk.as_str()));
        let mut first = vec![];
        for (part, agg) in &parts {
            let c = format!("__p1_{}", part.name());
            match agg {
                Aggregate::Count(e) => first.push(count(e.clone()).alias(c)),
                // Every first-phase group has rows.
                Aggregate::CountIf(e) => first.push(count_if(e.clone()).map_err(engine)?.alias(c)),
                Aggregate::Sum(e) => first.push(sum(e.clone()).alias(c)),
                Aggregate::Avg(e) => {
                    first.push(sum(e.clone()).alias(format!("{c}_s")));
                    first.push(count(e.clone()).alias(format!("{c}_c")));
                }
                Aggregate::Min(e) => first.push(min(e.clone()).alias(c)),
                Aggregate::Max(e) => first.push(max(e.clone()).alias(c)),
                Aggregate::Median(_) => unreachable!("not combinable: one phase"),
            }
        }
        df = df.aggregate(first_group, first).map_err(engine)?;
        let mut aggs = vec![];
        let mut tidy: Vec<Expr> = group.clone();
        for s in scopes {
            let p = |name: &str| format!("__{}{}", name, s.id);
            for (part, agg) in &parts {
                let name = &*part.name();
                let c = format!("__p1_{name}");
                match agg {
                    Aggregate::Count(_) => {
                        aggs.push(scoped(sum(ident(&c)), &s.cond)?.alias(p(name)));
                        tidy.push(coalesce(vec![ident(p(name)), lit(0i64)]).alias(p(name)));
                    }
                    Aggregate::Sum(_) | Aggregate::CountIf(_) => {
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
                    Aggregate::Min(_) => {
                        aggs.push(scoped(min(ident(&c)), &s.cond)?.alias(p(name)));
                        tidy.push(ident(p(name)));
                    }
                    Aggregate::Max(_) => {
                        aggs.push(scoped(max(ident(&c)), &s.cond)?.alias(p(name)));
                        tidy.push(ident(p(name)));
                    }
                    Aggregate::Median(_) => unreachable!("not combinable: one phase"),
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
                    // Every group has rows: a filtered count is the sum.
                    Aggregate::CountIf(e) if !group.is_empty() && s.cond.is_none() => {
                        count_if(e.clone()).map_err(engine)?
                    }
                    Aggregate::CountIf(e) => sum(one_if(e.clone())),
                    Aggregate::Sum(e) => sum(e.clone()),
                    Aggregate::Avg(e) => avg(e.clone()),
                    Aggregate::Min(e) => min(e.clone()),
                    Aggregate::Max(e) => max(e.clone()),
                    Aggregate::Median(e) => median(e.clone()),
                };
                aggs.push(scoped(agg, &s.cond)?.alias(p(&part.name())));
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
                // Keys with answers: one without (a TEST split) has no
                // accuracy to average.
                let answered = ident("answer").is_not_null();
                let distinct = count(ident(mk.as_str()))
                    .distinct()
                    .filter(match &s.cond {
                        None => answered,
                        Some(c) => c.clone().and(answered),
                    })
                    .build()
                    .map_err(engine)?;
                aggs.push(distinct.alias(p(&format!("mk{i}"))));
            }
            for (i, ck) in cluster_keys.iter().enumerate() {
                let pivot = s.pivot_key.is_some();
                let x = one_if(ident("correct"));
                let answered = ident("answer").is_not_null();
                // A row whose key is null is a cluster of its own.
                let own = ident(ck.as_str()).is_null();
                let nc = case(own.clone())
                    .when(lit(true), cast(answered.clone(), DataType::Int64))
                    .otherwise(ident(cluster_name("n", i, pivot)))
                    .map_err(engine)?;
                let hc = case(own)
                    .when(lit(true), x.clone())
                    .otherwise(cast(ident(cluster_name("h", i, pivot)), DataType::Int64))
                    .map_err(engine)?;
                let only_answered = |e: Expr| -> Result<Expr> {
                    case(answered.clone())
                        .when(lit(true), e)
                        .otherwise(lit(0i64))
                        .map_err(engine)
                };
                aggs.push(scoped(sum(x * hc.clone()), &s.cond)?.alias(p(&format!("ca{i}"))));
                aggs.push(scoped(sum(only_answered(hc)?), &s.cond)?.alias(p(&format!("cb{i}"))));
                aggs.push(scoped(sum(only_answered(nc)?), &s.cond)?.alias(p(&format!("cc{i}"))));
            }
        }
        df = df.aggregate(group, aggs).map_err(engine)?;
    }
    let rank_ci = match &cx.rank_ci {
        Some(t) if by_id => {
            df = super::rank_ci::join(df, keys, t.clone())?;
            true
        }
        _ => false,
    };

    let model_name = || -> Result<Expr> {
        let mut c = case(ident(super::MODEL_ID));
        for (i, m) in models.iter().enumerate() {
            c = c.when(lit(i as i32), lit(m.as_str()));
        }
        c.end().map_err(engine)
    };
    let mut select: Vec<Expr> = keys
        .iter()
        .map(|k| {
            let e = match k.as_str() {
                "model" if by_id => model_name()?,
                k => ident(k),
            };
            let header = cx.headers.get(k).map_or(k.as_str(), String::as_str);
            Ok(labelled(e, header, Role::Key, None))
        })
        .collect::<Result<_>>()?;
    for s in scopes {
        let p = |name: &str| ident(format!("__{}{}", name, s.id));
        let part = |x: Part| p(&x.name());
        for (m, names) in metrics.iter().zip(&s.names) {
            let macro_cells = m.macro_key().map(|k| {
                let i = macro_keys.iter().position(|x| x == k).expect("macro key");
                (p(&format!("msum{i}")), p(&format!("mk{i}")))
            });
            let cluster_cells = m.cluster_key().map(|k| {
                let i = cluster_keys
                    .iter()
                    .position(|x| x == k)
                    .expect("cluster key");
                (
                    p(&format!("ca{i}")),
                    p(&format!("cb{i}")),
                    p(&format!("cc{i}")),
                )
            });
            let cells = Cells {
                part: &part,
                partial_verdicts: partial,
                macro_cells,
                cluster_cells,
                rule_set: m.rule_set(),
                rule_pair: m.rule_pair(),
                agg: m.agg_slot(),
            };
            let exprs = match m.def.name {
                "rank_ci" if rank_ci => super::rank_ci::outputs(),
                _ => (m.def.value)(&cells).map_err(engine)?,
            };
            for (e, name) in exprs.into_iter().zip(names) {
                select.push(labelled(e, name, Role::Metric, m.def.style));
            }
        }
    }
    let df = df.select(select).map_err(engine)?;
    // `rank`: its column holds the accuracy; rank models by it within each
    // group of the other keys.
    let ranked: Vec<&String> = metrics
        .iter()
        .zip(scopes.first().map(|s| &s.names).into_iter().flatten())
        .filter(|(m, _)| m.def.name == "rank")
        .flat_map(|(_, names)| names)
        .collect();
    if ranked.is_empty() {
        return Ok(df);
    }
    rank_models(df, keys, cx, &ranked)
}

/// Replace each `ranked` column (an accuracy) by the model's rank within
/// its group of the other keys: 1 = best, ties share the smaller rank, a
/// null accuracy has no rank and is not counted.
fn rank_models(
    df: DataFrame,
    keys: &[String],
    cx: &Context<'_>,
    ranked: &[&String],
) -> Result<DataFrame> {
    let header = |k: &String| cx.headers.get(k).cloned().unwrap_or_else(|| k.clone());
    let partition: Vec<Expr> = keys
        .iter()
        .filter(|k| k.as_str() != "model")
        .map(|k| ident(header(k)))
        .collect();
    let mut df = df;
    let mut windows = vec![];
    for (i, name) in ranked.iter().enumerate() {
        let w = datafusion::functions_window::expr_fn::rank()
            .partition_by(partition.clone())
            .order_by(vec![ident(name.as_str()).sort(false, false)])
            .build()
            .map_err(engine)?;
        windows.push(w.alias(format!("__rank{i}")));
    }
    df = df.window(windows).map_err(engine)?;
    let fields = super::fields_of(&df);
    let mut select = vec![];
    for (name, meta) in fields {
        if name.starts_with("__rank") {
            continue;
        }
        match ranked.iter().position(|r| **r == name) {
            Some(i) => {
                let e = case(ident(name.as_str()).is_null())
                    .when(
                        lit(false),
                        cast(ident(format!("__rank{i}")), DataType::Int64),
                    )
                    .end()
                    .map_err(engine)?;
                select.push(labelled(e, &name, Role::Metric, None));
            }
            None => select.push(super::kept(&name, &meta)),
        }
    }
    df.select(select).map_err(engine)
}

/// The outputs of a `score` with expressions over metrics, in the order
/// written, in every scope: the keys, then per scope each metric's columns
/// or the expression's value (over that scope's columns); the hidden
/// metrics' columns are left out.
pub fn outputs(
    df: DataFrame,
    keys: &[String],
    metrics: &[Metric],
    outputs: &[crate::bind::ScoreOut],
    scopes: &[Scope],
) -> Result<DataFrame> {
    use crate::bind::ScoreOut;
    use datafusion::common::tree_node::{Transformed, TreeNode};
    let meta: std::collections::HashMap<String, std::collections::HashMap<String, String>> =
        super::fields_of(&df).into_iter().collect();
    let none = std::collections::HashMap::new();
    let keep = |name: &str| -> Expr { super::kept(name, meta.get(name).unwrap_or(&none)) };
    // One output column per scope: a pivot cell is headed by its label
    // alone.
    let visible: usize = outputs
        .iter()
        .map(|o| match o {
            ScoreOut::Metric(i) => metrics[*i].names.len(),
            ScoreOut::Expr { .. } => 1,
            ScoreOut::Hidden(_) => 0,
        })
        .sum();
    let mut select: Vec<Expr> = keys.iter().map(|k| keep(k)).collect();
    for scope in scopes {
        // A metric's column names at binding, to this scope's.
        let mut renamed: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
        for (m, names) in metrics.iter().zip(&scope.names) {
            for (from, to) in m.names.iter().zip(names) {
                renamed.insert(from.as_str(), to.as_str());
            }
        }
        for o in outputs {
            match o {
                ScoreOut::Metric(i) => {
                    for n in &scope.names[*i] {
                        select.push(keep(n));
                    }
                }
                ScoreOut::Expr { expr, name } => {
                    let e = expr
                        .clone()
                        .transform_up(|e| {
                            Ok(match &e {
                                Expr::Column(c) => match renamed.get(c.name.as_str()) {
                                    Some(to) if *to != c.name => Transformed::yes(ident(*to)),
                                    _ => Transformed::no(e),
                                },
                                _ => Transformed::no(e),
                            })
                        })
                        .map_err(engine)?
                        .data;
                    let header = match &scope.label {
                        None => name.clone(),
                        Some(l) if visible == 1 => l.clone(),
                        Some(l) => format!("{l}_{name}"),
                    };
                    select.push(labelled(e, &header, Role::Metric, None));
                }
                ScoreOut::Hidden(i) => {
                    for n in &scope.names[*i] {
                        select.push(ident(n.as_str()));
                    }
                }
            }
        }
    }
    df.select(select).map_err(engine)
}

fn window_name(i: usize, pivot: bool) -> String {
    format!("__nk{i}{}", if pivot { "p" } else { "" })
}

/// The window column of se_clustered's `i`-th key: `n` (rows with an
/// answer in the row's cluster) or `h` (their hits).
fn cluster_name(what: &str, i: usize, pivot: bool) -> String {
    format!("__c{what}{i}{}", if pivot { "p" } else { "" })
}

/// The literal that selects one pivot value, or `is null` for the null group.
pub fn value_condition(key: &str, v: &ScalarValue) -> Expr {
    if v.is_null() {
        ident(key).is_null()
    } else {
        ident(key).eq(lit(v.clone()))
    }
}

/// The scopes of `score ... pivot`: `Overall` first with `with overall`,
/// then one per pivot value, in the order given, each value's columns
/// named after its label (its abbreviation with `abbreviated`).
pub fn pivot_scopes(
    pv: &crate::bind::Pivot,
    metrics: &[Metric],
    outputs: &[crate::bind::ScoreOut],
    values: &[(ScalarValue, String)],
) -> Result<Vec<Scope>> {
    use crate::bind::ScoreOut;
    // The columns each scope shows: every metric's, or the outputs'.
    let shown: usize = if outputs.is_empty() {
        metrics.iter().map(|m| m.names.len()).sum()
    } else {
        outputs
            .iter()
            .map(|o| match o {
                ScoreOut::Metric(i) => metrics[*i].names.len(),
                ScoreOut::Expr { .. } => 1,
                ScoreOut::Hidden(_) => 0,
            })
            .sum()
    };
    let single = shown == 1;
    // (Hidden metrics, which only expressions use, keep their own name.)
    let header = |label: &str, metric: &str| {
        if single && !metric.starts_with("__h") {
            label.to_string()
        } else {
            format!("{label}_{metric}")
        }
    };
    let named = |label: &str| -> Vec<Vec<String>> {
        metrics
            .iter()
            .map(|m| m.names.iter().map(|n| header(label, n)).collect())
            .collect()
    };
    let mut scopes = vec![];
    if pv.with_overall {
        scopes.push(Scope {
            id: "_all".into(),
            cond: None,
            pivot_key: None,
            names: named("Overall"),
            label: Some("Overall".into()),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for (i, (v, label)) in values.iter().enumerate() {
        let label = if pv.abbreviated {
            crate::tree::abbreviation(&pv.key, label)
                .map(str::to_string)
                .unwrap_or_else(|| label.clone())
        } else {
            label.clone()
        };
        if !seen.insert(label.to_lowercase()) {
            return Err(qerr(
                format!("two pivot columns would be named `{label}`"),
                pv.span,
            ));
        }
        scopes.push(Scope {
            id: format!("_v{i}"),
            cond: Some(value_condition(&pv.key, v)),
            pivot_key: Some(pv.key.clone()),
            names: named(&label),
            label: Some(label.clone()),
        });
    }
    Ok(scopes)
}
