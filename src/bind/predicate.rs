//! Conditions (`where`, `having`, `let`): the AST's predicates bound to
//! typed DataFusion expressions over a relation's schema. Column names,
//! named selections, parameters, model names and lexical-tree terms are
//! resolved here; literals are typed against the column they meet.

use super::{columns, functions, Env};
use crate::error::{Error, QueryError, Result};
use crate::names::did_you_mean;
use crate::syntax::ast::{self, ArithOp, CmpOp, Name, Operand, Span};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::{
    binary_expr, case, cast, lit, Expr, ExprSchemable, Operator, Volatility,
};
use datafusion::prelude::ident;

/// The hidden column holding each row's model as an integer (the
/// position in the session's sorted model list); never shown.
pub const MODEL_ID: &str = "__model_id";

/// The hidden column holding each row's item as an integer (its position
/// among the loaded items); never shown.
pub const ITEM_ID: &str = "__item_id";

fn qerr(msg: impl Into<String>, span: Span) -> Error {
    Error::query(QueryError::new(msg, span))
}

/// The model a filter pins every row to: a top-level `model = 'x'` (or
/// `'x' = model`) among its `and`ed conditions.
pub(super) fn pinned_model(filter: &ast::Expr, preds: &Preds, schema: &DFSchema) -> Option<i32> {
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
                let (Some(left), Some(right)) = (left.as_operand(), right.as_operand()) else {
                    continue;
                };
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

/// Predicates: the AST's conditions as DataFusion expressions.
pub(super) struct Preds<'a, 'b> {
    pub env: &'a Env<'b>,
}

impl Preds<'_, '_> {
    pub fn predicate(&self, e: &ast::Expr, schema: &DFSchema, depth: usize) -> Result<Expr> {
        if depth > MAX_DEPTH {
            return Err(too_deep(e.span()));
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
            ast::Expr::Cmp { op, left, right } => {
                if let (Some(lo), Some(ro)) = (left.as_operand(), right.as_operand()) {
                    if matches!(op, CmpOp::Eq | CmpOp::NotEq) {
                        let pinned = match self.model_id(lo, ro, schema) {
                            Some(id) => Some((id, ro)),
                            None => self.model_id(ro, lo, schema).map(|id| (id, lo)),
                        };
                        if let Some((id, value)) = pinned {
                            if id < 0 && self.env.catalog.models_known {
                                return Err(self.unknown_model(value));
                            }
                            let l = ident(MODEL_ID);
                            return Ok(if *op == CmpOp::Eq {
                                l.eq(lit(id))
                            } else {
                                l.not_eq(lit(id))
                            });
                        }
                    }
                }
                let (l, lt) = self.value(left, schema, depth + 1)?;
                let (r, rt) = self.value(right, schema, depth + 1)?;
                let l = self.coerce(l, left, rt.as_ref())?;
                let r = self.coerce(r, right, lt.as_ref())?;
                let l = self.policy_name(l, left, right, schema);
                let r = self.policy_name(r, right, left, schema);
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
                ..
            } => {
                let (l, lt) = self.value(operand, schema, depth + 1)?;
                let mut items = vec![];
                for o in list {
                    let (x, _) = self.value(o, schema, depth + 1)?;
                    let x = self.coerce(x, o, lt.as_ref())?;
                    items.push(self.policy_name(x, o, operand, schema));
                }
                l.in_list(items, *negated)
            }
            ast::Expr::Like {
                operand,
                pattern,
                negated,
            } => {
                let (l, lt) = self.value(operand, schema, depth + 1)?;
                if lt.as_ref().is_some_and(|t| !is_text(t)) {
                    return Err(qerr(
                        "`like` matches text; this is not text",
                        operand.span(),
                    ));
                }
                let (r, _) = self.value(pattern, schema, depth + 1)?;
                if *negated {
                    l.not_like(r)
                } else {
                    l.like(r)
                }
            }
            ast::Expr::IsNull {
                operand, negated, ..
            } => {
                let (l, _) = self.value(operand, schema, depth + 1)?;
                if *negated {
                    l.is_not_null()
                } else {
                    l.is_null()
                }
            }
            ast::Expr::Operand(o) => self.condition(o, schema, depth)?,
            ast::Expr::Term(t) => self.env.catalog.tree.condition(t)?,
            other => {
                let (v, t) = self.value(other, schema, depth + 1)?;
                match t {
                    Some(DataType::Boolean) | Some(DataType::Null) | None => v,
                    Some(t) => {
                        return Err(Error::query(
                            QueryError::new(
                                format!("this is a {} value, not a condition", type_word(&t)),
                                other.span(),
                            )
                            .with_help("compare it, for example `length(prediction) > 200`"),
                        ))
                    }
                }
            }
        })
    }

    /// An expression as a value, with its type where it can be known
    /// (literals have none: they take the type of what they meet).
    pub fn value(
        &self,
        e: &ast::Expr,
        schema: &DFSchema,
        depth: usize,
    ) -> Result<(Expr, Option<DataType>)> {
        if depth > MAX_DEPTH {
            return Err(too_deep(e.span()));
        }
        let span = e.span();
        match e {
            ast::Expr::Operand(ast::Operand::Column(name))
                if columns::resolve(name, schema, "columns").is_err()
                    && self.env.lets.contains_key(&name.text.to_lowercase()) =>
            {
                Ok((self.predicate(e, schema, depth)?, Some(DataType::Boolean)))
            }
            ast::Expr::Operand(o) => self.operand(o, schema),
            ast::Expr::And(..)
            | ast::Expr::Or(..)
            | ast::Expr::Not(..)
            | ast::Expr::Cmp { .. }
            | ast::Expr::In { .. }
            | ast::Expr::Like { .. }
            | ast::Expr::IsNull { .. }
            | ast::Expr::Term(_) => {
                Ok((self.predicate(e, schema, depth)?, Some(DataType::Boolean)))
            }
            ast::Expr::Arith { op, left, right } => {
                let (l, lt) = self.value(left, schema, depth + 1)?;
                let (r, rt) = self.value(right, schema, depth + 1)?;
                let (l, r) = (
                    self.coerce(l, left, rt.as_ref())?,
                    self.coerce(r, right, lt.as_ref())?,
                );
                let e = match op {
                    ArithOp::Add => l + r,
                    ArithOp::Sub => l - r,
                    ArithOp::Mul => l * r,
                    // `/` is always floating-point division.
                    ArithOp::Div => cast(l, DataType::Float64) / cast(r, DataType::Float64),
                    ArithOp::Mod => l % r,
                    ArithOp::Concat => binary_expr(l, Operator::StringConcat, r),
                };
                typed(e, schema, span, || {
                    format!("`{}` cannot combine these values", op.symbol())
                })
            }
            ast::Expr::Neg(v, _) => {
                let (v, _) = self.value(v, schema, depth + 1)?;
                typed(Expr::Negative(Box::new(v)), schema, span, || {
                    "`-` needs a number".to_string()
                })
            }
            ast::Expr::Call { name, args, span } => self.call(name, args, *span, schema, depth),
            ast::Expr::Case {
                operand,
                arms,
                otherwise,
                ..
            } => {
                let operand = match operand {
                    Some(o) => Some(self.value(o, schema, depth + 1)?),
                    None => None,
                };
                let mut whens = vec![];
                let mut thens = vec![];
                for (w, t) in arms {
                    let w = match &operand {
                        Some((_, ot)) => {
                            let (v, _) = self.value(w, schema, depth + 1)?;
                            self.coerce(v, w, ot.as_ref())?
                        }
                        None => self.predicate(w, schema, depth + 1)?,
                    };
                    whens.push(w);
                    thens.push(self.value(t, schema, depth + 1)?.0);
                }
                let otherwise = match otherwise {
                    Some(o) => Some(self.value(o, schema, depth + 1)?.0),
                    None => None,
                };
                let mut pairs = whens.into_iter().zip(thens);
                let mut builder = match operand {
                    Some((o, _)) => case(o),
                    None => {
                        let (w, t) = pairs.next().expect("the grammar gives case an arm");
                        datafusion::logical_expr::when(w, t)
                    }
                };
                for (w, t) in pairs {
                    builder = builder.when(w, t);
                }
                let e = match otherwise {
                    Some(o) => builder.otherwise(o),
                    None => builder.end(),
                }
                .map_err(|x| qerr(df_message(&x), span))?;
                typed(e, schema, span, || {
                    "the branches of `case` give values of different types".to_string()
                })
            }
            ast::Expr::Cast { expr, to, .. } => {
                let (v, _) = self.value(expr, schema, depth + 1)?;
                let t = cast_type(to)?;
                typed(cast(v, t), schema, span, || {
                    format!("cannot cast this to {}", to.text)
                })
            }
        }
    }

    /// `name(args)`: `div`, or one of DataFusion's scalar functions.
    fn call(
        &self,
        name: &Name,
        args: &[ast::Expr],
        span: Span,
        schema: &DFSchema,
        depth: usize,
    ) -> Result<(Expr, Option<DataType>)> {
        let lower = name.text.to_lowercase();
        let udf = match lower.as_str() {
            "div" => None,
            _ => Some(self.function(name, &lower)?),
        };
        let mut values = vec![];
        for a in args {
            values.push(self.value(a, schema, depth + 1)?.0);
        }
        let Some(udf) = udf else {
            if values.len() != 2 {
                return Err(Error::query(
                    QueryError::new(
                        format!("`div` takes 2 arguments, not {}", values.len()),
                        span,
                    )
                    .with_help("div(a, b): a divided by b, rounded toward zero"),
                ));
            }
            let b = values.pop().expect("two");
            let a = values.pop().expect("two");
            let int = |x| cast(x, DataType::Int64);
            let e = case(int(b.clone()).eq(lit(0i64)))
                .when(lit(false), int(a) / int(b))
                .end()
                .map_err(|x| qerr(df_message(&x), span))?;
            return typed(e, schema, span, || "`div` divides numbers".to_string());
        };
        let e = udf.call(values);
        typed(e, schema, span, || {
            format!(
                "wrong arguments for `{lower}`; it takes {}",
                functions::signature(&udf)
            )
        })
    }

    /// The scalar function a call names: not a metric, not volatile.
    fn function(
        &self,
        name: &Name,
        lower: &str,
    ) -> Result<std::sync::Arc<datafusion::logical_expr::ScalarUDF>> {
        let Some(udf) = functions::find(lower) else {
            let metric = crate::metrics::registry::find(lower).is_some();
            let help = if metric {
                format!(
                    "`{lower}` is a metric, computed per group: score it and filter groups with `having`, for example `by model score {lower} having {lower} > 50`"
                )
            } else {
                let near = did_you_mean(lower, functions::names());
                format!(
                    "{}`.help functions` lists the functions",
                    near.map(|n| format!("{n} ")).unwrap_or_default()
                )
            };
            let message = if metric {
                format!("`{lower}` is a metric: it is computed per group, not per row")
            } else {
                format!("unknown function `{}`", name.text)
            };
            return Err(Error::query(
                QueryError::new(message, name.span).with_help(help),
            ));
        };
        if udf.signature().volatility == Volatility::Volatile {
            return Err(Error::query(
                QueryError::new(
                    format!("`{lower}` gives a different value each time it runs"),
                    name.span,
                )
                .with_help("results must be reproducible: volatile functions (random, now, uuid) are not allowed"),
            ));
        }
        Ok(udf)
    }

    /// When `col` is the `model` column and `value` a text (or parameter),
    /// the model's integer id (-1: no loaded model has that name), so that
    /// `model = 'x'` compares integers, not names.
    pub fn model_id(&self, col: &Operand, value: &Operand, schema: &DFSchema) -> Option<i32> {
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
        Some(self.env.catalog.model_id(&text).unwrap_or(-1))
    }

    /// A text compared with the `policy` column names a policy by any of
    /// its names (`'legacy'`): it becomes the canonical name the column
    /// holds (`'v2024'`).
    fn policy_name(&self, e: Expr, value: &ast::Expr, col: &ast::Expr, schema: &DFSchema) -> Expr {
        let (Some(value), Some(Operand::Column(name))) = (value.as_operand(), col.as_operand())
        else {
            return e;
        };
        if columns::resolve(name, schema, "").ok().as_deref() != Some("policy") {
            return e;
        }
        let text = match value {
            Operand::Str(s, _) => Some(s.clone()),
            Operand::Param(p) => self.env.params.get(&p.text).cloned(),
            _ => None,
        };
        match text.and_then(|t| t.parse::<crate::scoring::Policy>().ok()) {
            Some(p) => lit(p.name()),
            None => e,
        }
    }

    /// The error for a model name no loaded model has, with the nearest.
    fn unknown_model(&self, value: &Operand) -> Error {
        let text = match value {
            Operand::Str(s, _) => s.clone(),
            Operand::Param(p) => self.env.params.get(&p.text).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        let models = &self.env.catalog.models;
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
                format!("no such model `{}`", crate::text::neutralize(&text)),
                value.span(),
            )
            .with_help(crate::text::neutralize(&help)),
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
                        let lower = name.text.to_lowercase();
                        if crate::metrics::registry::find(&lower).is_some() {
                            e.help = Some(format!(
                                "`{lower}` is a metric, computed per group: score it and filter groups with `having`, for example `by model score {lower} having {lower} > 50`"
                            ));
                            return Err(Error::query(e));
                        }
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
    fn coerce(&self, e: Expr, o: &ast::Expr, other: Option<&DataType>) -> Result<Expr> {
        let Some(t) = other else { return Ok(e) };
        let Some(o) = o.as_operand() else {
            return Ok(e);
        };
        let text = match o {
            Operand::Number(n, _) => Some(n.clone()),
            Operand::Param(p) => self.env.params.get(&p.text).cloned(),
            Operand::Str(s, _) => Some(s.clone()),
            _ => None,
        };
        let Some(text) = text else { return Ok(e) };
        match t {
            t if is_text(t) => Ok(lit(text)),
            t if t.is_numeric() => number_lit(&text, o.span()).map_err(|_| {
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
        t if is_text(t) => "text",
        t if t.is_numeric() => "number",
        _ => "non-boolean",
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

/// How deep an expression may nest (arithmetic chains are not rebalanced:
/// each operator is a level).
pub const MAX_DEPTH: usize = 256;

fn too_deep(span: Span) -> Error {
    Error::query(
        QueryError::new(
            format!("expression nested too deeply (at most {MAX_DEPTH} levels)"),
            span,
        )
        .with_help("name parts of a condition with `let`, or split the arithmetic"),
    )
}

/// An expression with its type, or the error `what` at `span` when
/// DataFusion cannot type it (wrong argument types, mixed branches).
fn typed(
    e: Expr,
    schema: &DFSchema,
    span: Span,
    what: impl FnOnce() -> String,
) -> Result<(Expr, Option<DataType>)> {
    match e.get_type(schema) {
        Ok(t) => Ok((e, Some(t))),
        Err(x) => Err(Error::query(
            QueryError::new(what(), span).with_help(df_message(&x)),
        )),
    }
}

/// The first line of a DataFusion error, without its kind prefix.
fn df_message(e: &datafusion::error::DataFusionError) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or("").trim();
    let line = line
        .strip_prefix("Error during planning: ")
        .or_else(|| line.strip_prefix("Internal error: "))
        .or_else(|| line.strip_prefix("Execution error: "))
        .unwrap_or(line);
    crate::text::neutralize(line)
}

/// `cast(x as <type>)`: the type names, contextual words.
fn cast_type(to: &Name) -> Result<DataType> {
    Ok(match to.text.to_ascii_lowercase().as_str() {
        "int" | "integer" | "bigint" => DataType::Int64,
        "float" | "double" | "real" => DataType::Float64,
        "text" | "string" | "varchar" => DataType::Utf8,
        "bool" | "boolean" => DataType::Boolean,
        _ => {
            return Err(Error::query(
                QueryError::new(format!("unknown type `{}`", to.text), to.span)
                    .with_help("the types: int, float, text, bool"),
            ))
        }
    })
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
