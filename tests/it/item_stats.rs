//! `from item_stats` against an item analysis computed here from the
//! `results` rows, on the real shared data; and a wrong answer key planted
//! in generated data, which the models agree against, flagged as suspect.

use crate::common::{float, query, rows, rt, text};
use medql::render::Cell;
use medql::{LoadSpec, Session};
use std::collections::BTreeMap;

/// One item's figures: n_models, p_correct, discrimination, top_wrong,
/// top_wrong_share, suspect.
type Stats = (
    i64,
    Option<f64>,
    Option<f64>,
    Option<String>,
    Option<f64>,
    bool,
);

/// The item analysis by its definition, from
/// `show dataset, index, model, answered, correct, choice, answer`.
fn by_definition(s: &mut Session, rt: &tokio::runtime::Runtime) -> BTreeMap<(String, i64), Stats> {
    let t = query(
        rt,
        s,
        "show dataset, index, model, answered, correct, choice, answer",
    );
    struct Row {
        model: String,
        answered: bool,
        correct: Option<bool>,
        choice: Option<String>,
        answer: Option<String>,
    }
    let mut items: BTreeMap<(String, i64), Vec<Row>> = BTreeMap::new();
    // Each model's accuracy per dataset: correct rows / rows with an answer.
    let mut acc: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    for r in rows(&t) {
        let dataset = text(&r[0]).unwrap();
        let row = Row {
            model: text(&r[2]).unwrap(),
            answered: matches!(r[3], Cell::Bool(true)),
            correct: match r[4] {
                Cell::Bool(b) => Some(b),
                _ => None,
            },
            choice: text(&r[5]),
            answer: text(&r[6]),
        };
        let a = acc.entry((row.model.clone(), dataset.clone())).or_default();
        if row.answer.is_some() {
            a.1 += 1.0;
        }
        if row.correct == Some(true) {
            a.0 += 1.0;
        }
        items
            .entry((dataset, float(&r[1]).unwrap() as i64))
            .or_default()
            .push(row);
    }
    let mut out = BTreeMap::new();
    for ((dataset, index), all) in items {
        let rows: Vec<&Row> = all.iter().filter(|r| r.answered).collect();
        let n = rows.len() as i64;
        let judged: Vec<&&Row> = rows.iter().filter(|r| r.correct.is_some()).collect();
        let p_correct = (!judged.is_empty()).then(|| {
            100.0 * judged.iter().filter(|r| r.correct == Some(true)).count() as f64
                / judged.len() as f64
        });
        // Pearson's r, two passes.
        let pairs: Vec<(f64, f64)> = judged
            .iter()
            .map(|r| {
                let (h, m) = acc[&(r.model.clone(), dataset.clone())];
                ((r.correct == Some(true)) as u8 as f64, h / m)
            })
            .collect();
        let k = pairs.len() as f64;
        let mx = pairs.iter().map(|p| p.0).sum::<f64>() / k;
        let my = pairs.iter().map(|p| p.1).sum::<f64>() / k;
        let sxy: f64 = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let sxx: f64 = pairs.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let syy: f64 = pairs.iter().map(|p| (p.1 - my).powi(2)).sum();
        let varies = |f: fn(&(f64, f64)) -> f64| pairs.iter().any(|p| f(p) != f(&pairs[0]));
        let discrimination = (pairs.len() >= 3 && varies(|p| p.0) && varies(|p| p.1))
            .then(|| sxy / (sxx * syy).sqrt());
        let mut wrong: BTreeMap<String, i64> = BTreeMap::new();
        for r in &rows {
            if let (Some(c), Some(a)) = (&r.choice, &r.answer) {
                if c != a && c != "Z" {
                    *wrong.entry(c.clone()).or_default() += 1;
                }
            }
        }
        // Most chosen; ties to the earlier letter (the map is in order).
        let top = wrong
            .iter()
            .fold(None::<(&String, i64)>, |best, (l, c)| match best {
                Some((_, b)) if b >= *c => best,
                _ => Some((l, *c)),
            });
        let share = top.map(|(_, c)| 100.0 * c as f64 / n as f64);
        let suspect =
            n >= 5 && p_correct.is_some_and(|p| p < 20.0) && share.is_some_and(|s| s >= 50.0);
        out.insert(
            (dataset, index),
            (
                n,
                p_correct,
                discrimination,
                top.map(|(l, _)| l.clone()),
                share,
                suspect,
            ),
        );
    }
    out
}

fn item_stats(s: &mut Session, rt: &tokio::runtime::Runtime) -> BTreeMap<(String, i64), Stats> {
    let t = query(
        rt,
        s,
        "from item_stats show dataset, index, n_models, p_correct, discrimination, top_wrong, top_wrong_share, suspect",
    );
    rows(&t)
        .iter()
        .map(|r| {
            (
                (text(&r[0]).unwrap(), float(&r[1]).unwrap() as i64),
                (
                    float(&r[2]).unwrap() as i64,
                    float(&r[3]),
                    float(&r[4]),
                    text(&r[5]),
                    float(&r[6]),
                    matches!(r[7], Cell::Bool(true)),
                ),
            )
        })
        .collect()
}

fn same(got: &BTreeMap<(String, i64), Stats>, want: &BTreeMap<(String, i64), Stats>) {
    assert_eq!(got.len(), want.len());
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    };
    for (k, w) in want {
        let g = &got[k];
        assert!(
            g.0 == w.0
                && close(g.1, w.1)
                && close(g.2, w.2)
                && g.3 == w.3
                && close(g.4, w.4)
                && g.5 == w.5,
            "{k:?}: {g:?} against {w:?}"
        );
    }
}

#[test]
fn item_analysis_of_the_real_data() {
    let Some((rt, mut s)) = crate::common::real_legacy_session() else {
        return;
    };
    let got = item_stats(&mut s, &rt);
    let want = by_definition(&mut s, &rt);
    assert_eq!(got.len(), 4550);
    same(&got, &want);
    // Three models: every item answered by all, none can be suspect.
    assert!(got.values().all(|v| v.0 == 3 && !v.5));
    assert!(
        got.values().any(|v| v.2.is_some()),
        "some items discriminate"
    );
    // It filters, sorts and scores like the other relations.
    let t = query(
        &rt,
        &mut s,
        "from item_stats where p_correct = 0 and top_wrong_share = 100 by task score n sort n desc limit 1",
    );
    let n = float(&rows(&t)[0][1]).unwrap() as usize;
    let unanimous = got
        .values()
        .filter(|v| v.1 == Some(0.0) && v.4 == Some(100.0))
        .count();
    assert!(n > 0 && n <= unanimous, "{n} of {unanimous}");
}

/// Rewrite one item's answer in an items TSV.
fn set_answer(path: &std::path::Path, index: i64, answer: &str) {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .from_path(path)
        .unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = headers.iter().position(|h| h == "answer").unwrap();
    let records: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let mut w = csv::WriterBuilder::new()
        .delimiter(b'\t')
        .from_path(path)
        .unwrap();
    w.write_record(&headers).unwrap();
    for r in records {
        let mut fields: Vec<String> = r.iter().map(str::to_string).collect();
        if fields[0].parse::<i64>().ok() == Some(index) {
            fields[col] = answer.to_string();
        }
        w.write_record(&fields).unwrap();
    }
    w.flush().unwrap();
}

#[test]
fn a_planted_wrong_key_is_suspect() {
    let dir = tempfile::tempdir().unwrap();
    let (items, preds) = crate::common::gen_csv(dir.path(), 8, 300);
    let spec = LoadSpec {
        items: vec![items.clone()],
        predictions: vec![preds.display().to_string()],
        ..Default::default()
    };
    let rt = rt();
    let mut s = rt.block_on(Session::load(&spec)).unwrap();
    let before = item_stats(&mut s, &rt);
    same(&before, &by_definition(&mut s, &rt));
    let (index, key) = plantable(&mut s, &rt);
    assert!(!before[&("GMAI-MMBench_SYNTH".to_string(), index)].5);
    set_answer(std::path::Path::new(&items), index, &key);
    let mut s = rt.block_on(Session::load(&spec)).unwrap();
    let after = item_stats(&mut s, &rt);
    same(&after, &by_definition(&mut s, &rt));
    let planted = &after[&("GMAI-MMBench_SYNTH".to_string(), index)];
    assert!(planted.5, "item {index} with key {key}: {planted:?}");
    let t = query(
        &rt,
        &mut s,
        "from item_stats where suspect show index, answer, top_wrong",
    );
    assert!(rows(&t).iter().any(
        |r| float(&r[0]) == Some(index as f64) && text(&r[1]).as_deref() == Some(key.as_str())
    ));
}

/// An item that most models get right, and a letter fewer than one in five
/// of them chose: making that letter the key makes the models agree
/// against it.
fn plantable(s: &mut Session, rt: &tokio::runtime::Runtime) -> (i64, String) {
    let t = query(rt, s, "where answered show index, answer, choice");
    let mut chosen: BTreeMap<i64, (String, BTreeMap<String, usize>, usize)> = BTreeMap::new();
    for r in rows(&t) {
        let e = chosen
            .entry(float(&r[0]).unwrap() as i64)
            .or_insert_with(|| (text(&r[1]).unwrap(), BTreeMap::new(), 0));
        *e.1.entry(text(&r[2]).unwrap()).or_default() += 1;
        e.2 += 1;
    }
    chosen
        .iter()
        .find_map(|(i, (answer, counts, n))| {
            let right = counts.get(answer).copied().unwrap_or(0);
            if *n < 5 || right * 2 < *n {
                return None;
            }
            ["A", "B", "C", "D"]
                .into_iter()
                .find(|l| *l != answer && counts.get(*l).copied().unwrap_or(0) * 5 < *n)
                .map(|l| (*i, l.to_string()))
        })
        .expect("an item most models get right")
}

#[test]
fn the_report_lists_a_planted_wrong_key_with_its_picture() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = crate::common::medql(&[
        "gen",
        "--n-models",
        "8",
        "--n-items",
        "300",
        "--images",
        "png",
        "--file-format",
        "csv",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let items = dir.path().join("GMAI-MMBench_SYNTH.tsv");
    let preds = dir.path().join("predictions");
    let spec = LoadSpec {
        items: vec![items.display().to_string()],
        predictions: vec![preds.display().to_string()],
        ..Default::default()
    };
    let rt = rt();
    let mut s = rt.block_on(Session::load(&spec)).unwrap();
    let (index, key) = plantable(&mut s, &rt);
    set_answer(&items, index, &key);
    let html = dir.path().join("report.html");
    let (code, _, err) = crate::common::medql(&[
        "--items",
        items.to_str().unwrap(),
        "--predictions",
        preds.to_str().unwrap(),
        "report",
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    let at = page.find("<h2>Suspect items</h2>").expect("the section");
    let section = &page[at..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(!section.contains("No item is suspect"));
    assert!(
        section.contains(&format!("alt=\"GMAI-MMBench_SYNTH item {index}\"")),
        "the planted item's picture"
    );
    assert!(section.contains("<img class=\"thumb\" src=\"data:image/png;base64,"));
}
