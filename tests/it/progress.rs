//! The progress line: drawn on a terminal while loading, never in piped
//! output. `MEDQL_PROGRESS_AFTER_MS=0` removes the one-second wait so that
//! a small load shows it.

use crate::common;
use rexpect::session::spawn_command;
use std::process::Command;

#[test]
fn a_terminal_sees_progress_and_a_pipe_does_not() {
    let data = tempfile::tempdir().unwrap();
    let (items, preds) = common::gen_csv(data.path(), 12, 4550);
    let args = [
        "--no-cache",
        "--items",
        items.as_str(),
        "--predictions",
        preds.to_str().unwrap(),
        "--format",
        "csv",
        "-e",
        "score n",
    ];

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_medql"));
    cmd.args(args)
        .env("TERM", "xterm")
        .env("MEDQL_PROGRESS_AFTER_MS", "0");
    let mut p = spawn_command(cmd, Some(60_000)).expect("spawn medql");
    let (_, seen) = p
        .exp_regex(r"(reading items|reading predictions|scoring): [^\r]*")
        .expect("a progress line on the terminal");
    assert!(
        seen.contains("files") || seen.contains("answers extracted"),
        "{seen}"
    );
    // The line is cleared before the result is printed.
    p.exp_string("n\r\n54600").expect("the result");
    p.exp_eof().unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_medql"))
        .args(args)
        .env("MEDQL_PROGRESS_AFTER_MS", "0")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "n\n54600\n");
    assert!(!err.contains('\r') && !err.contains("reading"), "{err}");
}
