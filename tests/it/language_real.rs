//! The language's constructs on the real data, each checked against numbers
//! the test computes itself from the raw files: the items TSV (read here
//! with the csv crate) and VLMEvalKit's per-item `hit` and accuracy tables.
//! All queries run under `legacy`, the rules VLMEvalKit's files were made with.

use crate::common::*;
use medql::render::Cell;
use medql::{Policy, Session};
use std::collections::{BTreeMap, HashMap};

struct Fixture {
    rt: tokio::runtime::Runtime,
    session: Session,
    items: Vec<HashMap<String, String>>,
    /// model -> index -> hit
    hits: HashMap<String, HashMap<i64, bool>>,
}

fn fixture() -> Option<(Fixture, std::path::PathBuf)> {
    let dir = shared_data()?;
    let rt = rt();
    let mut session = rt
        .block_on(Session::load(&real_spec(&dir, &["predictions"])))
        .unwrap();
    session
        .set_policy("legacy".parse::<Policy>().unwrap())
        .unwrap();
    let hits = MODELS
        .iter()
        .map(|m| {
            (
                m.to_string(),
                reference_hits(
                    &dir.join(format!("reference/{m}_GMAI-MMBench_VAL_openai_result.xlsx")),
                ),
            )
        })
        .collect();
    let items = items_tsv(&dir);
    Some((
        Fixture {
            rt,
            session,
            items,
            hits,
        },
        dir,
    ))
}

impl Fixture {
    fn q(&mut self, text: &str) -> Vec<Vec<Cell>> {
        rows(&query(&self.rt, &mut self.session, text))
    }
    /// (hits, n) per model over the items `keep` selects.
    fn count(
        &self,
        keep: impl Fn(&HashMap<String, String>) -> bool,
    ) -> BTreeMap<String, (u64, u64)> {
        let mut out = BTreeMap::new();
        for m in MODELS {
            let mut h = 0;
            let mut n = 0;
            for it in self.items.iter().filter(|it| keep(it)) {
                let idx: i64 = it["index"].parse().unwrap();
                n += 1;
                h += u64::from(self.hits[m][&idx]);
            }
            out.insert(m.to_string(), (h, n));
        }
        out
    }
}

fn by_model(rows: &[Vec<Cell>]) -> BTreeMap<String, Vec<Cell>> {
    rows.iter()
        .map(|r| (text(&r[0]).unwrap(), r[1..].to_vec()))
        .collect()
}

#[test]
fn terms_select_the_same_items_as_the_labels() {
    let Some((mut f, _)) = fixture() else { return };
    type Keep = Box<dyn Fn(&HashMap<String, String>) -> bool>;
    let cases: Vec<(&str, Keep)> = vec![
        (
            "#DD and #CT",
            Box::new(|it| it["clinical VQA task"] == "Disease Diagnosis" && it["modality"] == "CT"),
        ),
        (
            "#OM and #box",
            Box::new(|it| {
                it["department"] == "Oncology (Medical)"
                    && it["perceptual granularity"] == "Box level"
            }),
        ),
        (
            "#ENT/HNS",
            Box::new(|it| it["department"] == "Otolaryngology (ENT)/Head and Neck Surgery"),
        ),
        (
            "#\"*MRI\"",
            Box::new(|it| it["modality"].to_lowercase().ends_with("mri")),
        ),
        (
            "#DD/\"X-ray\"/\"lung nodule\"",
            Box::new(|it| {
                it["clinical VQA task"] == "Disease Diagnosis"
                    && it["modality"] == "X-ray"
                    && it["category"] == "lung nodule"
            }),
        ),
        (
            "#modality:CT and not #DD",
            Box::new(|it| it["modality"] == "CT" && it["clinical VQA task"] != "Disease Diagnosis"),
        ),
        (
            "#SAR or #SIR or #SWR",
            Box::new(|it| it["clinical VQA task"].starts_with("Surg")),
        ),
    ];
    for (term, keep) in cases {
        let expected = f.count(keep);
        assert!(
            expected.values().all(|(_, n)| *n > 0),
            "{term} selects nothing"
        );
        let got = by_model(&f.q(&format!("where {term} by model score hits, n, acc")));
        for (m, (h, n)) in expected {
            let r = &got[&m];
            assert_eq!(r[0], Cell::Int(h as i64), "{term} {m} hits");
            assert_eq!(r[1], Cell::Int(n as i64), "{term} {m} n");
            assert_eq!(
                float(&r[2]),
                Some(h as f64 / n as f64 * 100.0),
                "{term} {m} acc"
            );
        }
    }
    // A named selection is the same as its predicate.
    let direct = f.q("where #SAR or #SIR or #SWR by model score acc");
    let named = f.q("let surgical = #SAR or #SIR or #SWR; where surgical by model score acc");
    assert_eq!(direct, named);
}

#[test]
fn wilson_interval_and_chance_level() {
    let Some((mut f, _)) = fixture() else { return };
    let got = by_model(&f.q("by model score ci, random, fail, missing"));
    let expected = f.count(|_| true);
    // The mean of 1 / options, from the TSV's non-empty option cells.
    let inv: f64 = f
        .items
        .iter()
        .map(|it| {
            let k = ["A", "B", "C", "D", "E"]
                .iter()
                .filter(|l| it.get(**l).is_some_and(|v| !v.is_empty()))
                .count();
            1.0 / k as f64
        })
        .sum::<f64>()
        / f.items.len() as f64;
    let z = 1.959963984540054f64;
    for (m, (h, n)) in expected {
        let (h, n) = (h as f64, n as f64);
        let p = h / n;
        let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
        let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
        let r = &got[&m];
        assert!(
            (float(&r[0]).unwrap() - 100.0 * (centre - half)).abs() < 1e-9,
            "{m}"
        );
        assert!(
            (float(&r[1]).unwrap() - 100.0 * (centre + half)).abs() < 1e-9,
            "{m}"
        );
        assert!((float(&r[2]).unwrap() - 100.0 * inv).abs() < 1e-9, "{m}");
        assert_eq!(r[4], Cell::Int(0), "{m}: every item answered");
    }
}

#[test]
fn macro_is_the_mean_of_vlmevalkits_per_group_accuracies() {
    let Some((mut f, dir)) = fixture() else {
        return;
    };
    let got = by_model(&f.q("by model score macro(task), macro(department), macro(granularity)"));
    for m in MODELS {
        for (i, file) in ["clinical vqa task", "department", "perceptual granularity"]
            .iter()
            .enumerate()
        {
            let groups: Vec<f64> =
                reference_acc(&dir.join(format!("reference/{m}_GMAI-MMBench_VAL_{file}_acc.csv")))
                    .into_iter()
                    .filter(|(g, _)| g != "Overall")
                    .map(|(_, v)| v)
                    .collect();
            let mean = groups.iter().sum::<f64>() / groups.len() as f64 * 100.0;
            let ours = float(&got[m][i]).unwrap();
            assert!((ours - mean).abs() < 1e-9, "{m} {file}: {ours} vs {mean}");
        }
    }
}

#[test]
fn pivot_reproduces_vlmevalkits_tables_with_abbreviations() {
    let Some((mut f, dir)) = fixture() else {
        return;
    };
    for (key, file, abbreviated) in [
        ("task", "clinical vqa task", false),
        ("department", "department", true),
        ("granularity", "perceptual granularity", false),
    ] {
        let t = query(
            &f.rt,
            &mut f.session,
            &format!(
                "by model, {key} score acc pivot {key} with overall{}",
                if abbreviated { " abbreviated" } else { "" }
            ),
        );
        let headers: Vec<String> = t.schema.fields().iter().map(|x| x.name().clone()).collect();
        assert_eq!(headers[1], "Overall");
        for r in rows(&t) {
            let m = text(&r[0]).unwrap();
            let reference =
                reference_acc(&dir.join(format!("reference/{m}_GMAI-MMBench_VAL_{file}_acc.csv")));
            for (group, frac) in reference {
                let col = if abbreviated && group != "Overall" {
                    medql::tree::abbreviation(key, &group)
                        .unwrap_or(&group)
                        .to_string()
                } else {
                    group.clone()
                };
                let i = headers
                    .iter()
                    .position(|h| *h == col)
                    .unwrap_or_else(|| panic!("no column {col} in {headers:?}"));
                assert!(
                    (float(&r[i]).unwrap() - frac * 100.0).abs() < 1e-9,
                    "{m} {group}"
                );
            }
        }
    }
    // Tasks come in the paper's order (its abbreviation table).
    let t = query(
        &f.rt,
        &mut f.session,
        "by model, task score acc pivot task abbreviated",
    );
    let headers: Vec<String> = t
        .schema
        .fields()
        .iter()
        .skip(1)
        .map(|x| x.name().clone())
        .collect();
    let paper: Vec<String> = medql::tree::ABBREVIATIONS
        .iter()
        .filter(|(d, _, _)| *d == "task")
        .map(|(_, a, _)| a.to_string())
        .collect();
    assert_eq!(headers, paper);
}

/// Exact two-sided McNemar, computed here with exact integer binomials.
fn mcnemar_exact(b: u64, c: u64) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    // P(X <= k) = sum C(n, i) / 2^n, with C(n, i) built as f64 ratios of the previous term.
    let k = b.min(c);
    let mut term = 1.0f64;
    let mut tail = 1.0f64;
    for i in 1..=k {
        term = term * (n - i + 1) as f64 / i as f64;
        tail += term;
    }
    (2.0 * tail / 2f64.powi(n as i32)).min(1.0)
}

#[test]
fn compare_counts_discordant_pairs_and_adjusts_with_holm() {
    let Some((mut f, _)) = fixture() else { return };
    let got = f.q("by granularity compare 'Qwen2-VL-7B-Instruct' vs 'qwen_chat'");
    assert_eq!(got.len(), 4);
    let mut ps = vec![];
    for r in &got {
        let g = text(&r[0]).unwrap();
        assert_eq!(text(&r[1]).unwrap(), "Qwen2-VL-7B-Instruct");
        assert_eq!(text(&r[2]).unwrap(), "qwen_chat");
        let (mut n, mut oa, mut ob, mut ha, mut hb) = (0i64, 0i64, 0i64, 0i64, 0i64);
        for it in f
            .items
            .iter()
            .filter(|it| it["perceptual granularity"] == g)
        {
            let idx: i64 = it["index"].parse().unwrap();
            let a = f.hits["Qwen2-VL-7B-Instruct"][&idx];
            let b = f.hits["qwen_chat"][&idx];
            n += 1;
            ha += a as i64;
            hb += b as i64;
            oa += (a && !b) as i64;
            ob += (b && !a) as i64;
        }
        assert_eq!(r[3], Cell::Int(n), "{g}");
        assert_eq!(r[9], Cell::Int(oa), "{g}");
        assert_eq!(r[10], Cell::Int(ob), "{g}");
        let acc_a = ha as f64 / n as f64 * 100.0;
        let acc_b = hb as f64 / n as f64 * 100.0;
        assert!((float(&r[4]).unwrap() - acc_a).abs() < 1e-9);
        assert!((float(&r[6]).unwrap() - (acc_a - acc_b)).abs() < 1e-9);
        // The paired difference's 95% interval, from the per-item
        // differences d = x_a - x_b (sample variance).
        let ds: Vec<f64> = (0..n)
            .map(|i| {
                if i < oa {
                    1.0
                } else if i < oa + ob {
                    -1.0
                } else {
                    0.0
                }
            })
            .collect();
        let mean = ds.iter().sum::<f64>() / n as f64;
        let var = ds.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        let half = 1.959963984540054 * 100.0 * (var / n as f64).sqrt();
        assert!(
            (float(&r[7]).unwrap() - (acc_a - acc_b - half)).abs() < 1e-9,
            "{g}"
        );
        assert!(
            (float(&r[8]).unwrap() - (acc_a - acc_b + half)).abs() < 1e-9,
            "{g}"
        );
        let p = mcnemar_exact(oa as u64, ob as u64);
        let ours = float(&r[11]).unwrap();
        assert!(
            ((ours - p) / p.max(1e-300)).abs() < 1e-9,
            "{g}: {ours} vs {p}"
        );
        ps.push(ours);
    }
    // Holm by hand: sort ascending, multiply by (m - rank), running maximum, cap at 1.
    let mut order: Vec<usize> = (0..ps.len()).collect();
    order.sort_by(|a, b| ps[*a].partial_cmp(&ps[*b]).unwrap());
    let mut running: f64 = 0.0;
    let mut holm = vec![0.0; ps.len()];
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((ps.len() - rank) as f64 * ps[i]).min(1.0));
        holm[i] = running;
    }
    for (r, h) in got.iter().zip(holm) {
        assert!(
            (float(&r[12]).unwrap() - h).abs() <= 1e-12 * h.max(1e-300),
            "holm"
        );
    }
    // Benjamini-Hochberg by hand: q_(i) = min over j >= i of min(1, m p_(j) / j).
    let m = ps.len();
    for (i, r) in got.iter().enumerate() {
        let rank_i = order.iter().position(|&k| k == i).unwrap();
        let q = order[rank_i..]
            .iter()
            .enumerate()
            .map(|(off, &k)| (m as f64 * ps[k] / (rank_i + off + 1) as f64).min(1.0))
            .fold(f64::INFINITY, f64::min);
        assert!(
            (float(&r[13]).unwrap() - q).abs() <= 1e-12 * q.max(1e-300),
            "bh"
        );
    }
    // `each vs best`: the best model under legacy is HuatuoGPT_Vision_7B (48.90).
    let got = f.q("compare each vs best");
    let pairs: Vec<(String, String)> = got
        .iter()
        .map(|r| (text(&r[0]).unwrap(), text(&r[1]).unwrap()))
        .collect();
    assert_eq!(
        pairs,
        vec![
            (
                "Qwen2-VL-7B-Instruct".to_string(),
                "HuatuoGPT_Vision_7B".to_string()
            ),
            ("qwen_chat".to_string(), "HuatuoGPT_Vision_7B".to_string())
        ]
    );
}

#[test]
fn limit_per_having_and_sort() {
    let Some((mut f, _)) = fixture() else { return };
    let got = f.q("where not correct show model, index limit 3 per model");
    let mut expected = vec![];
    for m in MODELS {
        let mut wrong: Vec<i64> = f.hits[m]
            .iter()
            .filter(|(_, h)| !**h)
            .map(|(i, _)| *i)
            .collect();
        wrong.sort();
        for i in wrong.into_iter().take(3) {
            expected.push(vec![Cell::Text(m.to_string()), Cell::Int(i)]);
        }
    }
    assert_eq!(got, expected);
    // having: the tasks with fewer than 100 items.
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for it in &f.items {
        *counts.entry(it["clinical VQA task"].clone()).or_default() += 1;
    }
    let small: Vec<(String, i64)> = counts.into_iter().filter(|(_, n)| *n < 100).collect();
    let got = f.q("from items by task score n having n < 100 sort n desc, task");
    let mut expected = small.clone();
    expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let got: Vec<(String, i64)> = got
        .iter()
        .map(|r| (text(&r[0]).unwrap(), float(&r[1]).unwrap() as i64))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn check_reports_every_bad_statement_with_positions() {
    let Some((mut f, _)) = fixture() else { return };
    let src =
        "by model score acc;\nby modle score acc;\nwhere #Dermatolgy score n;\nby model scor n;\n";
    let errs = f.rt.block_on(f.session.check(src, "q.mql"));
    let shorts: Vec<String> = errs
        .iter()
        .map(|e| match e {
            medql::Error::Query(q) => q.short(),
            other => other.to_string(),
        })
        .collect();
    assert_eq!(shorts.len(), 3, "{shorts:?}");
    assert!(
        shorts[0].starts_with("q.mql:2:4: unknown column `modle`"),
        "{shorts:?}"
    );
    assert!(
        shorts[1].starts_with("q.mql:3:7: unknown lexical-tree name `Dermatolgy`"),
        "{shorts:?}"
    );
    assert!(
        shorts[2].starts_with("q.mql:4:10: syntax error"),
        "{shorts:?}"
    );
}
