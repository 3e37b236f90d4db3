//! Where a model's numbers came from, as far as its files say: VLMEvalKit's
//! run records (`status.json`), the judge named in a result file's name,
//! and the run folder (eval_id) the files lie in. What scoring adds (the
//! rule set the recorded verdicts follow, the judge's failures) is found
//! when the session is built (`scoring::provenance`).

use super::predictions::{stem_parts, Runs};
use super::PredictionSet;
use serde_json::{Map, Value};
use std::path::Path;

/// One `status.json`: VLMEvalKit's record of a run
/// (`{work_dir}/{model}/{eval_id}/status.json`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunRecord {
    /// The file, as its path is shown.
    pub file: String,
    /// The run folder (an eval_id) the record really lies in.
    pub folder: Option<String>,
    /// `model_name`.
    pub model: Option<String>,
    pub eval_id: Option<String>,
    pub commit: Option<String>,
    pub created_at: Option<String>,
    /// The keys under `datasets`, each with its `judge_model`.
    pub datasets: Vec<(String, Option<String>)>,
}

/// A text field of a JSON object: strings as written, numbers as text;
/// null, empty or absent is none.
fn text_of(o: &Map<String, Value>, key: &str) -> Option<String> {
    match o.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

impl RunRecord {
    /// Read a `status.json`; the error says what is wrong with it.
    pub fn read(path: &Path, folder: Option<String>) -> Result<RunRecord, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        RunRecord::parse(&text, path.display().to_string(), folder)
    }

    /// A run record from its text.
    pub fn parse(text: &str, file: String, folder: Option<String>) -> Result<RunRecord, String> {
        let v: Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|e| format!("not JSON ({e})"))?;
        let Value::Object(top) = v else {
            return Err("expected a JSON object".into());
        };
        let mut datasets = vec![];
        match top.get("datasets") {
            Some(Value::Object(ds)) => {
                for (name, d) in ds {
                    let judge = match d {
                        Value::Object(o) => text_of(o, "judge_model"),
                        _ => None,
                    };
                    datasets.push((name.clone(), judge));
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => return Err("`datasets` is not an object".into()),
        }
        Ok(RunRecord {
            file,
            folder,
            model: text_of(&top, "model_name"),
            eval_id: text_of(&top, "eval_id"),
            commit: text_of(&top, "commit"),
            created_at: text_of(&top, "created_at"),
            datasets,
        })
    }

    /// Whether the record describes `model`'s run on `dataset` (names
    /// compared case-insensitively, as file names are).
    fn describes(&self, model: &str, dataset: &str) -> bool {
        self.model
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case(model))
            && self
                .datasets
                .iter()
                .any(|(d, _)| d.eq_ignore_ascii_case(dataset))
    }

    /// The judge the record names for `dataset`.
    fn judge(&self, dataset: &str) -> Option<String> {
        self.datasets
            .iter()
            .find(|(d, _)| d.eq_ignore_ascii_case(dataset))
            .and_then(|(_, j)| j.clone())
    }
}

/// What a model's files say about one of its datasets: a row of the
/// `provenance` relation before scoring adds to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    pub dataset: String,
    pub files: Vec<String>,
    /// The run record's `judge_model`, else the judge in the result file's
    /// name; none without a result file.
    pub judge: Option<String>,
    /// The run record's, else the run folder's name.
    pub eval_id: Option<String>,
    pub commit: Option<String>,
    pub created_at: Option<String>,
    /// The run record these came from.
    pub record: Option<String>,
}

/// The provenance of `set` (one model on one dataset): its files, its
/// judge, and its run as the run record (or the run folder) says.
pub fn source(set: &PredictionSet, runs: &Runs) -> Source {
    let dataset = set.dataset.clone();
    let from_name = set
        .files
        .iter()
        .map(|f| {
            let stem = Path::new(f)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("");
            stem_parts(stem, std::slice::from_ref(&dataset))
        })
        .find(|p| p.is_result && p.judge.is_some())
        .and_then(|p| p.judge);
    let first = set.files.first().map(String::as_str).unwrap_or("");
    let label = runs.label(first);
    let folder = runs.folder(first);
    // The model's name in its files: without the `@run` of one of several runs.
    let base = match &label {
        Some(l) => set
            .model
            .strip_suffix(&format!("@{l}"))
            .unwrap_or(&set.model),
        None => &set.model,
    };
    let record = runs.record_for(base, &dataset, label.as_deref(), folder.as_deref());
    Source {
        judge: record.and_then(|r| r.judge(&dataset)).or(from_name),
        eval_id: record.and_then(|r| r.eval_id.clone()).or(folder),
        commit: record.and_then(|r| r.commit.clone()),
        created_at: record.and_then(|r| r.created_at.clone()),
        record: record.map(|r| r.file.clone()),
        files: set.files.clone(),
        dataset,
    }
}

impl Runs {
    /// The run record of `model`'s run on `dataset`: the one in the run's
    /// folder (or with its eval_id) when the files are in a run, else the
    /// only one describing them.
    pub fn record_for(
        &self,
        model: &str,
        dataset: &str,
        label: Option<&str>,
        folder: Option<&str>,
    ) -> Option<&RunRecord> {
        let candidates: Vec<&RunRecord> = self
            .records
            .iter()
            .filter(|r| r.describes(model, dataset))
            .collect();
        let of_run = |r: &&&RunRecord| {
            [label, folder]
                .into_iter()
                .flatten()
                .any(|l| r.folder.as_deref() == Some(l) || r.eval_id.as_deref() == Some(l))
        };
        candidates.iter().find(of_run).copied().or_else(|| {
            // Else the only record of the model, unless it and the files
            // lie in different run folders.
            match candidates[..] {
                [r] if folder.is_none() || r.folder.is_none() => Some(r),
                _ => None,
            }
        })
    }
}

/// What the provenance counts in one set's rows: the rows with a
/// recorded verdict and an answer, those whose `log` says the judge's
/// prefetch failed or a letter was drawn at random, and of the judged rows
/// those where each rule set (in the rule-set registry's order) agrees with the
/// verdict. Counted once, when the set is scored, and kept in its cache
/// entry: a warm start reads no `log` text and scans no rows for it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub judged: u64,
    pub prefetch: u64,
    pub random: u64,
    pub agree: Vec<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = r#"{"schema_version": "1.0", "eval_id": "T20260409-153012", "created_at": "2026-04-09T15:41:07",
 "commit": "5f2c1e0", "argv": ["run.py", "--data", "GMAI-MMBench_VAL", "--model", "qwen_chat"],
 "pred_format": "xlsx", "eval_format": "csv", "model_name": "qwen_chat",
 "datasets": {"GMAI-MMBench_VAL": {"status": "done", "prediction_file": "qwen_chat_GMAI-MMBench_VAL.xlsx",
   "judge_model": "gpt-4o-mini", "metrics": {"Overall": 0.3363}, "primary_metric": "Overall",
   "skip_reason": null, "error_message": null, "updated_at": "2026-04-09T15:41:07"}}}"#;

    #[test]
    fn a_run_record_is_read_as_written() {
        let r = RunRecord::parse(STATUS, "s.json".into(), None).unwrap();
        assert_eq!(r.model.as_deref(), Some("qwen_chat"));
        assert_eq!(r.eval_id.as_deref(), Some("T20260409-153012"));
        assert_eq!(r.commit.as_deref(), Some("5f2c1e0"));
        assert_eq!(r.created_at.as_deref(), Some("2026-04-09T15:41:07"));
        assert!(r.describes("qwen_chat", "gmai-mmbench_val"));
        assert!(!r.describes("qwen_chat", "MMBench_DEV_EN"));
        assert_eq!(r.judge("GMAI-MMBench_VAL").as_deref(), Some("gpt-4o-mini"));
        for bad in ["[1, 2]", "{\"datasets\": 3}", "{", ""] {
            assert!(
                RunRecord::parse(bad, "s.json".into(), None).is_err(),
                "{bad}"
            );
        }
    }
}
