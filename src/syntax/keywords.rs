//! The reserved words of the language, in one table. The grammar's
//! `keyword` rule must list exactly these (a test reads the grammar and
//! compares); the lexer, highlighting, completion and help read this table.

/// Where a keyword is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Starts a clause of a query (`where`, `by`, `score`, ...).
    Clause,
    /// Starts a statement other than a query (`let`, `set`, `explain`).
    Statement,
    /// An operator of conditions (`and`, `or`, `not`, `in`, `like`, `is`).
    Operator,
    /// Inside a clause (`as`, `desc`, `per`, ...).
    Inner,
    /// A literal value (`true`, `false`, `null`).
    Literal,
}

/// Every reserved word, lower-case, with its role and a one-line meaning.
pub const KEYWORDS: &[(&str, Role, &str)] = &[
    (
        "from",
        Role::Clause,
        "the relation: results (default), items, coverage or provenance",
    ),
    ("where", Role::Clause, "keep the rows a condition holds for"),
    ("by", Role::Clause, "group rows by columns"),
    ("score", Role::Clause, "metrics per group"),
    ("show", Role::Clause, "list rows and columns"),
    ("compare", Role::Clause, "paired model comparison (McNemar)"),
    (
        "having",
        Role::Clause,
        "keep the groups a condition holds for",
    ),
    ("pivot", Role::Clause, "one column per value of a key"),
    ("sort", Role::Clause, "order the rows"),
    (
        "limit",
        Role::Clause,
        "at most N rows (per group with `per`)",
    ),
    (
        "let",
        Role::Statement,
        "name a condition: let s = #DD and #CT",
    ),
    (
        "set",
        Role::Statement,
        "set a session option: set policy = legacy",
    ),
    ("explain", Role::Statement, "show the plans of a query"),
    ("per", Role::Inner, "limit N per <column>"),
    ("with", Role::Inner, "pivot ... with overall"),
    (
        "overall",
        Role::Inner,
        "pivot ... with overall: an Overall column",
    ),
    (
        "abbreviated",
        Role::Inner,
        "pivot ... abbreviated: short column names",
    ),
    ("vs", Role::Inner, "compare <a> vs <b>"),
    (
        "each",
        Role::Inner,
        "compare each vs <b>: every other model",
    ),
    (
        "best",
        Role::Inner,
        "compare <a> vs best: the most accurate model",
    ),
    ("and", Role::Operator, "both conditions"),
    ("or", Role::Operator, "either condition"),
    ("not", Role::Operator, "the condition does not hold"),
    ("in", Role::Operator, "one of a list: x in ('a', 'b')"),
    ("like", Role::Operator, "pattern match: x like 'a%'"),
    ("is", Role::Operator, "x is null, x is not null"),
    ("asc", Role::Inner, "ascending order"),
    ("desc", Role::Inner, "descending order"),
    ("as", Role::Inner, "rename an output column"),
    (
        "case",
        Role::Operator,
        "case when <condition> then <value> [else <value>] end",
    ),
    ("when", Role::Operator, "case when <condition> then <value>"),
    ("then", Role::Operator, "case when <condition> then <value>"),
    ("else", Role::Operator, "case ... else <value> end"),
    ("end", Role::Operator, "ends a case expression"),
    ("cast", Role::Operator, "cast(x as int|float|text|bool)"),
    ("null", Role::Literal, "no value"),
    ("true", Role::Literal, "boolean true"),
    ("false", Role::Literal, "boolean false"),
];

/// Whether `word` is reserved (case-insensitive).
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS
        .iter()
        .any(|(k, _, _)| k.eq_ignore_ascii_case(word))
}

/// The keywords of one role, in table order.
pub fn of_role(role: Role) -> impl Iterator<Item = &'static str> {
    KEYWORDS
        .iter()
        .filter(move |(_, r, _)| *r == role)
        .map(|(k, _, _)| *k)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words of the grammar's `keyword` rule and of its `kw_*` rules.
    fn grammar_words() -> (Vec<String>, Vec<String>) {
        let g = include_str!("../../grammar/medql.pest");
        let start = g.find("keyword  = @{").expect("a keyword rule");
        let end = start + g[start..].find('}').expect("its end");
        let words = |text: &str| -> Vec<String> {
            text.split("^\"")
                .skip(1)
                .map(|w| w.split('"').next().unwrap_or("").to_string())
                .collect()
        };
        let mut keyword = words(&g[start..end]);
        let mut kw_rules: Vec<String> = g
            .lines()
            .filter(|l| l.trim_start().starts_with("kw_"))
            .flat_map(words)
            .collect();
        keyword.sort();
        kw_rules.sort();
        (keyword, kw_rules)
    }

    #[test]
    fn the_grammar_reserves_exactly_the_table() {
        let mut table: Vec<String> = KEYWORDS.iter().map(|(k, _, _)| k.to_string()).collect();
        table.sort();
        let (keyword, kw_rules) = grammar_words();
        assert_eq!(keyword, table, "grammar `keyword` rule vs KEYWORDS");
        assert_eq!(kw_rules, table, "grammar `kw_*` rules vs KEYWORDS");
    }

    #[test]
    fn lookups() {
        assert!(is_keyword("WHERE") && is_keyword("abbreviated"));
        assert!(!is_keyword("model") && !is_keyword("acc"));
        assert_eq!(
            of_role(Role::Statement).collect::<Vec<_>>(),
            ["let", "set", "explain"]
        );
    }
}
