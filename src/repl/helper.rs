//! The rustyline helper: completion, hints, highlighting and validation
//! (Enter on an unfinished statement continues it on the next line, and an
//! Enter that arrives in a burst of input, as in a paste, is held so that the
//! lines after it join the same input).

use super::complete::{complete, Vocabulary};
use crate::syntax::split::is_incomplete;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};
use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An Enter this soon after the line last changed came with the text before
/// it in one burst: pasted, or typed ahead while a statement ran. No one
/// types a key and Enter within it.
pub const BURST: Duration = Duration::from_millis(15);

/// What the prompt knows of input arriving in bursts.
#[derive(Debug, Default)]
pub struct Burst {
    /// While the prompt reads a line.
    pub reading: bool,
    /// The text being edited, and when it last changed.
    pub current: String,
    pub changed: Option<Instant>,
    /// The input up to an Enter that came in a burst: held, not yet run.
    pub held: Option<String>,
    /// When the prompt was interrupted to hand the held input over.
    pub signalled: Option<Instant>,
    /// The prompt has ended.
    pub done: bool,
}

impl Burst {
    /// A new line is being read.
    pub fn begin(&mut self) {
        *self = Burst {
            reading: true,
            ..Default::default()
        };
    }

    /// The line has been read: the held input, when the prompt was
    /// interrupted to hand it over.
    pub fn end(&mut self) -> Option<String> {
        let held = self.signalled.and(self.held.take());
        self.reading = false;
        self.held = None;
        self.signalled = None;
        held
    }

    /// True when input was held and nothing but blank space followed it
    /// for `quiet`: the burst is over and the held input should run.
    pub fn burst_over(&self, quiet: Duration) -> bool {
        self.reading
            && self
                .held
                .as_ref()
                .is_some_and(|h| h.trim_end() == self.current.trim_end())
            && self.changed.is_some_and(|t| t.elapsed() >= quiet)
    }

    fn note(&mut self, line: &str) {
        if self.current != line {
            self.current.clear();
            self.current.push_str(line);
            self.changed = Some(Instant::now());
        }
    }
}

pub type SharedBurst = Arc<Mutex<Burst>>;

pub struct MedqlHelper {
    pub vocab: Vocabulary,
    pub color: bool,
    files: FilenameCompleter,
    pub burst: SharedBurst,
}

impl MedqlHelper {
    pub fn new(vocab: Vocabulary, color: bool) -> MedqlHelper {
        MedqlHelper {
            vocab,
            color,
            files: FilenameCompleter::new(),
            burst: SharedBurst::default(),
        }
    }
}

fn wants_path(line: &str) -> bool {
    let t = line.trim_start();
    [".read ", ".save ", ".load items ", ".load predictions "]
        .iter()
        .any(|p| t.starts_with(p))
}

impl Completer for MedqlHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        if wants_path(&line[..pos]) {
            return self.files.complete(line, pos, ctx);
        }
        let (start, cands) = complete(&self.vocab, &line[..pos]);
        Ok((
            start,
            cands
                .into_iter()
                .map(|c| Pair {
                    display: c.display,
                    replacement: c.replacement,
                })
                .collect(),
        ))
    }
}

impl Hinter for MedqlHelper {
    type Hint = String;

    /// The rest of the only completion, when there is exactly one.
    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        // rustyline asks for a hint after every change of the line: the
        // time of the last change tells a paste from typing.
        if let Ok(mut b) = self.burst.lock() {
            b.note(line);
        }
        if pos < line.len() || line.trim().is_empty() || wants_path(line) {
            return None;
        }
        let (start, cands) = complete(&self.vocab, line);
        let word = &line[start..];
        if word.is_empty() || cands.len() != 1 {
            return None;
        }
        let rep = &cands[0].replacement;
        rep.strip_prefix(word)
            .filter(|rest| !rest.is_empty())
            .map(str::to_string)
    }
}

/// ANSI colours for the parts of a statement, token by token as the
/// lexer (and so the grammar) sees them.
pub fn highlight_text(line: &str) -> String {
    use crate::syntax::lex::{lex, Kind};
    const KW: &str = "\x1b[1;34m";
    const STR: &str = "\x1b[32m";
    const TERM: &str = "\x1b[35m";
    const NUM: &str = "\x1b[33m";
    const COMMENT: &str = "\x1b[2m";
    const META: &str = "\x1b[36m";
    const RESET: &str = "\x1b[0m";
    if line.trim_start().starts_with('.') {
        return format!("{META}{line}{RESET}");
    }
    const FUNC: &str = "\x1b[36m";
    let mut out = String::with_capacity(line.len() + 32);
    let tokens = lex(line);
    for (i, t) in tokens.iter().enumerate() {
        let text = t.text(line);
        // A function or metric name before its `(`.
        let call = t.kind == Kind::Word
            && tokens
                .get(i + 1)
                .is_some_and(|n| n.kind == Kind::Punct('('))
            && {
                let lower = text.to_lowercase();
                crate::bind::functions::find(&lower).is_some()
                    || lower == "div"
                    || crate::metrics::registry::find(&lower).is_some()
            };
        let colour = match t.kind {
            _ if call => Some(FUNC),
            Kind::Keyword => Some(KW),
            Kind::Str { .. } => Some(STR),
            Kind::Term { .. } => Some(TERM),
            Kind::Number => Some(NUM),
            Kind::Comment => Some(COMMENT),
            _ => None,
        };
        match colour {
            Some(c) => {
                out.push_str(c);
                out.push_str(text);
                out.push_str(RESET);
            }
            None => out.push_str(text),
        }
    }
    out
}

impl Highlighter for MedqlHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if self.color {
            Cow::Owned(highlight_text(line))
        } else {
            Cow::Borrowed(line)
        }
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
        } else {
            Cow::Borrowed(hint)
        }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.color
    }
}

/// Words after which a statement cannot end.
/// The last line of `text` with code on it, without its comment.
fn last_code_line(text: &str) -> &str {
    text.lines()
        .rev()
        .map(|l| match l.find("--") {
            Some(i) => &l[..i],
            None => l,
        })
        .map(str::trim_end)
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

/// True when `text` holds no statement, or its last statement ends with `;`.
pub fn ends_statement(text: &str) -> bool {
    crate::syntax::split::is_blank(text)
        || (!is_incomplete(text) && last_code_line(text).ends_with(';'))
}

/// True when Enter should run `text`; false when the statement goes on
/// (the parser decides: see [`crate::syntax::split::needs_more`]).
pub fn is_complete(text: &str) -> bool {
    let t = text.trim();
    t.is_empty() || t.starts_with('.') || !crate::syntax::split::needs_more(text)
}

impl Validator for MedqlHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if !is_complete(input) {
            return Ok(ValidationResult::Incomplete);
        }
        // An Enter in a burst of input may be followed by more lines
        // already on their way: hold the input and go on reading. The
        // prompt runs what was held once the input pauses.
        if let Ok(mut b) = self.burst.lock() {
            if b.reading && b.changed.is_some_and(|t| t.elapsed() < BURST) {
                b.held = Some(input.to_string());
                return Ok(ValidationResult::Incomplete);
            }
        }
        Ok(ValidationResult::Valid(None))
    }
}

impl Helper for MedqlHelper {}

#[cfg(test)]
mod tests {

    #[test]
    fn highlighting_follows_the_lexer() {
        let h = highlight_text(r"where a = 'x\' -- y' and #DD -- note");
        // The escaped quote keeps the string open past `-- y`, as the grammar reads it.
        assert!(h.contains("\x1b[32m'x\\' -- y'\x1b[0m"), "{h:?}");
        assert!(h.contains("\x1b[1;34mand\x1b[0m"), "{h:?}");
        assert!(h.contains("\x1b[35m#DD\x1b[0m"), "{h:?}");
        assert!(h.ends_with("\x1b[2m-- note\x1b[0m"), "{h:?}");
    }

    use super::*;

    #[test]
    fn complete_statements() {
        assert!(is_complete("by model score acc"));
        assert!(is_complete("by model score acc;"));
        assert!(!is_complete("by model score acc,"));
        assert!(!is_complete("where #DD and"));
        assert!(!is_complete("where task = 'Disease"));
        assert!(!is_complete("where (task = 'x'"));
        assert!(!is_complete("by model\n  score"));
        assert!(is_complete("by model score acc -- and"));
        assert!(is_complete(".tree DD"));
        assert!(is_complete(""));
    }

    #[test]
    fn statement_ends() {
        assert!(ends_statement(""));
        assert!(ends_statement("by model score n; -- done\n"));
        assert!(!ends_statement("where #DD"));
        assert!(!ends_statement("where task = 'a;"));
    }

    #[test]
    fn a_burst_is_over_when_nothing_follows_the_held_input() {
        let mut b = Burst::default();
        b.begin();
        b.note("by model score n;");
        b.held = Some("by model score n;".into());
        b.note("by model score n;\n");
        assert!(!b.burst_over(Duration::from_secs(60)));
        assert!(b.burst_over(Duration::ZERO));
        b.note("by model score n;\nwhere");
        assert!(!b.burst_over(Duration::ZERO));
        // Handed over only when the prompt was interrupted for it.
        assert_eq!(b.end(), None);
        b.begin();
        b.held = Some("x".into());
        b.signalled = Some(Instant::now());
        assert_eq!(b.end().as_deref(), Some("x"));
        assert!(!b.reading);
    }

    #[test]
    fn highlighting_marks_parts() {
        let h = highlight_text("where #DD and n > 3 -- c");
        assert!(h.contains("\x1b[1;34mwhere\x1b[0m"));
        assert!(h.contains("\x1b[35m#DD\x1b[0m"));
        assert!(h.contains("\x1b[33m3\x1b[0m"));
        assert!(h.contains("\x1b[2m-- c\x1b[0m"));
        // Calls: a function or metric before its `(`, not a column.
        let h = highlight_text("where length(prediction) > 3 having acc(legacy) > 1");
        assert!(h.contains("\x1b[36mlength\x1b[0m"));
        assert!(h.contains("\x1b[36macc\x1b[0m"));
        assert!(!h.contains("\x1b[36mprediction"));
    }
}
