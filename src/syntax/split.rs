//! Splitting a source text into statements at `;` outside quotes, backticks
//! and comments, keeping byte offsets so that spans stay absolute.

/// Byte ranges of the statements of `source`; statements holding only
/// whitespace and comments are left out.
pub fn split_statements(source: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let bytes = source.as_bytes();
    let mut start = 0;
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' && q != b'`' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'\'' | b'"' | b'`' => quote = Some(b),
                b'-' if bytes.get(i + 1) == Some(&b'-') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                b';' => {
                    push(source, start, i, &mut out);
                    start = i + 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
    push(source, start, source.len(), &mut out);
    out
}

fn push(source: &str, start: usize, end: usize, out: &mut Vec<(usize, usize)>) {
    if !is_blank(&source[start..end]) {
        out.push((start, end));
    }
}

/// True when the text holds nothing but whitespace and `--` comments.
pub fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        t.is_empty() || t.starts_with("--")
    })
}

/// True when the text ends inside a quote, backtick name or parenthesis: the
/// statement is not complete yet (used by the REPL for continuation lines).
pub fn is_incomplete(source: &str) -> bool {
    let bytes = source.as_bytes();
    let mut quote: Option<u8> = None;
    let mut depth: i64 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' && q != b'`' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'\'' | b'"' | b'`' => quote = Some(b),
                b'-' if bytes.get(i + 1) == Some(&b'-') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {}
            },
        }
        i += 1;
    }
    quote.is_some() || depth > 0
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
    fn incomplete_statements() {
        assert!(is_incomplete("where (a = 1"));
        assert!(is_incomplete("where a = 'x"));
        assert!(!is_incomplete("where a = 'x' -- ( open"));
        assert!(!is_incomplete("by model score acc"));
    }
}
