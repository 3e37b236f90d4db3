//! The interactive prompt on rustyline: statements run when complete (Enter
//! on an unfinished one continues it), each result is followed by
//! `N rows · X ms`, tables show at most `.maxrows` rows, Ctrl-C stops a
//! running query and its printing, errors never end the session, pasted
//! lines run in order, and history persists in the user's data directory.

pub mod complete;
pub mod helper;
pub mod item;

use crate::error::{Error, Result};
use crate::render::paged::{Shown, TextWriter};
use crate::render::{Format, RenderOptions, StreamWriter};
use crate::{LoadSpec, Outcome, Policy, QueryResult, QueryStream, Session, Streamed};
use complete::{meta_commands, Vocabulary, META_COMMANDS};
use datafusion::arrow::datatypes::DataType;
use futures::StreamExt;
use helper::{MedqlHelper, SharedBurst};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Rows a table shows unless `--max-rows` or `.maxrows` says otherwise.
pub const DEFAULT_MAX_ROWS: usize = 40;

/// How long input must pause after an Enter that came in a burst before
/// what was held runs.
const QUIET: Duration = Duration::from_millis(40);

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
    max_rows: usize,
    last_statement: Option<String>,
    /// The policy the last statement started under, and whether the
    /// session's policy had been set (by `.policy`, `set policy` or
    /// `--policy`) by then.
    last_policy: (Policy, bool),
    policy_set: bool,
}

/// A paste arrives faster than rustyline's reader hands it out, and
/// rustyline drops what it has read but not used when a line is accepted.
/// So an Enter in a burst of input does not end the line (see
/// [`helper::Burst`]); this thread notices when the input pauses and
/// interrupts the prompt's read with SIGINT, which rustyline turns into
/// `Interrupted` while it reads: the held input then runs. The signal goes
/// to the prompt's thread only, and only while it reads.
#[cfg(unix)]
fn watch_bursts(burst: SharedBurst) {
    // SAFETY: pthread_self has no preconditions.
    let reader = unsafe { libc::pthread_self() };
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(10));
        let Ok(mut b) = burst.lock() else { return };
        if b.done {
            return;
        }
        // Signalled already: again only if the read did not end (the
        // signal came between two reads).
        let again = b
            .signalled
            .is_none_or(|t| t.elapsed() > Duration::from_millis(200));
        if b.burst_over(QUIET) && again {
            b.signalled = Some(Instant::now());
            // SAFETY: `reader` is the thread running the prompt, alive
            // while `done` is unset; SIGINT has a handler there (rustyline's
            // while reading, tokio's otherwise).
            unsafe {
                libc::pthread_kill(reader, libc::SIGINT);
            }
        }
    });
}

#[cfg(not(unix))]
fn watch_bursts(_burst: SharedBurst) {}

/// What a line of input holds: meta commands, one per line, and statements.
#[derive(Debug, PartialEq, Eq)]
enum Unit {
    Meta(String),
    Statements(String),
}

/// Split input into meta commands and statements, in order. A line starting
/// with `.` is a meta command when no statement is open before it. A line
/// without `;` continues its statement onto the next line (the README's
/// two-line `where` ... `show` example), unless the statement is complete
/// alone and the next line cannot continue it: then the next line starts a
/// new statement (`set policy = legacy` then `by model score acc`).
fn units(text: &str) -> Vec<Unit> {
    let mut out = vec![];
    let mut stmt = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with('.') && helper::ends_statement(&stmt) {
            if !crate::syntax::split::is_blank(&stmt) {
                out.push(Unit::Statements(std::mem::take(&mut stmt)));
            }
            stmt.clear();
            out.push(Unit::Meta(line.trim().to_string()));
        } else {
            if starts_anew(&stmt, line) {
                stmt = stmt.trim_end().to_string();
                stmt.push_str(";\n");
            }
            stmt.push_str(line);
            stmt.push('\n');
        }
    }
    if !crate::syntax::split::is_blank(&stmt) {
        out.push(Unit::Statements(stmt.trim_end().to_string()));
    }
    out
}

/// Whether `line` starts a new statement after the text `before`: the last
/// statement of `before` parses alone, and with `line` joined to it neither
/// parses nor is merely unfinished.
fn starts_anew(before: &str, line: &str) -> bool {
    use crate::syntax::{parse_statement, split};
    // A `.` line inside an open statement stays part of it.
    if split::is_blank(line) || line.trim_start().starts_with('.') || helper::ends_statement(before)
    {
        return false;
    }
    let Some(&(start, end)) = split::split_statements(before).last() else {
        return false;
    };
    if parse_statement(before, start, end).is_err() {
        return false;
    }
    let joined = format!("{}\n{line}", &before[start..end]);
    if split::is_incomplete(&joined) {
        return false;
    }
    // The joined statement runs to the first `;` of the line, if any.
    match split::split_statements(&joined).first() {
        Some(&(a, b)) => parse_statement(&joined, a, b).is_err(),
        None => false,
    }
}

/// Raise `stop` on Ctrl-C (SIGINT); listening starts before this returns.
#[cfg(unix)]
fn on_interrupt(stop: Arc<AtomicBool>) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let mut sig = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    Ok(tokio::spawn(async move {
        if sig.recv().await.is_some() {
            stop.store(true, Ordering::SeqCst);
        }
    }))
}

#[cfg(not(unix))]
fn on_interrupt(stop: Arc<AtomicBool>) -> std::io::Result<tokio::task::JoinHandle<()>> {
    Ok(tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.store(true, Ordering::SeqCst);
        }
    }))
}

/// Wait until `flag` is set.
async fn raised(flag: &AtomicBool) {
    while !flag.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn vocabulary(s: &Session) -> Vocabulary {
    Vocabulary {
        tree: s.tree().clone(),
        models: s.info().models.clone(),
        datasets: s.info().datasets.clone(),
        // Every relation's columns, `results`' first, each name once.
        columns: {
            let mut names: Vec<String> = vec![];
            for r in crate::bind::Relation::ALL {
                for c in s.catalog().columns(r) {
                    if !names.contains(&c.name) {
                        names.push(c.name);
                    }
                }
            }
            names
        },
    }
}

/// Run the prompt until `.quit` or end of input; tables show at most
/// `max_rows` rows (0: all).
pub async fn run(
    session: &mut Session,
    format: Format,
    color: bool,
    max_rows: usize,
) -> Result<()> {
    // SIGINT gets tokio's handler for the whole session, so that Ctrl-C
    // between two reads is never the default (ending the process).
    #[cfg(unix)]
    let _sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| Error::engine("starting the prompt", e))?;
    let config = Config::builder()
        .auto_add_history(false)
        .completion_type(CompletionType::List)
        .max_history_size(5000)
        .map_err(|e| Error::engine("starting the prompt", e))?
        .build();
    let mut rl: Editor<MedqlHelper, DefaultHistory> =
        Editor::with_config(config).map_err(|e| Error::engine("starting the prompt", e))?;
    let helper = MedqlHelper::new(vocabulary(session), color);
    let burst = helper.burst.clone();
    rl.set_helper(Some(helper));
    watch_bursts(burst.clone());
    let history = history_path();
    if let Some(h) = &history {
        let _ = rl.load_history(h);
    }
    let policy_set = session.policy() != Policy::default();
    let mut repl = Repl {
        session,
        format,
        color,
        timer: false,
        max_rows,
        last_statement: None,
        last_policy: (Policy::default(), false),
        policy_set,
    };
    println!("{}", repl.banner());
    let result = loop {
        if let Ok(mut b) = burst.lock() {
            b.begin();
        }
        let read = rl.readline("medql> ");
        let held = burst.lock().ok().and_then(|mut b| b.end());
        let text = match (read, held) {
            (Err(ReadlineError::Interrupted), Some(held)) => held,
            (Ok(text), _) => text,
            (Err(ReadlineError::Interrupted), None) => continue,
            (Err(ReadlineError::Eof), _) => break Ok(()),
            (Err(e), _) => break Err(Error::engine("reading input", e)),
        };
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
        let mut quit = false;
        for unit in units(&text) {
            match unit {
                Unit::Meta(t) => match repl.meta(&t).await {
                    Meta::Quit => {
                        quit = true;
                        break;
                    }
                    Meta::Reloaded => {
                        if let Some(h) = rl.helper_mut() {
                            h.vocab = vocabulary(repl.session);
                        }
                    }
                    Meta::Done => {}
                },
                Unit::Statements(t) => {
                    repl.last_statement = Some(t.clone());
                    repl.last_policy = (repl.session.policy(), repl.policy_set);
                    repl.execute(&t, "<repl>").await;
                }
            }
        }
        if quit {
            break Ok(());
        }
    };
    if let Ok(mut b) = burst.lock() {
        b.done = true;
    }
    result
}

enum Meta {
    Done,
    Reloaded,
    Quit,
}

impl Repl<'_> {
    fn banner(&self) -> String {
        let i = &self.session.info();
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
            self.session.policy()
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

    /// Run statements in order, printing each result as it streams in;
    /// Ctrl-C stops the running one (its execution and its printing) and
    /// the rest.
    async fn execute(&mut self, text: &str, origin: &str) {
        let keep_going = origin != "<repl>";
        let stop = Arc::new(AtomicBool::new(false));
        // The listener exists from here on, so a Ctrl-C at any point of the
        // run is seen; it raises `stop` from a worker thread even while this
        // one renders.
        let watcher = match on_interrupt(stop.clone()) {
            Ok(w) => Some(w),
            Err(e) => {
                eprintln!("warning: Ctrl-C will not cancel this statement: {e}");
                None
            }
        };
        let mut cancelled = false;
        for range in crate::statements(text) {
            let start = Instant::now();
            let r = tokio::select! {
                r = self.session.stream_one(text, origin, range, true) => Some(r),
                _ = raised(&stop) => None,
            };
            let ok = match r {
                None => {
                    cancelled = true;
                    break;
                }
                Some(Ok(Streamed::Stream(q))) => {
                    if !self.print_stream(q, &stop, start).await {
                        cancelled = true;
                        break;
                    }
                    true
                }
                Some(Ok(Streamed::Done(Some(Outcome::Table(t))))) => {
                    self.print_result(&t);
                    true
                }
                Some(Ok(Streamed::Done(Some(Outcome::Message(m))))) => {
                    if m.starts_with("policy = ") {
                        self.policy_set = true;
                    }
                    println!("{m}");
                    true
                }
                Some(Ok(Streamed::Done(None))) => true,
                Some(Err(e)) => {
                    self.print_error(&e);
                    false
                }
            };
            if !ok && !keep_going {
                break;
            }
        }
        if let Some(w) = watcher {
            w.abort();
        }
        if cancelled {
            eprintln!("cancelled");
        }
    }

    /// Print a query's rows as they are computed: tables and Markdown show
    /// at most `max_rows` rows and count the rest. False when Ctrl-C
    /// stopped it.
    async fn print_stream(&self, q: QueryStream, stop: &Arc<AtomicBool>, start: Instant) -> bool {
        enum Out {
            Text(TextWriter<std::io::Stdout>),
            Stream(StreamWriter<std::io::Stdout>),
        }
        let made = match self.format {
            Format::Table | Format::Markdown => TextWriter::new(
                std::io::stdout(),
                q.schema.clone(),
                q.styles.clone(),
                self.format,
                self.opts(),
                self.max_rows,
            )
            .map(|w| Out::Text(w.with_stop(stop.clone()))),
            f => StreamWriter::new(std::io::stdout(), &q.schema, f).map(Out::Stream),
        };
        let mut out = match made {
            Ok(o) => o,
            Err(e) => {
                self.print_error(&e);
                return true;
            }
        };
        let mut batches = q.batches;
        let mut failed = None;
        loop {
            let next = tokio::select! {
                b = batches.next() => b,
                _ = raised(stop) => return false,
            };
            let Some(b) = next else { break };
            let written = match b {
                Ok(b) => match &mut out {
                    Out::Text(w) => w.write(&b),
                    Out::Stream(w) => w.write(&b),
                },
                Err(e) => Err(crate::engine_error("running the query", e)),
            };
            if let Err(e) = written {
                failed = Some(e);
                break;
            }
            if stop.load(Ordering::SeqCst) {
                return false;
            }
        }
        drop(batches);
        let shown = match out {
            Out::Text(w) => w.finish().map(|(_, s)| s),
            Out::Stream(w) => {
                let n = w.rows();
                w.finish().map(|_| Shown { shown: n, total: n })
            }
        };
        if let Some(e) = failed {
            println!();
            self.print_error(&e);
            return true;
        }
        match shown {
            Ok(shown) => {
                self.footer(shown, start.elapsed(), &q.timing);
                true
            }
            Err(e) => {
                self.print_error(&e);
                true
            }
        }
    }

    /// `N rows · X ms`, what was left out and how to see it, and the timer.
    fn footer(&self, shown: Shown, elapsed: Duration, timing: &crate::Timing) {
        let n = shown.total;
        let mut line = format!(
            "{n} row{} · {} ms",
            if n == 1 { "" } else { "s" },
            elapsed.as_millis()
        );
        if shown.truncated() {
            line.push_str(&format!(
                " · first {} shown: .maxrows 0 shows all, .format csv prints all for programs",
                shown.shown
            ));
        }
        println!("{}", self.dim(&line));
        if self.timer {
            let run = elapsed.saturating_sub(timing.parse + timing.plan);
            println!(
                "{}",
                self.dim(&format!(
                    "parse {:.1} ms · plan {:.1} ms · execute and render {:.1} ms",
                    timing.parse.as_secs_f64() * 1e3,
                    timing.plan.as_secs_f64() * 1e3,
                    run.as_secs_f64() * 1e3
                ))
            );
        }
    }

    async fn meta(&mut self, line: &str) -> Meta {
        let (cmd, rest) = match line.split_once(char::is_whitespace) {
            Some((c, r)) => (c, r.trim()),
            None => (line, ""),
        };
        match cmd {
            ".quit" | ".exit" | ".q" => return Meta::Quit,
            ".help" if !rest.is_empty() => self.help_functions(rest),
            ".help" => self.help(),
            ".tree" if rest.contains('=') => {
                // Declare a dataset's tree, and load again with it.
                let mut spec: LoadSpec = self.session.info().spec.clone();
                let name = rest.split_once('=').map_or("", |(d, _)| d.trim());
                spec.trees.retain(|t| {
                    t.split_once('=')
                        .is_none_or(|(d, _)| !d.trim().eq_ignore_ascii_case(name))
                });
                spec.trees.push(rest.to_string());
                return self.reload(spec).await;
            }
            ".tree" if rest.contains(':') => self.tree_drill(rest).await,
            ".tree" => self.tree(rest),
            ".models" => self.models().await,
            ".item" => self.item(rest).await,
            ".schema" => self.schema(),
            ".policy" => {
                if rest.is_empty() {
                    let avail: Vec<&str> =
                        self.session.policies().iter().map(|p| p.name()).collect();
                    println!(
                        "policy {} (available: {})",
                        self.session.policy(),
                        avail.join(", ")
                    );
                } else {
                    match rest
                        .parse::<Policy>()
                        .map_err(Error::Usage)
                        .and_then(|p| self.session.set_policy(p))
                    {
                        Ok(()) => {
                            self.policy_set = true;
                            println!("policy {}", self.session.policy())
                        }
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
            ".maxrows" => {
                if rest.is_empty() {
                    println!("maxrows {} (0: all rows)", self.max_rows);
                } else {
                    match rest.parse::<usize>() {
                        Ok(n) => {
                            self.max_rows = n;
                            println!("maxrows {n}");
                        }
                        Err(_) => eprintln!(
                            "error: .maxrows takes a number of rows (0: all), not `{}`",
                            crate::render::neutralize(rest)
                        ),
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
                    // The policy the statement ran under, so that the file
                    // gives the same result when run again.
                    let (policy, set) = self.last_policy;
                    let mut text = String::new();
                    if (set || policy != Policy::default()) && !sets_policy_first(s) {
                        text.push_str(&format!("set policy = {};\n", policy.name()));
                    }
                    text.push_str(s.trim_end());
                    if !ends_with_semicolon(&text) {
                        // After a comment, `;` goes on a line of its own.
                        if text.lines().last().is_some_and(|l| l.contains("--")) {
                            text.push('\n');
                        }
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
        for (c, d) in meta_commands() {
            t.add_row([c, d.as_str()]);
        }
        println!("{t}");
        let mut m = comfy_table::Table::new();
        m.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        crate::render::fit_to_terminal(&mut m);
        m.set_header(["metric", "value"]);
        for def in crate::metrics::registry::METRICS {
            m.add_row([def.usage(), def.describe()]);
        }
        println!("{m}");
        println!(
            "Statements end at Enter when complete (or with `;`); an open quote, parenthesis or\n\
             clause continues on the next line. Tab completes keywords, columns, metrics, models\n\
             and lexical-tree terms (#DD, #\"Oncology (Medical)\", #modality:CT, #DD/CT). Ctrl-R\n\
             searches history, Ctrl-C stops a running query and its printing. Tables show at\n\
             most .maxrows rows (now {}). Pasted lines run in order; in a paste a line without\n\
             `;` continues on the next while the two make one statement. Examples:\n  \
             by model score acc, ci, n sort acc desc\n  \
             where #DD and #CT by model score acc, n\n  \
             by model, task score acc pivot task with overall abbreviated",
            self.max_rows
        );
    }

    /// `.help functions` (every function expressions may call, with how it
    /// is called and what it does) or `.help <name>` (one function).
    fn help_functions(&self, rest: &str) {
        use crate::bind::functions;
        let one = !rest.eq_ignore_ascii_case("functions");
        let wanted = rest.to_lowercase();
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        crate::render::fit_to_terminal(&mut t);
        t.set_header(["function", "called as", "does"]);
        let mut shown = 0;
        for name in functions::callable() {
            if one && name != wanted {
                continue;
            }
            let (call, does) = match functions::find(name) {
                Some(f) => (
                    functions::signature(&f),
                    functions::description(&f).unwrap_or_default(),
                ),
                None => (
                    "div(a, b)".to_string(),
                    "a divided by b as whole numbers, rounded toward zero; null when b is 0"
                        .to_string(),
                ),
            };
            t.add_row([name.to_string(), call, does]);
            shown += 1;
        }
        if shown == 0 {
            let near = crate::names::did_you_mean(&wanted, functions::callable())
                .map(|s| format!(" {s}"))
                .unwrap_or_default();
            eprintln!(
                "error: no function `{}`.{near} `.help functions` lists them",
                crate::render::neutralize(rest)
            );
            return;
        }
        println!("{t}");
        if !one {
            println!(
                "{shown} functions, from DataFusion's library; `/` divides as floating point, \
                 div(a, b) as whole numbers. Functions that give a new value on each run \
                 (random, now, uuid) are not callable."
            );
        }
    }

    /// `.tree DATASET:PATH` in another dataset's tree: the values of the
    /// next column under the path, with item counts.
    async fn tree_drill(&mut self, rest: &str) {
        let (dataset, path) = rest.split_once(':').unwrap_or((rest, ""));
        let t = self.session.tree();
        let Some(g) = t
            .generic
            .iter()
            .find(|g| g.dataset.eq_ignore_ascii_case(dataset.trim()))
        else {
            let names: Vec<&str> = t.generic.iter().map(|g| g.dataset.as_str()).collect();
            eprintln!(
                "`{}` is not a dataset with a tree of its own; those are: {}",
                dataset.trim(),
                names.join(", ")
            );
            return;
        };
        let steps: Vec<String> = path
            .split('/')
            .map(|s| s.trim().trim_matches('"').trim_matches('\'').to_string())
            .filter(|s| !s.is_empty())
            .collect();
        // The first path whose columns have the steps' values, in order.
        let found = g.paths.iter().find_map(|p| {
            if p.len() <= steps.len() {
                return None;
            }
            let values: Option<Vec<String>> = steps
                .iter()
                .zip(p)
                .map(|(s, c)| {
                    g.values[c]
                        .keys()
                        .find(|v| v.eq_ignore_ascii_case(s))
                        .cloned()
                })
                .collect();
            values.map(|v| (p.clone(), v))
        });
        let Some((p, values)) = found else {
            eprintln!(
                "no path `{path}` in {}'s tree ({}); .tree {} lists its values",
                g.dataset,
                g.written(),
                g.dataset
            );
            return;
        };
        let quote = |v: &str| format!("'{}'", v.replace('\'', "''"));
        let mut conds = vec![format!("dataset = {}", quote(&g.dataset))];
        for (c, v) in p.iter().zip(&values) {
            conds.push(format!("{c} = {}", quote(v)));
        }
        let next = &p[values.len()];
        let q = format!(
            "from items where {} by {next} score n sort n desc",
            conds.join(" and ")
        );
        self.execute(&q, "<tree>").await;
    }

    fn tree(&self, path: &str) {
        let t = self.session.tree();
        // Another dataset's tree, by its name.
        if let Some(g) = t
            .generic
            .iter()
            .find(|g| g.dataset.eq_ignore_ascii_case(path.trim()))
        {
            print!("{}", generic_tree_text(g));
            return;
        }
        if path.trim().is_empty() && !t.generic.is_empty() {
            for g in &t.generic {
                println!(
                    "{}: {} ({}; .tree {} for its values)",
                    crate::render::neutralize(&g.dataset),
                    crate::render::neutralize(&g.written()),
                    if g.declared { "declared" } else { "inferred" },
                    crate::render::neutralize(&g.dataset)
                );
            }
            if !t.gmai {
                return;
            }
        }
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
                let vals = t.values_of(root);
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
                t.values_of("modality").len(),
                t.values_of("category").len()
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
                out.push_str(&format!("{d} ({} values)\n", t.values_of(d).len()));
                for (v, n) in t.values_of(d) {
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
            for v in t.paths_of(r).keys() {
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
        let mods = &t.paths_of(root)[&value];
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
        use crate::render::Cell;
        let mut acc: std::collections::HashMap<(String, String), String> = Default::default();
        if let Ok(outs) = self
            .session
            .run("by model, dataset score acc", "<models>")
            .await
        {
            for o in outs {
                if let Outcome::Table(t) = o {
                    for row in t.rows() {
                        if let [Cell::Text(m), Cell::Text(d), Cell::Float(a)] = &row[..] {
                            acc.insert((m.clone(), d.clone()), format!("{a:.2}"));
                        }
                    }
                }
            }
        }
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_header([
            "model",
            "dataset",
            "read",
            "scored",
            "duplicated",
            "unknown",
            "invalid",
            "missing",
            "acc",
            "judge",
            "rules_detected",
            "agreement",
        ]);
        let info = self.session.info();
        for (m, d, c) in &info.coverage {
            let p = info
                .provenance
                .iter()
                .find(|p| &p.model == m && &p.source.dataset == d);
            let of = |f: &dyn Fn(&crate::scoring::provenance::Row) -> Option<String>| {
                p.and_then(f).unwrap_or_default()
            };
            t.add_row([
                crate::render::neutralize(m),
                crate::render::neutralize(d),
                c.read.to_string(),
                c.scored.to_string(),
                c.duplicated.to_string(),
                c.unknown.to_string(),
                c.invalid.to_string(),
                c.missing.to_string(),
                acc.get(&(m.clone(), d.clone()))
                    .cloned()
                    .unwrap_or_default(),
                crate::render::neutralize(&of(&|p| p.source.judge.clone())),
                of(&|p| p.rules_detected()),
                of(&|p| p.agreement().map(|a| format!("{a:.2}"))),
            ]);
        }
        println!("{t}");
        println!(
            "{}",
            self.dim(&format!(
                "acc under policy {}; every provenance column: from provenance show *",
                self.session.policy()
            ))
        );
    }

    fn schema(&self) {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        crate::render::fit_to_terminal(&mut t);
        t.set_header(["column", "type", "meaning"]);
        // Columns with a meaning of their own (B..E are like A, and each
        // rule set's columns like the first's), typed as the session has them.
        let schema = self
            .session
            .catalog()
            .schema(crate::bind::Relation::Results);
        for (c, d) in crate::bind::columns::column_docs() {
            let Ok(f) = schema.field_with_unqualified_name(c) else {
                continue; // `thinking` without a file that has it
            };
            let ty = match f.data_type() {
                DataType::Int64 | DataType::Int32 => "int",
                DataType::Float64 => "number",
                DataType::Boolean => "bool",
                _ => "text",
            };
            t.add_row([*c, ty, d.as_str()]);
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
        let mut spec: LoadSpec = self.session.info().spec.clone();
        match what {
            "items" => {
                // Another dataset is added; one of the same name is replaced.
                let name = |p: &str| crate::data::items::dataset_name(std::path::Path::new(p));
                let new = name(path);
                spec.items.retain(|i| name(i) != new);
                spec.items.push(path.to_string());
            }
            _ => spec.predictions.push(path.to_string()),
        }
        if spec.items.is_empty() {
            eprintln!("load items first: .load items PATH");
            return Meta::Done;
        }
        self.reload(spec).await
    }

    /// Load again with `spec`, keeping the policy and parameters.
    async fn reload(&mut self, spec: LoadSpec) -> Meta {
        match Session::load_with(&spec, self.session.options()).await {
            Ok(mut s) => {
                for n in &s.info().notes {
                    eprintln!("note: {n}");
                }
                for w in &s.info().warnings {
                    eprintln!("warning: {w}");
                }
                let _ = s.set_policy(self.session.policy());
                s.set_bootstrap_settings(self.session.bootstrap());
                s.set_params(self.session.params().clone());
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

/// Another dataset's tree as text: its paths, then each tree column's
/// values with their item counts.
fn generic_tree_text(g: &crate::tree::generic::DatasetTree) -> String {
    let mut out = format!(
        "{}: {}\n",
        crate::render::neutralize(&g.dataset),
        crate::render::neutralize(&g.written())
    );
    for (c, vals) in &g.values {
        out.push_str(&format!(
            "{} ({} values; #{}:NAME)\n",
            crate::render::neutralize(c),
            vals.len(),
            crate::render::neutralize(c)
        ));
        for (v, n) in vals {
            out.push_str(&format!("  {:<60} {n:>6}\n", crate::render::neutralize(v)));
        }
    }
    out
}

/// True when the first statement of `text` is `set policy`.
fn sets_policy_first(text: &str) -> bool {
    crate::statements(text).first().is_some_and(|(a, b)| {
        let st = text[*a..*b].trim_start().to_ascii_lowercase();
        st.strip_prefix("set").is_some_and(|r| {
            r.starts_with(char::is_whitespace) && r.trim_start().starts_with("policy")
        })
    })
}

/// True when the last code line of `text` ends with `;` (a trailing
/// comment is not code).
fn ends_with_semicolon(text: &str) -> bool {
    helper::ends_statement(text) && !crate::syntax::split::is_blank(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_splits_into_meta_commands_and_statements() {
        assert_eq!(
            units(".tree\nby model score n;\n.timer on\nwhere #CT\n  show index;"),
            vec![
                Unit::Meta(".tree".into()),
                Unit::Statements("by model score n;\n".into()),
                Unit::Meta(".timer on".into()),
                Unit::Statements("where #CT\n  show index;".into()),
            ]
        );
        // A line starting with `.` inside an open statement is part of it.
        assert_eq!(
            units("where x\n.5"),
            vec![Unit::Statements("where x\n.5".into())]
        );
        assert!(units("  \n-- note\n").is_empty());
        // Lines without `;`: one statement while the joined text parses, a
        // new one where the next line cannot continue a complete statement.
        assert_eq!(
            units("where model = 'x' and not correct\nshow index, answer limit 20;"),
            vec![Unit::Statements(
                "where model = 'x' and not correct\nshow index, answer limit 20;".into()
            )]
        );
        assert_eq!(
            units("set policy = legacy\nby model score acc sort model"),
            vec![Unit::Statements(
                "set policy = legacy;\nby model score acc sort model".into()
            )]
        );
        assert_eq!(
            units("by model score n\nby model score acc\nby model,\ntask score n"),
            vec![Unit::Statements(
                "by model score n;\nby model score acc;\nby model,\ntask score n".into()
            )]
        );
    }

    #[test]
    fn saved_files_keep_their_policy_statement() {
        assert!(sets_policy_first("set policy = legacy; by model score acc"));
        assert!(sets_policy_first("  SET policy=legacy"));
        assert!(!sets_policy_first("settle"));
        assert!(!sets_policy_first(
            "by model score acc; set policy = legacy"
        ));
        assert!(ends_with_semicolon("by model score n; -- c"));
        assert!(!ends_with_semicolon("by model score n -- c;"));
    }
}
