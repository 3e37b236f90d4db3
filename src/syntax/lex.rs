//! The one lexer: a source text as tokens with byte spans. It never fails:
//! every byte of the input belongs to exactly one token, in order, so that
//! statement splitting, the parser's limits, highlighting and completion
//! all see quotes, escapes and comments the same way the grammar does
//! (`grammar/medql.pest`): `'...'` and `"..."` strings with `\` escapes and
//! doubled quotes, `` `...` `` names without escapes, `--` comments to the
//! end of the line, and `#` terms as one token.

use super::keywords::is_keyword;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Spaces, tabs, line breaks and byte-order marks.
    Space,
    /// `-- ...` up to the end of the line.
    Comment,
    /// A reserved word of the language (`where`, `and`, ...).
    Keyword,
    /// Any other name: a column, a metric, a function.
    Word,
    /// `17`, `1.5`, `2e-5` (unsigned: `-` is an operator).
    Number,
    /// A `'...'` or `"..."` string; `closed` is false when the input ends
    /// inside it.
    Str { closed: bool },
    /// A `` `...` `` column name.
    Backtick { closed: bool },
    /// `$name`.
    Param,
    /// A lexical-tree term: `#DD`, `#modality:CT`, `#DD/"X-ray"`.
    Term { closed: bool },
    /// An operator: a comparison (`= == != <> < <= > >=`) or arithmetic
    /// (`+ - * / % ||`).
    Op,
    /// Any other character: `( ) , ; *` and characters the language has no
    /// use for (the parser reports those).
    Punct(char),
}

/// A token: its kind and where it is, `start..end` in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        &source[self.start..self.end]
    }

    /// Spaces and comments: what the grammar skips between tokens.
    pub fn is_trivia(&self) -> bool {
        matches!(self.kind, Kind::Space | Kind::Comment)
    }

    /// A string, name or term that the input ended inside.
    pub fn is_open(&self) -> bool {
        matches!(
            self.kind,
            Kind::Str { closed: false }
                | Kind::Backtick { closed: false }
                | Kind::Term { closed: false }
        )
    }

    /// This token is the keyword `kw` (case-insensitive).
    pub fn is_keyword(&self, source: &str, kw: &str) -> bool {
        self.kind == Kind::Keyword && self.text(source).eq_ignore_ascii_case(kw)
    }
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_term_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '*' | '.' | '+' | '?')
}

/// The end of a quoted string opened at `start` (the quote character
/// `q`): the byte after its closing quote, and whether it was closed.
/// `\` escapes the next character; a doubled quote stands for itself.
fn quoted_end(s: &str, start: usize, q: char) -> (usize, bool) {
    let bytes = s.as_bytes();
    let q = q as u8;
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == q => {
                if bytes.get(i + 1) == Some(&q) {
                    i += 2;
                } else {
                    return (i + 1, true);
                }
            }
            _ => i += 1,
        }
    }
    (s.len(), false)
}

/// Advance over characters while `f` holds, from byte `i`.
fn take_while(s: &str, i: usize, f: impl Fn(char) -> bool) -> usize {
    s[i..]
        .char_indices()
        .find(|(_, c)| !f(*c))
        .map_or(s.len(), |(j, _)| i + j)
}

fn number_end(s: &str, i: usize) -> usize {
    let bytes = s.as_bytes();
    let digits = |from: usize| take_while(s, from, |c| c.is_ascii_digit());
    let mut j = digits(i);
    if bytes.get(j) == Some(&b'.') && bytes.get(j + 1).is_some_and(u8::is_ascii_digit) {
        j = digits(j + 1);
    }
    if matches!(bytes.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(bytes.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        if bytes.get(k).is_some_and(u8::is_ascii_digit) {
            j = digits(k);
        }
    }
    j
}

/// A term from its `#`: an optional `qualifier:`, then segments (words or
/// quoted strings) separated by `/`.
fn term_end(s: &str, start: usize) -> (usize, bool) {
    let bytes = s.as_bytes();
    let mut i = start + 1;
    // A qualifier: a word, or a header in backticks.
    let q = if bytes.get(i) == Some(&b'`') {
        s[i + 1..].find('`').map_or(i, |e| i + 1 + e + 1)
    } else {
        take_while(s, i, |c| c.is_ascii_alphanumeric() || c == '_')
    };
    if q > i && bytes.get(q) == Some(&b':') {
        i = q + 1;
    }
    loop {
        match bytes.get(i) {
            Some(b'\'' | b'"') => {
                let (e, closed) = quoted_end(s, i, bytes[i] as char);
                if !closed {
                    return (e, false);
                }
                i = e;
            }
            _ => i = take_while(s, i, is_term_char),
        }
        if bytes.get(i) == Some(&b'/') {
            i += 1;
        } else {
            return (i, true);
        }
    }
}

/// Every token of `source`, in order; their spans cover it exactly.
pub fn lex(source: &str) -> Vec<Token> {
    let s = source;
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i..].chars().next().expect("inside the text");
        let (kind, end) = match c {
            c if is_space(c) => (Kind::Space, take_while(s, i, is_space)),
            '-' if bytes.get(i + 1) == Some(&b'-') => {
                (Kind::Comment, s[i..].find('\n').map_or(s.len(), |j| i + j))
            }
            // Arithmetic: numbers are unsigned, `-` is an operator.
            '+' | '-' | '*' | '/' | '%' => (Kind::Op, i + 1),
            '|' if bytes.get(i + 1) == Some(&b'|') => (Kind::Op, i + 2),
            '0'..='9' => (Kind::Number, number_end(s, i)),
            '\'' | '"' => {
                let (e, closed) = quoted_end(s, i, c);
                (Kind::Str { closed }, e)
            }
            '`' => match s[i + 1..].find('`') {
                Some(j) => (Kind::Backtick { closed: true }, i + 1 + j + 1),
                None => (Kind::Backtick { closed: false }, s.len()),
            },
            '$' if s[i + 1..].starts_with(is_word_start) => {
                (Kind::Param, take_while(s, i + 1, is_word_char))
            }
            '#' => {
                let (e, closed) = term_end(s, i);
                (Kind::Term { closed }, e)
            }
            c if is_word_start(c) => {
                let e = take_while(s, i, is_word_char);
                let kind = if is_keyword(&s[i..e]) {
                    Kind::Keyword
                } else {
                    Kind::Word
                };
                (kind, e)
            }
            '!' | '<' | '>' | '=' => {
                let two = s.get(i..i + 2).unwrap_or("");
                if matches!(two, "!=" | "<>" | "<=" | ">=" | "==") {
                    (Kind::Op, i + 2)
                } else if c == '!' {
                    (Kind::Punct('!'), i + 1)
                } else {
                    (Kind::Op, i + 1)
                }
            }
            c => (Kind::Punct(c), i + c.len_utf8()),
        };
        out.push(Token {
            kind,
            start: i,
            end: end.min(s.len()),
        });
        i = end.min(s.len());
    }
    out
}

/// The tokens that are not spaces or comments.
pub fn significant(source: &str) -> impl Iterator<Item = Token> {
    lex(source).into_iter().filter(|t| !t.is_trivia())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Kind, &str)> {
        lex(s)
            .into_iter()
            .filter(|t| t.kind != Kind::Space)
            .map(|t| (t.kind, t.text(s)))
            .collect()
    }

    #[test]
    fn tokens_of_a_query() {
        let s = "where #DD/\"X-ray\" and model != 'a''b\\'c' by `clinical VQA task` -- note\nscore acc, n limit -3";
        assert_eq!(
            kinds(s),
            vec![
                (Kind::Keyword, "where"),
                (Kind::Term { closed: true }, "#DD/\"X-ray\""),
                (Kind::Keyword, "and"),
                (Kind::Word, "model"),
                (Kind::Op, "!="),
                (Kind::Str { closed: true }, "'a''b\\'c'"),
                (Kind::Keyword, "by"),
                (Kind::Backtick { closed: true }, "`clinical VQA task`"),
                (Kind::Comment, "-- note"),
                (Kind::Keyword, "score"),
                (Kind::Word, "acc"),
                (Kind::Punct(','), ","),
                (Kind::Word, "n"),
                (Kind::Keyword, "limit"),
                (Kind::Op, "-"),
                (Kind::Number, "3"),
            ]
        );
    }

    #[test]
    fn open_strings_names_and_terms() {
        assert_eq!(kinds("'ab")[0].0, Kind::Str { closed: false });
        assert_eq!(kinds("'a\\'")[0].0, Kind::Str { closed: false });
        assert_eq!(kinds("`x")[0].0, Kind::Backtick { closed: false });
        assert_eq!(kinds("#\"Onc")[0].0, Kind::Term { closed: false });
        assert_eq!(
            kinds("#modality:CT $who 2.5e-3"),
            vec![
                (Kind::Term { closed: true }, "#modality:CT"),
                (Kind::Param, "$who"),
                (Kind::Number, "2.5e-3"),
            ]
        );
    }

    #[test]
    fn tokens_cover_any_input() {
        let inputs = [
            "",
            "'",
            "\\",
            "--",
            "#",
            "#/",
            "$",
            "é ü ß 'ö'",
            "\u{feff}by model",
            "a\u{0}b",
            "!!!<<>>==",
            "-",
            "1e",
            "1.",
            "`",
            "'\\",
        ];
        for s in inputs {
            let toks = lex(s);
            let mut at = 0;
            for t in &toks {
                assert_eq!(t.start, at, "{s:?}: {toks:?}");
                assert!(t.end > t.start, "{s:?}: {toks:?}");
                at = t.end;
            }
            assert_eq!(at, s.len(), "{s:?}");
        }
    }
}
