//! Expressions over metrics in `score`: `acc - random as lift`,
//! `round(100 * hits / n, 1)`, `acc(legacy) - acc(current)`,
//! `ci_high - ci_low`. Each metric an expression names becomes a hidden
//! metric of the group (`__h<k>`); the expression is then bound like any
//! value, over those columns and the `by` keys, and computed after the
//! metrics.

use super::predicate::Preds;
use super::{columns, qerr, resolve_metrics, Metric};
use crate::error::{Error, QueryError, Result};
use crate::metrics::registry::{self, Arg};
use crate::syntax::ast::{self, Name, Operand};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::DFSchema;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// One output of `score`, in the order written.
#[derive(Clone, Debug)]
pub enum ScoreOut {
    /// A metric's columns (its index among the metrics).
    Metric(usize),
    /// An expression over (hidden) metrics and the keys.
    Expr { expr: Expr, name: String },
    /// A metric only `having` uses: kept until `having` has filtered, then
    /// dropped (its columns start with [`HAVING_PREFIX`]).
    Hidden(usize),
}

/// The column prefix of metrics only `having` uses.
pub const HAVING_PREFIX: &str = "__hv";

/// `having` with every metric it names that is not an output column
/// computed as a hidden metric: the rewritten condition and those metrics
/// (none: `having` names output columns only).
#[allow(clippy::too_many_arguments)]
pub fn having_metrics(
    having: &ast::Expr,
    schema: &DFSchema,
    from_items: bool,
    recorded: bool,
    outputs: &[(String, DataType)],
    preds: &Preds,
    aggs: &mut Vec<(String, Expr)>,
) -> Result<(ast::Expr, Vec<Metric>)> {
    let mut hidden = Hidden {
        metrics: vec![],
        schema,
        from_items,
        recorded,
        keys: outputs,
        preds,
        aggs,
        prefix: HAVING_PREFIX,
    };
    let rewritten = hidden.walk(having, 0)?;
    Ok((rewritten, hidden.metrics))
}

/// What binding a `score` clause gives: the metrics to compute (visible,
/// then hidden), and the outputs in order (empty when every item is a
/// plain metric).
pub struct Scored {
    pub metrics: Vec<Metric>,
    pub outputs: Vec<ScoreOut>,
}

/// Whether an item is a metric of the registry in a metric's shape.
fn is_metric(m: &ast::Metric) -> bool {
    m.plain && registry::find(&m.name.text.to_ascii_lowercase()).is_some()
}

/// `name(<expression>)` of an aggregate over an expression (`mean`,
/// `sum`, ...): its definition and argument.
fn agg_call(e: &ast::Expr) -> Option<(&'static registry::MetricDef, &ast::Expr)> {
    let ast::Expr::Call { name, args, .. } = e else {
        return None;
    };
    let def = registry::find(&name.text.to_ascii_lowercase())?;
    (def.arg == Arg::Expr && args.len() == 1).then(|| (def, &args[0]))
}

/// The text inside a call's parentheses, from the item's text.
fn arg_text(item: &ast::Item) -> String {
    let t = item.text.trim();
    let inner = t
        .find('(')
        .map(|i| &t[i + 1..])
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(t);
    inner.trim().to_string()
}

/// Bind a `score` clause. `keys` are the `by` keys' output headers with
/// their types (an expression may name them); aggregates over expressions
/// add their row columns to `aggs`.
#[allow(clippy::too_many_arguments)]
pub fn bind_score(
    items: &[ast::Metric],
    schema: &DFSchema,
    from_items: bool,
    recorded: bool,
    keys: &[(String, DataType)],
    preds: &Preds,
    aggs: &mut Vec<(String, Expr)>,
) -> Result<Scored> {
    let mut hidden = Hidden {
        metrics: vec![],
        schema,
        from_items,
        recorded,
        keys,
        preds,
        aggs,
        prefix: "__h",
    };
    let mut metrics: Vec<Metric> = vec![];
    // Outputs in order: a metric's index, or a rewritten expression.
    let mut outputs: Vec<std::result::Result<usize, (ast::Expr, String)>> = vec![];
    let mut names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
    let mut claim = |new: &[String], span| -> Result<()> {
        for n in new {
            if names.iter().any(|x| x.eq_ignore_ascii_case(n)) {
                return Err(Error::query(
                    QueryError::new(format!("two output columns are named `{n}`"), span)
                        .with_help("rename one with `as`"),
                ));
            }
            names.push(n.clone());
        }
        Ok(())
    };
    for m in items {
        let agg = m.item.as_ref().and_then(|i| Some((agg_call(&i.expr)?, i)));
        if let Some(((def, arg), item)) = agg {
            let name = match &m.alias {
                Some(a) => a.text.clone(),
                None => format!("{}_{}", def.name, arg_text(item)),
            };
            let metric = hidden.agg_metric(def, arg, name, m.span)?;
            claim(&metric.names, m.span)?;
            metrics.push(metric);
            outputs.push(Ok(metrics.len() - 1));
        } else if is_metric(m) {
            let resolved = resolve_metrics(std::slice::from_ref(m), schema, from_items, recorded)?;
            for r in resolved {
                claim(&r.names, m.span)?;
                metrics.push(r);
                outputs.push(Ok(metrics.len() - 1));
            }
        } else if let Some(item) = &m.item {
            let rewritten = hidden.walk(&item.expr, 0)?;
            let name = item.name().text;
            claim(std::slice::from_ref(&name), m.span)?;
            outputs.push(Err((rewritten, name)));
        }
    }
    if outputs.iter().all(|o| o.is_ok()) {
        metrics.extend(hidden.metrics);
        return Ok(Scored {
            metrics,
            outputs: vec![],
        });
    }
    // Bind each rewritten expression over the hidden columns and the keys.
    let mut fields: Vec<(Option<datafusion::common::TableReference>, Arc<Field>)> = keys
        .iter()
        .map(|(k, t)| (None, Arc::new(Field::new(k, t.clone(), true))))
        .collect();
    for m in &hidden.metrics {
        for n in &m.names {
            fields.push((None, Arc::new(Field::new(n, DataType::Float64, true))));
        }
    }
    let over = DFSchema::new_with_metadata(fields, Default::default())
        .map_err(|e| Error::engine("binding the query", e))?;
    let mut bound = vec![];
    for o in outputs {
        bound.push(match o {
            Ok(i) => ScoreOut::Metric(i),
            Err((e, name)) => ScoreOut::Expr {
                expr: preds.value(&e, &over, 0)?.0,
                name,
            },
        });
    }
    metrics.extend(hidden.metrics);
    Ok(Scored {
        metrics,
        outputs: bound,
    })
}

/// The metrics an expression names, computed as hidden columns.
struct Hidden<'a, 'p, 'e> {
    metrics: Vec<Metric>,
    schema: &'a DFSchema,
    from_items: bool,
    recorded: bool,
    keys: &'a [(String, DataType)],
    preds: &'a Preds<'p, 'e>,
    /// The row columns of aggregates over expressions.
    aggs: &'a mut Vec<(String, Expr)>,
    /// The hidden columns' prefix.
    prefix: &'static str,
}

impl Hidden<'_, '_, '_> {
    /// An aggregate over an expression: the expression becomes a column of
    /// the rows (`__agg<slot>`), the metric aggregates it.
    fn agg_metric(
        &mut self,
        def: &'static registry::MetricDef,
        arg: &ast::Expr,
        name: String,
        span: crate::syntax::ast::Span,
    ) -> Result<Metric> {
        let (v, t) = self.preds.value(arg, self.schema, 0)?;
        let numeric_only = !matches!(def.name, "min" | "max");
        let v = match t {
            Some(DataType::Boolean) => datafusion::logical_expr::cast(v, DataType::Int64),
            Some(t) if numeric_only && !t.is_numeric() && t != DataType::Null => {
                return Err(Error::query(
                    QueryError::new(
                        format!("`{}` needs numbers; this is text", def.name),
                        arg.span(),
                    )
                    .with_help("for text, `length(...)` counts characters"),
                ))
            }
            _ => v,
        };
        let slot = self.aggs.len() as u16;
        let column = registry::agg_column(slot);
        self.aggs.push((column.clone(), v));
        Ok(Metric {
            def,
            arg: Some(column),
            pair: None,
            names: vec![name],
            span,
        })
    }

    /// A hidden metric for `m`, and the column of its output `output`.
    fn add(&mut self, m: ast::Metric, output: Option<usize>) -> Result<String> {
        let span = m.span;
        let mut resolved = resolve_metrics(&[m], self.schema, self.from_items, self.recorded)?;
        let mut metric = resolved.pop().expect("one metric");
        let k = self.metrics.len();
        let n = metric.names.len();
        let which = match (output, n) {
            (Some(i), _) => i,
            (None, 1) => 0,
            (None, _) => {
                return Err(Error::query(
                    QueryError::new(
                        format!(
                            "`{}` gives {n} columns: name one ({})",
                            metric.def.name,
                            metric.names.join(", ")
                        ),
                        span,
                    )
                    .with_help("for example `ci_high - ci_low`"),
                ))
            }
        };
        metric.names = (0..n).map(|i| format!("{}{k}_{i}", self.prefix)).collect();
        let col = metric.names[which].clone();
        self.metrics.push(metric);
        Ok(col)
    }

    /// `e` with every metric it names replaced by its hidden column.
    fn walk(&mut self, e: &ast::Expr, depth: usize) -> Result<ast::Expr> {
        if depth > super::predicate::MAX_DEPTH {
            return Err(qerr("expression nested too deeply", e.span()));
        }
        let d = depth + 1;
        let column = |text: String, span| ast::Expr::Operand(Operand::Column(Name { text, span }));
        let boxed = |x: &ast::Expr, this: &mut Self| -> Result<Box<ast::Expr>> {
            Ok(Box::new(this.walk(x, d)?))
        };
        Ok(match e {
            // In `having`, an output column is taken as it is (the same
            // value as its metric, not computed twice).
            ast::Expr::Operand(Operand::Column(n))
                if self.prefix == HAVING_PREFIX
                    && self
                        .keys
                        .iter()
                        .any(|(k, _)| k.eq_ignore_ascii_case(&n.text)) =>
            {
                e.clone()
            }
            ast::Expr::Operand(Operand::Column(n)) => {
                let lower = n.text.to_ascii_lowercase();
                if registry::find(&lower).is_some() {
                    let m = bare_metric(n.clone(), None, None);
                    column(self.add(m, None)?, n.span)
                } else if let Some((def, i)) = output_of(&lower) {
                    let m = bare_metric(
                        Name {
                            text: def.to_string(),
                            span: n.span,
                        },
                        None,
                        None,
                    );
                    column(self.add(m, Some(i))?, n.span)
                } else if self
                    .keys
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case(&n.text))
                {
                    e.clone()
                } else if columns::resolve(n, self.schema, "").is_ok() {
                    return Err(Error::query(
                        QueryError::new(
                            format!("`{}` is a column of each row, not of the group", n.text),
                            n.span,
                        )
                        .with_help(
                            "make it a key (`by`), filter on it (`where`), or score a metric of it",
                        ),
                    ));
                } else if self.prefix == HAVING_PREFIX {
                    // Left for the output's columns to resolve (or report).
                    e.clone()
                } else {
                    let known: Vec<&str> = registry::names().collect();
                    let near = crate::names::did_you_mean(&n.text, known.iter().copied())
                        .map(|s| format!("{s} "))
                        .unwrap_or_default();
                    return Err(Error::query(
                        QueryError::new(format!("unknown metric `{}`", n.text), n.span)
                            .with_help(format!("{near}metrics: {}", known.join(", "))),
                    ));
                }
            }
            ast::Expr::Call { span, .. } if agg_call(e).is_some() => {
                let (def, arg) = agg_call(e).expect("checked");
                let name = format!("{}{}_0", self.prefix, self.metrics.len());
                let metric = self.agg_metric(def, arg, name.clone(), *span)?;
                self.metrics.push(metric);
                column(name, *span)
            }
            ast::Expr::Call { name, args, span }
                if registry::find(&name.text.to_ascii_lowercase()).is_some() =>
            {
                let arg = |i: usize| -> Result<Option<Name>> {
                    match args.get(i) {
                        None => Ok(None),
                        Some(ast::Expr::Operand(Operand::Column(n))) => Ok(Some(n.clone())),
                        Some(other) => Err(qerr(
                            format!("`{}` takes a name here", name.text),
                            other.span(),
                        )),
                    }
                };
                if args.len() > 2 {
                    return Err(qerr(
                        format!("`{}` takes at most two arguments", name.text),
                        *span,
                    ));
                }
                let mut m = bare_metric(name.clone(), arg(0)?, arg(1)?);
                m.span = *span;
                column(self.add(m, None)?, *span)
            }
            ast::Expr::Call { name, args, span } => ast::Expr::Call {
                name: name.clone(),
                args: args
                    .iter()
                    .map(|a| self.walk(a, d))
                    .collect::<Result<_>>()?,
                span: *span,
            },
            ast::Expr::Term(t) => {
                return Err(Error::query(
                    QueryError::new("a term selects rows, not groups", t.span)
                        .with_help("use it in `where`, or as a key: `by #DD as dd`"),
                ))
            }
            ast::Expr::Operand(_) => e.clone(),
            ast::Expr::And(a, b) => ast::Expr::And(boxed(a, self)?, boxed(b, self)?),
            ast::Expr::Or(a, b) => ast::Expr::Or(boxed(a, self)?, boxed(b, self)?),
            ast::Expr::Not(a, s) => ast::Expr::Not(boxed(a, self)?, *s),
            ast::Expr::Neg(a, s) => ast::Expr::Neg(boxed(a, self)?, *s),
            ast::Expr::Cmp { op, left, right } => ast::Expr::Cmp {
                op: *op,
                left: boxed(left, self)?,
                right: boxed(right, self)?,
            },
            ast::Expr::Arith { op, left, right } => ast::Expr::Arith {
                op: *op,
                left: boxed(left, self)?,
                right: boxed(right, self)?,
            },
            ast::Expr::In {
                operand,
                list,
                negated,
                span,
            } => ast::Expr::In {
                operand: boxed(operand, self)?,
                list: list
                    .iter()
                    .map(|x| self.walk(x, d))
                    .collect::<Result<_>>()?,
                negated: *negated,
                span: *span,
            },
            ast::Expr::Like {
                operand,
                pattern,
                negated,
            } => ast::Expr::Like {
                operand: boxed(operand, self)?,
                pattern: boxed(pattern, self)?,
                negated: *negated,
            },
            ast::Expr::IsNull {
                operand,
                negated,
                span,
            } => ast::Expr::IsNull {
                operand: boxed(operand, self)?,
                negated: *negated,
                span: *span,
            },
            ast::Expr::Case {
                operand,
                arms,
                otherwise,
                span,
            } => ast::Expr::Case {
                operand: match operand {
                    Some(o) => Some(boxed(o, self)?),
                    None => None,
                },
                arms: arms
                    .iter()
                    .map(|(w, t)| Ok((self.walk(w, d)?, self.walk(t, d)?)))
                    .collect::<Result<_>>()?,
                otherwise: match otherwise {
                    Some(o) => Some(boxed(o, self)?),
                    None => None,
                },
                span: *span,
            },
            ast::Expr::Cast { expr, to, span } => ast::Expr::Cast {
                expr: boxed(expr, self)?,
                to: to.clone(),
                span: *span,
            },
        })
    }
}

/// A metric written by name (and arguments), as a `score` item.
fn bare_metric(name: Name, arg: Option<Name>, arg2: Option<Name>) -> ast::Metric {
    let span = name.span;
    ast::Metric {
        name,
        arg,
        arg2,
        alias: None,
        span,
        item: None,
        plain: true,
    }
}

/// The metric (without argument) one of whose output columns is `name`
/// (`ci_low` of `ci`), with the output's position.
fn output_of(name: &str) -> Option<(&'static str, usize)> {
    registry::METRICS
        .iter()
        .filter(|d| d.arg == Arg::None && d.outputs.len() > 1)
        .find_map(|d| {
            d.outputs
                .iter()
                .position(|o| *o == name)
                .map(|i| (d.name, i))
        })
}
