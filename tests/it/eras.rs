//! VLMEvalKit's three eras of answer extraction as rule sets: `v2024`,
//! `v2025` and `v2026`, with `legacy` and `current` as other names of the
//! first and the last. Output names them canonically; what a user writes
//! keeps its spelling in headers.

use crate::common::{float, query, rows, rt, text};
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
