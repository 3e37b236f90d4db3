//! Column names of the relations and their resolution: case-insensitive,
//! with the original TSV spellings and short forms as aliases.

use crate::error::QueryError;
use crate::names::did_you_mean;
use crate::syntax::ast::Name;
use datafusion::common::DFSchema;

/// The columns of `results`, in order, as `show *` lists them.
pub const RESULT_COLUMNS: &[&str] = &[
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
    "choice_legacy",
    "choice_current",
    "correct_legacy",
    "correct_current",
    "rule_legacy",
    "rule_current",
    "hit",
];

/// What each column of `results` holds, for `.schema`.
pub const COLUMN_DOCS: &[(&str, &str)] = &[
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
    (
        "choice_legacy",
        "choice under VLMEvalKit's 2024 rules (also choice_current)",
    ),
    (
        "correct_legacy",
        "correct under the 2024 rules (also correct_current)",
    ),
    (
        "rule_legacy",
        "rule under the 2024 rules (also rule_current)",
    ),
    ("hit", "VLMEvalKit's recorded verdict, from a result file"),
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

/// The field of `schema` a written name refers to.
pub fn resolve(name: &Name, schema: &DFSchema, what: &str) -> Result<String, QueryError> {
    let written = name.text.trim();
    let fields: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    if let Some(f) = fields.iter().find(|f| f.eq_ignore_ascii_case(written)) {
        return Ok(f.to_string());
    }
    let lower = written.to_lowercase();
    if let Some((_, canon)) = ALIASES.iter().find(|(a, _)| *a == lower) {
        if let Some(f) = fields.iter().find(|f| f.eq_ignore_ascii_case(canon)) {
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

/// What a column holds, when it has an entry of its own in [`COLUMN_DOCS`].
pub fn doc(name: &str) -> Option<&'static str> {
    COLUMN_DOCS
        .iter()
        .find(|(c, _)| *c == name)
        .map(|(_, d)| *d)
}
