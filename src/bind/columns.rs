//! Column names of the relations and their resolution: case-insensitive,
//! with the original TSV spellings and short forms as aliases.

use crate::error::QueryError;
use crate::names::did_you_mean;
use crate::scoring::rules::RULE_SETS;
use crate::syntax::ast::Name;
use datafusion::common::DFSchema;
use std::sync::OnceLock;

/// The columns of `results`, in order, as `show *` lists them: the fixed
/// ones, with every rule set's columns (`choice_<name>` of every rule set,
/// then `correct_<name>`, then `rule_<name>`) before `hit`.
pub fn result_columns() -> &'static [&'static str] {
    static COLUMNS: OnceLock<Vec<&'static str>> = OnceLock::new();
    COLUMNS.get_or_init(|| {
        let at = RESULT_COLUMNS
            .iter()
            .position(|c| *c == "hit")
            .unwrap_or(RESULT_COLUMNS.len());
        let mut c = RESULT_COLUMNS[..at].to_vec();
        for stem in PER_RULE_SET {
            c.extend(RULE_SETS.iter().filter_map(|r| r.column(stem)));
        }
        c.extend(&RESULT_COLUMNS[at..]);
        c
    })
}

/// The columns of `results` over a scored table with these fields:
/// [`result_columns`] (`thinking` only when there), with the items' other
/// columns where they belong: options (`F`, ...) after `E`, the rest after
/// `original_task`, in the scored table's order.
pub fn result_columns_of(fields: &[&str]) -> Vec<String> {
    let fixed = result_columns();
    let internal =
        |f: &str| matches!(f, "model_id" | "item_id" | "correct_recorded") || f.starts_with("x_");
    let extra: Vec<&str> = fields
        .iter()
        .copied()
        .filter(|f| !fixed.contains(f) && !internal(f))
        .collect();
    let (options, others): (Vec<&str>, Vec<&str>) = extra
        .into_iter()
        .partition(|f| crate::data::items::is_option(f));
    let mut out = vec![];
    for c in fixed {
        if *c == "thinking" && !fields.contains(c) {
            continue;
        }
        out.push(c.to_string());
        match *c {
            "E" => out.extend(options.iter().map(|o| o.to_string())),
            "original_task" => out.extend(others.iter().map(|o| o.to_string())),
            _ => {}
        }
    }
    out
}

/// Every rule set's columns, in the order `results` and `.schema` list them.
const PER_RULE_SET: [&str; 3] = ["choice", "correct", "rule"];

/// The fixed columns of `results`; every rule set's go before the last.
const RESULT_COLUMNS: &[&str] = &[
    "model",
    "dataset",
    "index",
    "question",
    "A",
    "B",
    "C",
    "D",
    "E",
    "answer",
    "category",
    "task",
    "department",
    "granularity",
    "modality",
    "original_task",
    "n_options",
    "answered",
    "prediction",
    "thinking",
    "choice",
    "rule",
    "correct",
    "hit",
    "log",
];

/// What each column of `results` holds, for `.schema`: the fixed columns,
/// and before `hit` one row per rule-set column stem, naming the first rule
/// set's column and the others'.
pub fn column_docs() -> &'static [(&'static str, String)] {
    static DOCS: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();
    DOCS.get_or_init(|| {
        let fixed = |d: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
            d.iter().map(|(c, d)| (*c, d.to_string())).collect()
        };
        let at = COLUMN_DOCS
            .iter()
            .position(|(c, _)| *c == "hit")
            .unwrap_or(COLUMN_DOCS.len());
        let mut docs = fixed(&COLUMN_DOCS[..at]);
        if let Some((first, others)) = RULE_SETS.split_first() {
            for stem in PER_RULE_SET {
                let whose = if stem == "choice" {
                    "VLMEvalKit's"
                } else {
                    "the"
                };
                let mut d = format!("{stem} under {whose} {}", first.doc);
                if !others.is_empty() {
                    let also: Vec<&str> = others.iter().filter_map(|r| r.column(stem)).collect();
                    d.push_str(&format!(" (also {})", also.join(", ")));
                }
                docs.extend(first.column(stem).map(|c| (c, d)));
            }
        }
        docs.extend(fixed(&COLUMN_DOCS[at..]));
        docs
    })
}

/// What each fixed column of `results` holds.
const COLUMN_DOCS: &[(&str, &str)] = &[
    ("model", "model name"),
    (
        "dataset",
        "the items file's stem without _local and _part_N (VLMEvalKit's TEST parts: GMAI-MMBench_TEST)",
    ),
    ("index", "item index"),
    ("question", "question text"),
    (
        "A",
        "option A (B, C, D, E alike; null where an item has fewer options)",
    ),
    ("answer", "correct letter; null in TEST splits"),
    ("category", "leaf label of the lexical tree"),
    ("task", "clinical VQA task"),
    ("department", "department (also `dept`)"),
    ("granularity", "perceptual granularity"),
    ("modality", "imaging modality"),
    ("original_task", "original task"),
    ("n_options", "number of non-empty options"),
    ("answered", "the model has a prediction row for the item"),
    ("prediction", "the model's raw output"),
    (
        "thinking",
        "the model's reasoning, VLMEvalKit's `thinking` column (SPLIT_THINK=1); null without one; only when a file has one",
    ),
    (
        "choice",
        "letter extracted under the session's policy; Z = none",
    ),
    ("rule", "the extraction step that gave choice"),
    ("correct", "choice = answer"),
    ("hit", "VLMEvalKit's recorded verdict, from a result file"),
    (
        "log",
        "VLMEvalKit's account of the verdict (its `log` column: judge output, `Failed in Prefetch`, random fallback); null without one",
    ),
    ("policy", "the policy the row was scored under"),
];

/// Other spellings of columns.
pub const ALIASES: &[(&str, &str)] = &[
    ("dept", "department"),
    ("clinical vqa task", "task"),
    ("clinical_vqa_task", "task"),
    ("perceptual granularity", "granularity"),
    ("perceptual_granularity", "granularity"),
    ("original task", "original_task"),
];

/// A rule-set column written with another name of its rule set
/// (`choice_legacy` for `choice_v2024`): the canonical column.
fn rule_set_alias(lower: &str) -> Option<&'static str> {
    let (stem, set) = lower.split_once('_')?;
    crate::scoring::rules::find(set)?.column(stem)
}

/// How a written column is headed in output: as written when it names a
/// rule-set column by an alias of its rule set (`show choice_legacy` heads
/// `choice_legacy`), else by its canonical name.
pub fn header(name: &Name, canonical: &str) -> String {
    let written = name.text.trim();
    if written != canonical && rule_set_alias(&written.to_lowercase()) == Some(canonical) {
        written.to_string()
    } else {
        canonical.to_string()
    }
}

/// The field of `schema` a written name refers to.
pub fn resolve(name: &Name, schema: &DFSchema, what: &str) -> Result<String, QueryError> {
    let written = name.text.trim();
    let fields: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    if let Some(f) = fields.iter().find(|f| f.eq_ignore_ascii_case(written)) {
        return Ok(f.to_string());
    }
    // An items column named by its header as written (`L2-Category`).
    if let Some(f) = schema.fields().iter().find(|f| {
        f.metadata()
            .get(crate::data::items::HEADER_KEY)
            .is_some_and(|h| h.eq_ignore_ascii_case(written))
    }) {
        return Ok(f.name().clone());
    }
    let lower = written.to_lowercase();
    if let Some((_, canon)) = ALIASES.iter().find(|(a, _)| *a == lower) {
        if let Some(f) = fields.iter().find(|f| f.eq_ignore_ascii_case(canon)) {
            return Ok(f.to_string());
        }
    }
    if let Some(canon) = rule_set_alias(&lower) {
        if let Some(f) = fields.iter().find(|f| **f == canon) {
            return Ok(f.to_string());
        }
    }
    let visible: Vec<&str> = fields
        .iter()
        .copied()
        .filter(|f| !f.starts_with("__"))
        .collect();
    if lower == "thinking" && visible.contains(&"prediction") {
        return Err(QueryError::new(format!("unknown column `{written}`"), name.span).with_help(
            "no loaded prediction file has a `thinking` column (VLMEvalKit writes one with SPLIT_THINK=1)",
        ));
    }
    let mut help = String::new();
    if let Some(d) = did_you_mean(written, visible.iter().copied()) {
        help.push_str(&d);
        help.push(' ');
    }
    help.push_str(&format!("{what}: {}", visible.join(", ")));
    Err(QueryError::new(format!("unknown column `{written}`"), name.span).with_help(help))
}

/// What a column holds, when it has an entry of its own in [`column_docs`].
pub fn doc(name: &str) -> Option<&'static str> {
    column_docs()
        .iter()
        .find(|(c, _)| *c == name)
        .map(|(_, d)| d.as_str())
}

/// Models that must have answered an item before `item_stats` calls it
/// suspect.
pub const SUSPECT_MODELS: i64 = 5;
/// An item is suspect below this percent correct...
pub const SUSPECT_P_CORRECT: f64 = 20.0;
/// ... when at least this percent of the answering models chose one
/// other letter.
pub const SUSPECT_SHARE: f64 = 50.0;

/// The columns `item_stats` adds to the item columns, with their meaning.
pub const ITEM_STATS_COLUMNS: [(&str, &str); 6] = [
    ("n_models", "models that answered the item (a prediction row was read)"),
    ("p_correct", "percent of the answering models that got it right; null without an answer key"),
    ("discrimination", "Pearson correlation, across the answering models, between getting the item right and the model's accuracy over the item's dataset (this item included); null with fewer than 3 models or when either side does not vary"),
    ("top_wrong", "the letter other than the answer chosen most often by the answering models (Z not counted; ties to the earlier letter); null when none"),
    ("top_wrong_share", "top_wrong's count as a percent of n_models"),
    ("suspect", "at least 5 models answered, p_correct < 20 and top_wrong_share >= 50: most models agree on one other option, a possible answer-key error"),
];

/// What an `item_stats` column means (its item columns mean what they do
/// in `items`).
pub fn item_stats_doc(name: &str) -> Option<&'static str> {
    ITEM_STATS_COLUMNS
        .iter()
        .find(|(c, _)| *c == name)
        .map(|(_, d)| *d)
        .or_else(|| doc(name))
}
