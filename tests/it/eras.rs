//! VLMEvalKit's three eras of answer extraction as rule sets: `v2024`,
//! `v2025` and `v2026`, with `legacy` and `current` as other names of the
//! first and the last. Output names them canonically; what a user writes
//! keeps its spelling in headers.

use crate::common::{float, query, rows, rt, text};
use medql::render::Cell;
use medql::{LoadSpec, Outcome, Session};

fn headers(t: &medql::QueryResult) -> Vec<String> {
    t.schema.fields().iter().map(|f| f.name().clone()).collect()
}

#[test]
fn eras_by_canonical_names_and_aliases_as_written() {
    let rt = rt();
    let mut s = rt.block_on(Session::load(&LoadSpec::default())).unwrap();
    // `by policy`: one row per era, by its canonical name.
    let t = query(&rt, &mut s, "by policy score n");
    let policies: Vec<String> = rows(&t).iter().map(|r| text(&r[0]).unwrap()).collect();
    assert_eq!(policies, ["v2024", "v2025", "v2026"]);
    // A policy named by an alias in a condition means the canonical one.
    let t = query(&rt, &mut s, "where policy = 'legacy' by policy score n");
    assert_eq!(text(&rows(&t)[0][0]).as_deref(), Some("v2024"));
    let t = query(
        &rt,
        &mut s,
        "where policy in ('current', 'v2025') by policy score n",
    );
    let policies: Vec<String> = rows(&t).iter().map(|r| text(&r[0]).unwrap()).collect();
    assert_eq!(policies, ["v2025", "v2026"]);
    // Columns and metrics written with an alias keep that spelling.
    let t = query(
        &rt,
        &mut s,
        "show choice_legacy, correct_current, choice_v2025 limit 1",
    );
    assert_eq!(
        headers(&t),
        ["choice_legacy", "correct_current", "choice_v2025"]
    );
    let t = query(&rt, &mut s, "by rule_current score n sort n desc limit 1");
    assert_eq!(headers(&t), ["rule_current", "n"]);
    let t = query(
        &rt,
        &mut s,
        "by model score acc(legacy), acc(v2024), acc(v2025), acc(current), acc(v2026)",
    );
    assert_eq!(
        headers(&t),
        [
            "model",
            "acc_legacy",
            "acc_v2024",
            "acc_v2025",
            "acc_current",
            "acc_v2026"
        ]
    );
    for r in rows(&t) {
        let acc = |i: usize| float(&r[i]).expect("an accuracy");
        assert_eq!(acc(1), acc(2), "legacy is v2024");
        assert_eq!(acc(4), acc(5), "current is v2026");
    }
    // `show *` lists the canonical columns only.
    let t = query(&rt, &mut s, "show * limit 1");
    let h = headers(&t);
    assert!(h.contains(&"choice_v2025".to_string()));
    assert!(!h
        .iter()
        .any(|c| c.contains("legacy") || c.contains("current")));
    // `set policy` echoes what was typed; the session holds the era.
    let out = rt.block_on(s.run("set policy = legacy", "q")).unwrap();
    assert!(matches!(&out[0], Outcome::Message(m) if m == "policy = legacy"));
    assert_eq!(s.policy().name(), "v2024");
}

#[test]
fn shift_and_flips_between_any_two_eras() {
    let rt = rt();
    let mut s = rt.block_on(Session::load(&LoadSpec::default())).unwrap();
    let t = query(
        &rt,
        &mut s,
        "by model score acc(v2024), acc(v2025), acc(v2026), shift, shift(legacy, v2025), \
         shift(v2025, current), flips, flips(v2024, v2026), flips(v2024, v2025)",
    );
    assert_eq!(
        headers(&t)[4..],
        [
            "shift",
            "shift_legacy_v2025",
            "shift_v2025_current",
            "flips",
            "flips_v2024_v2026",
            "flips_v2024_v2025"
        ]
    );
    for r in rows(&t) {
        let v = |i: usize| float(&r[i]).expect("a number");
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        // shift(a, b) = acc(b) - acc(a); plain shift is v2026 against v2024.
        assert!(close(v(4), v(3) - v(1)), "{r:?}");
        assert!(close(v(5), v(2) - v(1)), "{r:?}");
        assert!(close(v(6), v(3) - v(2)), "{r:?}");
        assert_eq!(v(7), v(8), "plain flips is flips(v2024, v2026)");
    }
    // flips(a, b) counts rows whose letters differ.
    let t = query(
        &rt,
        &mut s,
        "where choice_v2024 != choice_v2025 by model score n",
    );
    let by_rows: Vec<f64> = rows(&t).iter().map(|r| float(&r[1]).unwrap()).collect();
    let t = query(&rt, &mut s, "by model score flips(v2024, v2025)");
    let by_metric: Vec<f64> = rows(&t).iter().map(|r| float(&r[1]).unwrap()).collect();
    assert_eq!(by_rows, by_metric);
    // Wrong arguments are errors at their place.
    for (q, says) in [
        ("by model score shift(v2024)", "compares two rule sets"),
        (
            "by model score acc(v2024, v2025)",
            "takes one argument at most",
        ),
        ("by model score flips(v2024, v2099)", "no such rule set"),
    ] {
        let e = rt.block_on(s.run(q, "q")).unwrap_err().to_string();
        assert!(e.contains(says), "{q}: {e}");
    }
}

#[test]
fn acc_recorded_is_vlmevalkits_verdicts_whatever_the_policy() {
    let rt = rt();
    // Without result files there are no verdicts to score by.
    let mut demo = rt.block_on(Session::load(&LoadSpec::default())).unwrap();
    let e = rt
        .block_on(demo.run("by model score acc(recorded)", "q"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("needs VLMEvalKit's verdicts"), "{e}");
    let Some(dir) = crate::common::shared_data() else {
        return;
    };
    let spec = crate::common::real_spec(
        &dir,
        &[
            "predictions",
            "reference/qwen_chat_GMAI-MMBench_VAL_openai_result.xlsx",
        ],
    );
    let mut s = rt.block_on(Session::load(&spec)).unwrap();
    let t = query(&rt, &mut s, "by model score acc(recorded), acc(v2024)");
    assert_eq!(headers(&t), ["model", "acc_recorded", "acc_v2024"]);
    for r in rows(&t) {
        let model = text(&r[0]).unwrap();
        if model == "qwen_chat" {
            // VLMEvalKit's verdicts are its 2024 rules: 33.63.
            let rec = float(&r[1]).unwrap();
            assert!((rec - 33.63).abs() < 0.005, "{rec}");
            assert_eq!(float(&r[1]), float(&r[2]));
        } else {
            assert_eq!(float(&r[1]), None, "{model} has no verdicts");
        }
    }
}

/// Write a VLMEvalKit-shaped result file for `model` whose `hit` is the
/// verdict of medql's column `verdict` (a rule set's `correct_<name>`),
/// with every `every`-th verdict turned over when `every` is given.
fn result_file(
    rt: &tokio::runtime::Runtime,
    s: &mut Session,
    model: &str,
    verdict: &str,
    every: Option<usize>,
    path: &std::path::Path,
) {
    let t = query(
        rt,
        s,
        &format!("where model = '{model}' show index, prediction, {verdict}"),
    );
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(["index", "prediction", "hit"]).unwrap();
    for (i, r) in rows(&t).iter().enumerate() {
        let hit = match &r[2] {
            Cell::Bool(b) => *b != every.is_some_and(|k| i % k == 0),
            other => panic!("not a verdict: {other:?}"),
        };
        let index = match &r[0] {
            Cell::Int(n) => n.to_string(),
            other => panic!("not an index: {other:?}"),
        };
        let prediction = text(&r[1]).unwrap_or_default();
        w.write_record([index, prediction, (hit as u8).to_string()])
            .unwrap();
    }
    w.flush().unwrap();
}

/// A provenance row: model, rules_detected, agreement, judge.
type Detected = (String, Option<String>, Option<f64>, Option<String>);

/// Every provenance row's [`Detected`].
fn detected(rt: &tokio::runtime::Runtime, s: &mut Session) -> Vec<Detected> {
    let t = query(
        rt,
        s,
        "from provenance show model, rules_detected, agreement, judge",
    );
    rows(&t)
        .iter()
        .map(|r| (text(&r[0]).unwrap(), text(&r[1]), float(&r[2]), text(&r[3])))
        .collect()
}

#[test]
fn recorded_verdicts_are_matched_to_the_era_that_scored_them() {
    let Some(dir) = crate::common::shared_data() else {
        return;
    };
    let rt = rt();
    // VLMEvalKit's reference result files: its 2024 rules, row for row.
    let spec = crate::common::real_spec(
        &dir,
        &[
            "predictions",
            "reference/*_GMAI-MMBench_VAL_openai_result.xlsx",
        ],
    );
    let mut s = rt.block_on(Session::load(&spec)).unwrap();
    let found = detected(&rt, &mut s);
    assert_eq!(found.len(), 3);
    for (model, rules, agreement, judge) in &found {
        assert_eq!(rules.as_deref(), Some("v2024"), "{model}");
        assert_eq!(*agreement, Some(100.0), "{model}");
        assert_eq!(judge.as_deref(), Some("openai"), "{model}");
    }
    assert!(
        !s.info()
            .notes
            .iter()
            .any(|n| n.contains("follow no rule set")),
        "{:?}",
        s.info().notes
    );

    // Files whose verdicts follow the 2025 and 2026 rules are told apart,
    // and `recorded` then shows that era's choices.
    let tmp = tempfile::tempdir().unwrap();
    let raw = "predictions/qwen_chat_GMAI-MMBench_VAL.xlsx";
    for (era, acc) in [("v2025", 29.58), ("v2026", 29.89)] {
        let file = tmp
            .path()
            .join(era)
            .join("qwen_chat_GMAI-MMBench_VAL_exact_matching_result.csv");
        result_file(
            &rt,
            &mut s,
            "qwen_chat",
            &format!("correct_{era}"),
            None,
            &file,
        );
        let mut spec = crate::common::real_spec(&dir, &[raw]);
        spec.predictions.push(file.display().to_string());
        let mut e = rt.block_on(Session::load(&spec)).unwrap();
        let found = detected(&rt, &mut e);
        assert_eq!(
            found,
            [(
                "qwen_chat".to_string(),
                Some(era.to_string()),
                Some(100.0),
                Some("exact_matching".to_string())
            )]
        );
        rt.block_on(e.run("set policy = recorded", "q")).unwrap();
        let t = query(&rt, &mut e, "score acc");
        let got = float(&rows(&t)[0][0]).unwrap();
        assert!((got - acc).abs() < 0.005, "{era}: {got}");
        let t = query(
            &rt,
            &mut e,
            &format!("where choice != choice_{era} or rule != rule_{era} score n"),
        );
        assert_eq!(float(&rows(&t)[0][0]), Some(0.0), "{era}");
    }

    // Where two eras agree on every row, both are named, in era order.
    let file = tmp
        .path()
        .join("tie")
        .join("Qwen2-VL-7B-Instruct_GMAI-MMBench_VAL_exact_matching_result.csv");
    result_file(
        &rt,
        &mut s,
        "Qwen2-VL-7B-Instruct",
        "correct_v2026",
        None,
        &file,
    );
    let mut spec = crate::common::real_spec(
        &dir,
        &["predictions/Qwen2-VL-7B-Instruct_GMAI-MMBench_VAL.xlsx"],
    );
    spec.predictions.push(file.display().to_string());
    let mut e = rt.block_on(Session::load(&spec)).unwrap();
    let found = detected(&rt, &mut e);
    assert_eq!(found[0].1.as_deref(), Some("v2025|v2026"));
    assert_eq!(found[0].2, Some(100.0));

    // Verdicts that follow no rule set (one in 20 turned over): a note
    // with the count and the query that lists them; `recorded` shows the
    // 2024 choices.
    let file = tmp
        .path()
        .join("judged")
        .join("qwen_chat_GMAI-MMBench_VAL_gpt-4o-mini_result.csv");
    result_file(&rt, &mut s, "qwen_chat", "correct_v2024", Some(20), &file);
    let mut spec = crate::common::real_spec(&dir, &[raw]);
    spec.predictions.push(file.display().to_string());
    let mut e = rt.block_on(Session::load(&spec)).unwrap();
    let found = detected(&rt, &mut e);
    assert_eq!(found[0].1.as_deref(), Some("v2024"));
    let agreement = found[0].2.unwrap();
    // 4,550 rows, every 20th turned over: 228 differ.
    assert!(
        (agreement - 100.0 * (4550.0 - 228.0) / 4550.0).abs() < 1e-9,
        "{agreement}"
    );
    let note = e
        .info()
        .notes
        .iter()
        .find(|n| n.contains("follow no rule set"))
        .unwrap_or_else(|| panic!("{:?}", e.info().notes))
        .clone();
    assert!(note.contains("228 of 4550 items differ"), "{note}");
    assert!(note.contains("judge (named `gpt-4o-mini`)"), "{note}");
    // The query in the note lists exactly those rows.
    let listing = note.split("List them: ").nth(1).unwrap();
    let t = query(&rt, &mut e, listing);
    assert_eq!(t.num_rows(), 228, "{listing}");
    // `--strict` is not concerned: it is a note, not a warning.
    assert!(!e.info().warnings.iter().any(|w| w.contains("rule set")));
    rt.block_on(e.run("set policy = recorded", "q")).unwrap();
    let t = query(
        &rt,
        &mut e,
        "where choice != choice_v2024 or rule != rule_v2024 score n",
    );
    assert_eq!(float(&rows(&t)[0][0]), Some(0.0));
}
