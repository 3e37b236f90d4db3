//! The interactive prompt, driven through a pseudo-terminal like a person
//! would: type, Tab, Enter, Ctrl-C, and a second session for history.

use rexpect::session::{spawn_command, PtySession};
use std::process::Command;

const TIMEOUT_MS: u64 = 30_000;

fn start(data_home: &std::path::Path, extra_env: &[(&str, &str)]) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_medql"));
    cmd.arg("--no-color")
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
    p.exp_string("policy current").unwrap();
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
    assert_eq!(
        std::fs::read_to_string(&saved).unwrap(),
        "where #CT by model score n;\n"
    );
    enter(&mut p, &format!(".read {}", saved.display()));
    p.exp_string("4 rows").unwrap();
    enter(&mut p, ".schema");
    p.exp_string("choice_legacy").unwrap();
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
