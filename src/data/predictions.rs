//! Loading model predictions: finding the files, naming the model of each,
//! pairing a raw prediction file with its VLMEvalKit `_result` file, and
//! aligning every prediction row with the loaded items. Every row read is
//! either scored or counted (duplicated, unknown item, invalid index).

use crate::data::items::{canonical_item_column, parse_index, Items, ITEM_COLUMNS};
use crate::data::table::{Format, RawTable};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What happened to a model's prediction rows. Always
/// `read == scored + duplicated + unknown + invalid`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Coverage {
    pub read: u64,
    pub scored: u64,
    pub duplicated: u64,
    pub unknown: u64,
    pub invalid: u64,
    /// Items with no prediction row (scored wrong).
    pub missing: u64,
}

/// One model's predictions, aligned with the items' rows.
#[derive(Clone, Debug)]
pub struct PredictionSet {
    pub model: String,
    pub files: Vec<String>,
    pub prediction: Vec<Option<String>>,
    pub answered: Vec<bool>,
    /// The `hit` column of a VLMEvalKit result file, where there is one.
    pub hit: Option<Vec<Option<bool>>>,
    pub coverage: Coverage,
    /// What loading had to say about this model (counts, column mismatches).
    pub warnings: Vec<String>,
    /// Columns read back from the cache, aligned with the items:
    /// `answered`, `prediction`, `hit` and each rule set's choice and rule.
    /// When present, the vectors above are empty and scoring is skipped.
    pub cached: Option<datafusion::arrow::array::RecordBatch>,
}

/// Files to read: each spec a file, a glob or a directory (searched
/// recursively). Unsupported files and VLMEvalKit accuracy tables found in
/// directories and globs are skipped.
pub fn discover(specs: &[String]) -> Result<Vec<PathBuf>> {
    let mut out = vec![];
    for spec in specs {
        let p = Path::new(spec);
        if spec.contains(['*', '?', '[']) {
            let mut matched: Vec<PathBuf> = glob::glob(spec)
                .map_err(|e| Error::Usage(format!("bad predictions pattern `{spec}`: {e}")))?
                .filter_map(|x| x.ok())
                .collect();
            matched.sort();
            let before = out.len();
            for m in matched {
                if m.is_dir() {
                    walk(&m, &mut out)?;
                } else if wanted(&m) {
                    out.push(m);
                }
            }
            if out.len() == before {
                return Err(Error::Usage(format!("no prediction file matches `{spec}`")));
            }
        } else if p.is_dir() {
            let before = out.len();
            walk(p, &mut out)?;
            if out.len() == before {
                return Err(Error::Usage(format!(
                    "no prediction files (.xlsx .csv .tsv .json .jsonl .parquet) in {spec}"
                )));
            }
        } else if p.exists() {
            if Format::from_path(p).is_none() {
                return Err(Error::Usage(format!(
                    "{spec}: not a prediction file (expected .xlsx .csv .tsv .json .jsonl .parquet)"
                )));
            }
            out.push(p.to_path_buf());
        } else {
            return Err(Error::Usage(format!("predictions not found: {spec}")));
        }
    }
    out.dedup();
    Ok(out)
}

fn wanted(p: &Path) -> bool {
    if Format::from_path(p).is_none() {
        return false;
    }
    let name = p
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    !(name.ends_with("_acc.csv") || name.ends_with("_score.csv") || name.starts_with('.'))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir.display().to_string(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            walk(&e, out)?;
        } else if wanted(&e) {
            out.push(e);
        }
    }
    Ok(())
}

/// The model named by a file stem, and whether the file is a `_result` file.
/// `None` when no dataset name is found in the stem.
pub fn model_from_stem(stem: &str, datasets: &[String]) -> (Option<String>, bool) {
    let lower = stem.to_lowercase();
    let is_result = lower.ends_with("_result");
    let core = if is_result {
        &lower[..lower.len() - "_result".len()]
    } else {
        &lower[..]
    };
    let mut names: Vec<String> = datasets.iter().map(|d| d.to_lowercase()).collect();
    names.push("gmai-mmbench_val".into());
    names.push("gmai-mmbench_test".into());
    let mut best: Option<usize> = None;
    for d in &names {
        let pat = format!("_{d}");
        let mut search = core.len();
        while let Some(pos) = core[..search].rfind(&pat) {
            let rest = &core[pos + pat.len()..];
            // `_<dataset>` ends the stem, or (result files) one judge token follows.
            let ok = rest.is_empty()
                || (is_result
                    && rest.starts_with('_')
                    && !rest[1..].is_empty()
                    && !rest[1..].contains('_'));
            if ok && pos > 0 {
                best = Some(best.map_or(pos, |b: usize| b.min(pos)));
                break;
            }
            search = pos;
        }
    }
    (best.map(|pos| stem[..pos].to_string()), is_result)
}

/// A part of a file that holds one model's rows.
struct Portion {
    file: String,
    is_result: bool,
    table: std::rc::Rc<RawTable>,
    rows: Vec<usize>,
}

/// Read prediction files and align them with `items`. Warnings (counts of
/// unknown, duplicated, invalid rows, unanswered items, column mismatches)
/// are appended to `warnings`.
pub fn load_predictions(
    files: &[PathBuf],
    items: &Items,
    warnings: &mut Vec<String>,
) -> Result<Vec<PredictionSet>> {
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let tables = crate::data::table::read_tables(&paths, &|t| reduce(t, items))
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    assemble(tables, items, warnings)
}

/// Build prediction sets from tables already read (files, or generated data).
pub fn assemble(
    tables: Vec<RawTable>,
    items: &Items,
    warnings: &mut Vec<String>,
) -> Result<Vec<PredictionSet>> {
    let datasets = items.datasets();
    let mut by_model: BTreeMap<String, Vec<Portion>> = BTreeMap::new();
    for t in tables {
        let (groups, is_result, warning) = table_models(&t, &datasets)?;
        warnings.extend(warning);
        warnings.extend(t.notes.iter().cloned());
        let table = std::rc::Rc::new(t);
        for (m, rows) in groups {
            by_model.entry(m).or_default().push(Portion {
                file: table.file.clone(),
                is_result,
                table: table.clone(),
                rows,
            });
        }
    }
    let mut sets = vec![];
    for (model, portions) in by_model {
        let set = build_set(model, portions, items)?;
        warnings.extend(set.warnings.iter().cloned());
        sets.push(set);
    }
    Ok(sets)
}

/// A table's models with their rows, whether it is a `_result` file, and
/// a warning about its name.
pub type TableModels = (Vec<(String, Vec<usize>)>, bool, Option<String>);

/// The models a table holds, with their rows (by its `model` column, or
/// one model named by the file name), whether it is a `_result` file, and
/// a warning when the file name names no dataset.
pub fn table_models(t: &RawTable, datasets: &[String]) -> Result<TableModels> {
    let stem = Path::new(&t.file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string();
    let (from_stem, is_result) = model_from_stem(&stem, datasets);
    if let Some(mc) = t.column("model") {
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (r, row) in t.rows.iter().enumerate() {
            match row.get(mc).cloned().flatten() {
                Some(m) if !m.trim().is_empty() => {
                    groups.entry(m.trim().to_string()).or_default().push(r)
                }
                _ => {
                    return Err(Error::data_at(
                        &t.file,
                        Some(t.row_numbers[r]),
                        Some(&t.headers[mc]),
                        "empty model name",
                    ))
                }
            }
        }
        return Ok((groups.into_iter().collect(), is_result, None));
    }
    let rows = (0..t.rows.len()).collect();
    Ok(match from_stem {
        Some(m) => (vec![(m, rows)], is_result, None),
        None => (
            vec![(stem.clone(), rows)],
            is_result,
            Some(format!(
                "{}: no dataset name ({}) in the file name; the model is named `{stem}`",
                t.file,
                datasets.join(", ")
            )),
        ),
    })
}

fn build_set(model: String, portions: Vec<Portion>, items: &Items) -> Result<PredictionSet> {
    let mut warnings = vec![];
    let warnings = &mut warnings;
    let raws: Vec<&Portion> = portions.iter().filter(|p| !p.is_result).collect();
    let results: Vec<&Portion> = portions.iter().filter(|p| p.is_result).collect();
    for group in [&raws, &results] {
        if group.len() > 1 {
            return Err(Error::data(
                &group[1].file,
                format!(
                    "a second prediction set for model `{model}` (the first is {}); point at one run, or name the model with a `model` column",
                    group[0].file
                ),
            ));
        }
    }
    let primary = raws
        .first()
        .or(results.first())
        .copied()
        .expect("a portion");
    let secondary = if raws.is_empty() {
        None
    } else {
        results.first().copied()
    };

    let n = items.len();
    let mut set = PredictionSet {
        model: model.clone(),
        files: portions.iter().map(|p| p.file.clone()).collect(),
        prediction: vec![None; n],
        answered: vec![false; n],
        hit: None,
        coverage: Coverage::default(),
        warnings: vec![],
        cached: None,
    };
    let mut first_invalid: Option<String> = None;
    let mut first_unknown: Option<i64> = None;
    let mut first_dup: Option<(i64, u64)> = None;
    let t = &primary.table;
    let ic = require(t, "index")?;
    let pc = require(t, "prediction")?;
    for &r in &primary.rows {
        set.coverage.read += 1;
        let row = &t.rows[r];
        let raw = row.get(ic).cloned().flatten().unwrap_or_default();
        let Some(index) = parse_index(&raw) else {
            set.coverage.invalid += 1;
            first_invalid.get_or_insert_with(|| {
                format!(
                    "{} {}: index `{raw}` is not an integer",
                    t.row_unit, t.row_numbers[r]
                )
            });
            continue;
        };
        let Some(pos) = items.row_of(index) else {
            set.coverage.unknown += 1;
            first_unknown.get_or_insert(index);
            continue;
        };
        if set.answered[pos] {
            set.coverage.duplicated += 1;
            first_dup.get_or_insert((index, t.row_numbers[r]));
            continue;
        }
        set.answered[pos] = true;
        set.prediction[pos] = row.get(pc).cloned().flatten();
        set.coverage.scored += 1;
    }
    set.coverage.missing = set.answered.iter().filter(|a| !**a).count() as u64;

    // The hit column: from the result file (paired or alone).
    let hit_source = secondary.or(if primary.is_result {
        Some(primary)
    } else {
        None
    });
    if let Some(res) = hit_source {
        let rt = &res.table;
        if let Some(hc) = rt.column("hit") {
            let rpc = rt.column("prediction");
            let ric = require(rt, "index")?;
            let mut hits = vec![None; n];
            for &r in &res.rows {
                let row = &rt.rows[r];
                let Some(index) = row
                    .get(ric)
                    .cloned()
                    .flatten()
                    .and_then(|s| parse_index(&s))
                else {
                    continue;
                };
                let Some(pos) = items.row_of(index) else {
                    continue;
                };
                if !std::ptr::eq(res, primary) {
                    if let Some(rpc) = rpc {
                        let theirs = row.get(rpc).cloned().flatten();
                        if !set.answered[pos] || theirs != set.prediction[pos] {
                            return Err(Error::data_at(
                                &res.file,
                                Some(rt.row_numbers[r]),
                                Some(&rt.headers[rpc]),
                                format!(
                                    "the prediction for item {index} differs from {}; a raw file and its result file must be the same run",
                                    primary.file
                                ),
                            ));
                        }
                    }
                }
                let cell = row.get(hc).cloned().flatten();
                let h = match cell.as_deref().map(str::trim) {
                    Some("1") | Some("1.0") | Some("True") | Some("true") => Some(true),
                    Some("0") | Some("0.0") | Some("False") | Some("false") => Some(false),
                    None | Some("") => None,
                    Some(other) => {
                        return Err(Error::data_at(
                            &res.file,
                            Some(rt.row_numbers[r]),
                            Some(&rt.headers[hc]),
                            format!("expected 0 or 1 in `hit`, found `{other}`"),
                        ))
                    }
                };
                hits[pos] = h;
            }
            set.hit = Some(hits);
        }
    }

    let c = &set.coverage;
    let mut parts = vec![];
    if c.unknown > 0 {
        parts.push(format!(
            "{} predictions for unknown items ignored (first: index {})",
            c.unknown,
            first_unknown.unwrap_or_default()
        ));
    }
    if c.duplicated > 0 {
        let (i, row) = first_dup.unwrap_or_default();
        parts.push(format!(
            "{} duplicate predictions ignored, the first kept (first: index {i} again at {} {row})",
            c.duplicated, t.row_unit
        ));
    }
    if c.invalid > 0 {
        parts.push(format!(
            "{} rows with an invalid index ignored ({})",
            c.invalid,
            first_invalid.unwrap_or_default()
        ));
    }
    if c.missing > 0 && (c.missing as usize) < n {
        parts.push(format!("{} items unanswered, scored wrong", c.missing));
    } else if c.missing as usize == n && n > 0 {
        parts.push(format!("no prediction matches any of the {n} loaded items"));
    }
    if !parts.is_empty() {
        warnings.push(format!("{model}: {}", parts.join("; ")));
    }
    set.warnings = std::mem::take(warnings);
    Ok(set)
}

fn require(t: &RawTable, name: &str) -> Result<usize> {
    t.column(name).ok_or_else(|| {
        Error::data_at(
            &t.file,
            Some(1),
            Some(name),
            format!(
                "missing required column `{name}` (the header has: {})",
                t.headers.join(", ")
            ),
        )
    })
}

/// Compare the item columns a prediction file carries with the items; every
/// differing column is reported with a count and its first example.
/// Check a table's item columns against the items, then keep only the
/// columns scoring needs (`model`, `index`, `prediction`, `hit`): a
/// prediction file's copy of every question is not held in memory.
pub fn reduce(mut t: RawTable, items: &Items) -> RawTable {
    let mut notes = vec![];
    check_item_columns(&t, items, &mut notes);
    let keep: Vec<usize> = (0..t.headers.len())
        .filter(|&i| {
            ["model", "index", "prediction", "hit"]
                .iter()
                .any(|k| t.headers[i].trim().eq_ignore_ascii_case(k))
        })
        .collect();
    // A table without its required columns keeps its header whole, for the
    // error that names what it has.
    let complete = t.column("index").is_some() && t.column("prediction").is_some();
    if complete && keep.len() < t.headers.len() {
        t.headers = keep.iter().map(|&i| t.headers[i].clone()).collect();
        for row in &mut t.rows {
            let mut cells = std::mem::take(row);
            *row = keep
                .iter()
                .map(|&i| cells.get_mut(i).and_then(Option::take))
                .collect();
        }
    }
    t.notes.extend(notes);
    t
}

fn check_item_columns(t: &RawTable, items: &Items, warnings: &mut Vec<String>) {
    let Some(ic) = t.column("index") else { return };
    for (hc, header) in t.headers.iter().enumerate() {
        let Some(canon) = canonical_item_column(header) else {
            continue;
        };
        let c = ITEM_COLUMNS
            .iter()
            .position(|(n, _)| *n == canon)
            .expect("canonical");
        let mut count = 0u64;
        let mut first = None;
        for (r, row) in t.rows.iter().enumerate() {
            let Some(index) = row.get(ic).cloned().flatten().and_then(|s| parse_index(&s)) else {
                continue;
            };
            let Some(pos) = items.row_of(index) else {
                continue;
            };
            let theirs = row.get(hc).and_then(|x| x.as_deref()).unwrap_or("");
            let ours = items.text[c][pos].as_deref().unwrap_or("");
            if theirs != ours {
                count += 1;
                first.get_or_insert((
                    t.row_numbers[r],
                    index,
                    ours.to_string(),
                    theirs.to_string(),
                ));
            }
        }
        if let Some((row, index, ours, theirs)) = first {
            warnings.push(format!(
                "{}, {} {row}, column `{header}`: item {index} differs from the items file ({:?} there, {:?} here); {count} rows differ in this column; the items file is used",
                t.file,
                t.row_unit,
                clip(&ours),
                clip(&theirs)
            ));
        }
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_from_stems() {
        let d = vec!["GMAI-MMBench_VAL".to_string()];
        assert_eq!(
            model_from_stem("qwen_chat_GMAI-MMBench_VAL", &d),
            (Some("qwen_chat".into()), false)
        );
        assert_eq!(
            model_from_stem("HuatuoGPT_Vision_7B_GMAI-MMBench_VAL_openai_result", &d),
            (Some("HuatuoGPT_Vision_7B".into()), true)
        );
        assert_eq!(
            model_from_stem("Qwen2-VL-7B-Instruct_gmai-mmbench_val_result", &d),
            (Some("Qwen2-VL-7B-Instruct".into()), true)
        );
        assert_eq!(
            model_from_stem("m_GMAI-MMBench_TEST", &[]),
            (Some("m".into()), false)
        );
        assert_eq!(model_from_stem("predictions", &d), (None, false));
    }
}
