//! The published GMAI-MMBench leaderboard (50 models and the random
//! baseline, as published on the benchmark's site) beside this run's models.
//! Only `Overall (val)` is a VAL figure, so only it is ranked against this
//! run's VAL accuracy; the per-task and per-department figures are published
//! TEST figures, shown beside a run's own only where an alias lines the two up.

use super::{no_answers_notice, split_label, table_view_rows, CellView, Part, RowView, Section};
use crate::error::{Error, Result};
use crate::render::Cell;
use crate::{Outcome, Session};
use std::collections::HashMap;

const PUBLISHED: &str = include_str!("../../data/published_leaderboard.csv");

/// One published row.
#[derive(Clone, Debug)]
pub struct Published {
    pub model: String,
    pub group: String,
    pub overall_val: Option<f64>,
    pub overall_test: Option<f64>,
    /// ("task" | "department", abbreviation) -> TEST figure
    pub slices: Vec<(String, String, Option<f64>)>,
}

pub fn published() -> Vec<Published> {
    let mut rdr = csv::Reader::from_reader(PUBLISHED.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map(|h| h.iter().map(str::to_string).collect())
        .unwrap_or_default();
    rdr.records()
        .filter_map(|r| r.ok())
        .map(|r| {
            let num = |i: usize| r.get(i).and_then(|v| v.trim().parse::<f64>().ok());
            Published {
                model: r.get(0).unwrap_or("").to_string(),
                group: r.get(1).unwrap_or("").to_string(),
                overall_val: num(2),
                overall_test: num(3),
                slices: (4..headers.len())
                    .filter_map(|i| {
                        let (dim, abbr) = headers[i].split_once(':')?;
                        Some((dim.to_string(), abbr.to_string(), num(i)))
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Parse `a=b` aliases (this run's model = published model).
pub fn parse_alias(s: &str) -> Result<(String, String)> {
    // At the last `=`: a run's model name may hold one (it comes from a
    // file name), the published names do not.
    let (a, b) = s
        .rsplit_once('=')
        .filter(|(a, b)| !a.trim().is_empty() && !b.trim().is_empty())
        .ok_or_else(|| {
            Error::Usage(format!(
                "--alias takes RUN_MODEL=PUBLISHED_MODEL, got `{s}`"
            ))
        })?;
    Ok((a.trim().to_string(), b.trim().to_string()))
}

/// Aliases from a file: one `a=b` a line; `#` comments and blank lines skipped.
pub fn alias_file(path: &str) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    text.lines()
        .enumerate()
        .map(|(i, l)| (i, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            parse_alias(l).map_err(|e| Error::Usage(format!("{path}, line {}: {e}", i + 1)))
        })
        .collect()
}

async fn accuracies(session: &mut Session, query: &str) -> Result<Vec<Vec<Cell>>> {
    let mut out = vec![];
    for o in session.run(query, "<leaderboard>").await? {
        if let Outcome::Table(t) = o {
            out.extend(t.rows());
        }
    }
    Ok(out)
}

fn text_cell(s: String, num: bool) -> CellView {
    CellView {
        text: s,
        class: if num { "num".into() } else { String::new() },
    }
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.2}")).unwrap_or_default()
}

pub async fn sections(session: &mut Session, aliases: &[(String, String)]) -> Result<Vec<Section>> {
    let rows = published();
    let models = session.info().models.clone();
    for (run, pubname) in aliases {
        if !models.contains(run) {
            return Err(Error::Usage(format!(
                "--alias {run}={pubname}: no model `{run}` is loaded (models: {})",
                models.join(", ")
            )));
        }
        if !rows.iter().any(|p| &p.model == pubname) {
            let near = crate::names::nearest(pubname, rows.iter().map(|p| p.model.as_str()), 3);
            return Err(Error::Usage(format!(
                "--alias {run}={pubname}: no published model `{pubname}`; nearest: {}",
                near.join(", ")
            )));
        }
    }
    let alias_of: HashMap<&str, &str> = aliases
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let policy = session.policy();
    let float = |c: &Cell| match c {
        Cell::Float(f) => Some(*f),
        _ => None,
    };
    // Each run's accuracy and Wilson interval.
    let mut intervals: std::collections::HashMap<String, (Option<f64>, Option<f64>)> =
        Default::default();
    let ours: Vec<(String, Option<f64>)> = accuracies(session, "by model score acc, ci")
        .await?
        .into_iter()
        .map(|r| {
            let m = match &r[0] {
                Cell::Text(s) => s.clone(),
                _ => String::new(),
            };
            let a = float(&r[1]);
            intervals.insert(m.clone(), (float(&r[2]), float(&r[3])));
            (m, a)
        })
        .collect();
    // A run's rank among the published models (the random baseline not
    // counted): 1 + those above its accuracy; its interval from the run's
    // Wilson interval (the published figures carry no item data).
    let published: Vec<f64> = rows
        .iter()
        .filter(|p| !p.model.eq_ignore_ascii_case("random"))
        .filter_map(|p| p.overall_val)
        .collect();
    let above = |x: Option<f64>| x.map(|x| 1 + published.iter().filter(|v| **v > x).count());
    let place = |m: &str, a: Option<f64>| -> String {
        let (lo, hi) = intervals.get(m).copied().unwrap_or((None, None));
        match (above(a), above(hi), above(lo)) {
            (Some(r), Some(low), Some(high)) => format!("{r} ({low}–{high})"),
            (Some(r), _, _) => r.to_string(),
            _ => String::new(),
        }
    };
    // (value, model label, group, source, is ours, rank among the published)
    let mut ranked: Vec<(Option<f64>, String, String, String, bool, String)> = rows
        .iter()
        .map(|p| {
            (
                p.overall_val,
                p.model.clone(),
                p.group.clone(),
                "published (VAL)".to_string(),
                false,
                String::new(),
            )
        })
        .collect();
    let split = split_label(session);
    let answered = session.info().has_answers;
    for (m, a) in ours.iter().filter(|_| answered) {
        let label = match alias_of.get(m.as_str()) {
            Some(p) => format!("{m} (this run; published as {p})"),
            None => format!("{m} (this run)"),
        };
        ranked.push((
            *a,
            label,
            format!("this run, policy {policy}"),
            format!("this run ({split})"),
            true,
            place(m, *a),
        ));
    }
    ranked.sort_by(|a, b| {
        b.0.unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.0.unwrap_or(f64::NEG_INFINITY))
            .then(a.1.cmp(&b.1))
    });
    let headers: Vec<String> = [
        "rank",
        "model",
        "group",
        "Overall (val)",
        "source",
        "rank among the published (interval)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let numeric = vec![true, false, false, true, false, true];
    let body: Vec<RowView> = ranked
        .iter()
        .enumerate()
        .map(|(i, (v, m, g, src, is_ours, place))| RowView {
            class: if *is_ours {
                "ours".into()
            } else {
                String::new()
            },
            cells: vec![
                // No rank without an accuracy (a model without recorded
                // verdicts under `recorded`): it is listed, not ranked.
                text_cell(
                    if v.is_some() {
                        (i + 1).to_string()
                    } else {
                        "–".into()
                    },
                    true,
                ),
                text_cell(crate::render::neutralize(m), false),
                text_cell(crate::render::neutralize(g), false),
                text_cell(pct(*v), true),
                text_cell(src.clone(), false),
                text_cell(place.clone(), true),
            ],
            ..RowView::default()
        })
        .collect();
    let mut out = vec![Section {
        id: "leaderboard".into(),
        title: "Against the published leaderboard".into(),
        description: if answered {
            format!(
                "This run's models ranked among the {} rows of the GMAI-MMBench leaderboard (50 models and the random baseline) on overall VAL accuracy, the one published VAL figure. This run's accuracies are under the {policy} policy; the published ones come from the paper's own inference runs, so the same model can score differently here. A run's rank among the published models (the random baseline not counted) is 1 + those above its accuracy; its interval, 1 + those above the top and the bottom of its Wilson 95% interval, says how far the rank could move with the items' sampling (the published figures carry no item data).",
                rows.len()
            )
        } else {
            format!(
                "The {} rows of the GMAI-MMBench leaderboard (50 models and the random baseline) on overall VAL accuracy. {} This run's models have no accuracy to rank among them.",
                rows.len(),
                no_answers_notice(session)
            )
        },
        source: "published leaderboard".into(),
        parts: vec![Part::table(
            "leaderboard-table".into(),
            table_view_rows(headers, numeric, body),
        )],
    }];
    for (run, pubname) in aliases {
        let p = rows
            .iter()
            .find(|p| &p.model == pubname)
            .expect("checked above");
        let mut body = vec![];
        for (dim, key) in [("task", "task"), ("department", "department")] {
            let q = format!(
                "where model = '{}' by {key} score acc",
                run.replace('\'', "''")
            );
            let mine: HashMap<String, Option<f64>> = accuracies(session, &q)
                .await?
                .into_iter()
                .filter_map(|r| match (&r[0], &r[1]) {
                    (Cell::Text(k), Cell::Float(a)) => Some((k.clone(), Some(*a))),
                    _ => None,
                })
                .collect();
            for (d, abbr, published_test) in p.slices.iter().filter(|s| s.0 == dim) {
                let name = crate::tree::ABBREVIATIONS
                    .iter()
                    .find(|(x, a, _)| *x == d && a == abbr)
                    .map(|(_, _, n)| n.to_string())
                    .unwrap_or_else(|| abbr.clone());
                let ours = mine
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&name))
                    .and_then(|(_, v)| *v);
                body.push(RowView {
                    class: String::new(),
                    cells: vec![
                        text_cell(dim.to_string(), false),
                        text_cell(abbr.clone(), false),
                        text_cell(name, false),
                        text_cell(pct(ours), true),
                        text_cell(pct(*published_test), true),
                    ],
                    ..RowView::default()
                });
            }
        }
        let headers: Vec<String> = ["dimension", "abbr", "name", "this run", "published (TEST)"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut headers = headers;
        headers[3] = format!("this run ({split})");
        out.push(Section {
            id: format!("alias-{}", out.len()),
            title: format!("{run} beside the published {pubname}"),
            description: format!(
                "{}Per task and per department: this run's accuracy on the loaded items ({split}) beside the figures published for {pubname}, which are TEST figures. Different splits and different inference runs: read them side by side, not as a ranking. Published overall: {} (VAL), {} (TEST).",
                if answered {
                    String::new()
                } else {
                    format!("{} ", no_answers_notice(session))
                },
                pct(p.overall_val),
                pct(p.overall_test)
            ),
            source: "published leaderboard".into(),
            parts: vec![Part::table(
                format!("alias-{}-table", out.len()),
                table_view_rows(headers, vec![false, false, false, true, true], body),
            )],
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_rows_parse() {
        let p = published();
        assert_eq!(p.len(), 51);
        let q = p
            .iter()
            .find(|r| r.model == "Qwen-VL-Chat")
            .expect("Qwen-VL-Chat");
        assert_eq!(q.overall_val, Some(35.07));
        assert_eq!(q.slices.iter().filter(|s| s.0 == "task").count(), 18);
        assert_eq!(q.slices.iter().filter(|s| s.0 == "department").count(), 18);
        assert_eq!(parse_alias("a=b").unwrap(), ("a".into(), "b".into()));
        assert!(parse_alias("ab").is_err());
    }
}
