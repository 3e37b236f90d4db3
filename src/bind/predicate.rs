//! Conditions (`where`, `having`, `let`): the AST's predicates bound to
//! typed DataFusion expressions over a relation's schema. Column names,
//! named selections, parameters, model names and lexical-tree terms are
//! resolved here; literals are typed against the column they meet.

use super::{columns, Env};
use crate::error::{Error, QueryError, Result};
use crate::syntax::ast::{self, CmpOp, Operand, Span};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::{lit, Expr};
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
                if id < 0 && self.env.catalog.models_known {
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
            } => {
                let (l, lt) = self.operand(operand, schema)?;
                let mut items = vec![];
                for o in list {
                    let (x, _) = self.operand(o, schema)?;
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
            ast::Expr::Term(t) => self.env.catalog.tree.condition(t)?,
        })
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
    fn policy_name(&self, e: Expr, value: &Operand, col: &Operand, schema: &DFSchema) -> Expr {
        let Operand::Column(name) = col else {
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
