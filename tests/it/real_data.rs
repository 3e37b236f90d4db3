//! Acceptance against VLMEvalKit's own scoring of 3 real models on the 4,550
//! GMAI-MMBench VAL items: item by item, and the accuracy tables to 1e-9.
//! The reference files are read here directly, not through medql's loaders.

use crate::common::*;
use medql::render::Cell;
use medql::Policy;
use std::collections::HashMap;

#[test]
fn items_load_with_quoted_tabs_and_option_counts() {
    let Some(dir) = shared_data() else { return };
    let rt = rt();
    let mut s = rt
        .block_on(medql::Session::load(&real_spec(&dir, &["predictions"])))
        .expect("load");
    assert_eq!(s.info().items, 4550);
    assert_eq!(s.info().datasets, vec!["GMAI-MMBench_VAL".to_string()]);
    assert_eq!(s.info().models, MODELS.to_vec());
    // The real prediction files carry item columns identical to the TSV's.
    assert!(s.info().warnings.is_empty(), "{:?}", s.info().warnings);
    let t = query(
        &rt,
        &mut s,
        r"from items where A like '%\t%' or B like '%\t%' or C like '%\t%' or D like '%\t%' or E like '%\t%' score n",
    );
    assert_eq!(float(&rows(&t)[0][0]), Some(11.0));
    let t = query(&rt, &mut s, "from items by n_options score n");
    let counts: Vec<(f64, f64)> = rows(&t)
        .iter()
        .map(|r| (float(&r[0]).unwrap(), float(&r[1]).unwrap()))
        .collect();
    assert_eq!(
        counts,
        vec![(2.0, 304.0), (3.0, 165.0), (4.0, 3075.0), (5.0, 1006.0)]
    );
    let t = query(&rt, &mut s, "from items where department is null score n");
    assert_eq!(float(&rows(&t)[0][0]), Some(75.0));
}

#[test]
fn every_item_matches_vlmevalkit_under_both_policies() {
    let Some(dir) = shared_data() else { return };
    let rt = rt();
    let mut s = rt
        .block_on(medql::Session::load(&real_spec(&dir, &["predictions"])))
        .expect("load");
    let t = query(
        &rt,
        &mut s,
        "show model, index, correct_legacy, choice_current, answered",
    );
    let mut ours: HashMap<(String, i64), (bool, String)> = HashMap::new();
    for r in rows(&t) {
        let model = text(&r[0]).unwrap();
        let Cell::Int(index) = r[1] else { panic!() };
        let Cell::Bool(c) = r[2] else {
            panic!("{:?}", r[2])
        };
        let choice = text(&r[3]).unwrap();
        assert_eq!(r[4], Cell::Bool(true), "every real item is answered");
        ours.insert((model, index), (c, choice));
    }
    assert_eq!(ours.len(), 3 * 4550);
    for m in MODELS {
        let hits =
            reference_hits(&dir.join(format!("reference/{m}_GMAI-MMBench_VAL_openai_result.xlsx")));
        let current = reference_current(&dir.join(format!("reference/{m}_current_policy.csv")));
        assert_eq!(hits.len(), 4550, "{m}");
        assert_eq!(current.len(), 4550, "{m}");
        let legacy_bad: Vec<i64> = hits
            .iter()
            .filter(|(i, h)| ours[&(m.to_string(), **i)].0 != **h)
            .map(|(i, _)| *i)
            .collect();
        assert!(
            legacy_bad.is_empty(),
            "{m}: legacy differs on {legacy_bad:?}"
        );
        let current_bad: Vec<i64> = current
            .iter()
            .filter(|(i, l)| &ours[&(m.to_string(), **i)].1 != *l)
            .map(|(i, _)| *i)
            .collect();
        assert!(
            current_bad.is_empty(),
            "{m}: current differs on {current_bad:?}"
        );
    }
}

#[test]
fn accuracy_tables_equal_vlmevalkit_to_1e_9() {
    let Some(dir) = shared_data() else { return };
    let rt = rt();
    let mut s = rt
        .block_on(medql::Session::load(&real_spec(&dir, &["predictions"])))
        .expect("load");
    s.set_policy("legacy".parse::<Policy>().unwrap()).unwrap();
    let overall: HashMap<String, f64> = rows(&query(&rt, &mut s, "by model score acc"))
        .iter()
        .map(|r| (text(&r[0]).unwrap(), float(&r[1]).unwrap()))
        .collect();
    for (dim, file) in [
        ("task", "clinical vqa task"),
        ("department", "department"),
        ("granularity", "perceptual granularity"),
    ] {
        let t = query(&rt, &mut s, &format!("by model, {dim} score acc, n"));
        let mut ours: HashMap<(String, String), f64> = HashMap::new();
        for r in rows(&t) {
            if let Some(g) = text(&r[1]) {
                ours.insert((text(&r[0]).unwrap(), g), float(&r[2]).unwrap());
            }
        }
        for m in MODELS {
            let reference =
                reference_acc(&dir.join(format!("reference/{m}_GMAI-MMBench_VAL_{file}_acc.csv")));
            assert!(reference.len() > 4, "{m} {dim}");
            for (group, frac) in reference {
                let got = if group == "Overall" {
                    overall[m]
                } else {
                    *ours
                        .get(&(m.to_string(), group.clone()))
                        .unwrap_or_else(|| panic!("{m}: no row for {dim} {group}"))
                };
                assert!(
                    (got / 100.0 - frac).abs() < 1e-9,
                    "{m} {dim} {group}: medql {got} vs VLMEvalKit {frac}"
                );
            }
        }
    }
}

#[test]
fn result_files_pair_with_raw_files_and_recorded_equals_legacy() {
    let Some(dir) = shared_data() else { return };
    let rt = rt();
    let spec = real_spec(&dir, &["predictions", "reference/*_openai_result.xlsx"]);
    let mut s = rt.block_on(medql::Session::load(&spec)).expect("load");
    assert_eq!(s.info().models, MODELS.to_vec());
    assert_eq!(s.info().recorded_models.len(), 3);
    let t = query(&rt, &mut s, "by model, policy score acc");
    let mut acc: HashMap<(String, String), f64> = HashMap::new();
    for r in rows(&t) {
        acc.insert(
            (text(&r[0]).unwrap(), text(&r[1]).unwrap()),
            float(&r[2]).unwrap(),
        );
    }
    // Three eras and `recorded`, by their canonical names.
    assert_eq!(acc.len(), 12);
    for m in MODELS {
        let legacy = acc[&(m.to_string(), "v2024".to_string())];
        let recorded = acc[&(m.to_string(), "recorded".to_string())];
        assert_eq!(legacy, recorded, "{m}");
    }
    // The published facts about the two rule sets.
    let h = |p: &str| acc[&("HuatuoGPT_Vision_7B".to_string(), p.to_string())];
    assert!((h("v2024") - 48.90).abs() < 0.005, "{}", h("v2024"));
    assert!((h("v2025") - 44.77).abs() < 0.005, "{}", h("v2025"));
    assert!((h("v2026") - 45.25).abs() < 0.005, "{}", h("v2026"));
}

/// VLMEvalKit's three eras on the shared predictions: `v2025` (from PR
/// #1175, 2025-08-04, until PR #1552, 2026-06-17) applied to every row by
/// the extraction functions, beside `v2024` and `v2026` as medql scores
/// them. The accuracies are the ones the design notes give for these files.
#[test]
fn the_three_eras_on_the_shared_predictions() {
    use medql::scoring::extract::{extract, Policy as Era};
    let Some(dir) = shared_data() else { return };
    let rt = rt();
    let mut s = rt
        .block_on(medql::Session::load(&real_spec(&dir, &["predictions"])))
        .expect("load");
    let t = query(
        &rt,
        &mut s,
        "where answered show model, prediction, A, B, C, D, E, answer, choice_legacy, choice_current",
    );
    // model -> [rows, hits under v2024, v2025, v2026]
    let mut acc: std::collections::BTreeMap<String, [u32; 4]> = Default::default();
    for r in rows(&t) {
        let model = text(&r[0]).unwrap();
        let options: Vec<Option<String>> = (2..7).map(|i| text(&r[i])).collect();
        let options: Vec<Option<&str>> = options.iter().map(|o| o.as_deref()).collect();
        let prediction = text(&r[1]);
        let answer = text(&r[7]).unwrap();
        let e = |era| (extract(era, prediction.as_deref(), &options).choice as char).to_string();
        // medql's scored columns are the extraction functions' results.
        assert_eq!(e(Era::Legacy), text(&r[8]).unwrap());
        assert_eq!(e(Era::Current), text(&r[9]).unwrap());
        let a = acc.entry(model).or_default();
        a[0] += 1;
        for (k, era) in [Era::Legacy, Era::V2025, Era::Current]
            .into_iter()
            .enumerate()
        {
            a[k + 1] += u32::from(e(era) == answer);
        }
    }
    let percent = |h: u32, n: u32| format!("{:.2}", 100.0 * h as f64 / n as f64);
    let got: Vec<(String, [String; 3])> = acc
        .into_iter()
        .map(|(m, a)| (m, [1, 2, 3].map(|k| percent(a[k], a[0]))))
        .collect();
    let want = [
        ("HuatuoGPT_Vision_7B", ["48.90", "44.77", "45.25"]),
        ("Qwen2-VL-7B-Instruct", ["46.46", "46.11", "46.11"]),
        ("qwen_chat", ["33.63", "29.58", "29.89"]),
    ];
    let want: Vec<(String, [String; 3])> = want
        .iter()
        .map(|(m, a)| (m.to_string(), a.map(str::to_string)))
        .collect();
    assert_eq!(got, want);
}
