//! The syntax tree of a medql statement. Every node that a later stage may
//! complain about carries the byte span of its text in the source.

pub use crate::text::Span;

/// A name with the place it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    Query(Query),
    Explain(Query),
    /// `set <name> = <value>`
    Set {
        name: Name,
        value: Name,
    },
    /// `let <name> = <predicate>`
    Let {
        name: Name,
        predicate: Expr,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub span: Span,
    pub from: Option<Name>,
    pub filter: Option<Expr>,
    pub by: Vec<Item>,
    pub output: Output,
    pub having: Option<Expr>,
    pub pivot: Option<Pivot>,
    pub sort: Vec<SortItem>,
    pub limit: Option<Limit>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// No `score`, `show` or `compare`: the planner picks a default.
    Default,
    Score(Vec<Metric>),
    /// `show *` is an empty list with `all` set.
    Show {
        all: bool,
        columns: Vec<Item>,
    },
    Compare {
        a: CompareSide,
        b: CompareSide,
        span: Span,
    },
}

/// A `by` key or a `show` column: a column, or an expression with an
/// optional name (`expr as name`).
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub expr: Expr,
    pub alias: Option<Name>,
    /// The expression's source text, comments removed, each run of
    /// whitespace one space, trimmed: its name without `as`.
    pub text: String,
    pub span: Span,
}

impl Item {
    /// The column it is, when it is a bare column without `as`.
    pub fn column(&self) -> Option<&Name> {
        match (&self.expr, &self.alias) {
            (Expr::Operand(Operand::Column(n)), None) => Some(n),
            _ => None,
        }
    }

    /// The output name: the alias, else the source text.
    pub fn name(&self) -> Name {
        match (&self.alias, self.column()) {
            (Some(a), _) => a.clone(),
            (None, Some(c)) => c.clone(),
            (None, None) => Name {
                text: self.text.clone(),
                span: self.span,
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum CompareSide {
    Each(Span),
    Best(Span),
    Model(String, Span),
}

/// A `score` item: a metric (`acc`, `macro(task)`, `shift(a, b)`), or an
/// expression over metrics (`acc - random as lift`).
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    /// The metric's name; for an expression, its text.
    pub name: Name,
    pub arg: Option<Name>,
    /// A second argument: `shift(v2024, v2025)`.
    pub arg2: Option<Name>,
    pub alias: Option<Name>,
    pub span: Span,
    /// The item as written, when it was parsed (not a default metric).
    pub item: Option<Box<Item>>,
    /// Whether it has a metric's shape: a name, or a call whose arguments
    /// are names (`macro(task)`); else it can only be an expression.
    pub plain: bool,
}

impl Metric {
    /// A `score` item from its parsed form.
    pub fn from_item(item: Item, span: Span) -> Metric {
        let name_of = |e: &Expr| match e {
            Expr::Operand(Operand::Column(n)) => Some(n.clone()),
            _ => None,
        };
        let shape = match &item.expr {
            Expr::Operand(Operand::Column(n)) => Some((n.clone(), None, None)),
            Expr::Call { name, args, .. }
                if !args.is_empty()
                    && args.len() <= 2
                    && args.iter().all(|a| name_of(a).is_some()) =>
            {
                Some((
                    name.clone(),
                    args.first().and_then(name_of),
                    args.get(1).and_then(name_of),
                ))
            }
            _ => None,
        };
        let plain = shape.is_some();
        let (name, arg, arg2) = shape.unwrap_or_else(|| {
            (
                Name {
                    text: item.text.clone(),
                    span: item.span,
                },
                None,
                None,
            )
        });
        Metric {
            name,
            arg,
            arg2,
            alias: item.alias.clone(),
            span,
            item: Some(Box::new(item)),
            plain,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pivot {
    pub key: Name,
    pub with_overall: bool,
    pub abbreviated: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SortItem {
    /// The column sorted by; for an expression, its text.
    pub column: Name,
    pub descending: bool,
    /// The expression, when it is not a bare column.
    pub expr: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Limit {
    pub n: u64,
    pub span: Span,
    pub per: Option<Name>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

/// An arithmetic operator (`||` included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    /// Always floating-point division.
    Div,
    Mod,
    Concat,
}

impl ArithOp {
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Mod => "%",
            ArithOp::Concat => "||",
        }
    }
}

/// An expression: a condition or a value.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>, Span),
    Cmp {
        op: CmpOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    In {
        operand: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
        span: Span,
    },
    Like {
        operand: Box<Expr>,
        pattern: Box<Expr>,
        negated: bool,
    },
    IsNull {
        operand: Box<Expr>,
        negated: bool,
        span: Span,
    },
    /// A column, literal or parameter; as a condition, a boolean column or
    /// a named selection.
    Operand(Operand),
    Term(Term),
    Arith {
        op: ArithOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// Unary minus (`-<number>` is folded into the number when parsing).
    Neg(Box<Expr>, Span),
    /// `name(args)`: a scalar function (or `div`).
    Call {
        name: Name,
        args: Vec<Expr>,
        span: Span,
    },
    /// `case [operand] when ... then ... [else ...] end`.
    Case {
        operand: Option<Box<Expr>>,
        arms: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
        span: Span,
    },
    /// `cast(expr as type)`; the type name is contextual.
    Cast {
        expr: Box<Expr>,
        to: Name,
        span: Span,
    },
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => a.span().to(b.span()),
            Expr::Not(e, s) | Expr::Neg(e, s) => s.to(e.span()),
            Expr::Cmp { left, right, .. } | Expr::Arith { left, right, .. } => {
                left.span().to(right.span())
            }
            Expr::In { operand, span, .. } | Expr::IsNull { operand, span, .. } => {
                operand.span().to(*span)
            }
            Expr::Like {
                operand, pattern, ..
            } => operand.span().to(pattern.span()),
            Expr::Operand(o) => o.span(),
            Expr::Term(t) => t.span,
            Expr::Call { span, .. } | Expr::Case { span, .. } | Expr::Cast { span, .. } => *span,
        }
    }

    /// The operand, when the expression is a bare one.
    pub fn as_operand(&self) -> Option<&Operand> {
        match self {
            Expr::Operand(o) => Some(o),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Column(Name),
    Str(String, Span),
    /// The number as written, so integers stay integers.
    Number(String, Span),
    Bool(bool, Span),
    Null(Span),
    Param(Name),
}

impl Operand {
    pub fn span(&self) -> Span {
        match self {
            Operand::Column(n) | Operand::Param(n) => n.span,
            Operand::Str(_, s) | Operand::Number(_, s) | Operand::Bool(_, s) | Operand::Null(s) => {
                *s
            }
        }
    }
}

/// A lexical-tree term as written: `#qualifier:seg/seg/...`.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    pub qualifier: Option<Name>,
    pub segments: Vec<TermSegment>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TermSegment {
    pub text: String,
    pub quoted: bool,
    pub span: Span,
}
