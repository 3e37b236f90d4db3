//! pest -> AST. Each statement is parsed on its own; spans are absolute
//! byte offsets into the whole source text.

use super::ast::*;
use super::split::split_statements;
use crate::error::QueryError;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser;
use std::sync::LazyLock;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/medql.pest"]
struct MedqlParser;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::cmp_op, Assoc::Left)
            | Op::postfix(Rule::in_tail)
            | Op::postfix(Rule::like_tail)
            | Op::postfix(Rule::null_tail))
        .op(Op::infix(Rule::op_concat, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left)
            | Op::infix(Rule::op_div, Assoc::Left)
            | Op::infix(Rule::op_mod, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
});

/// The longest statement text accepted, and the deepest nesting of
/// parentheses and `not`: checked before parsing so that no input can
/// exhaust the stack.
pub const MAX_STATEMENT_BYTES: usize = 1 << 20;
pub const MAX_NESTING: usize = 64;
/// The most operators (`and`, `or`, comparisons, arithmetic) one
/// statement may hold.
pub const MAX_CONDITIONS: usize = 4096;

/// A parsed statement with its span in the source.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    pub statement: Statement,
    pub span: Span,
}

/// Parse every statement of `source`. Errors of one statement do not stop the
/// others from being parsed: the result holds one entry per statement.
pub fn parse_source(source: &str) -> Vec<Result<Parsed, QueryError>> {
    split_statements(source)
        .into_iter()
        .map(|(start, end)| parse_statement(source, start, end))
        .collect()
}

/// Parse one statement, `source[start..end]`.
pub fn parse_statement(source: &str, start: usize, end: usize) -> Result<Parsed, QueryError> {
    let text = &source[start..end];
    check_limits(text, start)?;
    let mut pairs =
        MedqlParser::parse(Rule::statement, text).map_err(|e| syntax_error(e, text, start))?;
    let stmt = pairs.next().expect("statement rule always yields one pair");
    let b = Builder { offset: start };
    let statement = b.statement(stmt)?;
    Ok(Parsed {
        statement,
        span: Span::new(start, end),
    })
}

fn check_limits(text: &str, offset: usize) -> Result<(), QueryError> {
    if text.len() > MAX_STATEMENT_BYTES {
        return Err(QueryError::new(
            format!(
                "statement too long: {} bytes (at most {MAX_STATEMENT_BYTES})",
                text.len()
            ),
            Span::new(offset, offset + 1),
        ));
    }
    // Tokens as the grammar sees them: parentheses and words inside strings,
    // names and comments do not count.
    let mut depth = 0usize;
    let mut ops = 0usize;
    let mut run = 0usize;
    for t in super::lex::significant(text) {
        match t.kind {
            super::lex::Kind::Punct('(') => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(QueryError::new(
                        format!("parentheses nested too deeply (at most {MAX_NESTING} levels)"),
                        Span::new(offset + t.start, offset + t.end),
                    )
                    .with_help("name parts of the condition with `let` to flatten it"));
                }
            }
            super::lex::Kind::Punct(')') => depth = depth.saturating_sub(1),
            _ => {}
        }
        // Every binary operator counts (a `-` may be unary: counted too).
        if t.is_keyword(text, "and") || t.is_keyword(text, "or") || t.kind == super::lex::Kind::Op {
            ops += 1;
        }
        // A long run of prefix `not` or `-` nests too.
        if t.is_keyword(text, "not") || t.text(text) == "-" {
            run += 1;
            if run > MAX_NESTING {
                return Err(QueryError::new(
                    format!(
                        "`{}` repeated too many times (at most {MAX_NESTING})",
                        t.text(text)
                    ),
                    Span::new(offset + t.start, offset + t.end),
                ));
            }
        } else {
            run = 0;
        }
    }
    if ops > MAX_CONDITIONS {
        return Err(QueryError::new(
            format!("{ops} operators in one statement (at most {MAX_CONDITIONS})"),
            Span::new(offset, offset + text.len().min(1)),
        )
        .with_help(
            "name groups of conditions with `let`, or use `in (...)` for long lists of values",
        ));
    }
    Ok(())
}

fn rule_name(r: &Rule) -> Option<&'static str> {
    Some(match r {
        Rule::EOI => "end of statement",
        Rule::query => {
            "a clause (from, where, by, score, show, compare, having, pivot, sort, limit)"
        }
        Rule::from_clause | Rule::kw_from => "`from`",
        Rule::where_clause | Rule::kw_where => "`where`",
        Rule::by_clause | Rule::kw_by => "`by`",
        Rule::score_clause | Rule::kw_score => "`score`",
        Rule::show_clause | Rule::kw_show => "`show`",
        Rule::compare_clause | Rule::kw_compare => "`compare`",
        Rule::having_clause | Rule::kw_having => "`having`",
        Rule::pivot_clause | Rule::kw_pivot => "`pivot`",
        Rule::sort_clause | Rule::kw_sort => "`sort`",
        Rule::limit_clause | Rule::kw_limit => "`limit`",
        Rule::set_stmt | Rule::kw_set => "`set`",
        Rule::let_stmt | Rule::kw_let => "`let`",
        Rule::explain_stmt | Rule::kw_explain => "`explain`",
        Rule::kw_per => "`per`",
        Rule::with_overall | Rule::kw_with => "`with overall`",
        Rule::kw_overall => "`overall`",
        Rule::kw_abbreviated => "`abbreviated`",
        Rule::kw_vs => "`vs`",
        Rule::kw_each => "`each`",
        Rule::kw_best => "`best`",
        Rule::op_and | Rule::kw_and => "`and`",
        Rule::op_or | Rule::kw_or => "`or`",
        Rule::op_not | Rule::kw_not => "`not`",
        Rule::kw_in | Rule::in_tail => "`in`",
        Rule::kw_like | Rule::like_tail => "`like`",
        Rule::kw_is | Rule::null_tail => "`is`",
        Rule::kw_null => "`null`",
        Rule::kw_asc => "`asc`",
        Rule::kw_desc => "`desc`",
        Rule::kw_as => "`as`",
        Rule::kw_true | Rule::kw_false => "a boolean",
        Rule::item => "a column, metric or expression",
        Rule::star => "`*`",
        Rule::column | Rule::name | Rule::backtick_name => "a column name",
        Rule::sort_item => "a column to sort by",
        Rule::predicate => "a condition",
        Rule::value | Rule::operand => "a value or column",
        Rule::call => "a function call",
        Rule::cmp_op => "a comparison (=, !=, <, <=, >, >=)",
        Rule::op_concat
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div
        | Rule::op_mod => "an operator (+, -, *, /, %, ||)",
        Rule::op_neg => "`-`",
        Rule::case_expr | Rule::kw_case => "`case`",
        Rule::when_arm | Rule::kw_when => "`when`",
        Rule::kw_then => "`then`",
        Rule::else_arm | Rule::kw_else => "`else`",
        Rule::kw_end => "`end`",
        Rule::cast_expr | Rule::kw_cast => "`cast`",
        Rule::term => "a lexical-tree term (#...)",
        Rule::term_seg | Rule::term_word => "a lexical-tree name",
        Rule::string => "a quoted string",
        Rule::number => "a number",
        Rule::integer => "a whole number",
        Rule::param => "a parameter ($name)",
        _ => return None,
    })
}

fn syntax_error(e: pest::error::Error<Rule>, text: &str, offset: usize) -> QueryError {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    // The span: the word at the error position, or one character.
    let rest = &text[pos..];
    let word_len = rest
        .char_indices()
        .find(|(_, c)| c.is_whitespace() || matches!(c, ',' | '(' | ')' | ';'))
        .map(|(i, _)| i)
        .unwrap_or(rest.len());
    let len = if word_len == 0 {
        rest.chars().next().map(|c| c.len_utf8()).unwrap_or(0)
    } else {
        word_len
    };
    let span = Span::new(offset + pos, offset + pos + len);
    let found = if rest.trim().is_empty() {
        "end of statement".to_string()
    } else {
        format!("`{}`", &rest[..len])
    };
    let mut expected: Vec<&str> = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(rule_name).collect()
        }
        ErrorVariant::CustomError { .. } => vec![],
    };
    expected.dedup();
    let mut seen = std::collections::HashSet::new();
    expected.retain(|x| seen.insert(*x));
    // A word after a complete value is far more often a misspelt clause
    // than the start of an operator: where a clause may follow, the
    // operators that could also continue the value are not listed.
    let clause = |x: &str| {
        matches!(
            x,
            "`score`" | "`show`" | "`compare`" | "`having`" | "`pivot`" | "`sort`" | "`limit`"
        )
    };
    if expected.iter().any(|x| clause(x)) {
        expected.retain(|x| !CONTINUATIONS.contains(x));
    }
    let message = format!("syntax error: unexpected {found}");
    let mut err = QueryError::new(message, span);
    if !expected.is_empty() {
        err = err.with_help(format!("expected {}", join_or(&expected)));
    }
    err
}

/// What may continue a value (operators, `as`), in syntax errors' terms.
const CONTINUATIONS: &[&str] = &[
    "an operator (+, -, *, /, %, ||)",
    "`in`",
    "`like`",
    "`is`",
    "a comparison (=, !=, <, <=, >, >=)",
    "`and`",
    "`or`",
    "`as`",
];

fn join_or(items: &[&str]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].to_string(),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

struct Builder {
    offset: usize,
}

impl Builder {
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.offset + s.start(), self.offset + s.end())
    }

    fn name(&self, p: Pair<Rule>) -> Name {
        let span = self.span(&p);
        let text = match p.as_rule() {
            Rule::column => {
                let inner = p.into_inner().next().expect("column has one child");
                return self.name(inner);
            }
            Rule::backtick_name => p
                .into_inner()
                .next()
                .map(|i| i.as_str().to_string())
                .unwrap_or_default(),
            Rule::string => unquote(p),
            _ => p.as_str().to_string(),
        };
        Name { text, span }
    }

    fn statement(&self, p: Pair<Rule>) -> Result<Statement, QueryError> {
        let inner = p
            .into_inner()
            .next()
            .expect("statement has a body before EOI");
        match inner.as_rule() {
            Rule::query => Ok(Statement::Query(self.query(inner)?)),
            Rule::explain_stmt => {
                let q = inner.into_inner().nth(1).expect("explain has a query");
                Ok(Statement::Explain(self.query(q)?))
            }
            Rule::set_stmt => {
                let mut it = inner.into_inner().skip(1);
                let name = self.name(it.next().expect("set has a name"));
                let value = self.name(it.next().expect("set has a value"));
                Ok(Statement::Set { name, value })
            }
            Rule::let_stmt => {
                let mut it = inner.into_inner().skip(1);
                let name = self.name(it.next().expect("let has a name"));
                let predicate = self.predicate(it.next().expect("let has a predicate"))?;
                Ok(Statement::Let { name, predicate })
            }
            r => unreachable!("statement body {r:?}"),
        }
    }

    fn query(&self, p: Pair<Rule>) -> Result<Query, QueryError> {
        let span = self.span(&p);
        let mut q = Query {
            span,
            from: None,
            filter: None,
            by: vec![],
            output: Output::Default,
            having: None,
            pivot: None,
            sort: vec![],
            limit: None,
        };
        let mut any = false;
        for clause in p.into_inner() {
            any = true;
            let rule = clause.as_rule();
            let cspan = self.span(&clause);
            let mut it = clause.into_inner();
            it.next(); // the keyword
            match rule {
                Rule::from_clause => q.from = Some(self.name(it.next().expect("from name"))),
                Rule::where_clause => {
                    q.filter = Some(self.predicate(it.next().expect("where predicate"))?)
                }
                Rule::by_clause => q.by = it.map(|c| self.item(c)).collect::<Result<_, _>>()?,
                Rule::score_clause => {
                    q.output = Output::Score(
                        it.map(|m| {
                            let span = self.span(&m);
                            self.item(m).map(|i| Metric::from_item(i, span))
                        })
                        .collect::<Result<_, _>>()?,
                    )
                }
                Rule::show_clause => {
                    let items: Vec<Pair<Rule>> = it.collect();
                    if items.len() == 1 && items[0].as_rule() == Rule::star {
                        q.output = Output::Show {
                            all: true,
                            columns: vec![],
                        };
                    } else {
                        q.output = Output::Show {
                            all: false,
                            columns: items
                                .into_iter()
                                .map(|c| self.item(c))
                                .collect::<Result<_, _>>()?,
                        };
                    }
                }
                Rule::compare_clause => {
                    let a = self.compare_side(it.next().expect("compare lhs"));
                    it.next(); // vs
                    let b = self.compare_side(it.next().expect("compare rhs"));
                    q.output = Output::Compare { a, b, span: cspan };
                }
                Rule::having_clause => {
                    q.having = Some(self.predicate(it.next().expect("having predicate"))?)
                }
                Rule::pivot_clause => {
                    let key = self.name(it.next().expect("pivot key"));
                    let mut with_overall = false;
                    let mut abbreviated = false;
                    for rest in it {
                        match rest.as_rule() {
                            Rule::with_overall => with_overall = true,
                            Rule::kw_abbreviated => abbreviated = true,
                            _ => {}
                        }
                    }
                    q.pivot = Some(Pivot {
                        key,
                        with_overall,
                        abbreviated,
                    });
                }
                Rule::sort_clause => {
                    q.sort = it
                        .map(|item| {
                            let mut parts = item.into_inner();
                            let e = parts.next().expect("sort key");
                            let span = self.span(&e);
                            let text = source_text(e.as_str());
                            let expr = self.predicate(e)?;
                            let descending =
                                parts.next().map(|d| d.as_rule() == Rule::kw_desc) == Some(true);
                            Ok(match expr {
                                Expr::Operand(Operand::Column(column)) => SortItem {
                                    column,
                                    descending,
                                    expr: None,
                                },
                                expr => SortItem {
                                    column: Name { text, span },
                                    descending,
                                    expr: Some(expr),
                                },
                            })
                        })
                        .collect::<Result<_, QueryError>>()?
                }
                Rule::limit_clause => {
                    let np = it.next().expect("limit count");
                    let nspan = self.span(&np);
                    let n = np.as_str().parse::<u64>().map_err(|_| {
                        QueryError::new("limit is too large", nspan)
                            .with_help("give a whole number below 2^64")
                    })?;
                    let per = it.nth(1).map(|c| self.name(c));
                    q.limit = Some(Limit {
                        n,
                        span: nspan,
                        per,
                    });
                }
                r => unreachable!("clause {r:?}"),
            }
        }
        if !any {
            return Err(QueryError::new("empty query", span)
                .with_help("a query needs at least one clause, for example `by model score acc`"));
        }
        Ok(q)
    }

    fn compare_side(&self, p: Pair<Rule>) -> CompareSide {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::kw_each => CompareSide::Each(span),
            Rule::kw_best => CompareSide::Best(span),
            _ => CompareSide::Model(unquote(p), span),
        }
    }

    fn predicate(&self, p: Pair<Rule>) -> Result<Expr, QueryError> {
        self.expression(p).map(|(e, _)| e)
    }

    /// `expr [as name]`.
    fn item(&self, p: Pair<Rule>) -> Result<Item, QueryError> {
        let mut it = p.into_inner();
        let e = it.next().expect("an item has an expression");
        let span = self.span(&e);
        let text = source_text(e.as_str());
        let expr = self.predicate(e)?;
        let alias = it.find(|x| x.as_rule() == Rule::name).map(|n| self.name(n));
        Ok(Item {
            expr,
            alias,
            text,
            span,
        })
    }

    /// An expression, and whether it is a comparison not in parentheses
    /// (comparisons do not chain: `a < b < c` is an error).
    fn expression(&self, p: Pair<Rule>) -> Result<(Expr, bool), QueryError> {
        PRATT
            .map_primary(|primary| Ok((self.primary(primary)?, false)))
            .map_prefix(|op, rhs| {
                let (rhs, _) = rhs?;
                let span = self.span(&op);
                Ok((
                    match op.as_rule() {
                        Rule::op_not => Expr::Not(Box::new(rhs), span),
                        // `-<number>` is the negative number.
                        _ => match rhs {
                            Expr::Operand(Operand::Number(n, s)) if !n.starts_with('-') => {
                                Expr::Operand(Operand::Number(format!("-{n}"), span.to(s)))
                            }
                            other => Expr::Neg(Box::new(other), span),
                        },
                    },
                    false,
                ))
            })
            .map_postfix(|lhs, op| {
                let (lhs, bare) = lhs?;
                let span = self.span(&op);
                if bare {
                    return Err(chained(span));
                }
                Ok((self.tail(lhs, op)?, true))
            })
            .map_infix(|lhs, op, rhs| {
                let ((l, lbare), (r, rbare)) = (lhs?, rhs?);
                let (l, r) = (Box::new(l), Box::new(r));
                let arith = match op.as_rule() {
                    Rule::op_and => return Ok((Expr::And(l, r), false)),
                    Rule::op_or => return Ok((Expr::Or(l, r), false)),
                    Rule::cmp_op => {
                        if lbare || rbare {
                            return Err(chained(self.span(&op)));
                        }
                        let op = match op.as_str() {
                            "=" | "==" => CmpOp::Eq,
                            "!=" | "<>" => CmpOp::NotEq,
                            "<" => CmpOp::Lt,
                            "<=" => CmpOp::LtEq,
                            ">" => CmpOp::Gt,
                            _ => CmpOp::GtEq,
                        };
                        let cmp = Expr::Cmp {
                            op,
                            left: l,
                            right: r,
                        };
                        return Ok((cmp, true));
                    }
                    Rule::op_concat => ArithOp::Concat,
                    Rule::op_add => ArithOp::Add,
                    Rule::op_sub => ArithOp::Sub,
                    Rule::op_mul => ArithOp::Mul,
                    Rule::op_div => ArithOp::Div,
                    _ => ArithOp::Mod,
                };
                Ok((
                    Expr::Arith {
                        op: arith,
                        left: l,
                        right: r,
                    },
                    false,
                ))
            })
            .parse(p.into_inner())
    }

    fn primary(&self, p: Pair<Rule>) -> Result<Expr, QueryError> {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::predicate | Rule::value => self.predicate(p),
            Rule::term => Ok(Expr::Term(self.term(p))),
            Rule::operand => Ok(Expr::Operand(self.operand(p))),
            Rule::call => {
                let mut it = p.into_inner();
                let name = self.name(it.next().expect("call has a name"));
                let args = it.map(|a| self.predicate(a)).collect::<Result<_, _>>()?;
                Ok(Expr::Call { name, args, span })
            }
            Rule::cast_expr => {
                let mut it = p
                    .into_inner()
                    .filter(|x| !matches!(x.as_rule(), Rule::kw_cast | Rule::kw_as));
                let expr = self.predicate(it.next().expect("cast has a value"))?;
                let to = self.name(it.next().expect("cast has a type"));
                Ok(Expr::Cast {
                    expr: Box::new(expr),
                    to,
                    span,
                })
            }
            Rule::case_expr => {
                let mut operand = None;
                let mut arms = vec![];
                let mut otherwise = None;
                for part in p.into_inner() {
                    match part.as_rule() {
                        Rule::predicate => operand = Some(Box::new(self.predicate(part)?)),
                        Rule::when_arm => {
                            let mut it =
                                part.into_inner().filter(|x| x.as_rule() == Rule::predicate);
                            let when = self.predicate(it.next().expect("when condition"))?;
                            let then = self.predicate(it.next().expect("then value"))?;
                            arms.push((when, then));
                        }
                        Rule::else_arm => {
                            let v = part
                                .into_inner()
                                .find(|x| x.as_rule() == Rule::predicate)
                                .expect("else value");
                            otherwise = Some(Box::new(self.predicate(v)?));
                        }
                        _ => {}
                    }
                }
                Ok(Expr::Case {
                    operand,
                    arms,
                    otherwise,
                    span,
                })
            }
            r => unreachable!("primary {r:?}"),
        }
    }

    fn term(&self, p: Pair<Rule>) -> Term {
        let span = self.span(&p);
        let mut qualifier = None;
        let mut segments = vec![];
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::term_qual => {
                    let inner = part.into_inner().next().expect("qualifier body");
                    qualifier = Some(self.name(inner));
                }
                Rule::term_seg => {
                    let sspan = self.span(&part);
                    let inner = part.into_inner().next().expect("segment body");
                    let quoted = inner.as_rule() == Rule::string;
                    let text = if quoted {
                        unquote(inner)
                    } else {
                        inner.as_str().to_string()
                    };
                    segments.push(TermSegment {
                        text,
                        quoted,
                        span: sspan,
                    });
                }
                _ => {}
            }
        }
        Term {
            qualifier,
            segments,
            span,
        }
    }

    /// `left` with a postfix tail: `in (...)`, `like ...`, `is [not] null`.
    fn tail(&self, left: Expr, tail: Pair<Rule>) -> Result<Expr, QueryError> {
        let span = self.span(&tail);
        let rule = tail.as_rule();
        let parts: Vec<Pair<Rule>> = tail.into_inner().collect();
        let negated = parts.iter().any(|x| x.as_rule() == Rule::kw_not);
        let mut values = parts
            .into_iter()
            .filter(|x| x.as_rule() == Rule::value)
            .map(|x| self.predicate(x));
        let operand = Box::new(left);
        Ok(match rule {
            Rule::in_tail => Expr::In {
                operand,
                list: values.collect::<Result<_, _>>()?,
                negated,
                span,
            },
            Rule::like_tail => Expr::Like {
                operand,
                pattern: Box::new(values.next().expect("like pattern")?),
                negated,
            },
            _ => Expr::IsNull {
                operand,
                negated,
                span,
            },
        })
    }

    fn operand(&self, p: Pair<Rule>) -> Operand {
        let inner = p.into_inner().next().expect("operand body");
        let span = self.span(&inner);
        match inner.as_rule() {
            Rule::string => Operand::Str(unquote(inner), span),
            Rule::number => Operand::Number(inner.as_str().to_string(), span),
            Rule::param => {
                let n = inner.into_inner().next().expect("param name");
                Operand::Param(Name {
                    text: n.as_str().to_string(),
                    span,
                })
            }
            Rule::kw_true => Operand::Bool(true, span),
            Rule::kw_false => Operand::Bool(false, span),
            Rule::kw_null => Operand::Null(span),
            _ => Operand::Column(self.name(inner)),
        }
    }
}

/// An expression's source text as a column name: comments removed, each
/// run of whitespace one space, trimmed (strings kept as written).
pub fn source_text(text: &str) -> String {
    let mut out = String::new();
    for t in super::lex::lex(text) {
        match t.kind {
            super::lex::Kind::Comment => {}
            super::lex::Kind::Space => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            _ => out.push_str(t.text(text)),
        }
    }
    out.trim().to_string()
}

/// The error for `a < b < c`.
fn chained(span: Span) -> QueryError {
    QueryError::new("comparisons do not chain", span)
        .with_help("put one of them in parentheses, or join them with `and`")
}

/// The text of a quoted string, with `''`/`""` and backslash escapes undone.
fn unquote(p: Pair<Rule>) -> String {
    let raw = p.as_str();
    let q = raw.chars().next().unwrap_or('\'');
    let body = &raw[1..raw.len().saturating_sub(1).max(1)];
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else if c == q && chars.peek() == Some(&q) {
            chars.next();
            out.push(q);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Statement {
        let mut v = parse_source(s);
        assert_eq!(v.len(), 1, "{s}");
        v.remove(0).unwrap_or_else(|e| panic!("{s}: {e}")).statement
    }

    fn query(s: &str) -> Query {
        match one(s) {
            Statement::Query(q) => q,
            other => panic!("not a query: {other:?}"),
        }
    }

    #[test]
    fn clauses_and_keywords_any_case() {
        let q = query(
            "WHERE model = 'qwen_chat' BY model, task SCORE acc, n AS count SORT acc DESC LIMIT 5",
        );
        assert_eq!(q.by.len(), 2);
        match &q.output {
            Output::Score(m) => {
                assert_eq!(m.len(), 2);
                assert_eq!(m[1].alias.as_ref().map(|a| a.text.as_str()), Some("count"));
            }
            o => panic!("{o:?}"),
        }
        assert!(q.sort[0].descending);
        assert_eq!(q.limit.as_ref().map(|l| l.n), Some(5));
    }

    #[test]
    fn precedence_not_and_or() {
        let q = query("where not a = 1 and b = 2 or c = 3 show index");
        match q.filter.unwrap() {
            Expr::Or(l, _) => match *l {
                Expr::And(l2, _) => assert!(matches!(*l2, Expr::Not(..))),
                o => panic!("{o:?}"),
            },
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn terms() {
        let q =
            query(r#"where #DD/"X-ray"/"lung nodule" and #modality:CT and #ENT/HNS show index"#);
        let mut terms = vec![];
        fn walk(e: &Expr, out: &mut Vec<Term>) {
            match e {
                Expr::And(a, b) | Expr::Or(a, b) => {
                    walk(a, out);
                    walk(b, out)
                }
                Expr::Term(t) => out.push(t.clone()),
                _ => {}
            }
        }
        walk(q.filter.as_ref().unwrap(), &mut terms);
        assert_eq!(terms.len(), 3);
        assert_eq!(terms[0].segments.len(), 3);
        assert_eq!(terms[0].segments[2].text, "lung nodule");
        assert_eq!(terms[1].qualifier.as_ref().unwrap().text, "modality");
        assert_eq!(terms[2].segments.len(), 2);
    }

    #[test]
    fn strings_and_escapes() {
        let q = query(r#"where question = 'it''s' or question = "a\"b" show index"#);
        let Expr::Or(a, b) = q.filter.unwrap() else {
            panic!()
        };
        let right = |e: &Expr| match e {
            Expr::Cmp { right, .. } => match right.as_operand() {
                Some(Operand::Str(s, _)) => s.clone(),
                _ => panic!("{right:?}"),
            },
            _ => panic!("{e:?}"),
        };
        assert_eq!(right(&a), "it's");
        assert_eq!(right(&b), "a\"b");
    }

    #[test]
    fn syntax_error_points_at_the_word() {
        let src = "by model scor acc";
        let e = parse_source(src).remove(0).unwrap_err();
        assert_eq!(&src[e.span.start..e.span.end], "scor");
        assert!(e.help.as_deref().unwrap().contains("`score`"), "{e:?}");
    }

    #[test]
    fn errors_in_later_statements_are_kept() {
        let v = parse_source("by model score acc;\nwhere (x = 1 show index;\nby model score n");
        assert!(v[0].is_ok());
        assert!(v[1].is_err());
        assert!(v[2].is_ok());
    }

    #[test]
    fn nesting_limit() {
        let deep = format!(
            "where {}a = 1{} show index",
            "(".repeat(100),
            ")".repeat(100)
        );
        let e = parse_source(&deep).remove(0).unwrap_err();
        assert!(e.message.contains("nested too deeply"));
    }
}
