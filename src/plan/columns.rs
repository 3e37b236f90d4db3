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
    let mut help = String::new();
    if let Some(d) = did_you_mean(written, visible.iter().copied()) {
        help.push_str(&d);
        help.push(' ');
    }
    help.push_str(&format!("{what}: {}", visible.join(", ")));
    Err(QueryError::new(format!("unknown column `{written}`"), name.span).with_help(help))
}
