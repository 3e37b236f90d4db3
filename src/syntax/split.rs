//! Splitting a source text into statements at `;` outside quotes, backticks
//! and comments (as the lexer sees them), keeping byte offsets so that spans
//! stay absolute.

use super::lex::{lex, Kind};

/// Byte ranges of the statements of `source`; statements holding only
/// whitespace and comments are left out.
pub fn split_statements(source: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut blank = true;
    for t in lex(source) {
        match t.kind {
            Kind::Punct(';') => {
                if !blank {
                    out.push((start, t.start));
                }
                start = t.end;
                blank = true;
            }
            Kind::Space | Kind::Comment => {}
            _ => blank = false,
        }
    }
    if !blank {
        out.push((start, source.len()));
    }
    out
}

/// True when the text holds nothing but whitespace and `--` comments.
pub fn is_blank(text: &str) -> bool {
    lex(text).iter().all(|t| t.is_trivia())
}

/// True when the text ends inside a quote, backtick name or parenthesis: the
/// statement is not complete yet (used by the REPL for continuation lines).
pub fn is_incomplete(source: &str) -> bool {
    let mut depth: i64 = 0;
    let mut open = false;
    for t in lex(source) {
        match t.kind {
            Kind::Punct('(') => depth += 1,
            Kind::Punct(')') => depth -= 1,
            _ => {}
        }
        open = t.is_open();
    }
    open || depth > 0
}

/// True when the last statement of `source` is unfinished: it ends inside
/// a quote, name or parenthesis, or the parser fails at its very end (what
/// is there could go on into a statement). A statement the parser rejects
/// before its end is finished: running it shows the error.
pub fn needs_more(source: &str) -> bool {
    if is_incomplete(source) {
        return true;
    }
    let Some(&(start, end)) = split_statements(source).last() else {
        return false;
    };
    // The statement's last token that is not a comment.
    let text = &source[start..end];
    let tokens = lex(text);
    let Some(last) = tokens.iter().rfind(|t| !t.is_trivia()) else {
        return false;
    };
    match super::parse_statement(source, start, end) {
        Ok(_) => false,
        // Failing past the last token, or at a last token that is a
        // keyword (`in` wants its list): more is to come.
        Err(e) => {
            e.span.start >= start + last.end
                || (e.span.start == start + last.start
                    && super::keywords::is_keyword(last.text(text)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &str) -> Vec<&str> {
        split_statements(s)
            .into_iter()
            .map(|(a, b)| s[a..b].trim())
            .collect()
    }

    #[test]
    fn splits_outside_quotes_and_comments() {
        assert_eq!(
            parts("by model score acc; where question like 'a;b' show index -- x;y\n;;"),
            vec![
                "by model score acc",
                "where question like 'a;b' show index -- x;y"
            ]
        );
        assert_eq!(parts("-- only a comment\n ; "), Vec::<&str>::new());
        assert_eq!(
            parts(r#"where a = "x\";" score n"#),
            vec![r#"where a = "x\";" score n"#]
        );
    }

    #[test]
    fn the_parser_says_whether_a_statement_goes_on() {
        for unfinished in [
            "by",
            "by model score",
            "by model score acc,",
            "by model score acc sort",
            "by model score acc sort acc desc limit",
            "by model score acc limit 3 per",
            "by model score acc having",
            "by model, task score acc pivot",
            "where",
            "where #DD and",
            "where not",
            "where task in",
            "where task like",
            "where task is",
            "where task =",
            "where #",
            "where #task:",
            "where #DD/",
            "from",
            "score acc as",
            "compare",
            "compare each vs",
            "let",
            "let x =",
            "set policy =",
            "explain",
            "by model score acc -- a comment\n  sort",
        ] {
            assert!(needs_more(unfinished), "{unfinished:?}");
        }
        for finished in [
            "by model score acc",
            "by model score acc -- and",
            "where #DD",
            "by model score acc foo",
            "by model score acc sort acc desc",
            "where task = 1 2",
            "",
        ] {
            assert!(!needs_more(finished), "{finished:?}");
        }
        assert!(needs_more("score n; by"));
    }

    #[test]
    fn incomplete_statements() {
        assert!(is_incomplete("where (a = 1"));
        assert!(is_incomplete("where a = 'x"));
        assert!(!is_incomplete("where a = 'x' -- ( open"));
        assert!(!is_incomplete("by model score acc"));
        // A backslash escapes the quote, as in the grammar.
        assert!(is_incomplete(r"where a = 'x\'"));
        assert!(!is_incomplete("where a = 'it''s'"));
        assert!(is_blank("-- a\n  \t-- b"));
        assert!(!is_blank("-- a\nby"));
    }
}
