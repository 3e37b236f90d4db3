//! AST -> DataFusion logical plans, through the DataFrame API (never SQL
//! text). This is the one place that knows both the language and DataFusion.

pub mod columns;
pub mod compare;
pub mod score;

use crate::error::{Error, QueryError, Result};
use crate::scoring::Policy;
use crate::syntax::ast::{self, CmpOp, Operand, Output, Query, Span};
use crate::tree::Tree;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::{lit, Expr, ExprFunctionExt, SortExpr};
use datafusion::prelude::{ident, SessionContext};
use std::collections::HashMap;

pub use crate::style::Style;

/// What the planner needs from the session.
pub struct Env<'a> {
    pub policy: Policy,
    /// The policies that can be evaluated (`recorded` only with a `hit` column).
    pub policies: &'a [Policy],
    pub lets: &'a HashMap<String, ast::Expr>,
    pub params: &'a HashMap<String, String>,
    pub tree: &'a Tree,
    /// The loaded models, in order.
    pub models: &'a [String],
    /// The models with VLMEvalKit's recorded verdicts (a `hit` column).
    pub recorded: &'a [String],
    /// Whether a model name no loaded model has is an error (not when
    /// checking a query file without its data).
    pub models_known: bool,
}

impl Env<'_> {
    /// The ids of the models without recorded verdicts: under `recorded`
    /// their correctness is null, and accuracy leaves them out.
    fn unrecorded_ids(&self) -> Vec<i32> {
        self.models
            .iter()
            .enumerate()
            .filter(|(_, m)| !self.recorded.contains(m))
            .map(|(i, _)| i as i32)
            .collect()
    }
}

/// A planned query: the DataFrame to execute and how to print its columns.
pub struct Planned {
    pub df: DataFrame,
    pub styles: HashMap<String, Style>,
}

/// What `score` needs from the session: the model names, and whether some
/// rows may lack a verdict (`recorded` with models that have none).
fn ctx_of<'a>(env: &'a Env<'a>, by_policy: bool) -> score::Context<'a> {
    score::Context {
        models: env.models,
        partial_verdicts: (env.policy == Policy::Recorded
            || (by_policy && env.policies.contains(&Policy::Recorded)))
            && env.models.iter().any(|m| !env.recorded.contains(m)),
    }
}

fn engine(e: impl std::fmt::Display) -> Error {
    Error::engine("planning the query", e)
}

fn qerr(msg: impl Into<String>, span: Span) -> Error {
    Error::query(QueryError::new(msg, span))
}

/// The hidden column holding each row's model as an integer (the
/// position in the session's sorted model list); never shown.
pub const MODEL_ID: &str = "__model_id";

/// The hidden column holding each row's item as an integer (its position
/// among the loaded items); never shown.
pub const ITEM_ID: &str = "__item_id";

/// The table of one model's scored rows (by its id).
pub fn model_table(id: i32) -> String {
    format!("scored_model_{id}")
}

/// The model a filter pins every row to: a top-level `model = 'x'` (or
/// `'x' = model`) among its `and`ed conditions.
fn pinned_model(filter: &ast::Expr, preds: &Preds, schema: &DFSchema) -> Option<i32> {
    let mut stack = vec![filter];
    while let Some(e) = stack.pop() {
        match e {
            ast::Expr::And(a, b) => {
                stack.push(a);
                stack.push(b);
            }
            ast::Expr::Cmp {
                op: CmpOp::Eq,
                left,
                right,
            } => {
                if let Some(id) = preds
                    .model_id(left, right, schema)
                    .or_else(|| preds.model_id(right, left, schema))
                {
                    return (id >= 0).then_some(id);
                }
            }
            _ => {}
        }
    }
    None
}

/// The `results` relation under one policy.
fn results_view(scored: DataFrame, policy: Policy, with_policy_col: bool) -> Result<DataFrame> {
    let mut select: Vec<Expr> = vec![];
    // `thinking` is there only when a prediction file had the column.
    let has_thinking = scored
        .schema()
        .fields()
        .iter()
        .any(|f| f.name() == "thinking");
    for c in columns::result_columns() {
        if *c == "thinking" && !has_thinking {
            continue;
        }
        // `choice`, `rule`, `correct`: the policy's columns.
        let e = policy.column(c).unwrap_or_else(|| ident(*c));
        select.push(e.alias(*c));
    }
    if with_policy_col {
        select.push(lit(policy.name()).alias("policy"));
    }
    select.push(ident("model_id").alias(MODEL_ID));
    select.push(ident("item_id").alias(ITEM_ID));
    scored.select(select).map_err(engine)
}

pub async fn plan(ctx: &SessionContext, q: &Query, env: &Env<'_>) -> Result<Planned> {
    let relation = match &q.from {
        None => "results",
        Some(n) if n.text.eq_ignore_ascii_case("results") => "results",
        Some(n) if n.text.eq_ignore_ascii_case("items") => "items",
        Some(n) if n.text.eq_ignore_ascii_case("coverage") => "coverage",
        Some(n) => {
            return Err(Error::query(
                QueryError::new(format!("unknown relation `{}`", n.text), n.span)
                    .with_help("the relations are `results`, `items` and `coverage`"),
            ))
        }
    };
    let from_items = relation == "items";
    if relation == "coverage" {
        if let Output::Score(_) | Output::Compare { .. } = &q.output {
            return Err(Error::query(
                QueryError::new(
                    "`coverage` has one row per model: it is shown, not scored",
                    q.span,
                )
                .with_help(
                    "for example `from coverage where missing > 0 show model, read, missing`",
                ),
            ));
        }
        if let Some(k) = q.by.first() {
            return Err(qerr(
                "`by` groups rows for `score`; `coverage` is shown as it is",
                k.span,
            ));
        }
    }
    let by_policy = !from_items && q.by.iter().any(|k| k.text.eq_ignore_ascii_case("policy"));
    let mut df = if relation != "results" {
        ctx.table(relation).await.map_err(engine)?
    } else {
        let mut scored = ctx.table("scored").await.map_err(engine)?;
        if let Some(f) = &q.filter {
            let view = results_view(scored.clone(), env.policy, true)?;
            if let Some(id) = pinned_model(f, &Preds { env }, view.schema()) {
                if let Ok(t) = ctx.table(model_table(id).as_str()).await {
                    scored = t;
                }
            }
        }
        if by_policy {
            let mut out: Option<DataFrame> = None;
            let unrecorded = env.unrecorded_ids();
            for p in env.policies {
                let mut v = results_view(scored.clone(), *p, true)?;
                if *p == Policy::Recorded && !unrecorded.is_empty() {
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
        Output::Default => Output::Score(score::default_metrics(q.span)),
        o => o.clone(),
    };
    let mut keys: Vec<String> = vec![];
    for k in &q.by {
        let c = columns::resolve(k, df.schema(), "columns")?;
        if keys.contains(&c) {
            return Err(qerr(format!("`{c}` is already a key"), k.span));
        }
        keys.push(c);
    }
    // The order rows come in when no `sort` is given.
    let mut default_order: Vec<String> = keys.clone();
    let mut pivoted = false;
    let mut presorted = false;
    match &output {
        Output::Score(metrics) => {
            let resolved = score::resolve_metrics(metrics, df.schema(), from_items)?;
            let plain_names: Vec<Vec<String>> = resolved.iter().map(|m| m.names.clone()).collect();
            match &q.pivot {
                None => {
                    let scopes = vec![score::Scope {
                        id: String::new(),
                        cond: None,
                        pivot_key: None,
                        names: plain_names,
                    }];
                    df = score::score(
                        df,
                        &keys,
                        &resolved,
                        &scopes,
                        &ctx_of(env, by_policy),
                        &mut styles,
                    )?;
                }
                Some(pv) => {
                    let pk = columns::resolve(&pv.key, df.schema(), "columns")?;
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
                    let rest: Vec<String> = keys.iter().filter(|k| **k != pk).cloned().collect();
                    let values = pivot_values(&df, &pk).await?;
                    let single = resolved.iter().map(|m| m.names.len()).sum::<usize>() == 1;
                    let header = |label: &str, metric: &str| {
                        if single {
                            label.to_string()
                        } else {
                            format!("{label}_{metric}")
                        }
                    };
                    let mut scopes = vec![];
                    if pv.with_overall {
                        scopes.push(score::Scope {
                            id: "_all".into(),
                            cond: None,
                            pivot_key: None,
                            names: plain_names
                                .iter()
                                .map(|ns| ns.iter().map(|n| header("Overall", n)).collect())
                                .collect(),
                        });
                    }
                    let mut seen = std::collections::HashSet::new();
                    for (i, (v, label)) in values.iter().enumerate() {
                        let label = if pv.abbreviated {
                            crate::tree::abbreviation(&pk, label)
                                .map(str::to_string)
                                .unwrap_or_else(|| label.clone())
                        } else {
                            label.clone()
                        };
                        if !seen.insert(label.to_lowercase()) {
                            return Err(qerr(
                                format!("two pivot columns would be named `{label}`"),
                                pv.key.span,
                            ));
                        }
                        scopes.push(score::Scope {
                            id: format!("_v{i}"),
                            cond: Some(score::value_condition(&pk, v)),
                            pivot_key: Some(pk.clone()),
                            names: plain_names
                                .iter()
                                .map(|ns| ns.iter().map(|n| header(&label, n)).collect())
                                .collect(),
                        });
                    }
                    df = score::score(
                        df,
                        &rest,
                        &resolved,
                        &scopes,
                        &ctx_of(env, by_policy),
                        &mut styles,
                    )?;
                    default_order = rest;
                    pivoted = true;
                }
            }
        }
        Output::Show { all, columns } => {
            if !q.by.is_empty() {
                return Err(Error::query(
                    QueryError::new(
                        "`by` groups rows for `score` and `compare`; `show` lists case rows",
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
                    .filter(|n| n != MODEL_ID && n != ITEM_ID)
                    .collect();
            } else {
                for c in columns {
                    names.push(columns::resolve(c, df.schema(), "columns")?);
                }
            }
            // Case rows come in a stable order: by model, then item index.
            let base: Vec<String> = ["model", "index"]
                .iter()
                .filter(|k| df.schema().field_with_unqualified_name(k).is_ok())
                .map(|k| k.to_string())
                .collect();
            // Sorted before the projection, so that hidden columns break ties.
            let mut pre: Vec<SortExpr> = vec![];
            for s in &q.sort {
                let c = columns::resolve(&s.column, df.schema(), "columns")?;
                pre.push(ident(c).sort(!s.descending, false));
            }
            for k in &base {
                if !q.sort.iter().any(|s| s.column.text.eq_ignore_ascii_case(k)) {
                    pre.push(ident(k.as_str()).sort(true, false));
                }
            }
            if !pre.is_empty() {
                df = df.sort(pre).map_err(engine)?;
            }
            presorted = true;
            default_order = base.into_iter().filter(|b| names.contains(b)).collect();
            df = df
                .select(names.iter().map(|n| ident(n.as_str())).collect::<Vec<_>>())
                .map_err(engine)?;
        }
        Output::Compare { a, b, span } => {
            if from_items {
                return Err(qerr("`compare` needs predictions: query `results`", *span));
            }
            df = compare::compare(ctx, df, &keys, a, b, *span, env, &mut styles).await?;
            default_order.push("model_a".into());
        }
        Output::Default => unreachable!("replaced above"),
    }
    if q.pivot.is_some() && !pivoted {
        let span = q.pivot.as_ref().map(|p| p.key.span).unwrap_or(q.span);
        return Err(qerr(
            "`pivot` reshapes `score` results; this query has no `score`",
            span,
        ));
    }

    if let Some(h) = &q.having {
        let e = p.predicate(h, df.schema(), 0)?;
        df = df.filter(e).map_err(engine)?;
    }
    let mut order: Vec<SortExpr> = vec![];
    for s in &q.sort {
        if presorted && columns::resolve(&s.column, df.schema(), "").is_err() {
            continue; // a hidden column `show` was sorted by already
        }
        let c = columns::resolve(&s.column, df.schema(), "output columns")?;
        order.push(ident(c).sort(!s.descending, false));
    }
    // Ties are broken by the default order, so that results are stable.
    let named: Vec<String> = q
        .sort
        .iter()
        .map(|s| s.column.text.to_lowercase())
        .collect();
    for k in &default_order {
        if !named.contains(&k.to_lowercase()) {
            order.push(ident(k.as_str()).sort(true, false));
        }
    }
    match &q.limit {
        Some(l) if l.per.is_some() => {
            let per = l.per.as_ref().expect("per");
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
                .filter(ident("__rn").lt_eq(lit(l.n)))
                .map_err(engine)?
                .select(names)
                .map_err(engine)?;
            let mut final_order = vec![ident(pc.as_str()).sort(true, false)];
            final_order.extend(order);
            df = df.sort(final_order).map_err(engine)?;
        }
        limit => {
            if !order.is_empty() && !presorted {
                df = df.sort(order).map_err(engine)?;
            }
            if let Some(l) = limit {
                df = df.limit(0, Some(l.n as usize)).map_err(engine)?;
            }
        }
    }
    Ok(Planned { df, styles })
}

/// The values of a pivot key in the filtered rows, in column order: the
/// paper's order for tasks and departments, else ascending, null last
/// (named `None`, as VLMEvalKit names the items without a department).
async fn pivot_values(df: &DataFrame, key: &str) -> Result<Vec<(ScalarValue, String)>> {
    let batches = df
        .clone()
        .aggregate(vec![ident(key)], vec![])
        .map_err(engine)?
        .collect()
        .await
        .map_err(|e| Error::engine("finding the pivot columns", e))?;
    let mut values: Vec<(ScalarValue, String)> = vec![];
    for b in &batches {
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
            ast::Expr::And(..) | ast::Expr::Or(..) => {
                // A chain of one operator is flattened and rebuilt balanced,
                // so that a long `or` list does not make a deep tree.
                let is_and = matches!(e, ast::Expr::And(..));
                let mut parts = vec![];
                let mut stack = vec![e];
                while let Some(x) = stack.pop() {
                    match (x, is_and) {
                        (ast::Expr::And(a, b), true) | (ast::Expr::Or(a, b), false) => {
                            stack.push(b);
                            stack.push(a);
                        }
                        (other, _) => parts.push(self.predicate(other, schema, depth + 1)?),
                    }
                }
                balanced(parts, is_and)
            }
            ast::Expr::Not(a, _) => !self.predicate(a, schema, depth + 1)?,
            ast::Expr::Cmp { op, left, right }
                if matches!(op, CmpOp::Eq | CmpOp::NotEq)
                    && (self.model_id(left, right, schema).is_some()
                        || self.model_id(right, left, schema).is_some()) =>
            {
                let (id, value) = match self.model_id(left, right, schema) {
                    Some(id) => (id, right),
                    None => (self.model_id(right, left, schema).expect("checked"), left),
                };
                if id < 0 && self.env.models_known {
                    return Err(self.unknown_model(value));
                }
                let l = ident(MODEL_ID);
                if *op == CmpOp::Eq {
                    l.eq(lit(id))
                } else {
                    l.not_eq(lit(id))
                }
            }
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
                if lt
                    .as_ref()
                    .is_some_and(|t| !matches!(t, DataType::Utf8 | DataType::Utf8View))
                {
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

    /// When `col` is the `model` column and `value` a text (or parameter),
    /// the model's integer id (-1: no loaded model has that name), so that
    /// `model = 'x'` compares integers, not names.
    fn model_id(&self, col: &Operand, value: &Operand, schema: &DFSchema) -> Option<i32> {
        let Operand::Column(name) = col else {
            return None;
        };
        if !schema.has_column_with_unqualified_name(MODEL_ID)
            || columns::resolve(name, schema, "columns").ok()? != "model"
        {
            return None;
        }
        let text = match value {
            Operand::Str(s, _) => s.clone(),
            Operand::Param(p) => self.env.params.get(&p.text)?.clone(),
            _ => return None,
        };
        Some(
            self.env
                .models
                .iter()
                .position(|m| *m == text)
                .map_or(-1, |i| i as i32),
        )
    }

    /// The error for a model name no loaded model has, with the nearest.
    fn unknown_model(&self, value: &Operand) -> Error {
        let text = match value {
            Operand::Str(s, _) => s.clone(),
            Operand::Param(p) => self.env.params.get(&p.text).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        let models = self.env.models;
        let mut help = crate::names::did_you_mean(&text, models.iter().map(String::as_str))
            .map(|s| format!("{s} "))
            .unwrap_or_default();
        let shown: Vec<&str> = models.iter().take(8).map(String::as_str).collect();
        help.push_str(&format!(
            "the models: {}{}",
            shown.join(", "),
            if models.len() > shown.len() {
                format!(
                    " and {} more (.models lists them)",
                    models.len() - shown.len()
                )
            } else {
                String::new()
            }
        ));
        Error::query(
            QueryError::new(
                format!("no such model `{}`", crate::render::neutralize(&text)),
                value.span(),
            )
            .with_help(crate::render::neutralize(&help)),
        )
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
            DataType::Utf8 | DataType::Utf8View => Ok(lit(text)),
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

/// Join conditions with `and` (or `or`) as a balanced tree.
fn balanced(mut parts: Vec<Expr>, and: bool) -> Expr {
    while parts.len() > 1 {
        let mut next = Vec::with_capacity(parts.len().div_ceil(2));
        let mut it = parts.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) if and => a.and(b),
                Some(b) => a.or(b),
                None => a,
            });
        }
        parts = next;
    }
    parts.pop().unwrap_or(lit(true))
}

fn type_word(t: &DataType) -> &'static str {
    match t {
        DataType::Utf8 | DataType::Utf8View => "text",
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
