//! The interactive prompt, driven through a pseudo-terminal like a person
//! would: type, paste, Tab, Enter, Ctrl-C, and a second session for history.

use crate::common;
use rexpect::session::{spawn_command, PtySession};
use std::process::Command;
use std::time::{Duration, Instant};

const TIMEOUT_MS: u64 = 30_000;

fn start(data_home: &std::path::Path, extra_env: &[(&str, &str)]) -> PtySession {
    start_with(data_home, &[], extra_env)
}

fn start_with(
    data_home: &std::path::Path,
    args: &[&str],
    extra_env: &[(&str, &str)],
) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_medql"));
    cmd.arg("--no-color")
        .args(args)
        .env("TERM", "xterm")
        .env("XDG_DATA_HOME", data_home)
        .env_remove("NO_COLOR");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut p = spawn_command(cmd, Some(TIMEOUT_MS)).expect("spawn medql");
    p.exp_string("Tab completes").expect("banner");
    p.exp_string("medql> ").expect("prompt");
    p
}

fn enter(p: &mut PtySession, text: &str) {
    p.send(text).unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
}

fn quit(mut p: PtySession) {
    enter(&mut p, ".quit");
    p.exp_eof().expect("exits on .quit");
}

#[test]
fn a_query_prints_a_table_and_a_footer() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), &[]);
    enter(&mut p, "by model score acc, n sort acc desc");
    p.exp_string("demo-medical-13b").unwrap();
    p.exp_string("55.32").unwrap();
    p.exp_string("4 rows").unwrap();
    p.exp_string("medql> ").unwrap();
    // An error does not end the session.
    enter(&mut p, "by model scor acc");
    p.exp_string("expected").unwrap();
    enter(&mut p, ".tre");
    p.exp_string("did you mean `.tree`").unwrap();
    enter(&mut p, ".tree");
    p.exp_string("Disease Diagnosis").unwrap();
    p.exp_string("drill down").unwrap();
    quit(p);
}

#[test]
fn tab_completes_a_lexical_tree_term_with_quotes() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), &[]);
    p.send("where #Onc").unwrap();
    p.send("\t").unwrap();
    p.flush().unwrap();
    p.exp_string("#\"Oncology (Medical)\"").unwrap();
    enter(&mut p, " by model score n");
    p.exp_string("347").unwrap();
    p.exp_string("4 rows").unwrap();
    quit(p);
}

#[test]
fn help_lists_the_functions_and_tab_completes_them() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), &[]);
    enter(&mut p, ".help functions");
    p.exp_string("regexp_like").unwrap();
    p.exp_string("functions, from DataFusion's library")
        .unwrap();
    p.exp_string("medql> ").unwrap();
    enter(&mut p, ".help lenght");
    p.exp_string("did you mean `length`").unwrap();
    // A function name completes with its `(`; the query then runs.
    p.send("where regexp_li").unwrap();
    p.send("\t").unwrap();
    p.flush().unwrap();
    p.exp_string("regexp_like(").unwrap();
    enter(&mut p, "prediction, '^[A-E]$') by model score n, acc");
    p.exp_string("demo-medical-13b").unwrap();
    p.exp_string("4 rows").unwrap();
    quit(p);
}

#[test]
fn an_unfinished_statement_continues_on_the_next_line() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), &[]);
    enter(&mut p, "by model,");
    enter(&mut p, "granularity score n pivot granularity");
    p.exp_string("Contour level").unwrap();
    p.exp_string("4 rows").unwrap();
    quit(p);
}

#[test]
fn ctrl_c_cancels_a_running_query_and_the_prompt_stays() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), &[("MEDQL_TEST_QUERY_DELAY_MS", "20000")]);
    enter(&mut p, "by model score acc");
    std::thread::sleep(std::time::Duration::from_millis(700));
    p.send_control('c').unwrap();
    p.exp_string("cancelled").unwrap();
    p.exp_string("medql> ").unwrap();
    enter(&mut p, ".policy");
    p.exp_string("policy v2026").unwrap();
    quit(p);
}

#[test]
fn history_is_recalled_in_a_second_session() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), &[]);
    enter(&mut p, "where #box by model score n");
    p.exp_string("4 rows").unwrap();
    quit(p);
    let file = home.path().join("medql/history");
    let saved = std::fs::read_to_string(&file).expect("history file");
    assert!(saved.contains("where #box by model score n"), "{saved}");
    let mut p = start(home.path(), &[]);
    // Up twice: past `.quit` to the last statement.
    p.send("\x1b[A").unwrap();
    p.flush().unwrap();
    p.exp_string(".quit").unwrap();
    p.send("\x1b[A").unwrap();
    p.flush().unwrap();
    p.exp_string("#box").unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
    p.exp_string("295").unwrap();
    p.exp_string("4 rows").unwrap();
    quit(p);
}

#[test]
fn save_read_schema_and_load_meta_commands() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), &[]);
    enter(&mut p, "where #CT by model score n");
    p.exp_string("4 rows").unwrap();
    let saved = home.path().join("ct.mql");
    enter(&mut p, &format!(".save {}", saved.display()));
    p.exp_string("saved to").unwrap();
    // Under the default policy, never set: the statement alone.
    assert_eq!(
        std::fs::read_to_string(&saved).unwrap(),
        "where #CT by model score n;\n"
    );
    enter(&mut p, &format!(".read {}", saved.display()));
    p.exp_string("4 rows").unwrap();
    enter(&mut p, ".schema");
    p.exp_string("choice_v2024").unwrap();
    // Load other items, then add predictions: the session is scored again.
    let items = home.path().join("Tiny.tsv");
    std::fs::write(
        &items,
        "index\tquestion\tA\tB\tanswer\n1\tq\tx\ty\tA\n2\tq\tx\ty\tB\n",
    )
    .unwrap();
    let preds = home.path().join("m_Tiny.csv");
    std::fs::write(&preds, "index,prediction\n1,A\n2,A\n").unwrap();
    enter(&mut p, &format!(".load items {}", items.display()));
    p.exp_string("2 items, 0 models").unwrap();
    enter(&mut p, &format!(".load predictions {}", preds.display()));
    p.exp_string("2 items, 1 models").unwrap();
    enter(&mut p, "by model score acc, n");
    p.exp_string("50.00").unwrap();
    p.exp_string("1 row").unwrap();
    quit(p);
}

/// rexpect hands output back one char per byte: the UTF-8 text again.
fn utf8(s: &str) -> String {
    let bytes: Vec<u8> = s.chars().map(|c| c as u32 as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Wait for a result footer `N row(s) ·` at the start of a line (needles
/// must be ASCII); the output before it, as UTF-8.
fn footer(p: &mut PtySession, rows: &str) -> String {
    let (before, _) = p.exp_regex(&format!(r"\n{rows} ")).unwrap();
    utf8(&before)
}

/// The `N row(s) ·` footers printed from now until the prompt after them.
fn footers_until_prompt(p: &mut PtySession) -> Vec<String> {
    let before = utf8(&p.exp_string("medql> ").unwrap());
    let re = regex::Regex::new(r"(\d+) rows? ·").unwrap();
    re.captures_iter(&before)
        .map(|c| c[0].to_string())
        .collect()
}

#[test]
fn a_pasted_block_of_two_statements_runs_both_in_order() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), &[]);
    // Both lines arrive at once, as from a paste without bracketing.
    p.send("by model score n limit 1;\rby model score acc sort acc desc limit 2;\r")
        .unwrap();
    p.flush().unwrap();
    footer(&mut p, "1 row");
    let rest = footers_until_prompt(&mut p);
    assert_eq!(
        rest,
        ["2 rows ·"],
        "the second statement runs after the first"
    );
    // Lines typed while a statement runs are kept and run in order.
    let slow = tempfile::tempdir().unwrap();
    drop(p);
    let mut p = start(slow.path(), &[("MEDQL_TEST_QUERY_DELAY_MS", "1500")]);
    enter(&mut p, "by model score n limit 3");
    std::thread::sleep(Duration::from_millis(300));
    p.send("by model score n limit 1;\rby model score n limit 2;\r")
        .unwrap();
    p.flush().unwrap();
    footer(&mut p, "3 rows");
    footer(&mut p, "1 row");
    footer(&mut p, "2 rows");
    quit(p);
}

#[test]
fn the_readme_two_line_example_pasted_runs_as_one_statement() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), &[]);
    p.send(
        "where model = 'demo-small-2b' and not correct\r  show index, answer, choice, rule, prediction limit 20;\r",
    )
    .unwrap();
    p.flush().unwrap();
    let out = footer(&mut p, "20 rows");
    // The show columns, not every column of the first line alone.
    assert!(out.contains("┆ prediction"), "{out}");
    assert!(!out.contains("┆ department"), "{out}");
    assert!(!out.contains(" rows ·"), "only one result: {out}");
    p.exp_string("medql> ").unwrap();
    enter(&mut p, ".policy");
    p.exp_string("policy v2026").unwrap();
    quit(p);
}

#[test]
fn maxrows_limits_a_table_and_the_footer_gives_the_total() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), &[]);
    // The default: 40 rows.
    enter(&mut p, ".maxrows");
    p.exp_string("maxrows 40").unwrap();
    enter(&mut p, "show index, model");
    let out = footer(&mut p, "18200 rows");
    let data_rows = out
        .lines()
        .filter(|l| l.starts_with("│ ") && !l.contains("index"))
        .count();
    assert_eq!(data_rows, 40, "{out}");
    p.exp_string("first 40 shown: .maxrows 0 shows all, .format csv prints all")
        .unwrap();
    enter(&mut p, ".maxrows 5");
    p.exp_string("maxrows 5").unwrap();
    enter(&mut p, "show index, model");
    let out = footer(&mut p, "18200 rows");
    let data_rows = out
        .lines()
        .filter(|l| l.starts_with("│ ") && !l.contains("index"))
        .count();
    assert_eq!(data_rows, 5, "{out}");
    p.exp_string("first 5 shown").unwrap();
    // Markdown too; csv shows every row.
    enter(&mut p, ".format markdown");
    enter(&mut p, "show index limit 7");
    let out = footer(&mut p, "7 rows");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("| ")).count(),
        6,
        "{out}"
    );
    p.exp_string("first 5 shown").unwrap();
    enter(&mut p, ".maxrows lots");
    p.exp_string(".maxrows takes a number of rows").unwrap();
    enter(&mut p, ".format csv");
    enter(&mut p, "show index limit 7");
    let out = footer(&mut p, "7 rows");
    assert_eq!(
        out.lines()
            .filter(|l| l.trim().parse::<u32>().is_ok())
            .count(),
        7,
        "{out}"
    );
    let rest = p.exp_string("medql> ").unwrap();
    assert!(!rest.contains("shown"), "{rest}");
    quit(p);
}

#[test]
fn ctrl_c_stops_printing_a_long_table_at_once() {
    let home = tempfile::tempdir().unwrap();
    let (items, preds) = common::gen_csv(home.path(), 12, 4550);
    let preds = preds.display().to_string();
    let mut p = start_with(
        home.path(),
        &["--no-cache", "--items", &items, "--predictions", &preds],
        &[],
    );
    enter(&mut p, ".maxrows 0");
    p.exp_string("maxrows 0").unwrap();
    // 54,600 rows of every column: far longer to print than the test waits.
    enter(&mut p, "show *");
    p.exp_string("index").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    p.send_control('c').unwrap();
    let t = Instant::now();
    let out = utf8(&p.exp_string("cancelled").unwrap());
    p.exp_string("medql> ").unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?} to stop",
        t.elapsed()
    );
    assert!(!out.contains("54600 rows"), "printing went on to the end");
    // The session goes on.
    enter(&mut p, ".maxrows 3");
    p.exp_string("maxrows 3").unwrap();
    enter(&mut p, "by model score n");
    footer(&mut p, "12 rows");
    p.exp_string("first 3 shown").unwrap();
    quit(p);
}

#[test]
fn save_after_set_policy_writes_the_policy_first() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), &[]);
    enter(&mut p, "set policy = legacy");
    p.exp_string("policy = legacy").unwrap();
    // The next prompt: the statement has run (the text above may be the
    // line's echo), so the next line is a statement of its own.
    p.exp_string("medql> ").unwrap();
    enter(&mut p, "by model score acc sort model");
    p.exp_string("4 rows").unwrap();
    let saved = home.path().join("legacy.mql");
    enter(&mut p, &format!(".save {}", saved.display()));
    p.exp_string("saved to").unwrap();
    let text = std::fs::read_to_string(&saved).unwrap();
    assert_eq!(
        text,
        "set policy = v2024;\nby model score acc sort model;\n"
    );
    // `.policy` sets it as well; the policy saved is the one the statement ran under.
    enter(&mut p, ".policy current");
    p.exp_string("policy v2026").unwrap();
    enter(&mut p, "by model score n");
    p.exp_string("4 rows").unwrap();
    enter(&mut p, ".policy legacy");
    p.exp_string("policy v2024").unwrap();
    let again = home.path().join("current.mql");
    enter(&mut p, &format!(".save {}", again.display()));
    p.exp_string("saved to").unwrap();
    assert_eq!(
        std::fs::read_to_string(&again).unwrap(),
        "set policy = v2026;\nby model score n;\n"
    );
    quit(p);
    // Run again, the file gives the legacy result.
    let path = saved.display().to_string();
    let (code, from_file, err) = common::medql(&["--format", "csv", "run", &path]);
    assert_eq!(code, 0, "{err}");
    let (_, legacy, _) = common::medql(&[
        "--format",
        "csv",
        "--policy",
        "legacy",
        "-e",
        "by model score acc sort model",
    ]);
    let (_, current, _) =
        common::medql(&["--format", "csv", "-e", "by model score acc sort model"]);
    assert_eq!(from_file, legacy);
    assert_ne!(from_file, current, "the policy matters on the demo data");
}

#[test]
fn models_shows_each_models_judge_and_era() {
    let Some(dir) = common::shared_data() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let items = dir.join("GMAI-MMBench_VAL.tsv").display().to_string();
    let preds = dir.join("predictions").display().to_string();
    let result = dir
        .join("reference/qwen_chat_GMAI-MMBench_VAL_openai_result.xlsx")
        .display()
        .to_string();
    let mut p = start_with(
        home.path(),
        &["--items", &items, "--predictions", &preds, &result],
        &[],
    );
    enter(&mut p, ".models");
    p.exp_string("rules_detected").unwrap();
    // qwen_chat's verdicts are VLMEvalKit's 2024 rules, every one.
    let row = utf8(&p.exp_string("100.00").unwrap());
    let last = row.lines().last().unwrap_or_default();
    assert!(
        last.contains("qwen_chat") && last.contains("openai") && last.contains("v2024"),
        "{row}"
    );
    p.exp_string("from provenance show *").unwrap();
    quit(p);
}

#[test]
fn tree_shows_drills_and_declares_another_datasets_tree() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("mm");
    let (code, _, err) = common::medql(&[
        "gen",
        "--shape",
        "mmbench",
        "--n-items",
        "400",
        "--out",
        out.to_str().unwrap(),
        "--file-format",
        "csv",
    ]);
    assert_eq!(code, 0, "{err}");
    let items = out.join("MMBench_SYNTH.tsv").display().to_string();
    let preds = out.join("predictions").display().to_string();
    let mut p = start_with(
        home.path(),
        &["--items", &items, "--predictions", &preds],
        &[],
    );
    enter(&mut p, ".tree");
    p.exp_string("MMBench_SYNTH: l2_category>category (inferred")
        .unwrap();
    enter(&mut p, ".tree MMBench_SYNTH:coarse_perception");
    // The categories under it, counted.
    p.exp_string("image_scene").unwrap();
    p.exp_string("rows").unwrap();
    enter(&mut p, ".tree MMBench_SYNTH=category>l2_category");
    p.exp_string("medql 0.1.0").unwrap();
    enter(&mut p, ".tree");
    p.exp_string("MMBench_SYNTH: category>l2_category (declared")
        .unwrap();
    enter(&mut p, "where #image_scene/coarse_perception score n");
    p.exp_string("1 row").unwrap();
    quit(p);
}
