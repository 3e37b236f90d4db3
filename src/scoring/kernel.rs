//! Scoring a batch of predictions under every rule set of the registry
//! at once: per row, each rule set's `choice_<name>`, `rule_<name>` and
//! `correct_<name>`. The options of a row are read once for all rule
//! sets, and an unanswered row is not extracted at all.

use super::extract::{extract_each, Extraction, Rule};
use super::rules::RULE_SETS;
use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, BooleanBuilder, StringArray, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field};
use std::sync::Arc;

/// The scored columns, in the order [`score_columns`] gives them: for each
/// rule set of the registry, its choice, rule and correctness.
pub fn result_fields() -> Vec<Field> {
    let mut f = vec![];
    for r in RULE_SETS {
        f.push(Field::new(r.choice(), DataType::Utf8, false));
        f.push(Field::new(r.rule(), DataType::Utf8, false));
        f.push(Field::new(r.correct(), DataType::Boolean, true));
    }
    f
}

/// Cell `i` of `a` as VLMEvalKit's pandas reads it: None when empty or
/// a missing-value marker.
fn text(a: &StringArray, i: usize) -> Option<&str> {
    a.is_valid(i)
        .then(|| a.value(i))
        .filter(|v| !is_pandas_na(v))
}

/// One rule set's output columns, built row by row.
struct Out {
    choice: StringBuilder,
    rule: StringBuilder,
    correct: BooleanBuilder,
}

/// Cells that pandas reads as missing (its default `na_values`), so that
/// VLMEvalKit sees NaN where the file says `None` or `N/A`: a prediction
/// reading `None` is scored as `nan`, an option reading `NA` is no option.
pub fn is_pandas_na(s: &str) -> bool {
    matches!(
        s,
        "" | "#N/A"
            | "#N/A N/A"
            | "#NA"
            | "-1.#IND"
            | "-1.#QNAN"
            | "-NaN"
            | "-nan"
            | "1.#IND"
            | "1.#QNAN"
            | "<NA>"
            | "N/A"
            | "NA"
            | "NULL"
            | "NaN"
            | "None"
            | "n/a"
            | "nan"
            | "null"
    )
}

/// Each letter's text, `A` to `Z` (`Z` is also no letter).
const LETTERS: [&str; 26] = [
    "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S",
    "T", "U", "V", "W", "X", "Y", "Z",
];

/// Every rule set's choice, rule and correctness (see [`result_fields`])
/// for rows whose `answered`, item `answer`, `prediction` and option texts
/// (A, B, ... in letter order; None for a letter without a column) are
/// given: an unanswered row is `Z` and `none`, and correctness is null
/// where the item has no answer.
pub fn score_columns(
    answered: &BooleanArray,
    answer: &StringArray,
    pred: &StringArray,
    opts: &[Option<&StringArray>],
) -> Vec<ArrayRef> {
    let n = pred.len();
    let mut outs: Vec<Out> = RULE_SETS
        .iter()
        .map(|_| Out {
            choice: StringBuilder::with_capacity(n, n),
            rule: StringBuilder::with_capacity(n, n * 8),
            correct: BooleanBuilder::with_capacity(n),
        })
        .collect();
    let mut options: Vec<Option<&str>> = vec![None; opts.len()];
    // Every rule set's rules, extracted together (the work they share is
    // done once per row).
    let variants: Vec<_> = RULE_SETS.iter().map(|r| r.variant).collect();
    let mut found = vec![
        Extraction {
            choice: b'Z',
            rule: Rule::None,
        };
        variants.len()
    ];
    for i in 0..n {
        let answer = answer.is_valid(i).then(|| answer.value(i));
        if !answered.is_valid(i) || !answered.value(i) {
            for o in &mut outs {
                o.choice.append_value("Z");
                o.rule.append_value("none");
                o.correct.append_option(answer.map(|a| a == "Z"));
            }
            continue;
        }
        for (l, o) in opts.iter().enumerate() {
            options[l] = o.and_then(|o| text(o, i));
        }
        let p = text(pred, i);
        extract_each(&variants, p, &options, &mut found);
        for (o, e) in outs.iter_mut().zip(&found) {
            let letter = match e.choice {
                b'A'..=b'Z' => LETTERS[(e.choice - b'A') as usize],
                _ => "Z",
            };
            o.choice.append_value(letter);
            o.rule.append_value(e.rule.as_str());
            o.correct.append_option(answer.map(|a| a == letter));
        }
    }
    crate::data::progress::scored((n * RULE_SETS.len()) as u64);
    let mut columns: Vec<ArrayRef> = vec![];
    for mut o in outs {
        columns.push(Arc::new(o.choice.finish()));
        columns.push(Arc::new(o.rule.finish()));
        columns.push(Arc::new(o.correct.finish()));
    }
    columns
}
