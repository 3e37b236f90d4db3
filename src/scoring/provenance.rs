//! The `provenance` relation: per model and dataset, where its numbers came
//! from (files, judge, run, commit, date), how often VLMEvalKit's judge
//! failed, and which rule set VLMEvalKit's recorded verdicts follow (era
//! detection): each rule set's agreement with the recorded `hit`.

use super::rules::{self, RuleSet, RULE_SETS};
use crate::data::predictions::Runs;
use crate::data::provenance::{source, Counts, Source};
use crate::data::PredictionSet;
use crate::error::{Error, Result};
use crate::style::{Role, Style};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::datasource::MemTable;
use std::sync::Arc;

/// What VLMEvalKit's `log` says when the judge could not be asked and
/// exact matching decided instead.
pub const PREFETCH_FAILED: &str = "Failed in Prefetch, no GPT-based answer matching";

/// What VLMEvalKit's `log` says when nothing decided and a letter was
/// drawn at random (the recorded score is then not reproducible).
pub const RANDOM_FALLBACK: &str = "Failed to predict, thus randomly generate one";

/// The agreement (percent) at which recorded verdicts count as scored by
/// a rule set: under it, a judge or rules medql does not have decided.
pub const DETECTED_AT: f64 = 99.0;

/// The columns of `provenance`, in order, with what each holds.
pub const COLUMNS: [(&str, &str); 11] = [
    ("model", "model name (`model@run` for one of several runs)"),
    ("dataset", "the dataset of the row"),
    ("files", "the model's files for the dataset, joined with `, `"),
    (
        "judge",
        "status.json's judge_model, else the text between `_<dataset>_` and `_result` in the result file's name; null without a result file",
    ),
    (
        "eval_id",
        "the run's eval_id from status.json, else the VLMEvalKit run folder the files lie in",
    ),
    ("commit", "VLMEvalKit's commit, from status.json"),
    ("created_at", "when the run was made, from status.json, as written"),
    (
        "prefetch_failed",
        "rows whose log says the judge's prefetch failed (exact matching decided); null without a log column",
    ),
    (
        "random_fallback",
        "rows whose log says a letter was drawn at random; null without a log column",
    ),
    (
        "rules_detected",
        "the rule set(s) agreeing best with the recorded hit, joined by `|`; null without hit",
    ),
    (
        "agreement",
        "percent of rows with a hit and an answer where that rule set agrees with hit",
    ),
];

/// What a column of `provenance` holds.
pub fn doc(name: &str) -> Option<&'static str> {
    COLUMNS.iter().find(|(c, _)| *c == name).map(|(_, d)| *d)
}

/// A model (and dataset, where the model has several) whose recorded
/// verdicts follow a rule set other than the baseline, and that rule set.
pub type Detected = (i32, Option<String>, &'static RuleSet);

/// One row of `provenance`.
#[derive(Clone, Debug)]
pub struct Row {
    pub model: String,
    pub model_id: i32,
    pub source: Source,
    /// Rows whose `log` says the judge's prefetch failed; none without a
    /// `log` column.
    pub prefetch_failed: Option<u64>,
    /// Rows whose `log` says a letter was drawn at random.
    pub random_fallback: Option<u64>,
    /// Rows with a recorded verdict and an answer, compared with each
    /// rule set; none without a `hit` column.
    pub judged: Option<u64>,
    /// Of those, the rows where each rule set (in [`RULE_SETS`] order)
    /// agrees with the verdict.
    pub agree: Vec<u64>,
}

impl Row {
    /// The rule sets that agree best with the recorded verdicts, in era
    /// order; none without verdicts to compare.
    pub fn detected(&self) -> Vec<&'static RuleSet> {
        if self.judged.unwrap_or(0) == 0 {
            return vec![];
        }
        let best = self.agree.iter().copied().max().unwrap_or(0);
        RULE_SETS
            .iter()
            .zip(&self.agree)
            .filter(|(_, a)| **a == best)
            .map(|(r, _)| r)
            .collect()
    }

    /// The best-agreeing rule sets joined by `|`.
    pub fn rules_detected(&self) -> Option<String> {
        let d = self.detected();
        (!d.is_empty()).then(|| d.iter().map(|r| r.name).collect::<Vec<_>>().join("|"))
    }

    /// The best agreement, as a percent of the rows compared.
    pub fn agreement(&self) -> Option<f64> {
        let n = self.judged.filter(|n| *n > 0)?;
        let best = self.agree.iter().copied().max().unwrap_or(0);
        Some(best as f64 * 100.0 / n as f64)
    }

    /// The rows where the best-agreeing rule set and the verdict differ.
    pub fn disagreeing(&self) -> u64 {
        let best = self.agree.iter().copied().max().unwrap_or(0);
        self.judged.unwrap_or(0).saturating_sub(best)
    }

    /// The rule set `recorded`'s `choice` and `rule` come from: the first
    /// detected when it agrees at least [`DETECTED_AT`] percent, else the
    /// baseline.
    pub fn recorded_rules(&self) -> &'static RuleSet {
        match (self.detected().first(), self.agreement()) {
            (Some(r), Some(a)) if a >= DETECTED_AT => r,
            _ => rules::baseline(),
        }
    }
}

/// Every model's provenance, one row per model and dataset.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    pub rows: Vec<Row>,
}

/// A set's [`Counts`], over its batches of the scored relation (their
/// columns `hit`, `answer`, `log` and each rule set's `correct_<name>`).
pub fn count<'a>(batches: impl IntoIterator<Item = &'a RecordBatch>) -> Result<Counts> {
    use datafusion::arrow::compute::is_not_null;
    use datafusion::arrow::compute::kernels::{boolean, cmp};
    let prefetch = memchr::memmem::Finder::new(PREFETCH_FAILED);
    let random = memchr::memmem::Finder::new(RANDOM_FALLBACK);
    let mut c = Counts {
        agree: vec![0; RULE_SETS.len()],
        ..Counts::default()
    };
    for b in batches {
        let column = |name: &str| {
            b.column_by_name(name)
                .ok_or_else(|| fail(format!("no column {name}")))
        };
        let hit = column("hit")?.as_boolean_opt().ok_or_else(|| fail("hit"))?;
        let judged = boolean::and(
            &is_not_null(hit).map_err(fail)?,
            &is_not_null(column("answer")?).map_err(fail)?,
        )
        .map_err(fail)?;
        c.judged += judged.true_count() as u64;
        for (r, agree) in RULE_SETS.iter().zip(c.agree.iter_mut()) {
            let correct = column(r.correct())?
                .as_boolean_opt()
                .ok_or_else(|| fail(r.correct()))?;
            let same = cmp::eq(correct, hit).map_err(fail)?;
            *agree += boolean::and(&judged, &same).map_err(fail)?.true_count() as u64;
        }
        if let Some(log) = column("log")?.as_string_opt::<i32>() {
            if log.null_count() < log.len() {
                for text in log.iter().flatten() {
                    let bytes = text.as_bytes();
                    c.prefetch += u64::from(prefetch.find(bytes).is_some());
                    c.random += u64::from(random.find(bytes).is_some());
                }
            }
        }
    }
    Ok(c)
}

fn fail(e: impl std::fmt::Display) -> Error {
    Error::engine("finding provenance", e)
}

impl Provenance {
    /// Every model's provenance: what its files say, and the counts of its
    /// rows (the judge's failures and each rule set's agreement with the
    /// recorded verdicts), one [`Counts`] per set.
    pub fn build(sets: &[PredictionSet], runs: &Runs, counts: &[Counts]) -> Provenance {
        let mut rows = vec![];
        let ids = super::relation::model_ids(sets);
        for ((set, id), c) in sets.iter().zip(ids).zip(counts) {
            rows.push(Row {
                model: set.model.clone(),
                model_id: id,
                prefetch_failed: set.log.is_some().then_some(c.prefetch),
                random_fallback: set.log.is_some().then_some(c.random),
                judged: set.hit.is_some().then_some(c.judged),
                agree: c.agree.clone(),
                source: source(set, runs),
            });
        }
        Provenance { rows }
    }

    /// The relation, as a table.
    pub fn table(&self) -> Result<MemTable> {
        let text = |f: &dyn Fn(&Row) -> Option<String>| -> ArrayRef {
            Arc::new(StringArray::from_iter(self.rows.iter().map(f)))
        };
        let count = |f: &dyn Fn(&Row) -> Option<u64>| -> ArrayRef {
            Arc::new(Int64Array::from_iter(
                self.rows.iter().map(|r| f(r).map(|n| n as i64)),
            ))
        };
        let columns: Vec<ArrayRef> = vec![
            text(&|r| Some(r.model.clone())),
            text(&|r| Some(r.source.dataset.clone())),
            text(&|r| Some(r.source.files.join(", "))),
            text(&|r| r.source.judge.clone()),
            text(&|r| r.source.eval_id.clone()),
            text(&|r| r.source.commit.clone()),
            text(&|r| r.source.created_at.clone()),
            count(&|r| r.prefetch_failed),
            count(&|r| r.random_fallback),
            text(&|r| r.rules_detected()),
            Arc::new(Float64Array::from_iter(
                self.rows.iter().map(Row::agreement),
            )),
        ];
        let fields: Vec<Field> = COLUMNS
            .iter()
            .zip(&columns)
            .map(|((name, _), a)| {
                let f = Field::new(
                    *name,
                    a.data_type().clone(),
                    !matches!(*name, "model" | "dataset" | "files"),
                );
                if *name == "agreement" {
                    f.with_metadata(
                        crate::style::metadata(Role::Metric, Some(Style::Percent))
                            .into_iter()
                            .collect(),
                    )
                } else {
                    f
                }
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), columns).map_err(fail)?;
        MemTable::try_new(schema, vec![vec![batch]]).map_err(fail)
    }

    /// For `recorded`: the models (with the dataset, when a model has
    /// several) whose recorded verdicts follow another rule set than the
    /// baseline, and that rule set.
    pub fn recorded_rules(&self) -> Vec<Detected> {
        let several = |id: i32| self.rows.iter().filter(|r| r.model_id == id).count() > 1;
        self.rows
            .iter()
            .filter(|r| r.recorded_rules().name != rules::BASELINE)
            .map(|r| {
                let d = several(r.model_id).then(|| r.source.dataset.clone());
                (r.model_id, d, r.recorded_rules())
            })
            .collect()
    }

    /// A note for every model and dataset whose recorded verdicts agree
    /// with no rule set medql has, with the query that lists the rows.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = vec![];
        for r in &self.rows {
            let (Some(a), Some(best)) = (r.agreement(), r.detected().first().copied()) else {
                continue;
            };
            if a >= DETECTED_AT {
                continue;
            }
            let judge = r
                .source
                .judge
                .as_deref()
                .map(|j| format!(" (named `{j}`)"))
                .unwrap_or_default();
            notes.push(format!(
                "{}: VLMEvalKit's recorded verdicts on {} follow no rule set medql has: at best {} agrees on {:.2}%, {} of {} items differ; they were scored by a judge{judge} or rules medql does not have (`recorded` shows choices under {}). List them: from results where model = '{}' and dataset = '{}' and hit != correct_{} show index, prediction, choice_{}, hit, log",
                r.model,
                r.source.dataset,
                best.name,
                a,
                r.disagreeing(),
                r.judged.unwrap_or(0),
                rules::BASELINE,
                r.model.replace('\'', "''"),
                r.source.dataset.replace('\'', "''"),
                best.name,
                best.name,
            ));
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::BooleanArray;
    use datafusion::arrow::datatypes::DataType;

    /// A row: hit, answer, log, and the first rule set's correct.
    type TestRow<'a> = (Option<bool>, Option<&'a str>, Option<&'a str>, Option<bool>);

    /// Rows: hit, answer, log, then every rule set's correct (the first
    /// as given, the others always true).
    fn batch(rows: &[TestRow]) -> RecordBatch {
        let mut fields = vec![
            Field::new("hit", DataType::Boolean, true),
            Field::new("answer", DataType::Utf8, true),
            Field::new("log", DataType::Utf8, true),
        ];
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(BooleanArray::from_iter(rows.iter().map(|r| r.0))),
            Arc::new(StringArray::from_iter(rows.iter().map(|r| r.1))),
            Arc::new(StringArray::from_iter(rows.iter().map(|r| r.2))),
        ];
        for (k, r) in RULE_SETS.iter().enumerate() {
            fields.push(Field::new(r.correct(), DataType::Boolean, true));
            columns.push(Arc::new(BooleanArray::from_iter(rows.iter().map(|row| {
                if k == 0 {
                    row.3
                } else {
                    Some(true)
                }
            }))));
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
    }

    #[test]
    fn counts_judged_rows_agreement_and_the_judges_failures() {
        let prefetch = format!("x {PREFETCH_FAILED} y");
        let a = batch(&[
            // judged, agrees with the first rule set, true
            (Some(true), Some("A"), Some(&prefetch), Some(true)),
            // judged, disagrees with the first, false
            (Some(false), Some("B"), Some(RANDOM_FALLBACK), Some(true)),
            // no verdict: not judged
            (None, Some("C"), None, Some(false)),
        ]);
        let b = batch(&[
            // no answer: not judged
            (Some(true), None, Some(&prefetch), Some(true)),
            // judged, the first rule set has no correctness: no agreement
            (Some(false), Some("D"), None, None),
        ]);
        let c = count([&a, &b]).unwrap();
        assert_eq!(c.judged, 3);
        assert_eq!(c.prefetch, 2);
        assert_eq!(c.random, 1);
        let mut agree = vec![1];
        // The other rule sets say true: they agree on the one judged true.
        agree.extend(std::iter::repeat_n(1, RULE_SETS.len() - 1));
        assert_eq!(c.agree, agree);
        assert_eq!(count([]).unwrap().agree, vec![0; RULE_SETS.len()]);
    }
}
