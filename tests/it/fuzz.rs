//! The parser and planner never panic: token soups and mutated valid
//! queries, every error inside the text with a span; and the coverage
//! counts add up for any mix of prediction rows.

use crate::common;
use medql::data::items::{Items, ITEM_COLUMNS};
use medql::data::predictions::assemble;
use medql::data::table::RawTable;
use medql::{LoadSpec, Session};
use proptest::prelude::*;
use std::sync::OnceLock;

/// Words and symbols of queries: every keyword of the language (from its
/// one table) and the names, literals and punctuation around them.
fn tokens() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = medql::syntax::keywords::KEYWORDS
        .iter()
        .map(|(k, _, _)| *k)
        .collect();
    v.extend([
        "results",
        "items",
        "coverage",
        "policy",
        "model",
        "task",
        "department",
        "index",
        "acc",
        "n",
        "ci",
        "macro",
        "(",
        ")",
        ",",
        ";",
        "=",
        "!=",
        "<",
        ">=",
        "*",
        "'qwen'",
        "\"x\"",
        "'",
        "\"",
        "`",
        "#DD",
        "#",
        "#modality:CT",
        "#\"*MRI\"",
        "#DD/CT",
        "/",
        ":",
        "$p",
        "$",
        "42",
        "-1.5e3",
        "--",
        "\n",
        "correct",
        "prediction",
        "legacy",
        "current",
        "+",
        "-",
        "%",
        "||",
        "length",
        "lower",
        "div",
        "round",
        "random",
        "int",
        "text",
        "1.5",
    ]);
    v
}

fn session() -> &'static std::sync::Mutex<(tokio::runtime::Runtime, Session)> {
    static S: OnceLock<std::sync::Mutex<(tokio::runtime::Runtime, Session)>> = OnceLock::new();
    S.get_or_init(|| {
        let rt = common::rt();
        let s = rt.block_on(Session::load(&LoadSpec::default())).unwrap();
        std::sync::Mutex::new((rt, s))
    })
}

fn check_source(src: &str) {
    for r in medql::syntax::parse_source(src) {
        if let Err(e) = r {
            assert!(
                e.span.start <= e.span.end && e.span.end <= src.len(),
                "span out of the text: {e:?}"
            );
            assert!(!e.message.is_empty());
        }
    }
    let guard = session().lock().unwrap_or_else(|p| p.into_inner());
    let (rt, s) = &*guard;
    // `check` parses and plans every statement without running it.
    let mut s = s.clone();
    for e in rt.block_on(s.check(src, "fuzz")) {
        if let medql::Error::Query(q) = e {
            assert!(q.span.end <= src.len(), "{q:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn token_soups_never_panic(tokens in prop::collection::vec(prop::sample::select(tokens()), 0..40)) {
        check_source(&tokens.join(" "));
    }

    #[test]
    fn mutated_queries_never_panic(
        base in prop::sample::select(vec![
            "where #DD and #CT by model score acc, n, ci sort acc desc",
            "by model, task score acc pivot task with overall abbreviated",
            "by task compare each vs best having p_holm < 0.05",
            "where not correct show model, index limit 3 per model",
            "let s = #SAR or #SIR; where s by model score macro(task)",
            "where length(prediction) > 2 * (n_options - 1) and case when #DD then 1 else 0 end = 1 by model score n",
            "where cast(index as text) || 'x' like '1%' and div(index, 3) % 2 = -1 + 1 show index",
        ]),
        cuts in prop::collection::vec((0usize..80, 0usize..4, prop::sample::select(vec!["", "(", "'", "#", " or ", "\u{1b}", "é", ")))"])), 1..6),
    ) {
        let mut s = base.to_string();
        for (at, len, insert) in cuts {
            let mut at = at.min(s.len());
            while !s.is_char_boundary(at) { at -= 1; }
            let mut end = (at + len).min(s.len());
            while !s.is_char_boundary(end) { end -= 1; }
            s.replace_range(at..end.max(at), insert);
        }
        check_source(&s);
    }

    #[test]
    fn the_lexer_covers_any_text(src in "(?s).{0,80}", soup in prop::collection::vec(prop::sample::select(tokens()), 0..20)) {
        for text in [src, soup.join("")] {
            let toks = medql::syntax::lex::lex(&text);
            let mut at = 0;
            for t in &toks {
                prop_assert_eq!(t.start, at);
                prop_assert!(t.end > t.start && text.is_char_boundary(t.end));
                at = t.end;
            }
            prop_assert_eq!(at, text.len());
            // Statements are disjoint, in order, and never blank.
            let mut last = 0;
            for (a, b) in medql::syntax::split::split_statements(&text) {
                prop_assert!(last <= a && a <= b && b <= text.len());
                prop_assert!(!medql::syntax::split::is_blank(&text[a..b]));
                last = b;
            }
        }
    }

    #[test]
    fn coverage_adds_up(rows in prop::collection::vec((prop_oneof![Just(None), (-3i64..40).prop_map(Some)], any::<bool>()), 0..120)) {
        let mut items = Items::new();
        for i in 0..30i64 {
            let mut cells = vec![None; ITEM_COLUMNS.len()];
            cells[1] = Some("x".to_string());
            cells[2] = Some("y".to_string());
            items.push("D", i, cells, "items.tsv", i as u64 + 2).unwrap();
        }
        let cells: Vec<Vec<Option<String>>> = rows
            .iter()
            .map(|(i, p)| vec![Some(i.map(|v| v.to_string()).unwrap_or_else(|| "oops".into())), p.then(|| "A".to_string())])
            .collect();
        let table = RawTable::from_rows(
            "m_D.csv",
            vec!["index".into(), "prediction".into()],
            &cells,
            (2..rows.len() as u64 + 2).collect(),
            "line",
        );
        let mut warnings = vec![];
        let sets = assemble(vec![table], &items, &Default::default(), None, &mut warnings).unwrap();
        let c = &sets[0].coverage;
        prop_assert_eq!(c.read, rows.len() as u64);
        prop_assert_eq!(c.read, c.scored + c.duplicated + c.unknown + c.invalid);
        prop_assert_eq!(c.missing, 30 - c.scored);
        prop_assert_eq!(sets[0].answered.iter().filter(|a| **a).count() as u64, c.scored);
    }
}

#[test]
fn deep_nesting_and_long_or_chains_are_refused_cleanly() {
    let deep = format!(
        "where {}correct{} score n",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let e = medql::syntax::parse_source(&deep).remove(0).unwrap_err();
    assert!(e.message.contains("nested too deeply"), "{e:?}");
    let nots = format!("where {} correct score n", "not ".repeat(5000));
    let e = medql::syntax::parse_source(&nots).remove(0).unwrap_err();
    assert!(e.message.contains("`not` repeated"), "{e:?}");
    let minus = format!("where {} index < 0 score n", "- ".repeat(5000));
    let e = medql::syntax::parse_source(&minus).remove(0).unwrap_err();
    assert!(e.message.contains("`-` repeated"), "{e:?}");
    // Arithmetic chains are not rebalanced: a deep one is refused when it
    // is bound, with a span, not by exhausting the stack.
    let sum = format!("where index{} > 0 score n", " + 1".repeat(600));
    {
        let guard = session().lock().unwrap_or_else(|p| p.into_inner());
        let (rt, s) = &*guard;
        let mut s = s.clone();
        let errors = rt.block_on(s.check(&sum, "sum"));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].to_string().contains("nested too deeply"),
            "{errors:?}"
        );
        let ok = format!("where index{} > 0 score n", " + 1".repeat(200));
        assert!(rt.block_on(s.check(&ok, "ok")).is_empty());
    }
    // A long flat `or` chain is fine to parse and plan.
    let chain = (0..2000)
        .map(|i| format!("index = {i}"))
        .collect::<Vec<_>>()
        .join(" or ");
    let src = format!("where {chain} score n");
    let guard = session().lock().unwrap_or_else(|p| p.into_inner());
    let (rt, s) = &*guard;
    let mut s = s.clone();
    let errors = rt.block_on(s.check(&src, "chain"));
    assert!(errors.is_empty(), "{errors:?}");
}
