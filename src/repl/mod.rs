//! The interactive prompt on rustyline: statements run when complete (Enter
//! on an unfinished one continues it), each result is followed by
//! `N rows · X ms`, Ctrl-C cancels a running query, errors never end the
//! session, and history persists in the user's data directory.

pub mod complete;
pub mod helper;

use crate::error::{Error, Result};
use crate::render::{Format, RenderOptions};
use crate::{LoadSpec, Outcome, Policy, QueryResult, Session};
use complete::{Vocabulary, META_COMMANDS};
use helper::MedqlHelper;
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};
use std::path::PathBuf;
use std::time::Instant;

/// Where the prompt keeps its history: `$XDG_DATA_HOME/medql/history`, else
/// `~/.local/share/medql/history`.
pub fn history_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("medql").join("history"))
}

struct Repl<'a> {
    session: &'a mut Session,
    format: Format,
    color: bool,
    timer: bool,
    last_statement: Option<String>,
}

fn vocabulary(s: &Session) -> Vocabulary {
    Vocabulary {
        tree: s.tree().clone(),
        models: s.info.models.clone(),
    }
}

/// Run the prompt until `.quit` or end of input.
pub async fn run(session: &mut Session, format: Format, color: bool) -> Result<()> {
    let config = Config::builder()
        .auto_add_history(false)
        .completion_type(CompletionType::List)
        .max_history_size(5000)
        .map_err(|e| Error::engine("starting the prompt", e))?
        .build();
    let mut rl: Editor<MedqlHelper, DefaultHistory> =
        Editor::with_config(config).map_err(|e| Error::engine("starting the prompt", e))?;
    rl.set_helper(Some(MedqlHelper::new(vocabulary(session), color)));
    let history = history_path();
    if let Some(h) = &history {
        let _ = rl.load_history(h);
    }
    let mut repl = Repl {
        session,
        format,
        color,
        timer: false,
        last_statement: None,
    };
    println!("{}", repl.banner());
    loop {
        match rl.readline("medql> ") {
            Ok(text) => {
                if text.trim().is_empty() {
                    continue;
                }
                let _ = rl.add_history_entry(text.as_str());
                if let Some(h) = &history {
                    if let Some(dir) = h.parent() {
                        let _ = std::fs::create_dir_all(dir);
                    }
                    let _ = rl.save_history(h);
                }
                let t = text.trim();
                if t.starts_with('.') {
                    match repl.meta(t).await {
                        Meta::Quit => break,
                        Meta::Reloaded => {
                            if let Some(h) = rl.helper_mut() {
                                h.vocab = vocabulary(repl.session);
                            }
                        }
                        Meta::Done => {}
                    }
                    continue;
                }
                repl.last_statement = Some(text.clone());
                repl.execute(&text, "<repl>").await;
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Error::engine("reading input", e)),
        }
    }
    Ok(())
}

enum Meta {
    Done,
    Reloaded,
    Quit,
}

impl Repl<'_> {
    fn banner(&self) -> String {
        let i = &self.session.info;
        let what = if i.demo {
            "built-in demo data".to_string()
        } else {
            i.datasets.join(", ")
        };
        format!(
            "medql {} · {what}: {} items, {} models · policy {} · .help for help, Tab completes",
            env!("CARGO_PKG_VERSION"),
            i.items,
            i.models.len(),
            self.session.policy
        )
    }

    fn opts(&self) -> RenderOptions {
        RenderOptions {
            fit: true,
            ..Default::default()
        }
    }

    fn dim(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[2m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn print_result(&self, t: &QueryResult) {
        let start = Instant::now();
        match t.render_with(self.format, &self.opts()) {
            Ok(s) => print!("{s}"),
            Err(e) => eprintln!("error: {e}"),
        }
        let render = start.elapsed();
        let n = t.num_rows();
        println!(
            "{}",
            self.dim(&format!(
                "{n} row{} · {} ms",
                if n == 1 { "" } else { "s" },
                (t.elapsed + render).as_millis()
            ))
        );
        if self.timer {
            println!(
                "{}",
                self.dim(&format!(
                    "parse {:.1} ms · plan {:.1} ms · execute {:.1} ms · render {:.1} ms",
                    t.timing.parse.as_secs_f64() * 1e3,
                    t.timing.plan.as_secs_f64() * 1e3,
                    t.timing.execute.as_secs_f64() * 1e3,
                    render.as_secs_f64() * 1e3
                ))
            );
        }
    }

    fn print_error(&self, e: &Error) {
        match e {
            Error::Query(q) => eprintln!("{q}"),
            other => eprintln!("error: {other}"),
        }
    }

    /// Run statements; Ctrl-C cancels the one running.
    async fn execute(&mut self, text: &str, origin: &str) {
        let keep_going = origin != "<repl>";
        let results = {
            let run = self.session.run_each(text, origin, keep_going);
            tokio::select! {
                r = run => Some(r),
                _ = tokio::signal::ctrl_c() => None,
            }
        };
        let Some(results) = results else {
            eprintln!("cancelled");
            return;
        };
        for r in results {
            match r {
                Ok(Some(Outcome::Table(t))) => self.print_result(&t),
                Ok(Some(Outcome::Message(m))) => println!("{m}"),
                Ok(None) => {}
                Err(e) => self.print_error(&e),
            }
        }
    }

    async fn meta(&mut self, line: &str) -> Meta {
        let (cmd, rest) = match line.split_once(char::is_whitespace) {
            Some((c, r)) => (c, r.trim()),
            None => (line, ""),
        };
        match cmd {
            ".quit" | ".exit" | ".q" => return Meta::Quit,
            ".help" => self.help(),
            ".tree" => self.tree(rest),
            ".models" => self.models().await,
            ".schema" => self.schema(),
            ".policy" => {
                if rest.is_empty() {
                    let avail: Vec<&str> =
                        self.session.policies().iter().map(|p| p.name()).collect();
                    println!(
                        "policy {} (available: {})",
                        self.session.policy,
                        avail.join(", ")
                    );
                } else {
                    match rest
                        .parse::<Policy>()
                        .map_err(Error::Usage)
                        .and_then(|p| self.session.set_policy(p))
                    {
                        Ok(()) => println!("policy {}", self.session.policy),
                        Err(e) => self.print_error(&e),
                    }
                }
            }
            ".format" => {
                if rest.is_empty() {
                    println!("format {}", self.format.name());
                } else {
                    match rest.parse::<Format>() {
                        Ok(f) => {
                            self.format = f;
                            println!("format {}", f.name());
                        }
                        Err(e) => eprintln!("error: {e}"),
                    }
                }
            }
            ".timer" => match rest {
                "on" => {
                    self.timer = true;
                    println!("timer on");
                }
                "off" => {
                    self.timer = false;
                    println!("timer off");
                }
                _ => println!(
                    "timer {} (.timer on|off)",
                    if self.timer { "on" } else { "off" }
                ),
            },
            ".read" => {
                if rest.is_empty() {
                    eprintln!("usage: .read FILE");
                } else {
                    match std::fs::read_to_string(rest) {
                        Ok(text) => self.execute(&text, rest).await,
                        Err(e) => eprintln!("error: {rest}: {e}"),
                    }
                }
            }
            ".save" => match (&self.last_statement, rest) {
                (_, "") => eprintln!("usage: .save FILE"),
                (None, _) => eprintln!("no statement to save yet"),
                (Some(s), path) => {
                    let mut text = s.trim_end().to_string();
                    if !text.ends_with(';') {
                        text.push(';');
                    }
                    text.push('\n');
                    match std::fs::write(path, text) {
                        Ok(()) => println!("saved to {path}"),
                        Err(e) => eprintln!("error: {path}: {e}"),
                    }
                }
            },
            ".load" => return self.load(rest).await,
            other => {
                let names: Vec<&str> = META_COMMANDS
                    .iter()
                    .map(|(c, _)| c.split(' ').next().unwrap_or(c))
                    .collect();
                let near = crate::names::nearest(other, names.iter().copied(), 1);
                eprintln!(
                    "unknown command `{other}`; did you mean `{}`? (.help lists the commands)",
                    near.first().copied().unwrap_or(".help")
                );
            }
        }
        Meta::Done
    }

    fn help(&self) {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        crate::render::fit_to_terminal(&mut t);
        t.set_header(["command", "does"]);
        for (c, d) in META_COMMANDS {
            t.add_row([*c, *d]);
        }
        println!("{t}");
        println!(
            "Statements end at Enter when complete (or with `;`); an open quote, parenthesis or\n\
             clause continues on the next line. Tab completes keywords, columns, metrics, models\n\
             and lexical-tree terms (#DD, #\"Oncology (Medical)\", #modality:CT, #DD/CT). Ctrl-R\n\
             searches history, Ctrl-C cancels a running query. Examples:\n  \
             by model score acc, ci, n sort acc desc\n  \
             where #DD and #CT by model score acc, n\n  \
             by model, task score acc pivot task with overall abbreviated"
        );
    }

    fn tree(&self, path: &str) {
        let t = self.session.tree();
        let steps: Vec<String> = path
            .split('/')
            .map(|s| s.trim().trim_matches('"').trim_matches('\'').to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let mut out = String::new();
        let line = |out: &mut String, name: &str, abbr: &str, n: u64| {
            out.push_str(&format!(
                "  {abbr:<8} {:<52} {n:>6}\n",
                crate::render::neutralize(name)
            ));
        };
        if steps.is_empty() {
            for (root, title) in [
                ("task", "clinical VQA task"),
                ("department", "department"),
                ("granularity", "perceptual granularity"),
            ] {
                let vals = &t.values[root];
                out.push_str(&format!("{title} ({} values)\n", vals.len()));
                let mut names: Vec<String> = vals.keys().cloned().collect();
                crate::tree::paper_order(root, &mut names);
                for v in names {
                    let abbr = crate::tree::abbreviation(root, &v).unwrap_or("");
                    line(&mut out, &v, abbr, vals[&v]);
                }
            }
            out.push_str(&format!(
                "{} modalities (.tree modality), {} categories (.tree category); drill down: .tree DD, .tree DD/CT\n",
                t.values["modality"].len(),
                t.values["category"].len()
            ));
            print!("{out}");
            return;
        }
        if steps.len() == 1 {
            let dim = crate::tree::DIMENSIONS
                .iter()
                .find(|(_, q)| q.iter().any(|x| x.eq_ignore_ascii_case(&steps[0])))
                .map(|(d, _)| *d);
            if let Some(d) = dim {
                out.push_str(&format!("{d} ({} values)\n", t.values[d].len()));
                for (v, n) in &t.values[d] {
                    line(
                        &mut out,
                        v,
                        crate::tree::abbreviation(d, v).unwrap_or(""),
                        *n,
                    );
                }
                print!("{out}");
                return;
            }
        }
        // A path from a root value.
        let mut found = None;
        for r in ["task", "department", "granularity"] {
            for v in t.paths[r].keys() {
                let hit = v.eq_ignore_ascii_case(&steps[0])
                    || crate::tree::abbreviation(r, v)
                        .is_some_and(|a| a.eq_ignore_ascii_case(&steps[0]))
                    || format!("{} level", steps[0]).eq_ignore_ascii_case(v);
                if hit && found.is_none() {
                    found = Some((r, v.clone()));
                }
            }
        }
        let Some((root, value)) = found else {
            let names = t.all_names();
            let near = crate::names::nearest(&steps[0], names.iter().map(|s| s.as_str()), 3);
            eprintln!(
                "`{}` is not a task, department or granularity; nearest: {}",
                steps[0],
                near.join(", ")
            );
            return;
        };
        let mods = &t.paths[root][&value];
        match steps.get(1) {
            None => {
                out.push_str(&format!("{value} ({root}): {} modalities\n", mods.len()));
                for (m, cats) in mods {
                    let n: u64 = cats.values().sum();
                    out.push_str(&format!(
                        "  {:<52} {n:>6} items · {} categor{}\n",
                        crate::render::neutralize(m),
                        cats.len(),
                        if cats.len() == 1 { "y" } else { "ies" }
                    ));
                }
                out.push_str(&format!("drill down: .tree {}/MODALITY\n", steps[0]));
            }
            Some(m) => {
                let Some((mname, cats)) = mods.iter().find(|(k, _)| k.eq_ignore_ascii_case(m))
                else {
                    let there: Vec<&str> = mods.keys().map(String::as_str).collect();
                    eprintln!(
                        "no modality `{m}` under {value}; there: {}",
                        there.join(", ")
                    );
                    return;
                };
                out.push_str(&format!("{value} / {mname}: {} categories\n", cats.len()));
                for (c, n) in cats {
                    line(&mut out, c, "", *n);
                }
            }
        }
        print!("{out}");
    }

    async fn models(&mut self) {
        let mut acc: std::collections::HashMap<String, String> = Default::default();
        if let Ok(outs) = self.session.run("by model score acc", "<models>").await {
            for o in outs {
                if let Outcome::Table(t) = o {
                    for row in t.rows() {
                        if let [crate::render::Cell::Text(m), crate::render::Cell::Float(a)] =
                            &row[..]
                        {
                            acc.insert(m.clone(), format!("{a:.2}"));
                        }
                    }
                }
            }
        }
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_header([
            "model",
            "read",
            "scored",
            "duplicated",
            "unknown",
            "invalid",
            "missing",
            "acc",
        ]);
        for (m, c) in &self.session.info.coverage {
            t.add_row([
                crate::render::neutralize(m),
                c.read.to_string(),
                c.scored.to_string(),
                c.duplicated.to_string(),
                c.unknown.to_string(),
                c.invalid.to_string(),
                c.missing.to_string(),
                acc.get(m).cloned().unwrap_or_default(),
            ]);
        }
        println!("{t}");
        println!(
            "{}",
            self.dim(&format!("acc under policy {}", self.session.policy))
        );
    }

    fn schema(&self) {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        crate::render::fit_to_terminal(&mut t);
        t.set_header(["column", "type", "meaning"]);
        for (c, d) in crate::plan::columns::COLUMN_DOCS {
            let ty = match *c {
                "index" | "n_options" => "int",
                "answered" | "correct" | "correct_legacy" | "hit" => "bool",
                _ => "text",
            };
            t.add_row([*c, ty, *d]);
        }
        println!("{t}");
    }

    async fn load(&mut self, rest: &str) -> Meta {
        let (what, path) = match rest.split_once(char::is_whitespace) {
            Some((w, p)) => (w, p.trim()),
            None => (rest, ""),
        };
        if path.is_empty() || !matches!(what, "items" | "predictions") {
            eprintln!("usage: .load items PATH  |  .load predictions PATH");
            return Meta::Done;
        }
        let mut spec: LoadSpec = self.session.info.spec.clone();
        match what {
            "items" => spec.items = vec![path.to_string()],
            _ => spec.predictions.push(path.to_string()),
        }
        if spec.items.is_empty() {
            eprintln!("load items first: .load items PATH");
            return Meta::Done;
        }
        match Session::load_with(&spec, &self.session.options).await {
            Ok(mut s) => {
                for w in &s.info.warnings {
                    eprintln!("warning: {w}");
                }
                let _ = s.set_policy(self.session.policy);
                s.params = std::mem::take(&mut self.session.params);
                *self.session = s;
                println!("{}", self.banner());
                Meta::Reloaded
            }
            Err(e) => {
                self.print_error(&e);
                Meta::Done
            }
        }
    }
}
