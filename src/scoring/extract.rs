//! Multiple-choice answer extraction, reproducing VLMEvalKit's exact-matching
//! rules item by item.
//!
//! Two rule sets are supported (see `Policy`; each is an entry of the
//! rule-set registry, `rules.rs`, which the rest of medql reads):
//!
//! * `Legacy`: the rules VLMEvalKit applied until August 2025 (the 2024 rules
//!   under which GMAI-MMBench was published).
//! * `Current`: today's rules, which add three changes: a letter must first
//!   occur among the last four tokens, an `answer is X` search runs when the
//!   letter pass found nothing usable, and the option-text pass gives up on
//!   predictions much longer than the option texts.
//!
//! Everything follows Python semantics, because that is what produced the
//! reference scores:
//!
//! * lengths count Unicode code points;
//! * lower-casing is `str.lower` (full mappings, final sigma), which Rust's
//!   `str::to_lowercase` implements too;
//! * whitespace is `str.isspace` / `str.split()` / `re`'s `\s`, which include
//!   the separators U+001C..U+001F (Rust's `char::is_whitespace` does not);
//! * `re.IGNORECASE` lets `s` match U+017F and `i` match U+0130 and U+0131,
//!   so the `answer is` pattern spells out its letter classes explicitly
//!   instead of relying on the regex engine's case folding.
//!
//! A null prediction (an empty cell read as NaN) behaves as the text `nan`.
//!
//! The Unicode tables are Rust's own; they can differ from a given Python's
//! (3.11 ships Unicode 14) only on characters assigned or changed since.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

/// Which rule produced an extraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// A single choice letter found as a whole token by the letter pass.
    Letter,
    /// One of the refusal phrases: the result is `Z`.
    Refusal,
    /// No choice letter, but a `Z` token: the result is `Z`.
    ZToken,
    /// The `answer is X` search (current policy only).
    AnswerIs,
    /// Exactly one option text occurs in the prediction.
    OptionText,
    /// Nothing matched: the result is `Z`.
    None,
}

impl Rule {
    /// The rule's name as shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Letter => "letter",
            Rule::Refusal => "refusal",
            Rule::ZToken => "z-token",
            Rule::AnswerIs => "answer-is",
            Rule::OptionText => "option-text",
            Rule::None => "none",
        }
    }
}

/// The extracted option letter and the rule that produced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extraction {
    /// An option letter, `b'A'..=b'E'` for GMAI-MMBench (later letters when
    /// more options are given), or `b'Z'` (no answer).
    pub choice: u8,
    /// The rule that produced `choice`.
    pub rule: Rule,
}

/// Which VLMEvalKit rule set to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// VLMEvalKit until August 2025 (the 2024 rules, `v2024`).
    Legacy,
    /// VLMEvalKit from PR #1175 (2025-08-04) until PR #1552 (2026-06-17),
    /// `v2025`: a letter counts only among the last four tokens, and the
    /// text pass refuses long predictions; no `answer is` search.
    V2025,
    /// VLMEvalKit today (`v2026`): `v2025` and the `answer is X` search.
    Current,
}

impl Policy {
    /// Since `v2025`: a single letter is accepted only when its first
    /// occurrence is among the last four tokens, and the text pass fails
    /// on a prediction longer than twice the option texts.
    fn late_and_short(self) -> bool {
        self != Policy::Legacy
    }

    /// Since `v2026`: the `answer is X` search.
    fn searches_answer_is(self) -> bool {
        self == Policy::Current
    }
}

/// What a null prediction (NaN in a data frame) turns into under `str()`.
const NULL_TEXT: &str = "nan";

/// A prediction containing this skips the letter pass (and, under the
/// current policy, the `answer is` search); only the text pass runs.
const API_FAILURE: &str = "Failed to obtain answer via API";

/// A prediction containing any of these yields `Z` at once.
const REFUSALS: [&str; 4] = [
    "Sorry, I can't help with images of people yet.",
    "I can't process this file.",
    "I'm sorry, but without the image provided",
    "Cannot determine the answer",
];

/// Byte length of the shortest of `API_FAILURE` and `REFUSALS`: a shorter
/// prediction cannot contain any of them.
const MIN_PHRASE_LEN: usize = 26;

/// Maximum number of option letters handled (`A`..=`Z`).
const MAX_LETTERS: usize = 26;

/// Index of `Z` among the letters.
const Z_INDEX: usize = 25;

// Character-level statements of the tokenizer's rules. The scanner below works
// on bytes (`ASCII_SEPARATOR`, `non_ascii_space`); the tests check it against
// these for every code point.

/// Python's `str.isspace()` (also `str.split()` and `re`'s `\s` on str).
#[cfg(test)]
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1C}'..='\u{1F}').contains(&c)
}

/// The characters that the letter pass replaces with a space before splitting.
#[cfg(test)]
fn is_letter_pass_punct(c: char) -> bool {
    matches!(
        c,
        '.' | '(' | ')' | '[' | ']' | ',' | ':' | ';' | '!' | '*' | '#' | '{' | '}'
    )
}

/// A character that separates letter-pass tokens.
#[cfg(test)]
fn is_token_separator(c: char) -> bool {
    is_py_space(c) || is_letter_pass_punct(c)
}

/// `ASCII_SEPARATOR[b]` tells whether ASCII byte `b` separates tokens.
static ASCII_SEPARATOR: [bool; 128] = {
    let mut t = [false; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = matches!(
            b as u8,
            b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | 0x1C
                ..=0x1F
                    | b' '
                    | b'.'
                    | b'('
                    | b')'
                    | b'['
                    | b']'
                    | b','
                    | b':'
                    | b';'
                    | b'!'
                    | b'*'
                    | b'#'
                    | b'{'
                    | b'}'
        );
        b += 1;
    }
    t
};

/// Width in bytes of the UTF-8 sequence starting with lead byte `lead`
/// (`lead >= 0x80`, from a valid `str`).
#[inline]
fn utf8_width(lead: u8) -> usize {
    if lead < 0xE0 {
        2
    } else if lead < 0xF0 {
        3
    } else {
        4
    }
}

/// Whether the non-ASCII character whose UTF-8 encoding starts at `b[i]`
/// (with width `w`) is Python whitespace. The non-ASCII whitespace set is
/// U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F
/// and U+3000.
#[inline]
fn non_ascii_space(b: &[u8], i: usize, w: usize) -> bool {
    match w {
        2 => b[i] == 0xC2 && (b[i + 1] == 0x85 || b[i + 1] == 0xA0),
        3 => match (b[i], b[i + 1], b[i + 2]) {
            (0xE1, 0x9A, 0x80) => true,
            (0xE2, 0x80, x) => matches!(x, 0x80..=0x8A | 0xA8 | 0xA9 | 0xAF),
            (0xE2, 0x81, 0x9F) => true,
            (0xE3, 0x80, 0x80) => true,
            _ => false,
        },
        _ => false,
    }
}

/// Whether the byte at `b[i]` separates tokens, for `i` at a character
/// boundary (`i == b.len()` counts as a separator: the end of the text).
#[inline]
fn separator_at(b: &[u8], i: usize) -> bool {
    match b.get(i) {
        None => true,
        Some(&c) if c < 0x80 => ASCII_SEPARATOR[c as usize],
        Some(&c) => non_ascii_space(b, i, utf8_width(c)),
    }
}

/// The letter-pass view of a prediction: which fixed phrases it contains,
/// its number of tokens and, for each upper-case ASCII letter, the position
/// of its first whole-token occurrence.
struct Scan {
    /// Contains `API_FAILURE`.
    api_failure: bool,
    /// Contains one of `REFUSALS`.
    refusal: bool,
    tokens: usize,
    first: [usize; MAX_LETTERS],
}

const ABSENT: usize = usize::MAX;

/// One pass over the bytes of `p`, without allocating:
///
/// * the substring tests for the fixed phrases: each starts with `F`, `S`,
///   `I` or `C`, so only positions holding an upper-case letter are compared;
/// * the letter-pass tokens: the punctuation of the letter pass and Python
///   whitespace separate tokens (the punctuation-to-space replacement and
///   `str.split()` together); a token counts from its first byte, and a
///   one-letter token is an upper-case ASCII byte with separators (or the
///   ends of the text) on both sides.
///
/// Every byte of a multi-byte character gets that character's separator
/// status, so token boundaries fall between characters.
///
/// Stops early once `API_FAILURE` is found: nothing else is needed then.
fn scan(p: &str) -> Scan {
    let b = p.as_bytes();
    let n = b.len();
    let phrases = n >= MIN_PHRASE_LEN;
    let mut out = Scan {
        api_failure: false,
        refusal: false,
        tokens: 0,
        first: [ABSENT; MAX_LETTERS],
    };
    let mut tokens = 0usize;
    let mut prev_sep = true;
    // Separator status of the character whose continuation bytes follow.
    let mut char_sep = false;
    for i in 0..n {
        let c = b[i];
        let sep = if c < 0x80 {
            ASCII_SEPARATOR[c as usize]
        } else {
            if c >= 0xC0 {
                char_sep = non_ascii_space(b, i, utf8_width(c));
            }
            char_sep
        };
        tokens += (prev_sep & !sep) as usize;
        if c.is_ascii_uppercase() {
            if prev_sep && separator_at(b, i + 1) {
                let k = (c - b'A') as usize;
                if out.first[k] == ABSENT {
                    out.first[k] = tokens - 1;
                }
            }
            if phrases {
                let rest = &b[i..];
                match c {
                    b'F' if rest.starts_with(API_FAILURE.as_bytes()) => {
                        out.api_failure = true;
                        return out;
                    }
                    b'S' | b'I' | b'C' if !out.refusal => {
                        out.refusal = REFUSALS.iter().any(|r| rest.starts_with(r.as_bytes()));
                    }
                    _ => {}
                }
            }
        }
        prev_sep = sep;
    }
    out.tokens = tokens;
    out
}

/// Outcome of the letter pass.
enum LetterPass {
    /// A final result.
    Found(Extraction),
    /// The letter pass failed; `api_failure` tells whether step 1.1 ended it.
    Failed { api_failure: bool },
}

fn letter_pass(policy: Policy, p: &str, choices: u32) -> LetterPass {
    letter_pass_of(policy, &scan(p), choices)
}

/// The letter pass, given the prediction's [`scan`].
fn letter_pass_of(policy: Policy, scan: &Scan, choices: u32) -> LetterPass {
    if scan.api_failure {
        return LetterPass::Failed { api_failure: true };
    }
    if scan.refusal {
        return LetterPass::Found(Extraction {
            choice: b'Z',
            rule: Rule::Refusal,
        });
    }
    let mut count = 0u32;
    let mut letter = 0usize;
    let mut bits = choices;
    while bits != 0 {
        let k = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        if scan.first[k] != ABSENT {
            count += 1;
            letter = k;
        }
    }
    if count == 1 {
        // Since v2025: `i > len(tokens) - 5`, in unsigned arithmetic.
        let accepted = !policy.late_and_short() || scan.first[letter] + 5 > scan.tokens;
        if accepted {
            return LetterPass::Found(Extraction {
                choice: b'A' + letter as u8,
                rule: Rule::Letter,
            });
        }
    } else if count == 0 && scan.first[Z_INDEX] != ABSENT {
        return LetterPass::Found(Extraction {
            choice: b'Z',
            rule: Rule::ZToken,
        });
    }
    LetterPass::Failed { api_failure: false }
}

/// Python whitespace as a regex class (Rust's `\s` lacks U+001C..U+001F).
const PY_SPACE_CLASS: &str = r"[\t\n\x0B\x0C\r\x1C-\x1F \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]";

/// `(?:correct\s+)?answer\s+is\s+\**([ABCD])\**` under Python's
/// `re.IGNORECASE`, with the letters that Python's case-insensitive matching
/// accepts written out (`s` also matches U+017F; `i` also U+0130 and U+0131).
fn answer_is_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let ws = PY_SPACE_CLASS;
        let s = r"[Ss\x{17F}]";
        let i = r"[Ii\x{130}\x{131}]";
        let pattern = format!(
            r"(?:[Cc][Oo][Rr][Rr][Ee][Cc][Tt]{ws}+)?[Aa][Nn]{s}[Ww][Ee][Rr]{ws}+{i}{s}{ws}+\**([ABCDabcd])\**"
        );
        Regex::new(&pattern).expect("answer-is pattern compiles")
    })
}

/// Whether `b` contains `wer` in any ASCII case. Python's case-insensitive
/// `w`, `e` and `r` match nothing outside ASCII, so any `answer` match
/// contains such a `wer`: a cheap necessary condition for the regex.
#[inline]
fn contains_wer(b: &[u8]) -> bool {
    let mut i = 0;
    while i + 2 < b.len() {
        if b[i] | 0x20 == b'w' && b[i + 1] | 0x20 == b'e' && b[i + 2] | 0x20 == b'r' {
            return true;
        }
        i += 1;
    }
    false
}

/// The current policy's `answer is X` search on the original prediction:
/// the first match decides; its letter, upper-cased, must be a choice.
fn answer_is(p: &str, choices: u32) -> Option<u8> {
    if !contains_wer(p.as_bytes()) {
        return None;
    }
    // The match ends with `\**([ABCDabcd])\**`: its letter is its last byte
    // that is not `*`. (Equivalent to reading capture group 1, and cheaper.)
    let m = answer_is_regex().find(p)?;
    let letter = *m.as_str().as_bytes().iter().rev().find(|&&c| c != b'*')?;
    let letter = letter.to_ascii_uppercase();
    let k = (letter - b'A') as u32;
    (choices & (1 << k) != 0).then_some(letter)
}

/// Python's `str.lower()`.
fn py_lower(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        }
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// Number of Unicode code points, like Python's `len` on a str.
#[inline]
fn char_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// The option-text pass of every policy at once: the search runs once
/// (it is the same for all); a policy with the length guard gets nothing
/// when the prediction is too long.
struct TextPass {
    /// The guard's bound: twice the option texts' length, in code points.
    bound: usize,
    /// The prediction's length and its lower-cased length, in code points
    /// (the latter only differs for non-ASCII text).
    len: usize,
    lowered_len: Option<usize>,
    /// The search's result, made when first needed.
    found: Option<Option<u8>>,
}

impl TextPass {
    fn new(p: &str, options: &[Option<&str>], choices: u32) -> TextPass {
        let total: usize = choice_texts(options, choices)
            .map(|(_, t)| char_len(t))
            .sum();
        TextPass {
            bound: total.saturating_mul(2),
            len: char_len(p),
            lowered_len: None,
            found: None,
        }
    }

    /// [`text_pass`] under `policy`.
    fn result(
        &mut self,
        policy: Policy,
        p: &str,
        options: &[Option<&str>],
        choices: u32,
    ) -> Option<u8> {
        if policy.late_and_short() {
            if self.len > self.bound {
                return None;
            }
            if !p.is_ascii() {
                let lowered = *self
                    .lowered_len
                    .get_or_insert_with(|| char_len(&p.to_lowercase()));
                if lowered > self.bound {
                    return None;
                }
            }
        }
        *self
            .found
            .get_or_insert_with(|| text_pass(Policy::Legacy, p, options, choices))
    }
}

/// The option-text pass: the choices whose lower-cased option text occurs in
/// the lower-cased prediction; exactly one gives the result.
fn text_pass(policy: Policy, p: &str, options: &[Option<&str>], choices: u32) -> Option<u8> {
    let mut bound = usize::MAX;
    if policy.late_and_short() {
        // len(P.lower()) > 2 * sum(len(option text)), lengths in code points,
        // option texts as given (not lower-cased).
        let total: usize = choice_texts(options, choices)
            .map(|(_, t)| char_len(t))
            .sum();
        bound = total.saturating_mul(2);
        // Lower-casing never shortens a string, so this settles most
        // long predictions without lower-casing them.
        if char_len(p) > bound {
            return None;
        }
    }
    // An ASCII prediction is compared without case against ASCII option
    // texts in place; it is lower-cased (once) only when it is long or an
    // option text is not ASCII. Anything else is lower-cased up front.
    let p_ascii = p.is_ascii();
    let mut lowered: Option<String> = None;
    if !p_ascii {
        let lp = p.to_lowercase();
        // The lower-cased text can be longer (e.g. 'İ' becomes two code points).
        if policy.late_and_short() && char_len(&lp) > bound {
            return None;
        }
        lowered = Some(lp);
    }
    let mut found = None;
    for (k, text) in choice_texts(options, choices) {
        let hit = if p_ascii && text.is_ascii() && p.len() <= SHORT_TEXT {
            // Both ASCII: lower-casing is byte-wise and keeps positions.
            contains_ascii_nocase(p.as_bytes(), text.as_bytes())
        } else {
            let hay = lowered.get_or_insert_with(|| p.to_ascii_lowercase());
            hay.contains(py_lower(text).as_ref())
        };
        if hit {
            if found.is_some() {
                return None;
            }
            found = Some(b'A' + k as u8);
        }
    }
    found
}

/// Predictions up to this many bytes are searched in place by
/// `contains_ascii_nocase`; longer ones are lower-cased once and searched with
/// the standard substring search (which is linear in the worst case).
const SHORT_TEXT: usize = 512;

/// Whether `needle` occurs in `hay`, comparing ASCII letters without case:
/// a direct scan, meant for short haystacks (no searcher set-up, no copy).
fn contains_ascii_nocase(hay: &[u8], needle: &[u8]) -> bool {
    if needle.len() > hay.len() {
        return false;
    }
    if needle.is_empty() {
        return true;
    }
    (0..=hay.len() - needle.len()).any(|i| {
        hay[i].eq_ignore_ascii_case(&needle[0])
            && hay[i..i + needle.len()].eq_ignore_ascii_case(needle)
    })
}

/// The (letter index, option text) of every choice, in letter order.
fn choice_texts<'a>(
    options: &'a [Option<&'a str>],
    choices: u32,
) -> impl Iterator<Item = (usize, &'a str)> + 'a {
    options
        .iter()
        .enumerate()
        .take(MAX_LETTERS)
        .filter(move |(k, _)| choices & (1 << k) != 0)
        .map(|(k, t)| (k, t.unwrap_or("")))
}

/// Bit `k` set when letter `'A' + k` is a choice (present, non-empty text).
#[inline]
fn choice_mask(options: &[Option<&str>]) -> u32 {
    let mut mask = 0u32;
    for (k, t) in options.iter().enumerate().take(MAX_LETTERS) {
        if matches!(t, Some(s) if !s.is_empty()) {
            mask |= 1 << k;
        }
    }
    mask
}

/// Extracts the option letter of a multiple-choice prediction.
///
/// `options[i]` is the option text of letter `'A' + i`; `None` or `Some("")`
/// means there is no such option. A `None` prediction behaves as `nan`.
pub fn extract(policy: Policy, prediction: Option<&str>, options: &[Option<&str>]) -> Extraction {
    let p = prediction.unwrap_or(NULL_TEXT);
    let choices = choice_mask(options);
    match letter_pass(policy, p, choices) {
        LetterPass::Found(e) => return e,
        LetterPass::Failed { api_failure } => {
            // The current policy's `answer is X` search, skipped when the
            // API-failure marker ended the letter pass.
            let searched = if policy.searches_answer_is() && !api_failure {
                answer_is(p, choices)
            } else {
                None
            };
            if let Some(choice) = searched {
                return Extraction {
                    choice,
                    rule: Rule::AnswerIs,
                };
            }
        }
    }
    match text_pass(policy, p, options, choices) {
        Some(choice) => Extraction {
            choice,
            rule: Rule::OptionText,
        },
        None => Extraction {
            choice: b'Z',
            rule: Rule::None,
        },
    }
}

/// [`extract`] under each of `policies`, into `out` (one per policy),
/// sharing what the policies have in common: the prediction is scanned
/// once, and the `answer is` search and the option-text search run at
/// most once each.
pub fn extract_each(
    policies: &[Policy],
    prediction: Option<&str>,
    options: &[Option<&str>],
    out: &mut [Extraction],
) {
    let p = prediction.unwrap_or(NULL_TEXT);
    let choices = choice_mask(options);
    let scanned = scan(p);
    let mut answer: Option<Option<u8>> = None;
    let mut text: Option<TextPass> = None;
    for (policy, out) in policies.iter().zip(out.iter_mut()) {
        let api_failure = match letter_pass_of(*policy, &scanned, choices) {
            LetterPass::Found(e) => {
                *out = e;
                continue;
            }
            LetterPass::Failed { api_failure } => api_failure,
        };
        if policy.searches_answer_is() && !api_failure {
            if let Some(choice) = *answer.get_or_insert_with(|| answer_is(p, choices)) {
                *out = Extraction {
                    choice,
                    rule: Rule::AnswerIs,
                };
                continue;
            }
        }
        let t = text.get_or_insert_with(|| TextPass::new(p, options, choices));
        *out = match t.result(*policy, p, options, choices) {
            Some(choice) => Extraction {
                choice,
                rule: Rule::OptionText,
            },
            None => Extraction {
                choice: b'Z',
                rule: Rule::None,
            },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABCD: [Option<&str>; 4] = [
        Some("barrett's esophagus"),
        Some("gastrointestinal tract cancer"),
        Some("high-grade dysplasia"),
        Some("polyp"),
    ];

    fn ex(policy: Policy, p: &str, opts: &[Option<&str>]) -> (char, Rule) {
        let e = extract(policy, Some(p), opts);
        (e.choice as char, e.rule)
    }

    #[test]
    fn the_three_eras_differ_where_their_rules_do() {
        let eras =
            |p: &str| [Policy::Legacy, Policy::V2025, Policy::Current].map(|e| ex(e, p, &ABCD));
        // A letter early in a long answer: only v2024 takes it; v2026
        // finds it by `answer is`; v2025 has neither.
        assert_eq!(
            eras("I think the answer is C because of what the image shows here"),
            [
                ('C', Rule::Letter),
                ('Z', Rule::None),
                ('C', Rule::AnswerIs)
            ]
        );
        // An option text in a prediction over twice the options' length:
        // v2024 finds it, v2025 and v2026 refuse the text pass.
        let long = format!("polyp {}", "and more words ".repeat(10));
        assert_eq!(
            eras(&long),
            [
                ('D', Rule::OptionText),
                ('Z', Rule::None),
                ('Z', Rule::None)
            ]
        );
        // A letter among the last four tokens: every era takes it.
        assert_eq!(eras("so it is B"), [('B', Rule::Letter); 3]);
    }

    fn both(p: &str, opts: &[Option<&str>]) -> [(char, Rule); 2] {
        [ex(Policy::Legacy, p, opts), ex(Policy::Current, p, opts)]
    }

    // ----- a straightforward transcription of the rules, used as an oracle --

    fn naive_tokens(p: &str) -> Vec<String> {
        let replaced: String = p
            .chars()
            .map(|c| if is_letter_pass_punct(c) { ' ' } else { c })
            .collect();
        replaced
            .split(is_py_space)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn naive_extract(
        policy: Policy,
        prediction: Option<&str>,
        options: &[Option<&str>],
    ) -> Extraction {
        let p = prediction.unwrap_or("nan");
        let choices: Vec<(char, &str)> = options
            .iter()
            .enumerate()
            .filter_map(|(k, t)| match t {
                Some(s) if !s.is_empty() => Some(((b'A' + k as u8) as char, *s)),
                _ => None,
            })
            .collect();
        let z = |rule| Extraction { choice: b'Z', rule };
        let mut letter_failed_by_api = false;
        if p.contains(API_FAILURE) {
            letter_failed_by_api = true;
        } else {
            if REFUSALS.iter().any(|r| p.contains(r)) {
                return z(Rule::Refusal);
            }
            let tokens = naive_tokens(p);
            let present: Vec<char> = choices
                .iter()
                .map(|(c, _)| *c)
                .filter(|c| tokens.iter().any(|t| t == &c.to_string()))
                .collect();
            if present.len() == 1 {
                let c = present[0];
                let i = tokens.iter().position(|t| t == &c.to_string()).unwrap() as i64;
                if policy == Policy::Legacy || i > tokens.len() as i64 - 5 {
                    return Extraction {
                        choice: c as u8,
                        rule: Rule::Letter,
                    };
                }
            } else if present.is_empty() && tokens.iter().any(|t| t == "Z") {
                return z(Rule::ZToken);
            }
        }
        let searched = if policy == Policy::Current && !letter_failed_by_api {
            answer_is_regex().captures(p).map(|c| c[1].to_uppercase())
        } else {
            None
        };
        if let Some(l) = searched {
            if let Some((ch, _)) = choices.iter().find(|(ch, _)| ch.to_string() == l) {
                return Extraction {
                    choice: *ch as u8,
                    rule: Rule::AnswerIs,
                };
            }
        }
        let lp = p.to_lowercase();
        if policy != Policy::Legacy {
            let total: usize = choices.iter().map(|(_, t)| t.chars().count()).sum();
            if lp.chars().count() > 2 * total {
                return z(Rule::None);
            }
        }
        let cands: Vec<char> = choices
            .iter()
            .filter(|(_, t)| lp.contains(&t.to_lowercase()))
            .map(|(c, _)| *c)
            .collect();
        if cands.len() == 1 {
            return Extraction {
                choice: cands[0] as u8,
                rule: Rule::OptionText,
            };
        }
        z(Rule::None)
    }

    // ----- basics ------------------------------------------------------------

    #[test]
    fn min_phrase_len_is_the_shortest_phrase() {
        let shortest = REFUSALS.iter().chain([&API_FAILURE]).map(|p| p.len()).min();
        assert_eq!(shortest, Some(MIN_PHRASE_LEN));
    }

    #[test]
    fn rule_names() {
        assert_eq!(Rule::Letter.as_str(), "letter");
        assert_eq!(Rule::Refusal.as_str(), "refusal");
        assert_eq!(Rule::ZToken.as_str(), "z-token");
        assert_eq!(Rule::AnswerIs.as_str(), "answer-is");
        assert_eq!(Rule::OptionText.as_str(), "option-text");
        assert_eq!(Rule::None.as_str(), "none");
    }

    #[test]
    fn single_letter_tokens() {
        for p in [
            "B",
            "B. gastrointestinal",
            "(B)",
            "[B]",
            "**B**",
            "{B}",
            "#B",
            "B:",
            "B;",
            "B!",
            "B,",
        ] {
            assert_eq!(both(p, &ABCD), [('B', Rule::Letter); 2], "{p:?}");
        }
        assert_eq!(
            both("The answer: (C) high-grade", &ABCD),
            [('C', Rule::Letter); 2]
        );
    }

    #[test]
    fn letters_glued_to_other_characters_are_not_tokens() {
        // '-', '/', '\'', '"' and '?' are not separators.
        for p in ["B-cell", "A/B", "B'", "\"B\"", "B?", "Ａ", "B\u{200B}"] {
            assert_eq!(both(p, &ABCD), [('Z', Rule::None); 2], "{p:?}");
        }
    }

    #[test]
    fn lowercase_letters_are_not_tokens() {
        assert_eq!(both("b", &ABCD), [('Z', Rule::None); 2]);
        assert_eq!(both("option c", &ABCD), [('Z', Rule::None); 2]);
    }

    #[test]
    fn letters_that_are_not_choices_are_ignored() {
        let abc = [Some("x1"), Some("x2"), Some("x3")];
        assert_eq!(both("D", &abc), [('Z', Rule::None); 2]);
        assert_eq!(both("D or C", &abc), [('C', Rule::Letter); 2]);
        // A missing (None) or empty option is no choice, even between others.
        let gap = [Some("x1"), None, Some("x3"), Some(""), Some("x5")];
        assert_eq!(both("B", &gap), [('Z', Rule::None); 2]);
        assert_eq!(both("D", &gap), [('Z', Rule::None); 2]);
        assert_eq!(both("E", &gap), [('E', Rule::Letter); 2]);
        assert_eq!(both("B or E", &gap), [('E', Rule::Letter); 2]);
    }

    #[test]
    fn two_letters_fail_the_letter_pass() {
        // Neither policy takes a letter; the text pass finds "polyp".
        assert_eq!(both("A or D: polyp", &ABCD), [('D', Rule::OptionText); 2]);
        assert_eq!(both("A or B", &ABCD), [('Z', Rule::None); 2]);
        // Two letters and a Z token: not Z (Z only counts when no letter is found).
        assert_eq!(both("A B Z", &ABCD), [('Z', Rule::None); 2]);
        // The same letter twice is one letter.
        assert_eq!(both("A. yes, A", &ABCD), [('A', Rule::Letter); 2]);
    }

    #[test]
    fn z_token() {
        assert_eq!(both("Z", &ABCD), [('Z', Rule::ZToken); 2]);
        assert_eq!(
            both("(Z) none of the above", &ABCD),
            [('Z', Rule::ZToken); 2]
        );
        // A Z token does not stop the current policy's letter rule when a
        // letter is found but too early: the letter pass just fails.
        let p = "A is wrong here, the image shows something else entirely Z";
        assert_eq!(ex(Policy::Legacy, p, &ABCD), ('A', Rule::Letter));
        assert_eq!(ex(Policy::Current, p, &ABCD), ('Z', Rule::None));
        // 'z' is not a Z token.
        assert_eq!(both("z", &ABCD), [('Z', Rule::None); 2]);
    }

    #[test]
    fn refusal_phrases() {
        for r in REFUSALS {
            let p = format!("B. {r} polyp");
            assert_eq!(both(&p, &ABCD), [('Z', Rule::Refusal); 2], "{p:?}");
        }
        // Case-sensitive substring test.
        assert_eq!(
            both("cannot determine the answer: B", &ABCD),
            [('B', Rule::Letter); 2]
        );
        // Current policy: a refusal wins over 'answer is'.
        assert_eq!(
            ex(
                Policy::Current,
                "Cannot determine the answer. The answer is A or B",
                &ABCD
            ),
            ('Z', Rule::Refusal)
        );
    }

    #[test]
    fn fixed_phrases_are_plain_substrings() {
        // Anywhere in the text, even glued to other characters.
        assert_eq!(
            both("BCannot determine the answer", &ABCD),
            [('Z', Rule::Refusal); 2]
        );
        assert_eq!(
            both("xFailed to obtain answer via APIx polyp", &ABCD),
            [('D', Rule::OptionText); 2]
        );
        // The API-failure marker wins even when a refusal comes first.
        let p = "I can't process this file. Failed to obtain answer via API polyp";
        assert_eq!(both(p, &ABCD), [('D', Rule::OptionText); 2]);
        // A phrase cut short is no phrase.
        assert_eq!(
            both("Cannot determine the answe: B", &ABCD),
            [('B', Rule::Letter); 2]
        );
        assert_eq!(
            both("Failed to obtain answer via AP B", &ABCD),
            [('B', Rule::Letter); 2]
        );
    }

    #[test]
    fn api_failure_skips_letter_pass_but_not_text_pass() {
        let p = "Failed to obtain answer via API. B";
        assert_eq!(both(p, &ABCD), [('Z', Rule::None); 2]);
        let p = "Failed to obtain answer via API. B polyp";
        assert_eq!(both(p, &ABCD), [('D', Rule::OptionText); 2]);
        // It also overrides the refusal phrases.
        let p = "Failed to obtain answer via API. Cannot determine the answer. polyp";
        assert_eq!(both(p, &ABCD), [('D', Rule::OptionText); 2]);
        // And under the current policy the 'answer is' search does not run.
        let p = "Failed to obtain answer via API; the answer is B";
        assert_eq!(both(p, &ABCD), [('Z', Rule::None); 2]);
        let p = "Failed to obtain answer via API; the answer is B, a polyp";
        assert_eq!(both(p, &ABCD), [('D', Rule::OptionText); 2]);
    }

    #[test]
    fn current_letter_must_first_occur_in_last_four_tokens() {
        // 5 tokens: position 0 is rejected (0 > 0 fails), position 1 accepted.
        assert_eq!(ex(Policy::Current, "A x y z w", &ABCD), ('Z', Rule::None));
        assert_eq!(ex(Policy::Legacy, "A x y z w", &ABCD), ('A', Rule::Letter));
        assert_eq!(ex(Policy::Current, "x A y z w", &ABCD), ('A', Rule::Letter));
        // 4 tokens: any position is fine (0 > -1).
        assert_eq!(ex(Policy::Current, "A x y z", &ABCD), ('A', Rule::Letter));
        // The first occurrence counts, not the last one.
        assert_eq!(ex(Policy::Current, "A x y z w A", &ABCD), ('Z', Rule::None));
        // Punctuation-only pieces are no tokens.
        assert_eq!(
            ex(Policy::Current, "A ... y . z ! w", &ABCD),
            ('A', Rule::Letter)
        );
        // Falling back to the text pass.
        let p = "A polyp is visible in the region";
        assert_eq!(ex(Policy::Current, p, &ABCD), ('D', Rule::OptionText));
        assert_eq!(ex(Policy::Legacy, p, &ABCD), ('A', Rule::Letter));
    }

    #[test]
    fn answer_is_search() {
        // The famous one: the article 'a' is read as option A.
        let p = "the answer is a benign lesion";
        assert_eq!(ex(Policy::Current, p, &ABCD), ('A', Rule::AnswerIs));
        assert_eq!(ex(Policy::Legacy, p, &ABCD), ('Z', Rule::None));
        // Rescues a letter that is too early under the current rule.
        let p = "The answer is B because the lesion is large and irregular";
        assert_eq!(ex(Policy::Current, p, &ABCD), ('B', Rule::AnswerIs));
        assert_eq!(ex(Policy::Legacy, p, &ABCD), ('B', Rule::Letter));
        // Two letters: the search decides under current.
        let p = "A and C are wrong; the Correct   Answer IS **C**.";
        assert_eq!(ex(Policy::Current, p, &ABCD), ('C', Rule::AnswerIs));
        assert_eq!(ex(Policy::Legacy, p, &ABCD), ('Z', Rule::None));
        // Only A-D: E is never found this way.
        let five = [Some("p1"), Some("p2"), Some("p3"), Some("p4"), Some("p5")];
        let p = "A or E, the answer is E";
        assert_eq!(ex(Policy::Current, p, &five), ('Z', Rule::None));
        // The first match decides, even when its letter is not a choice.
        let abc = [Some("q1"), Some("q2"), Some("q3")];
        let p = "the answer is d, no wait, the answer is b";
        assert_eq!(ex(Policy::Current, p, &abc), ('Z', Rule::None));
        // Needs whitespace between the words.
        let p = "A or B; answeris B";
        assert_eq!(ex(Policy::Current, p, &ABCD), ('Z', Rule::None));
        // Does not run after the letter pass produced a Z token.
        assert_eq!(
            ex(Policy::Current, "Z; the answer is b", &ABCD),
            ('Z', Rule::ZToken)
        );
    }

    #[test]
    fn answer_is_uses_python_whitespace_and_case_folding() {
        // U+001F is whitespace for Python's \s (not for Rust's).
        let p = "A or B? answer\u{1F}is\u{1F}b";
        assert_eq!(ex(Policy::Current, p, &ABCD), ('B', Rule::AnswerIs));
        // Python's IGNORECASE: 's' ~ U+017F, 'i' ~ U+0130 / U+0131.
        let p = "A or B? an\u{17F}wer \u{131}s c";
        assert_eq!(ex(Policy::Current, p, &ABCD), ('C', Rule::AnswerIs));
        let p = "A or B? ANSWER \u{130}S D";
        assert_eq!(ex(Policy::Current, p, &ABCD), ('D', Rule::AnswerIs));
        // But no Unicode look-alikes of the letters themselves.
        let p = "A or B? answer is \u{FF23}";
        assert_eq!(ex(Policy::Current, p, &ABCD), ('Z', Rule::None));
        // NBSP and ideographic space are whitespace.
        let p = "A or B? answer\u{A0}is\u{3000}c";
        assert_eq!(ex(Policy::Current, p, &ABCD), ('C', Rule::AnswerIs));
    }

    #[test]
    fn option_text_pass() {
        assert_eq!(
            both("It looks like a Polyp.", &ABCD),
            [('D', Rule::OptionText); 2]
        );
        // Two option texts found: fails.
        let opts = [Some("polyp"), Some("polyp with dysplasia")];
        assert_eq!(
            both("a polyp with dysplasia", &opts),
            [('Z', Rule::None); 2]
        );
        assert_eq!(both("a polyp", &opts), [('A', Rule::OptionText); 2]);
        // Non-ASCII text, lower-cased the Python way.
        let opts = [Some("Ödem"), Some("Σήψη"), Some("normal")];
        assert_eq!(both("ÖDEM SICHTBAR", &opts), [('A', Rule::OptionText); 2]);
        assert_eq!(both("ΣΉΨΗ", &opts), [('B', Rule::OptionText); 2]);
    }

    #[test]
    fn option_text_pass_lowercases_like_python() {
        // The Kelvin sign lower-cases to ASCII 'k'.
        let opts = [Some("\u{212A}i-67 high"), Some("low")];
        assert_eq!(both("ki-67 high", &opts), [('A', Rule::OptionText); 2]);
        // Final sigma.
        let opts = [Some("οδος"), Some("x")];
        assert_eq!(both("ΟΔΟΣ", &opts), [('A', Rule::OptionText); 2]);
        assert_eq!(both("ΟΔΟΣΑ", &opts), [('Z', Rule::None); 2]);
        // A long prediction (legacy has no length guard).
        let p = "x".repeat(2000) + " It is a POLYP.";
        assert_eq!(ex(Policy::Legacy, &p, &ABCD), ('D', Rule::OptionText));
        assert_eq!(ex(Policy::Current, &p, &ABCD), ('Z', Rule::None));
        let p = "x".repeat(2000) + " nothing";
        assert_eq!(ex(Policy::Legacy, &p, &ABCD), ('Z', Rule::None));
    }

    #[test]
    fn current_length_guard() {
        // Options sum to 10 characters: predictions up to 20 characters pass.
        let opts = [Some("polyp"), Some("tumor")];
        let p20 = "x".repeat(15) + "polyp";
        let p21 = "x".repeat(16) + "polyp";
        assert_eq!(both(&p20, &opts), [('A', Rule::OptionText); 2]);
        assert_eq!(ex(Policy::Current, &p21, &opts), ('Z', Rule::None));
        assert_eq!(ex(Policy::Legacy, &p21, &opts), ('A', Rule::OptionText));
        // Lengths are code points, not bytes.
        let p = "é".repeat(15) + "polyp";
        assert_eq!(ex(Policy::Current, &p, &opts), ('A', Rule::OptionText));
        // The guard measures the lower-cased prediction: 'İ' lower-cases to
        // two code points, taking 20 characters to 21.
        let p = "\u{130}".to_string() + &"x".repeat(14) + "polyp";
        assert_eq!(p.chars().count(), 20);
        assert_eq!(ex(Policy::Current, &p, &opts), ('Z', Rule::None));
        assert_eq!(ex(Policy::Legacy, &p, &opts), ('A', Rule::OptionText));
        // The option texts are measured as given.
        let opts = [Some("\u{130}x"), Some("y")];
        assert_eq!(
            ex(Policy::Current, "i\u{307}x.zz", &opts),
            ('A', Rule::OptionText)
        );
        assert_eq!(
            ex(Policy::Current, "i\u{307}x.zzz", &opts),
            ('Z', Rule::None)
        );
    }

    #[test]
    fn null_prediction_is_nan() {
        assert_eq!(
            extract(Policy::Legacy, None, &ABCD),
            Extraction {
                choice: b'Z',
                rule: Rule::None
            }
        );
        assert_eq!(
            extract(Policy::Current, None, &ABCD),
            Extraction {
                choice: b'Z',
                rule: Rule::None
            }
        );
        let opts = [Some("NaN"), Some("polyp")];
        for policy in [Policy::Legacy, Policy::V2025, Policy::Current] {
            assert_eq!(
                extract(policy, None, &opts),
                Extraction {
                    choice: b'A',
                    rule: Rule::OptionText
                }
            );
            assert_eq!(
                extract(policy, None, &opts),
                extract(policy, Some("nan"), &opts)
            );
        }
    }

    #[test]
    fn empty_prediction() {
        assert_eq!(both("", &ABCD), [('Z', Rule::None); 2]);
        assert_eq!(both(" \t\n", &ABCD), [('Z', Rule::None); 2]);
        assert_eq!(both("", &[]), [('Z', Rule::None); 2]);
        assert_eq!(both("A", &[]), [('Z', Rule::None); 2]);
    }

    #[test]
    fn python_whitespace_splits_tokens() {
        for sep in [
            '\u{1C}', '\u{1D}', '\u{1E}', '\u{1F}', '\u{85}', '\u{A0}', '\u{1680}', '\u{2003}',
            '\u{3000}',
        ] {
            let p = format!("answer{sep}B");
            assert_eq!(both(&p, &ABCD), [('B', Rule::Letter); 2], "{sep:?}");
        }
        // Not whitespace: zero-width space, U+180E, U+FEFF.
        for glue in ['\u{200B}', '\u{180E}', '\u{FEFF}'] {
            let p = format!("answer{glue}B");
            assert_eq!(both(&p, &ABCD), [('Z', Rule::None); 2], "{glue:?}");
        }
    }

    #[test]
    fn separator_bytes_match_python_for_every_code_point() {
        let python_space: Vec<u32> = vec![
            0x9, 0xA, 0xB, 0xC, 0xD, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680, 0x2000,
            0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028,
            0x2029, 0x202F, 0x205F, 0x3000,
        ];
        let mut buf = [0u8; 4];
        for cp in 0..=0x10FFFFu32 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            assert_eq!(is_py_space(c), python_space.contains(&cp), "U+{cp:04X}");
            let s = c.encode_utf8(&mut buf);
            let b = s.as_bytes();
            let byte_sep = if b[0] < 0x80 {
                ASCII_SEPARATOR[b[0] as usize]
            } else {
                assert_eq!(utf8_width(b[0]), b.len());
                non_ascii_space(b, 0, b.len())
            };
            assert_eq!(byte_sep, is_token_separator(c), "U+{cp:04X}");
        }
    }

    #[test]
    fn token_scan_counts_and_positions() {
        let s = scan("  A.B (C)x Z  é ZZ A\u{1F}D");
        // Tokens: A B C x Z é ZZ A D
        assert_eq!(s.tokens, 9);
        assert_eq!(s.first[0], 0);
        assert_eq!(s.first[1], 1);
        assert_eq!(s.first[2], 2);
        assert_eq!(s.first[3], 8);
        assert_eq!(s.first[25], 4);
        assert_eq!(s.first[4], ABSENT);
        let s = scan("(C)x");
        assert_eq!(s.tokens, 2);
        assert_eq!(s.first[2], 0);
        let s = scan("");
        assert_eq!(s.tokens, 0);
        assert!(s.first.iter().all(|&f| f == ABSENT));
    }

    #[test]
    fn lowercase_matches_python_examples() {
        assert_eq!(py_lower("ΑΣ ΑΣΑ"), "ας ασα");
        assert_eq!(py_lower("\u{130}"), "i\u{307}");
        assert_eq!(py_lower("ABC"), "abc");
        assert_eq!(py_lower("\u{212A}"), "k");
    }

    /// Random predictions over an alphabet full of edge cases, checked
    /// against the straightforward transcription of the rules.
    #[test]
    fn matches_naive_oracle_on_random_inputs() {
        let long = "lorem IPSUM polyp ".repeat(40);
        let pieces: &[&str] = &[
            &long,
            "A",
            "B",
            "C",
            "D",
            "E",
            "Z",
            "a",
            "b",
            "z",
            " ",
            "  ",
            "\t",
            "\n",
            "\u{1F}",
            "\u{1C}",
            "\u{A0}",
            "\u{3000}",
            "\u{200B}",
            ".",
            "(",
            ")",
            "[",
            "]",
            ",",
            ":",
            ";",
            "!",
            "*",
            "#",
            "{",
            "}",
            "-",
            "/",
            "answer",
            "Answer",
            "ANSWER",
            "an\u{17F}wer",
            "is",
            "IS",
            "\u{131}s",
            "correct",
            "the answer is",
            "polyp",
            "POLYP",
            "cancer",
            "\u{130}",
            "é",
            "Σ",
            "nan",
            "Failed to obtain answer via API",
            "Cannot determine the answer",
            "I can't process this file.",
            "x",
            "lesion",
            "dysplasia",
        ];
        let option_sets: &[&[Option<&str>]] = &[
            &ABCD,
            &[Some("polyp"), Some("cancer"), Some("nan")],
            &[
                Some("A"),
                None,
                Some("lesion"),
                Some(""),
                Some("polyp cancer"),
            ],
            &[Some("\u{130}"), Some("σ"), Some("é")],
            &[Some("x"), Some("is")],
            &[],
        ];
        let mut state = 0x2545F4914F6CDD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..60_000 {
            let n = (next() % 14) as usize;
            let mut p = String::new();
            for _ in 0..n {
                p.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            let opts = option_sets[(next() % option_sets.len() as u64) as usize];
            let policies = [Policy::Legacy, Policy::V2025, Policy::Current];
            let none = Extraction {
                choice: 0,
                rule: Rule::None,
            };
            let mut each = [none; 3];
            extract_each(&policies, Some(&p), opts, &mut each);
            for (policy, shared) in policies.into_iter().zip(each) {
                let alone = extract(policy, Some(&p), opts);
                assert_eq!(
                    alone,
                    naive_extract(policy, Some(&p), opts),
                    "{policy:?} {p:?} {opts:?}"
                );
                assert_eq!(shared, alone, "shared {policy:?} {p:?} {opts:?}");
            }
        }
    }
}
