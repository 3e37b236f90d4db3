//! Expressions in conditions, checked on the real shared data against the
//! same selections computed here from the items TSV and the rows' verdicts.

use crate::common::{float, items_tsv, query, rows, shared_data, text};
use medql::render::Cell;
use medql::Session;
use std::collections::{BTreeMap, HashMap};

#[test]
fn expressions_on_the_real_data() {
    let (Some(dir), Some((rt, mut s))) = (shared_data(), crate::common::real_legacy_session())
    else {
        return;
    };
    let items = items_tsv(&dir);
    let by_index: HashMap<i64, &HashMap<String, String>> = items
        .iter()
        .map(|r| (r["index"].parse().unwrap(), r))
        .collect();
    // Every row's verdict, by (model, index).
    let t = query(&rt, &mut s, "show model, index, correct");
    let mut verdict: BTreeMap<(String, i64), bool> = BTreeMap::new();
    for r in rows(&t) {
        verdict.insert(
            (text(&r[0]).unwrap(), float(&r[1]).unwrap() as i64),
            matches!(r[2], Cell::Bool(true)),
        );
    }
    let models: Vec<String> = crate::common::MODELS
        .iter()
        .map(|m| m.to_string())
        .collect();
    // (n, hits) per model over the items a selection keeps.
    let expect = |keep: &dyn Fn(&HashMap<String, String>) -> bool| -> Vec<(f64, f64)> {
        models
            .iter()
            .map(|m| {
                let kept: Vec<i64> = by_index
                    .iter()
                    .filter(|(_, r)| keep(r))
                    .map(|(i, _)| *i)
                    .collect();
                let hits = kept.iter().filter(|i| verdict[&(m.clone(), **i)]).count();
                (kept.len() as f64, hits as f64)
            })
            .collect()
    };
    let got = |s: &mut Session, q: &str| -> Vec<(f64, f64)> {
        let t = query(&rt, s, &format!("{q} by model score n, hits sort model"));
        rows(&t)
            .iter()
            .map(|r| (float(&r[1]).unwrap(), float(&r[2]).unwrap_or(0.0)))
            .collect()
    };
    // A function in `where`: questions over 100 characters.
    assert_eq!(
        got(&mut s, "where length(question) > 100"),
        expect(&|r| r["question"].chars().count() > 100)
    );
    // CASE: a computed category.
    assert_eq!(
        got(
            &mut s,
            "where case when modality = 'CT' then 'ct' when modality like '%MR%' then 'mr' else 'other' end = 'mr'"
        ),
        expect(&|r| r["modality"] != "CT" && r["modality"].contains("MR"))
    );
    // Arithmetic: floating-point division and `%`.
    assert_eq!(
        got(&mut s, "where index % 7 = 3 and 100 * index / 4550 < 50"),
        expect(&|r| {
            let i: i64 = r["index"].parse().unwrap();
            i % 7 == 3 && (100.0 * i as f64 / 4550.0) < 50.0
        })
    );
    // `having` on an expression over output columns.
    let t = query(
        &rt,
        &mut s,
        "by model, task score acc, random sort model, task",
    );
    let want: Vec<(String, String)> = rows(&t)
        .iter()
        .filter(|r| float(&r[2]).unwrap() - float(&r[3]).unwrap() > 25.0)
        .map(|r| (text(&r[0]).unwrap(), text(&r[1]).unwrap()))
        .collect();
    let t = query(
        &rt,
        &mut s,
        "by model, task score acc, random having acc - random > 25 sort model, task",
    );
    let have: Vec<(String, String)> = rows(&t)
        .iter()
        .map(|r| (text(&r[0]).unwrap(), text(&r[1]).unwrap()))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(have, want);

    // A computed key: items with more than three options, per model.
    let t = query(
        &rt,
        &mut s,
        "by model, n_options > 3 as many score n, hits sort model, many",
    );
    let options = |r: &HashMap<String, String>| {
        ["A", "B", "C", "D", "E"]
            .iter()
            .filter(|l| r.get(**l).is_some_and(|v| !v.trim().is_empty()))
            .count()
    };
    let mut want = vec![];
    for (m, (few, many)) in models.iter().zip(
        expect(&|r| options(r) <= 3)
            .into_iter()
            .zip(expect(&|r| options(r) > 3)),
    ) {
        for (flag, (n, hits)) in [("false", few), ("true", many)] {
            if n > 0.0 {
                want.push((m.clone(), flag.to_string(), n, hits));
            }
        }
    }
    let have: Vec<(String, String, f64, f64)> = rows(&t)
        .iter()
        .map(|r| {
            (
                text(&r[0]).unwrap(),
                match r[1] {
                    Cell::Bool(b) => b.to_string(),
                    _ => panic!("{:?}", r[1]),
                },
                float(&r[2]).unwrap(),
                float(&r[3]).unwrap(),
            )
        })
        .collect();
    assert_eq!(have, want);

    // Arithmetic over metrics: acc - random, and 100 * hits / n.
    let t = query(
        &rt,
        &mut s,
        "by model score acc, random, hits, n, acc - random as lift, 100 * hits / n as pct sort model",
    );
    for r in rows(&t) {
        let (acc, random, hits, n) = (
            float(&r[1]).unwrap(),
            float(&r[2]).unwrap(),
            float(&r[3]).unwrap(),
            float(&r[4]).unwrap(),
        );
        assert!((float(&r[5]).unwrap() - (acc - random)).abs() < 1e-9);
        assert!((float(&r[6]).unwrap() - 100.0 * hits / n).abs() < 1e-9);
    }

    // An aggregate over an expression: the mean question length.
    let t = query(
        &rt,
        &mut s,
        "by model score mean(length(question)) as m, max(length(question)) sort model",
    );
    let lengths: Vec<f64> = by_index
        .values()
        .map(|r| r["question"].chars().count() as f64)
        .collect();
    let mean = lengths.iter().sum::<f64>() / lengths.len() as f64;
    let longest = lengths.iter().copied().fold(0.0, f64::max);
    for r in rows(&t) {
        assert!((float(&r[1]).unwrap() - mean).abs() < 1e-9);
        assert_eq!(float(&r[2]), Some(longest));
    }

    // A shown computed column, sorted by it: the longest questions.
    let t = query(
        &rt,
        &mut s,
        "where model = 'qwen_chat' show index, length(question) as len sort len desc, index limit 5",
    );
    let mut want: Vec<(i64, f64)> = by_index
        .iter()
        .map(|(i, r)| (*i, r["question"].chars().count() as f64))
        .collect();
    want.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    want.truncate(5);
    let have: Vec<(i64, f64)> = rows(&t)
        .iter()
        .map(|r| (float(&r[0]).unwrap() as i64, float(&r[1]).unwrap()))
        .collect();
    assert_eq!(have, want);
}
