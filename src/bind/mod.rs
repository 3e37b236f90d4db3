//! Binding: a parsed query resolved against the session's [`Catalog`]
//! without running anything. Every name (relation, column, key, metric,
//! model, lexical-tree term, named selection, parameter) is resolved here,
//! every rule of the language that needs no data is checked here, and every
//! such error carries its span. The result, a [`Bound`] query, holds
//! canonical column names, metrics from the registry, model ids and the
//! `where` condition as a typed DataFusion expression; `plan` lowers it to a
//! DataFusion logical plan.
//!
//! What binding cannot know without data is left to execution steps: the
//! values of a pivot key, the best model of `compare ... vs best`, and
//! Holm's adjustment over a comparison's rows. `having`, `sort` and `limit
//! per` name output columns, which exist once the output is lowered (pivot
//! columns are named after values); they are bound against the lowered
//! output's schema by [`condition`] and [`columns::resolve`].

pub mod catalog;
pub mod columns;
pub mod functions;
mod predicate;
mod score_expr;

pub use catalog::{Catalog, Column, Relation};
pub use predicate::{ITEM_ID, MODEL_ID};

use crate::error::{Error, QueryError, Result};
use crate::metrics::registry::{self, Arg, Cells, MetricDef};
use crate::scoring::Policy;
use crate::syntax::ast::{self, CompareSide, Name, Span};
use datafusion::common::DFSchema;
use datafusion::logical_expr::{lit, Expr};
use predicate::Preds;
pub use score_expr::{ScoreOut, HAVING_PREFIX};
use std::collections::HashMap;

/// What binding reads from the session.
pub struct Env<'a> {
    pub catalog: &'a Catalog,
    /// The session's policy.
    pub policy: Policy,
    /// Named selections (`let`).
    pub lets: &'a HashMap<String, ast::Expr>,
    /// Query parameters (`$name`).
    pub params: &'a HashMap<String, String>,
    /// `rank_ci`'s resamples and seed (`set bootstrap`, `set seed`).
    pub bootstrap: Bootstrap,
}

/// How `rank_ci` resamples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bootstrap {
    pub resamples: u32,
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Bootstrap {
        Bootstrap {
            resamples: crate::metrics::bootstrap::DEFAULT_RESAMPLES,
            seed: 0,
        }
    }
}

impl Env<'_> {
    /// Whether some rows with an answer may have no verdict (null
    /// `correct`): `recorded` with models that have no result file.
    pub fn partial_verdicts(&self, by_policy: bool) -> bool {
        let c = self.catalog;
        (self.policy == Policy::Recorded || (by_policy && c.policies().contains(&Policy::Recorded)))
            && !c.unrecorded_ids().is_empty()
    }
}

/// A query with every name resolved.
pub struct Bound {
    pub span: Span,
    pub relation: Relation,
    /// The session's policy when the query was bound.
    pub policy: Policy,
    /// `by policy`: the rows once per policy, with a `policy` column.
    pub by_policy: bool,
    /// A model the `where` condition pins every row to (its own table is
    /// scanned).
    pub pinned: Option<i32>,
    pub filter: Option<Expr>,
    /// Computed keys and shown expressions: columns added to the filtered
    /// rows, by name.
    pub computed: Vec<(String, Expr)>,
    /// The `by` keys, as column names.
    pub keys: Vec<String>,
    /// Keys whose output header is not their name: a rule-set column
    /// written by an alias of its rule set keeps that spelling.
    pub key_headers: HashMap<String, String>,
    pub output: Output,
    /// Some rows may lack a verdict (see [`Env::partial_verdicts`]).
    pub partial_verdicts: bool,
    /// Bound against the output once it is lowered.
    pub having: Option<ast::Expr>,
    pub sort: Vec<ast::SortItem>,
    pub limit: Option<ast::Limit>,
}

/// What a query computes.
pub enum Output {
    Score {
        /// The metrics to compute: those shown, then those only an
        /// expression uses (hidden).
        metrics: Vec<Metric>,
        pivot: Option<Pivot>,
        /// The outputs in order, when some are expressions (empty: every
        /// metric, in order).
        outputs: Vec<ScoreOut>,
    },
    /// Case rows: the columns shown, the order they are sorted in before
    /// the projection (hidden columns may break ties), and the order of
    /// rows when `sort` names none of the shown columns.
    Show {
        columns: Vec<String>,
        /// Each column's header: its name, or as written for a rule-set
        /// column named by an alias (`choice_legacy`).
        headers: Vec<String>,
        presort: Vec<(String, bool)>,
        default_order: Vec<String>,
    },
    Compare {
        left: Side,
        right: Side,
        span: Span,
    },
}

/// One side of `compare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A model, by id (-1: a name not checked, in a check without data).
    Model(i32),
    /// Every model but the right one.
    Each,
    /// The model with the highest accuracy over the filtered rows: found
    /// by an execution step.
    Best,
}

/// `pivot <key>`: one column per value of the key.
pub struct Pivot {
    pub key: String,
    /// The `by` keys other than the pivot key.
    pub rest: Vec<String>,
    pub with_overall: bool,
    pub abbreviated: bool,
    pub span: Span,
}

/// A metric as requested, resolved against the registry.
pub struct Metric {
    pub def: &'static MetricDef,
    /// The resolved argument: a column name (`macro`) or a rule set (`acc`).
    pub arg: Option<String>,
    /// `shift(a, b)`, `flips(a, b)`: the two rule sets' names.
    pub pair: Option<(String, String)>,
    /// Output names (two for `ci`).
    pub names: Vec<String>,
    pub span: Span,
}

impl Bound {
    /// A key's output header.
    pub fn key_header<'a>(&'a self, key: &'a str) -> &'a str {
        self.key_headers.get(key).map_or(key, String::as_str)
    }
}

impl Metric {
    /// The key column of `macro(<key>)`.
    pub fn macro_key(&self) -> Option<&str> {
        (self.def.name == "macro")
            .then_some(self.arg.as_deref())
            .flatten()
    }

    /// The cluster column of `se_clustered(<key>)`.
    pub fn cluster_key(&self) -> Option<&str> {
        (self.def.name == "se_clustered")
            .then_some(self.arg.as_deref())
            .flatten()
    }

    /// The slot of an aggregate over an expression (`mean(...)`): its
    /// argument is the column `__agg<slot>`.
    pub fn agg_slot(&self) -> Option<u16> {
        (self.def.arg == Arg::Expr)
            .then(|| self.arg.as_deref()?.strip_prefix("__agg")?.parse().ok())
            .flatten()
    }

    /// The rule sets `shift(a, b)` or `flips(a, b)` compare.
    pub fn rule_pair(&self) -> Option<(&str, &str)> {
        self.pair.as_ref().map(|(a, b)| (a.as_str(), b.as_str()))
    }

    /// The rule set a metric is evaluated under, when it names one.
    pub fn rule_set(&self) -> Option<&str> {
        (self.def.arg == Arg::RuleSet)
            .then_some(self.arg.as_deref())
            .flatten()
    }
}

fn qerr(msg: impl Into<String>, span: Span) -> Error {
    Error::query(QueryError::new(msg, span))
}

/// Bind a query. Runs nothing; every error names its span.
pub fn bind(q: &ast::Query, env: &Env<'_>) -> Result<Bound> {
    let relation = match &q.from {
        None => Relation::Results,
        Some(n) => Relation::find(&n.text).ok_or_else(|| {
            Error::query(
                QueryError::new(format!("unknown relation `{}`", n.text), n.span)
                    .with_help(
                        "the relations are `results`, `items`, `coverage`, `provenance` and `item_stats`",
                    ),
            )
        })?,
    };
    let from_items = matches!(relation, Relation::Items | Relation::ItemStats);
    if relation.shown_only() {
        let (what, example) = match relation {
            Relation::Coverage => (
                "one row per model",
                "from coverage where missing > 0 show model, read, missing",
            ),
            _ => (
                "one row per model and dataset",
                "from provenance where agreement < 99 show model, judge, rules_detected, agreement",
            ),
        };
        if let ast::Output::Score(_) | ast::Output::Compare { .. } = &q.output {
            return Err(Error::query(
                QueryError::new(
                    format!("`{}` has {what}: it is shown, not scored", relation.name()),
                    q.span,
                )
                .with_help(format!("for example `{example}`")),
            ));
        }
        if let Some(k) = q.by.first() {
            return Err(qerr(
                format!(
                    "`by` groups rows for `score`; `{}` is shown as it is",
                    relation.name()
                ),
                k.span,
            ));
        }
    }
    let base_schema = env.catalog.schema(relation);
    let by_policy = relation == Relation::Results
        && q.by.iter().any(|k| {
            k.column()
                .is_some_and(|c| c.text.eq_ignore_ascii_case("policy"))
        });
    let preds = Preds { env };
    let pinned = match (&q.filter, relation) {
        (Some(f), Relation::Results) => predicate::pinned_model(f, &preds, base_schema),
        _ => None,
    };
    let filter = q
        .filter
        .as_ref()
        .map(|f| preds.predicate(f, base_schema, 0))
        .transpose()?;
    // Computed keys and shown expressions become columns of the filtered
    // rows; the rest of the query names them like any column.
    let shown: &[ast::Item] = match &q.output {
        ast::Output::Show { columns, .. } => columns,
        _ => &[],
    };
    let (mut computed, extended) = computed_columns(q.by.iter().chain(shown), base_schema, &preds)?;
    let schema: &DFSchema = extended.as_ref().unwrap_or(base_schema);

    let output = match &q.output {
        ast::Output::Default if q.by.is_empty() => ast::Output::Show {
            all: true,
            columns: vec![],
        },
        ast::Output::Default => ast::Output::Score(default_metrics(q.span)),
        o => o.clone(),
    };
    let mut keys: Vec<String> = vec![];
    let mut key_headers = HashMap::new();
    for item in &q.by {
        let k = &item.name();
        let c = columns::resolve(k, schema, "columns")?;
        if keys.contains(&c) {
            return Err(qerr(format!("`{c}` is already a key"), k.span));
        }
        let h = columns::header(k, &c);
        if h != c {
            key_headers.insert(c.clone(), h);
        }
        keys.push(c);
    }
    let mut having = q.having.clone();
    let mut sort = q.sort.clone();
    let output = match output {
        ast::Output::Score(metrics) => {
            // `acc(recorded)` where verdicts were loaded (or may be: a
            // check without data).
            let recorded = !env.catalog.recorded.is_empty() || !env.catalog.models_known;
            let key_types: Vec<(String, datafusion::arrow::datatypes::DataType)> = keys
                .iter()
                .map(|k| {
                    let t = schema
                        .field_with_unqualified_name(k)
                        .map(|f| f.data_type().clone())
                        .unwrap_or(datafusion::arrow::datatypes::DataType::Utf8);
                    let h = key_headers.get(k).cloned().unwrap_or_else(|| k.clone());
                    (h, t)
                })
                .collect();
            let score_expr::Scored { metrics, outputs } = score_expr::bind_score(
                &metrics,
                schema,
                from_items,
                recorded,
                &key_types,
                &preds,
                &mut computed,
            )?;
            let pivot = q
                .pivot
                .as_ref()
                .map(|pv| bind_pivot(pv, &keys, schema))
                .transpose()?;
            let grouped: &[String] = pivot.as_ref().map_or(&keys, |p| &p.rest);
            for m in &metrics {
                if let name @ ("rank" | "rank_ci") = m.def.name {
                    if !keys.iter().any(|k| k == "model") {
                        return Err(Error::query(
                            QueryError::new(
                                format!(
                                    "`{name}` ranks models: it needs `model` among the `by` keys"
                                ),
                                m.span,
                            )
                            .with_help(format!("for example `by model, task score acc, {name}`")),
                        ));
                    }
                    if pivot.is_some() {
                        return Err(Error::query(
                            QueryError::new(format!("`{name}` cannot be pivoted"), m.span)
                                .with_help(format!("{name} without `pivot`, or pivot `acc`")),
                        ));
                    }
                }
                if let Some(k) = m.macro_key() {
                    if grouped.iter().any(|x| x == k) {
                        return Err(Error::query(
                            QueryError::new(
                                format!("`macro({k})` inside groups of `{k}` is plain `acc`"),
                                m.span,
                            )
                            .with_help(format!("drop `{k}` from `by`, or use `acc`")),
                        ));
                    }
                }
            }
            let mut outputs = outputs;
            let mut metrics = metrics;
            // (A pivot's columns come from the data: its `having` is bound
            // against them once they are known.)
            if let (Some(h), None) = (&q.having, &pivot) {
                // What `having` may name as it is: the output columns.
                let mut named: Vec<(String, datafusion::arrow::datatypes::DataType)> =
                    key_types.clone();
                let utf8 = || datafusion::arrow::datatypes::DataType::Utf8;
                for m in &metrics {
                    named.extend(m.names.iter().map(|n| (n.clone(), utf8())));
                }
                for o in &outputs {
                    if let ScoreOut::Expr { name, .. } = o {
                        named.push((name.clone(), utf8()));
                    }
                }
                let (rewritten, extra) = score_expr::having_metrics(
                    h,
                    schema,
                    from_items,
                    recorded,
                    &named,
                    &preds,
                    &mut computed,
                )?;
                if !extra.is_empty() {
                    if outputs.is_empty() {
                        outputs = (0..metrics.len())
                            .filter(|i| !metrics[*i].names.iter().any(|n| n.starts_with("__h")))
                            .map(ScoreOut::Metric)
                            .collect();
                    }
                    for m in extra {
                        outputs.push(ScoreOut::Hidden(metrics.len()));
                        metrics.push(m);
                    }
                    having = Some(rewritten);
                }
            }
            Output::Score {
                metrics,
                pivot,
                outputs,
            }
        }
        ast::Output::Show { all, columns } => {
            let names: Vec<Name> = columns.iter().map(ast::Item::name).collect();
            // Sort expressions are computed on the rows, as hidden columns.
            for (i, s) in sort.iter_mut().enumerate() {
                if let Some(e) = s.expr.take() {
                    let name = format!("{SORT_PREFIX}{i}");
                    computed.push((name.clone(), preds.value(&e, schema, 0)?.0));
                    s.column = Name {
                        text: name,
                        span: s.column.span,
                    };
                }
            }
            bind_show(q, all, &names, &sort, schema)?
        }
        ast::Output::Compare { a, b, span } => {
            if from_items {
                return Err(qerr("`compare` needs predictions: query `results`", span));
            }
            bind_compare(&a, &b, span, &keys, env)?
        }
        ast::Output::Default => unreachable!("replaced above"),
    };
    if let (Some(pv), false) = (&q.pivot, matches!(output, Output::Score { .. })) {
        return Err(qerr(
            "`pivot` reshapes `score` results; this query has no `score`",
            pv.key.span,
        ));
    }
    Ok(Bound {
        span: q.span,
        relation,
        policy: env.policy,
        by_policy,
        pinned,
        filter,
        computed,
        keys,
        key_headers,
        output,
        partial_verdicts: env.partial_verdicts(by_policy) && !from_items,
        having,
        sort,
        limit: q.limit.clone(),
    })
}

/// Computed columns by name, and the schema with them.
type Computed = (Vec<(String, Expr)>, Option<DFSchema>);

/// The items that are expressions (or renamed columns), bound against the
/// relation, and the relation's schema with them as columns (None when
/// there are none). A name already taken by a column, or given twice, is an
/// error.
fn computed_columns<'a>(
    items: impl Iterator<Item = &'a ast::Item>,
    schema: &DFSchema,
    preds: &Preds,
) -> Result<Computed> {
    use datafusion::arrow::datatypes::Field;
    use datafusion::logical_expr::ExprSchemable;
    let mut out: Vec<(String, Expr)> = vec![];
    let mut fields = vec![];
    for item in items {
        if item.column().is_some() {
            continue;
        }
        let name = item.name();
        let taken = columns::resolve(&name, schema, "").is_ok()
            || out.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name.text));
        if taken {
            // The same expression twice (a key also shown) is one column.
            if let Some((_, e)) = out.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name.text)) {
                if *e == preds.value(&item.expr, schema, 0)?.0 {
                    continue;
                }
            }
            return Err(Error::query(
                QueryError::new(format!("`{}` is already a column", name.text), name.span)
                    .with_help("give the expression another name with `as`"),
            ));
        }
        let (e, _) = preds.value(&item.expr, schema, 0)?;
        let (_, field) = e
            .to_field(schema)
            .map_err(|x| qerr(x.to_string(), item.span))?;
        let field = Field::new(&name.text, field.data_type().clone(), field.is_nullable());
        fields.push((None, std::sync::Arc::new(field)));
        out.push((name.text.clone(), e));
    }
    if out.is_empty() {
        return Ok((out, None));
    }
    let added = DFSchema::new_with_metadata(fields, Default::default())
        .map_err(|x| Error::engine("binding the query", x))?;
    let mut extended = schema.clone();
    extended.merge(&added);
    Ok((out, Some(extended)))
}

/// Bind a value against a schema: a `sort` expression over a query's
/// output.
pub fn value(e: &ast::Expr, schema: &DFSchema, env: &Env<'_>) -> Result<Expr> {
    Ok(Preds { env }.value(e, schema, 0)?.0)
}

/// Bind a condition against a schema: a `let` (against `results`) or
/// `having` (against a query's output).
pub fn condition(e: &ast::Expr, schema: &DFSchema, env: &Env<'_>) -> Result<Expr> {
    Preds { env }.predicate(e, schema, 0)
}

fn bind_pivot(pv: &ast::Pivot, keys: &[String], schema: &DFSchema) -> Result<Pivot> {
    let pk = columns::resolve(&pv.key, schema, "columns")?;
    if !keys.contains(&pk) {
        return Err(Error::query(
            QueryError::new(
                format!("`pivot {pk}` needs `{pk}` among the `by` keys"),
                pv.key.span,
            )
            .with_help(format!(
                "add it: `by {}, {pk}`",
                keys.first().cloned().unwrap_or_else(|| "model".into())
            )),
        ));
    }
    Ok(Pivot {
        rest: keys.iter().filter(|k| **k != pk).cloned().collect(),
        key: pk,
        with_overall: pv.with_overall,
        abbreviated: pv.abbreviated,
        span: pv.key.span,
    })
}

/// The prefix of the hidden columns `show` sorts expressions by.
const SORT_PREFIX: &str = "__sort";

fn bind_show(
    q: &ast::Query,
    all: bool,
    columns: &[Name],
    sort: &[ast::SortItem],
    schema: &DFSchema,
) -> Result<Output> {
    if !q.by.is_empty() {
        return Err(Error::query(
            QueryError::new(
                "`by` groups rows for `score` and `compare`; `show` lists case rows",
                q.by[0].span,
            )
            .with_help("drop `by`, or use `score` to aggregate"),
        ));
    }
    let (names, headers): (Vec<String>, Vec<String>) = if all {
        let names: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| !n.starts_with("__"))
            .collect();
        (names.clone(), names)
    } else {
        columns
            .iter()
            .map(|c| {
                let canon = columns::resolve(c, schema, "columns").map_err(Error::query)?;
                Ok((canon.clone(), columns::header(c, &canon)))
            })
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .unzip()
    };
    // Case rows come in a stable order: by model, then item index.
    let base: Vec<String> = ["model", "index"]
        .iter()
        .filter(|k| schema.field_with_unqualified_name(k).is_ok())
        .map(|k| k.to_string())
        .collect();
    // Sorted before the projection, so that hidden columns break ties.
    let mut presort = vec![];
    for s in sort {
        let c = if s.column.text.starts_with(SORT_PREFIX) {
            s.column.text.clone()
        } else {
            columns::resolve(&s.column, schema, "columns")?
        };
        presort.push((c, s.descending));
    }
    for k in &base {
        if !sort.iter().any(|s| s.column.text.eq_ignore_ascii_case(k)) {
            presort.push((k.clone(), false));
        }
    }
    Ok(Output::Show {
        default_order: base.into_iter().filter(|b| names.contains(b)).collect(),
        columns: names,
        headers,
        presort,
    })
}

fn bind_compare(
    a: &CompareSide,
    b: &CompareSide,
    span: Span,
    keys: &[String],
    env: &Env<'_>,
) -> Result<Output> {
    if keys.iter().any(|k| k == "model") {
        return Err(Error::query(
            QueryError::new("`compare` pairs models; `model` cannot be a key", span)
                .with_help("group by item columns (task, department, ...) or policy"),
        ));
    }
    let right = match b {
        CompareSide::Model(m, s) => Side::Model(model_id(m, *s, env.catalog)?),
        CompareSide::Best(_) => Side::Best,
        CompareSide::Each(s) => {
            return Err(Error::query(QueryError::new(
                "`each` goes on the left: `compare each vs best`",
                *s,
            )))
        }
    };
    let left = match a {
        CompareSide::Model(m, s) => {
            let l = model_id(m, *s, env.catalog)?;
            if Side::Model(l) == right && l >= 0 {
                return Err(Error::query(
                    QueryError::new(
                        format!("`{}` compared with itself", env.catalog.models[l as usize]),
                        *s,
                    )
                    .with_help("name two different models"),
                ));
            }
            Side::Model(l)
        }
        CompareSide::Each(_) => Side::Each,
        CompareSide::Best(s) => {
            return Err(Error::query(QueryError::new(
                "`best` goes on the right: `compare each vs best`",
                *s,
            )))
        }
    };
    Ok(Output::Compare { left, right, span })
}

/// A model named in `compare`: exactly, or case-insensitively when that is
/// unambiguous.
fn model_id(name: &str, span: Span, catalog: &Catalog) -> Result<i32> {
    let models = &catalog.models;
    if let Some(i) = catalog.model_id(name) {
        return Ok(i);
    }
    let ci: Vec<usize> = (0..models.len())
        .filter(|i| models[*i].eq_ignore_ascii_case(name))
        .collect();
    if ci.len() == 1 {
        return Ok(ci[0] as i32);
    }
    if !catalog.models_known {
        return Ok(-1);
    }
    let near = crate::names::nearest(name, models.iter().map(|s| s.as_str()), 3);
    Err(Error::query(
        QueryError::new(format!("no model `{name}` is loaded"), span).with_help(format!(
            "models: {}",
            near.iter()
                .map(|m| format!("'{m}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    ))
}

/// The default `n, acc` of a query with `by` and no output clause.
fn default_metrics(span: Span) -> Vec<ast::Metric> {
    ["n", "acc"]
        .iter()
        .map(|n| ast::Metric {
            name: Name {
                text: n.to_string(),
                span,
            },
            arg: None,
            arg2: None,
            alias: None,
            span,
            item: None,
            plain: true,
        })
        .collect()
}

/// Resolve requested metrics against the registry: names, arguments,
/// output names (unique), and whether they can be computed on the relation.
pub fn resolve_metrics(
    metrics: &[ast::Metric],
    schema: &DFSchema,
    from_items: bool,
    recorded: bool,
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
        if let (Some(extra), false) = (&m.arg2, def.arg == Arg::RuleSetPair) {
            return Err(Error::query(
                QueryError::new(format!("`{name}` takes one argument at most"), extra.span)
                    .with_help("only `shift(a, b)` and `flips(a, b)` take two"),
            ));
        }
        let mut pair: Option<(String, String)> = None;
        let arg = match (def.arg, &m.arg) {
            (Arg::RuleSetPair, None) => None,
            (Arg::RuleSetPair, Some(a)) => {
                let Some(b) = &m.arg2 else {
                    return Err(Error::query(
                        QueryError::new(
                            format!("`{name}({})` compares two rule sets", a.text),
                            a.span,
                        )
                        .with_help(format!(
                            "write `{name}({}, <rule set>)`, or `{name}` for {} against {}",
                            a.text,
                            crate::scoring::rules::DEFAULT,
                            crate::scoring::rules::BASELINE
                        )),
                    ));
                };
                pair = Some((
                    rule_set_named(name.as_str(), a)?.name.to_string(),
                    rule_set_named(name.as_str(), b)?.name.to_string(),
                ));
                None
            }
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
                        if def.name == "macro" {
                            format!(
                                "for example `{name}(task)`: the mean of the per-task accuracies"
                            )
                        } else {
                            format!(
                                "for example `{name}(category)`: the items clustered by category"
                            )
                        },
                    ),
                ))
            }
            (Arg::Column, Some(a)) => Some(columns::resolve(a, schema, "columns")?),
            (Arg::RuleSet, Some(a)) if a.text.eq_ignore_ascii_case(registry::RECORDED) => {
                if !recorded {
                    return Err(Error::query(
                        QueryError::new(
                            format!("`{name}(recorded)` needs VLMEvalKit's verdicts"),
                            a.span,
                        )
                        .with_help(
                            "load result files with a `hit` column (VLMEvalKit's *_result.xlsx)",
                        ),
                    ));
                }
                Some(registry::RECORDED.to_string())
            }
            (Arg::RuleSet, Some(a)) => Some(rule_set_named(name.as_str(), a)?.name.to_string()),
            // Bound apart (see `score_expr`): here only its column's name.
            (Arg::Expr, a) => a.as_ref().map(|a| a.text.clone()),
        };
        let probe = Cells {
            part: &|_| lit(0i64),
            partial_verdicts: false,
            macro_cells: None,
            cluster_cells: None,
            rule_set: arg.as_deref().filter(|_| def.arg == Arg::RuleSet),
            rule_pair: pair.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            agg: None,
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
        // A rule set keeps its spelling in the header (`acc(legacy)` heads
        // `acc_legacy`), whichever name of it was written.
        let shown: Option<String> = match (def.arg, &m.arg, &m.arg2) {
            (Arg::RuleSet, Some(w), _) => Some(w.text.clone()),
            (Arg::RuleSetPair, Some(a), Some(b)) => Some(format!("{}_{}", a.text, b.text)),
            _ => arg.clone(),
        };
        let default_names: Vec<String> = match (arg.as_ref().or(shown.as_ref()), &shown) {
            (Some(a), Some(w)) => def
                .output_names(Some(a))
                .into_iter()
                .map(|n| if n == def.name { format!("{n}_{w}") } else { n })
                .collect(),
            _ => def.output_names(None),
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
            pair,
            names,
            span: m.span,
        });
    }
    Ok(out)
}

/// The rule set a metric's argument names, by any of its names.
fn rule_set_named(metric: &str, a: &Name) -> Result<&'static crate::scoring::rules::RuleSet> {
    crate::scoring::rules::find(&a.text).ok_or_else(|| {
        Error::query(
            QueryError::new(format!("`{metric}({})`: no such rule set", a.text), a.span).with_help(
                format!(
                    "write {}, or `{metric}` for the session's policy",
                    crate::scoring::rules::names()
                        .map(|r| format!("`{metric}({r})`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            ),
        )
    })
}
