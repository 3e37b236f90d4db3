//! The interactive prompt: statements are read (over several lines while a
//! quote or parenthesis is open), run, and their results printed with a
//! `N rows · X ms` footer. Errors never end the session.

use crate::error::{Error, Result};
use crate::render::{Format, RenderOptions};
use crate::syntax::split::is_incomplete;
use crate::{Outcome, Policy, Session};
use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;

const HELP: &str = "\
statements end with `;` (or Enter when complete); `--` starts a comment
  by model score acc, n, ci                 accuracy per model
  where #DD and #CT by model score acc      a lexical-tree slice
  where not correct show model, index, choice, prediction limit 10
meta commands:
  .help              this text
  .models            models with coverage and accuracy
  .policy [NAME]     show or set the extraction policy (legacy, current, recorded)
  .format [NAME]     show or set the output format (table, csv, tsv, json, ndjson, markdown)
  .quit              leave (or Ctrl-D)";

/// Run the prompt until `.quit` or end of input.
pub async fn run(session: &mut Session, mut format: Format, _color: bool) -> Result<()> {
    let mut rl = DefaultEditor::new().map_err(|e| Error::engine("starting the prompt", e))?;
    println!(
        "medql {} · {} items · {} models ({}) · policy {} · .help for help",
        env!("CARGO_PKG_VERSION"),
        session.info.items,
        session.info.models.len(),
        session.info.models.join(", "),
        session.policy
    );
    let mut buf = String::new();
    loop {
        let prompt = if buf.is_empty() {
            "medql> "
        } else {
            "   ...> "
        };
        match rl.readline(prompt) {
            Ok(line) => {
                if buf.is_empty() && line.trim_start().starts_with('.') {
                    let _ = rl.add_history_entry(line.as_str());
                    if !meta(session, line.trim(), &mut format).await {
                        break;
                    }
                    continue;
                }
                if !buf.is_empty() {
                    buf.push('\n');
                }
                buf.push_str(&line);
                if buf.trim().is_empty() || is_incomplete(&buf) {
                    if buf.trim().is_empty() {
                        buf.clear();
                    }
                    continue;
                }
                let text = std::mem::take(&mut buf);
                let _ = rl.add_history_entry(text.as_str());
                execute(session, &text, format).await;
            }
            Err(ReadlineError::Interrupted) => {
                buf.clear();
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Error::engine("reading input", e)),
        }
    }
    Ok(())
}

async fn execute(session: &mut Session, text: &str, format: Format) {
    let opts = RenderOptions {
        width: Some(120),
        ..Default::default()
    };
    match session.run(text, "<repl>").await {
        Ok(outs) => {
            for o in outs {
                match o {
                    Outcome::Table(t) => match t.render_with(format, &opts) {
                        Ok(s) => {
                            print!("{s}");
                            println!(
                                "{} row{} · {} ms",
                                t.num_rows(),
                                if t.num_rows() == 1 { "" } else { "s" },
                                t.elapsed.as_millis()
                            );
                        }
                        Err(e) => eprintln!("error: {e}"),
                    },
                    Outcome::Message(m) => println!("{m}"),
                }
            }
        }
        Err(Error::Query(q)) => eprintln!("{q}"),
        Err(e) => eprintln!("error: {e}"),
    }
}

/// A meta command; false ends the session.
async fn meta(session: &mut Session, line: &str, format: &mut Format) -> bool {
    let mut parts = line.split_whitespace();
    let cmd = parts.next().unwrap_or("");
    let arg = parts.next();
    match cmd {
        ".quit" | ".exit" | ".q" => return false,
        ".help" => println!("{HELP}"),
        ".models" => {
            for (m, c) in &session.info.coverage {
                println!(
                    "{m}: read {} · scored {} · duplicated {} · unknown {} · invalid {} · missing {}",
                    c.read, c.scored, c.duplicated, c.unknown, c.invalid, c.missing
                );
            }
        }
        ".policy" => match arg {
            None => println!("policy {}", session.policy),
            Some(p) => match p.parse::<Policy>() {
                Ok(p) => match session.set_policy(p) {
                    Ok(()) => println!("policy {p}"),
                    Err(e) => eprintln!("error: {e}"),
                },
                Err(e) => eprintln!("error: {e}"),
            },
        },
        ".format" => match arg {
            None => println!("format {}", format_name(*format)),
            Some(f) => match f.parse::<Format>() {
                Ok(f) => {
                    *format = f;
                    println!("format {}", format_name(f));
                }
                Err(e) => eprintln!("error: {e}"),
            },
        },
        other => {
            let cmds = [".help", ".models", ".policy", ".format", ".quit"];
            let near = crate::names::nearest(other, cmds, 1);
            eprintln!(
                "unknown command `{other}`; did you mean `{}`? (.help lists them)",
                near.first().copied().unwrap_or(".help")
            );
        }
    }
    true
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Table => "table",
        Format::Csv => "csv",
        Format::Tsv => "tsv",
        Format::Json => "json",
        Format::Ndjson => "ndjson",
        Format::Markdown => "markdown",
    }
}
