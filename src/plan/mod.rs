//! AST -> DataFusion logical plans, through the DataFrame API (never SQL
//! text). This is the one place that knows both the language and DataFusion.

pub mod columns;

use crate::error::{Error, QueryError, Result};
use crate::metrics::WilsonUdf;
use crate::scoring::Policy;
use crate::syntax::ast::{self, CmpOp, Name, Operand, Output, Query, Span};
use crate::tree::Tree;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::dataframe::DataFrame;
use datafusion::functions_aggregate::expr_fn::{avg, count, sum};
use datafusion::logical_expr::{case, cast, lit, Expr, SortExpr};
use datafusion::prelude::{ident, SessionContext};
use std::collections::HashMap;

/// How a renderer should print a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// A percentage: two decimals in tables.
    Percent,
    /// A p-value: three significant digits in tables.
    PValue,
}

/// What the planner needs from the session.
pub struct Env<'a> {
    pub policy: Policy,
    /// The policies that can be evaluated (`recorded` only with a `hit` column).
    pub policies: &'a [Policy],
    pub lets: &'a HashMap<String, ast::Expr>,
    pub params: &'a HashMap<String, String>,
    pub tree: &'a Tree,
}

/// A planned query: the DataFrame to execute and how to print its columns.
pub struct Planned {
    pub df: DataFrame,
    pub styles: HashMap<String, Style>,
}

/// The metrics `score` knows, with a one-line meaning each.
pub const METRICS: &[(&str, &str)] = &[
    ("n", "rows in the group"),
    ("hits", "correct rows"),
    ("acc", "100 * hits / n"),
    ("ci", "Wilson 95% interval of acc: ci_low, ci_high"),
    ("fail", "percent of rows whose choice is Z"),
    ("missing", "rows not answered"),
    ("random", "100 * mean(1 / n_options): chance level"),
];

fn engine(e: impl std::fmt::Display) -> Error {
    Error::engine("planning the query", e)
}

fn qerr(msg: impl Into<String>, span: Span) -> Error {
    Error::query(QueryError::new(msg, span))
}

/// The `results` relation under one policy.
fn results_view(scored: DataFrame, policy: Policy, with_policy_col: bool) -> Result<DataFrame> {
    let mut select: Vec<Expr> = vec![];
    for c in columns::RESULT_COLUMNS {
        let e = match *c {
            "choice" => match policy {
                Policy::Legacy | Policy::Recorded => ident("choice_legacy"),
                Policy::Current => ident("choice_current"),
            },
            "rule" => match policy {
                Policy::Legacy => ident("rule_legacy"),
                Policy::Current => ident("rule_current"),
                Policy::Recorded => lit("recorded"),
            },
            "correct" => match policy {
                Policy::Legacy => ident("correct_legacy"),
                Policy::Current => ident("correct_current"),
                Policy::Recorded => ident("correct_recorded"),
            },
            other => ident(other),
        };
        select.push(e.alias(*c));
    }
    if with_policy_col {
        select.push(lit(policy.name()).alias("policy"));
    }
    scored.select(select).map_err(engine)
}

pub async fn plan(ctx: &SessionContext, q: &Query, env: &Env<'_>) -> Result<Planned> {
    let from_items = match &q.from {
        None => false,
        Some(n) if n.text.eq_ignore_ascii_case("results") => false,
        Some(n) if n.text.eq_ignore_ascii_case("items") => true,
        Some(n) => {
            return Err(Error::query(
                QueryError::new(format!("unknown relation `{}`", n.text), n.span)
                    .with_help("the relations are `results` and `items`"),
            ))
        }
    };
    let by_policy = !from_items && q.by.iter().any(|k| k.text.eq_ignore_ascii_case("policy"));
    let mut df = if from_items {
        ctx.table("items").await.map_err(engine)?
    } else {
        let scored = ctx.table("scored").await.map_err(engine)?;
        if by_policy {
            let mut out: Option<DataFrame> = None;
            for p in env.policies {
                let v = results_view(scored.clone(), *p, true)?;
                out = Some(match out {
                    None => v,
                    Some(o) => o.union(v).map_err(engine)?,
                });
            }
            out.expect("at least one policy")
        } else {
            results_view(scored, env.policy, true)?
        }
    };

    let p = Preds { env };
    if let Some(filter) = &q.filter {
        let e = p.predicate(filter, df.schema(), 0)?;
        df = df.filter(e).map_err(engine)?;
    }

    let mut styles = HashMap::new();
    let output = match &q.output {
        Output::Default if q.by.is_empty() => Output::Show {
            all: true,
            columns: vec![],
        },
        Output::Default => Output::Score(vec![
            default_metric("n", q.span),
            default_metric("acc", q.span),
        ]),
        o => o.clone(),
    };
    let mut keys: Vec<String> = vec![];
    match &output {
        Output::Score(metrics) => {
            for k in &q.by {
                let c = columns::resolve(k, df.schema(), "columns")?;
                if keys.contains(&c) {
                    return Err(qerr(format!("`{c}` is already a key"), k.span));
                }
                keys.push(c);
            }
            df = score(df, &keys, metrics, from_items, &mut styles)?;
        }
        Output::Show { all, columns } => {
            if !q.by.is_empty() {
                return Err(Error::query(
                    QueryError::new(
                        "`by` groups rows for `score`; `show` lists case rows",
                        q.by[0].span,
                    )
                    .with_help("drop `by`, or use `score` to aggregate"),
                ));
            }
            let mut names = vec![];
            if *all {
                names = df
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
            } else {
                for c in columns {
                    names.push(columns::resolve(c, df.schema(), "columns")?);
                }
            }
            // Case rows come in a stable order: by model, then item index.
            if q.sort.is_empty() {
                let mut order = vec![];
                for k in ["model", "index"] {
                    if df.schema().field_with_unqualified_name(k).is_ok() {
                        order.push(ident(k).sort(true, false));
                    }
                }
                if !order.is_empty() {
                    df = df.sort(order).map_err(engine)?;
                }
            }
            df = df
                .select(names.iter().map(|n| ident(n.as_str())).collect::<Vec<_>>())
                .map_err(engine)?;
        }
        Output::Compare { span, .. } => {
            return Err(qerr(
                "`compare` is not available in this version of medql",
                *span,
            ))
        }
        Output::Default => unreachable!("replaced above"),
    }

    if let Some(h) = &q.having {
        let e = p.predicate(h, df.schema(), 0)?;
        df = df.filter(e).map_err(engine)?;
    }
    if let Some(pv) = &q.pivot {
        return Err(qerr(
            "`pivot` is not available in this version of medql",
            pv.key.span,
        ));
    }
    if !q.sort.is_empty() {
        let mut order: Vec<SortExpr> = vec![];
        for s in &q.sort {
            let c = columns::resolve(&s.column, df.schema(), "output columns")?;
            order.push(ident(c).sort(!s.descending, false));
        }
        df = df.sort(order).map_err(engine)?;
    } else if !keys.is_empty() {
        df = df
            .sort(
                keys.iter()
                    .map(|k| ident(k.as_str()).sort(true, false))
                    .collect(),
            )
            .map_err(engine)?;
    }
    if let Some(l) = &q.limit {
        if let Some(per) = &l.per {
            return Err(qerr(
                "`limit ... per` is not available in this version of medql",
                per.span,
            ));
        }
        df = df.limit(0, Some(l.n as usize)).map_err(engine)?;
    }
    Ok(Planned { df, styles })
}

fn default_metric(name: &str, span: Span) -> ast::Metric {
    ast::Metric {
        name: Name {
            text: name.into(),
            span,
        },
        arg: None,
        alias: None,
        span,
    }
}

fn f64e(e: Expr) -> Expr {
    cast(e, DataType::Float64)
}

fn int_when(cond: Expr) -> Result<Expr> {
    case(cond)
        .when(lit(true), lit(1i64))
        .otherwise(lit(0i64))
        .map_err(engine)
}

/// `score`: group by the keys, aggregate the parts the metrics need, then
/// compute each metric from the parts.
fn score(
    df: DataFrame,
    keys: &[String],
    metrics: &[ast::Metric],
    from_items: bool,
    styles: &mut HashMap<String, Style>,
) -> Result<DataFrame> {
    let group: Vec<Expr> = keys.iter().map(|k| ident(k.as_str())).collect();
    let mut aggs: Vec<Expr> = vec![count(lit(1i64)).alias("__n")];
    if !from_items {
        aggs.push(sum(int_when(ident("correct").is_true())?).alias("__hits"));
        aggs.push(count(ident("answer")).alias("__answers"));
        aggs.push(sum(int_when(ident("choice").eq(lit("Z")))?).alias("__z"));
        aggs.push(sum(int_when(ident("answered").is_false())?).alias("__missing"));
    }
    let inv = case(ident("n_options").gt(lit(0i64)))
        .when(lit(true), lit(1.0f64) / f64e(ident("n_options")))
        .end()
        .map_err(engine)?;
    aggs.push(avg(inv).alias("__inv"));
    let df = df.aggregate(group, aggs).map_err(engine)?;

    let n = || f64e(ident("__n"));
    let hits = || f64e(ident("__hits"));
    let pct = |num: Expr| -> Result<Expr> {
        case(ident("__n").gt(lit(0i64)))
            .when(lit(true), num / n() * lit(100.0f64))
            .end()
            .map_err(engine)
    };
    let has_answers = || ident("__answers").gt(lit(0i64));
    let mut select: Vec<Expr> = keys.iter().map(|k| ident(k.as_str())).collect();
    let mut names: Vec<String> = keys.to_vec();
    for m in metrics {
        let name = m.name.text.to_ascii_lowercase();
        if let Some(arg) = &m.arg {
            return Err(Error::query(
                QueryError::new(format!("`{name}` takes no argument"), arg.span)
                    .with_help(format!("write `{name}`")),
            ));
        }
        let needs_results = !matches!(name.as_str(), "n" | "random");
        if from_items && needs_results {
            return Err(Error::query(
                QueryError::new(format!("`{name}` needs predictions"), m.name.span).with_help(
                    "`from items` has item rows only: use `n` and `random`, or query `results`",
                ),
            ));
        }
        let outs: Vec<(String, Expr, Option<Style>)> = match name.as_str() {
            "n" => vec![("n".into(), ident("__n"), None)],
            "hits" => vec![("hits".into(), ident("__hits"), None)],
            "acc" => vec![(
                "acc".into(),
                case(has_answers())
                    .when(lit(true), pct(hits())?)
                    .end()
                    .map_err(engine)?,
                Some(Style::Percent),
            )],
            "fail" => vec![(
                "fail".into(),
                pct(f64e(ident("__z")))?,
                Some(Style::Percent),
            )],
            "missing" => vec![("missing".into(), ident("__missing"), None)],
            "random" => vec![(
                "random".into(),
                ident("__inv") * lit(100.0f64),
                Some(Style::Percent),
            )],
            "ci" => {
                let lo = WilsonUdf::udf(false).call(vec![hits(), n()]);
                let hi = WilsonUdf::udf(true).call(vec![hits(), n()]);
                let gate = |e: Expr| case(has_answers()).when(lit(true), e).end().map_err(engine);
                vec![
                    ("ci_low".into(), gate(lo)?, Some(Style::Percent)),
                    ("ci_high".into(), gate(hi)?, Some(Style::Percent)),
                ]
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
        if m.alias.is_some() && outs.len() > 1 {
            return Err(qerr(
                format!(
                    "`{name}` gives {} columns and cannot be renamed",
                    outs.len()
                ),
                m.span,
            ));
        }
        for (col_name, e, style) in outs {
            let out_name = m.alias.as_ref().map(|a| a.text.clone()).unwrap_or(col_name);
            if names.iter().any(|x| x.eq_ignore_ascii_case(&out_name)) {
                return Err(Error::query(
                    QueryError::new(format!("two output columns are named `{out_name}`"), m.span)
                        .with_help("rename one with `as`"),
                ));
            }
            if let Some(s) = style {
                styles.insert(out_name.clone(), s);
            }
            names.push(out_name.clone());
            select.push(e.alias(out_name));
        }
    }
    df.select(select).map_err(engine)
}

/// Predicates: the AST's conditions as DataFusion expressions.
struct Preds<'a, 'b> {
    env: &'a Env<'b>,
}

impl Preds<'_, '_> {
    fn predicate(&self, e: &ast::Expr, schema: &DFSchema, depth: usize) -> Result<Expr> {
        if depth > 256 {
            return Err(qerr("condition nested too deeply", e.span()));
        }
        Ok(match e {
            ast::Expr::And(a, b) => {
                self.predicate(a, schema, depth + 1)?
                    .and(self.predicate(b, schema, depth + 1)?)
            }
            ast::Expr::Or(a, b) => {
                self.predicate(a, schema, depth + 1)?
                    .or(self.predicate(b, schema, depth + 1)?)
            }
            ast::Expr::Not(a, _) => !self.predicate(a, schema, depth + 1)?,
            ast::Expr::Cmp { op, left, right } => {
                let (l, lt) = self.operand(left, schema)?;
                let (r, rt) = self.operand(right, schema)?;
                let l = self.coerce(l, left, rt.as_ref())?;
                let r = self.coerce(r, right, lt.as_ref())?;
                match op {
                    CmpOp::Eq => l.eq(r),
                    CmpOp::NotEq => l.not_eq(r),
                    CmpOp::Lt => l.lt(r),
                    CmpOp::LtEq => l.lt_eq(r),
                    CmpOp::Gt => l.gt(r),
                    CmpOp::GtEq => l.gt_eq(r),
                }
            }
            ast::Expr::In {
                operand,
                list,
                negated,
            } => {
                let (l, lt) = self.operand(operand, schema)?;
                let mut items = vec![];
                for o in list {
                    let (x, _) = self.operand(o, schema)?;
                    items.push(self.coerce(x, o, lt.as_ref())?);
                }
                l.in_list(items, *negated)
            }
            ast::Expr::Like {
                operand,
                pattern,
                negated,
            } => {
                let (l, lt) = self.operand(operand, schema)?;
                if lt.as_ref().is_some_and(|t| t != &DataType::Utf8) {
                    return Err(qerr(
                        "`like` matches text; this column is not text",
                        operand.span(),
                    ));
                }
                let (r, _) = self.operand(pattern, schema)?;
                if *negated {
                    l.not_like(r)
                } else {
                    l.like(r)
                }
            }
            ast::Expr::IsNull { operand, negated } => {
                let (l, _) = self.operand(operand, schema)?;
                if *negated {
                    l.is_not_null()
                } else {
                    l.is_null()
                }
            }
            ast::Expr::Operand(o) => self.condition(o, schema, depth)?,
            ast::Expr::Term(t) => self.env.tree.condition(t)?,
        })
    }

    /// A bare operand as a condition: a boolean column or a named selection.
    fn condition(&self, o: &Operand, schema: &DFSchema, depth: usize) -> Result<Expr> {
        if let Operand::Column(name) = o {
            let key = name.text.to_lowercase();
            let is_column = columns::resolve(name, schema, "columns").is_ok();
            if !is_column {
                if let Some(pred) = self.env.lets.get(&key) {
                    return self.predicate(pred, schema, depth + 1);
                }
            }
        }
        let (e, t) = self.operand(o, schema)?;
        match t {
            Some(DataType::Boolean) | None => Ok(e),
            Some(other) => Err(Error::query(
                QueryError::new(
                    format!("this is a {} value, not a condition", type_word(&other)),
                    o.span(),
                )
                .with_help("compare it, for example `task = 'Disease Diagnosis'`, or use a boolean column (answered, correct)"),
            )),
        }
    }

    /// An operand as an expression, with its type when it is a column.
    fn operand(&self, o: &Operand, schema: &DFSchema) -> Result<(Expr, Option<DataType>)> {
        Ok(match o {
            Operand::Column(name) => {
                let c = match columns::resolve(name, schema, "columns") {
                    Ok(c) => c,
                    Err(mut e) => {
                        if !self.env.lets.is_empty() {
                            let mut lets: Vec<&str> =
                                self.env.lets.keys().map(|s| s.as_str()).collect();
                            lets.sort();
                            let h = e.help.take().unwrap_or_default();
                            e.help = Some(format!("{h}; named selections: {}", lets.join(", ")));
                        }
                        return Err(Error::query(e));
                    }
                };
                let t = schema
                    .field_with_unqualified_name(&c)
                    .map(|f| f.data_type().clone())
                    .ok();
                (ident(c), t)
            }
            Operand::Str(s, _) => (lit(s.clone()), None),
            Operand::Number(n, span) => (number_lit(n, *span)?, None),
            Operand::Bool(b, _) => (lit(*b), None),
            Operand::Null(_) => (lit(ScalarValue::Null), None),
            Operand::Param(name) => {
                let Some(v) = self.env.params.get(&name.text) else {
                    let mut known: Vec<&str> = self.env.params.keys().map(|s| s.as_str()).collect();
                    known.sort();
                    return Err(Error::query(
                        QueryError::new(
                            format!("no value for parameter `${}`", name.text),
                            name.span,
                        )
                        .with_help(format!(
                            "give it with `--param {}=VALUE`{}",
                            name.text,
                            if known.is_empty() {
                                String::new()
                            } else {
                                format!(" (given: {})", known.join(", "))
                            }
                        )),
                    ));
                };
                match number_lit(v, name.span) {
                    Ok(e) => (e, None),
                    Err(_) => (lit(v.clone()), None),
                }
            }
        })
    }

    /// A literal compared with a column of another type: numbers against
    /// text columns compare as the number's text; text against number
    /// columns must parse as a number.
    fn coerce(&self, e: Expr, o: &Operand, other: Option<&DataType>) -> Result<Expr> {
        let Some(t) = other else { return Ok(e) };
        let text = match o {
            Operand::Number(n, _) => Some(n.clone()),
            Operand::Param(p) => self.env.params.get(&p.text).cloned(),
            Operand::Str(s, _) => Some(s.clone()),
            _ => None,
        };
        let Some(text) = text else { return Ok(e) };
        match t {
            DataType::Utf8 => Ok(lit(text)),
            DataType::Int64 | DataType::Float64 => number_lit(&text, o.span()).map_err(|_| {
                Error::query(
                    QueryError::new(format!("`{text}` is not a number"), o.span())
                        .with_help("this column holds numbers"),
                )
            }),
            DataType::Boolean => match text.to_ascii_lowercase().as_str() {
                "true" => Ok(lit(true)),
                "false" => Ok(lit(false)),
                _ => Err(qerr(format!("`{text}` is not true or false"), o.span())),
            },
            _ => Ok(e),
        }
    }
}

fn type_word(t: &DataType) -> &'static str {
    match t {
        DataType::Utf8 => "text",
        DataType::Int64 | DataType::Float64 => "number",
        _ => "non-boolean",
    }
}

fn number_lit(text: &str, span: Span) -> Result<Expr> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(lit(i));
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(lit(f)),
        _ => Err(qerr(format!("`{text}` is not a number"), span)),
    }
}
