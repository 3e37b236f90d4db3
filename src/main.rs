//! The `medql` command line: a thin front end over `medql::Session`.

use clap::{Parser, Subcommand};
use futures::StreamExt;
use medql::datafusion::execution::SendableRecordBatchStream;
use medql::render::{self, Format, RenderOptions};
use medql::{Error, LoadSpec, Outcome, Policy, QueryResult, QueryStream, Session, Streamed};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "medql",
    version,
    about = "Query benchmark items and model predictions (GMAI-MMBench, VLMEvalKit files)",
    subcommand_precedence_over_arg = true,
    after_help = "With neither --items nor --predictions, medql runs on its built-in synthetic demo data.\nWith no command and no -e, it opens the interactive prompt."
)]
struct Cli {
    /// Items TSV files or globs (several are concatenated)
    #[arg(global = true, long, num_args = 1.., value_name = "PATH")]
    items: Vec<String>,
    /// Prediction files, globs or directories (.xlsx .csv .tsv .json .jsonl .parquet)
    #[arg(global = true, long, num_args = 1.., value_name = "PATH")]
    predictions: Vec<String>,
    /// A dataset's lexical tree: DATASET=col>col;col (paths of columns), or a file of such lines
    #[arg(global = true, long = "tree", value_name = "DATASET=PATHS|FILE")]
    trees: Vec<String>,
    // Answer-extraction policy: the help lists the registry's names.
    #[arg(global = true, long, value_name = "NAME", value_parser = parse_policy, help = policy_help())]
    policy: Option<Policy>,
    /// Output format: table, csv, tsv, json, ndjson, markdown
    #[arg(global = true, long, value_name = "NAME", value_parser = parse_format)]
    format: Option<Format>,
    /// Rows a table or markdown result shows, the rest counted (0: all); default 40 on a terminal and in the prompt, all when piped
    #[arg(global = true, long, value_name = "N")]
    max_rows: Option<usize>,
    /// Write the last result to FILE (format from the extension: .csv .tsv .json .ndjson .md .parquet)
    #[arg(global = true, short = 'o', long, value_name = "FILE")]
    output: Option<String>,
    /// A query parameter: `$K` in queries is replaced by the value V
    #[arg(global = true, long = "param", value_name = "K=V")]
    params: Vec<String>,
    /// Run these statements, print, exit
    #[arg(short = 'e', long = "execute", value_name = "QUERY")]
    execute: Option<String>,
    /// No colours in terminal output
    #[arg(global = true, long)]
    no_color: bool,
    /// Report parse, plan, execute and render times of each statement on stderr
    #[arg(global = true, long)]
    timing: bool,
    /// Treat every loading warning (unknown, duplicate, invalid or missing rows, column mismatches) as an error
    #[arg(global = true, long)]
    strict: bool,
    /// Bound the query engine's memory for sorts, aggregates and joins (e.g. 512M, 2G); the loaded data is not counted
    #[arg(global = true, long, value_name = "SIZE", value_parser = medql::text::parse_size)]
    memory_limit: Option<usize>,
    /// Keep loaded and scored data in DIR and start from it next time (default: $XDG_CACHE_HOME/medql or ~/.cache/medql)
    #[arg(global = true, long, value_name = "DIR")]
    cache: Option<std::path::PathBuf>,
    /// Read every file and score every prediction, without the cache
    #[arg(global = true, long, conflicts_with = "cache")]
    no_cache: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a saved query file
    Run {
        /// The .mql file
        file: String,
    },
    /// Parse and resolve query files without running them
    Check {
        /// The .mql files
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Write a report (HTML or Markdown with charts) from saved queries
    Report {
        /// Query files or directories of them (default: the standard GMAI-MMBench set)
        inputs: Vec<String>,
        /// Add the published leaderboard (50 models) and rank this run's models among them
        #[arg(long)]
        leaderboard: bool,
        /// Line a run's model up with a published one: RUN_MODEL=PUBLISHED_MODEL
        #[arg(long = "alias", value_name = "RUN=PUBLISHED")]
        aliases: Vec<String>,
        /// A file of RUN_MODEL=PUBLISHED_MODEL lines
        #[arg(long, value_name = "FILE")]
        alias_file: Option<String>,
    },
    /// Write deterministic synthetic data at scale (items TSV and one prediction file per model)
    Gen {
        /// Number of models
        #[arg(long, default_value_t = 4)]
        n_models: usize,
        /// Number of items
        #[arg(long, default_value_t = 4550)]
        n_items: usize,
        /// Output directory
        #[arg(long)]
        out: String,
        /// Prediction file format: xlsx, csv, tsv, jsonl, parquet
        #[arg(long, default_value = "csv", value_parser = parse_file_format)]
        file_format: medql::data::generate::FileFormat,
        /// Average bytes of base64 image per item (0: no image column, unless --images png)
        #[arg(long, default_value_t = 0)]
        image_bytes: usize,
        /// What the image column holds: text (random base64, for size) or png (a real PNG picture per item, with short references and list cells as VLMEvalKit writes them)
        #[arg(long, default_value = "text", value_parser = parse_image_kind)]
        images: medql::data::generate::ImageKind,
        /// Random seed
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Benchmark to imitate: gmai (GMAI-MMBench_SYNTH), mmbench (MMBench_SYNTH) or medxpertqa (MedXpertQA_SYNTH)
        #[arg(long, default_value = "gmai", value_parser = parse_shape)]
        shape: medql::data::generate::Shape,
    },
    /// Show the DataFusion logical and physical plans of a query
    Explain {
        /// The query
        query: String,
    },
}

impl Command {
    /// `gen`'s options; None for any other command.
    fn gen_options(&self) -> Option<medql::data::generate::GenOptions> {
        let Command::Gen {
            n_models,
            n_items,
            out,
            file_format,
            image_bytes,
            images,
            seed,
            shape,
        } = self
        else {
            return None;
        };
        Some(medql::data::generate::GenOptions {
            n_models: *n_models,
            n_items: *n_items,
            out: out.into(),
            format: *file_format,
            image_bytes: *image_bytes,
            images: *images,
            seed: *seed,
            shape: *shape,
        })
    }
}

fn parse_policy(s: &str) -> Result<Policy, String> {
    s.parse()
}

/// `--policy`'s help: `Answer-extraction policy: v2024, v2025, v2026 or
/// recorded (legacy = v2024, current = v2026)`.
fn policy_help() -> String {
    let aliases: Vec<String> = medql::scoring::rules::RULE_SETS
        .iter()
        .flat_map(|r| r.aliases.iter().map(move |a| format!("{a} = {}", r.name)))
        .collect();
    format!(
        "Answer-extraction policy: {} ({})",
        Policy::names_joined("or"),
        aliases.join(", ")
    )
}

fn parse_file_format(s: &str) -> Result<medql::data::generate::FileFormat, String> {
    s.parse()
}

fn parse_image_kind(s: &str) -> Result<medql::data::generate::ImageKind, String> {
    s.parse()
}

fn parse_shape(s: &str) -> Result<medql::data::generate::Shape, String> {
    s.parse()
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn main() -> ExitCode {
    // A panic is a bug; say so in one line instead of a backtrace. Panics
    // inside a statement are caught and reported as errors by the session.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("medql: internal error (please report it): {info}");
    }));
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("medql: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            ExitCode::from(match e {
                Error::Usage(_) => 2,
                _ => 1,
            })
        }
    }
}

fn report(e: &Error) {
    match e {
        Error::Query(q) => eprintln!("{q}"),
        Error::Usage(m) => eprintln!("medql: {m}"),
        other => eprintln!("medql: error: {other}"),
    }
}

/// Do what the command line asks, step by step: `gen` and `check` need no
/// data; everything else loads it (through the cache), says what loading
/// found, then writes a report, opens the prompt or runs statements.
async fn run(cli: Cli) -> Result<ExitCode, Error> {
    let params = parse_params(&cli.params)?;
    let output_format = output_format(&cli)?;
    if let Some(options) = cli.command.as_ref().and_then(Command::gen_options) {
        return generate(&options);
    }
    let spec = LoadSpec {
        items: cli.items.clone(),
        predictions: cli.predictions.clone(),
        trees: cli.trees.clone(),
    };
    if let Some(Command::Check { files }) = &cli.command {
        return check(files, &spec, cli.policy).await;
    }
    let load_start = std::time::Instant::now();
    let options = medql::Options {
        memory_limit: cli.memory_limit,
        cache: open_cache(&cli, &spec),
    };
    let mut session = load_session(&spec, &options).await?;
    if let Some(code) = announce_load(&cli, &session, load_start) {
        return Ok(code);
    }
    if let Some(p) = cli.policy {
        session.set_policy(p)?;
    }
    session.set_params(params);

    if let Some(Command::Report {
        inputs,
        leaderboard,
        aliases,
        alias_file,
    }) = &cli.command
    {
        return write_report_command(
            &mut session,
            inputs,
            *leaderboard,
            aliases,
            alias_file.as_deref(),
            cli.output.as_deref(),
        )
        .await;
    }
    let screen = Screen::of(&cli);
    match query_source(&cli.command, &cli.execute)? {
        Source::Prompt => prompt(&cli, &mut session, &screen).await,
        Source::Statements { source, origin } => {
            run_statements(&cli, &mut session, &source, &origin, output_format, &screen).await
        }
    }
}

/// `--param K=V`s as a map from `K` (a leading `$` dropped) to `V`; a
/// malformed one is a usage error.
fn parse_params(params: &[String]) -> Result<std::collections::HashMap<String, String>, Error> {
    let mut map = std::collections::HashMap::new();
    for p in params {
        let Some((k, v)) = p.split_once('=') else {
            return Err(Error::Usage(format!("--param takes NAME=VALUE, got `{p}`")));
        };
        let k = k.trim().trim_start_matches('$');
        if k.is_empty() {
            return Err(Error::Usage(format!("--param `{p}` has no name")));
        }
        map.insert(k.to_string(), v.to_string());
    }
    Ok(map)
}

/// The format of `-o FILE`, from its extension: `None` without `-o` (and for
/// `report`, which names its own file), `Some(None)` for Parquet. Checked
/// before anything is loaded, so that a bad extension fails at once.
fn output_format(cli: &Cli) -> Result<Option<Option<Format>>, Error> {
    Ok(match (&cli.output, &cli.command) {
        (_, Some(Command::Report { .. })) => None,
        (o, _) => o
            .as_ref()
            .map(|o| Format::from_extension(o).map_err(Error::Usage))
            .transpose()?,
    })
}

/// `medql gen`: write synthetic data and say what was written.
fn generate(options: &medql::data::generate::GenOptions) -> Result<ExitCode, Error> {
    let start = std::time::Instant::now();
    let g = medql::data::generate::write(options)?;
    eprintln!(
        "medql: wrote {} and {} prediction files ({:.1} MB) in {} ms",
        g.items_file.display(),
        g.prediction_files.len(),
        g.bytes as f64 / 1e6,
        start.elapsed().as_millis()
    );
    Ok(ExitCode::SUCCESS)
}

/// The cache to load through: none for the demo data or with `--no-cache`;
/// a cache that cannot be opened is a warning, and loading goes on without.
/// This build of medql, for cache keys: see [`medql::data::cache::build_id`].
fn build_id() -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    medql::data::cache::build_id(&exe)
}

fn open_cache(cli: &Cli, spec: &LoadSpec) -> Option<medql::data::cache::Cache> {
    if cli.no_cache || spec.is_demo() {
        return None;
    }
    let dir = cli
        .cache
        .clone()
        .or_else(medql::data::cache::Cache::default_dir)?;
    match medql::data::cache::Cache::open(&dir, build_id()) {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("warning: no cache ({e}); loading without it");
            None
        }
    }
}

/// Load and score the data, with a progress line on a terminal while
/// loading takes over a second (`MEDQL_PROGRESS_AFTER_MS`); the line is
/// gone before any error is reported.
async fn load_session(spec: &LoadSpec, options: &medql::Options) -> Result<Session, Error> {
    let progress = (std::io::stderr().is_terminal() && !spec.is_demo()).then(|| {
        let after = std::env::var("MEDQL_PROGRESS_AFTER_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        medql::data::progress::Display::start(std::time::Duration::from_millis(after))
    });
    let loaded = Session::load_with(spec, options).await;
    drop(progress);
    loaded
}

/// Say on standard error what loading did: its timing (`--timing`), that
/// the demo data is in use, the warnings and the notes. With `--strict`,
/// warnings are errors: they are reported as such and the exit code (1) is
/// returned.
fn announce_load(cli: &Cli, session: &Session, load_start: std::time::Instant) -> Option<ExitCode> {
    let info = session.info();
    if cli.timing {
        eprintln!(
            "timing: load and score {:.1} ms ({} items, {} models, {} prediction sets: {} from the cache, {} scored in {:.1} ms)",
            load_start.elapsed().as_secs_f64() * 1e3,
            info.items,
            info.models.len(),
            info.coverage.len(),
            info.cache_hits,
            info.cache_misses,
            info.score_time.as_secs_f64() * 1e3,
        );
    }
    if info.demo {
        eprintln!(
            "medql: no --items or --predictions given: using the built-in synthetic demo data ({} items, {} models)",
            info.items,
            info.models.len()
        );
    }
    if cli.strict && !info.warnings.is_empty() {
        for w in &info.warnings {
            eprintln!("medql: error (--strict): {w}");
        }
        return Some(ExitCode::from(1));
    }
    for w in &info.warnings {
        eprintln!("warning: {w}");
    }
    for n in &info.notes {
        eprintln!("note: {n}");
    }
    None
}

/// How results show on standard output: the format (`--format`, else a
/// table), render options fitted to a terminal's width, and whether
/// standard output is a terminal.
struct Screen {
    format: Format,
    opts: RenderOptions,
    tty: bool,
}

impl Screen {
    /// The screen `cli` asks for, on this standard output.
    fn of(cli: &Cli) -> Screen {
        let tty = std::io::stdout().is_terminal();
        Screen {
            format: cli.format.unwrap_or(Format::Table),
            opts: RenderOptions {
                fit: tty,
                width: std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()),
                ..Default::default()
            },
            tty,
        }
    }
}

/// `medql report`: gather the aliases (`--alias-file`'s, then `--alias`'s),
/// write the report (`-o`, else `report.html`) and say what was written.
async fn write_report_command(
    session: &mut Session,
    inputs: &[String],
    leaderboard: bool,
    aliases: &[String],
    alias_file: Option<&str>,
    output: Option<&str>,
) -> Result<ExitCode, Error> {
    let mut pairs = vec![];
    if let Some(f) = alias_file {
        pairs.extend(medql::report::leaderboard::alias_file(f)?);
    }
    for a in aliases {
        pairs.push(medql::report::leaderboard::parse_alias(a)?);
    }
    let output = std::path::PathBuf::from(output.unwrap_or("report.html"));
    let start = std::time::Instant::now();
    let summary = medql::report::write_report(
        session,
        &medql::report::ReportOptions {
            inputs: inputs.to_vec(),
            output: output.clone(),
            leaderboard,
            aliases: pairs,
        },
    )
    .await?;
    eprintln!(
        "medql: wrote {} ({} sections, {} charts, {:.1} kB) in {} ms",
        output.display(),
        summary.sections,
        summary.charts,
        summary.bytes as f64 / 1e3,
        start.elapsed().as_millis()
    );
    Ok(ExitCode::SUCCESS)
}

/// Where the statements to run come from.
enum Source {
    /// The text of `explain`, `run FILE` or `-e`, and its name in messages.
    Statements { source: String, origin: String },
    /// Neither command nor `-e`: the interactive prompt.
    Prompt,
}

/// The statements the command line names: `explain QUERY` (with `explain`
/// put in front when missing), a query file, `-e`, or else the prompt.
fn query_source(command: &Option<Command>, execute: &Option<String>) -> Result<Source, Error> {
    let (source, origin) = match (command, execute) {
        (Some(Command::Check { .. } | Command::Gen { .. } | Command::Report { .. }), _) => {
            unreachable!("handled above")
        }
        (Some(Command::Explain { query }), _) => {
            let text = if query
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("explain")
            {
                query.clone()
            } else {
                format!("explain {query}")
            };
            (text, "query".to_string())
        }
        (Some(Command::Run { file }), None) => (read_query_file(file)?, file.clone()),
        (Some(Command::Run { .. }), Some(_)) => {
            return Err(Error::Usage(
                "give either `run FILE` or `-e QUERY`, not both".into(),
            ))
        }
        (None, Some(q)) => (q.clone(), "query".to_string()),
        (None, None) => return Ok(Source::Prompt),
    };
    Ok(Source::Statements { source, origin })
}

/// The interactive prompt, in colour on a terminal unless told otherwise.
async fn prompt(cli: &Cli, session: &mut Session, screen: &Screen) -> Result<ExitCode, Error> {
    let color = !cli.no_color && std::env::var_os("NO_COLOR").is_none() && screen.tty;
    let max_rows = cli.max_rows.unwrap_or(medql::repl::DEFAULT_MAX_ROWS);
    medql::repl::run(session, screen.format, color, max_rows).await?;
    Ok(ExitCode::SUCCESS)
}

/// Standard output across a run's statements, and what went to `-o`.
struct Printed<'a> {
    stdout: std::io::StdoutLock<'a>,
    /// No result printed yet: tables after the first are set off by a
    /// blank line.
    first: bool,
    /// The `-o` file was written as its result was computed.
    written: bool,
    /// The result for the `-o` file when it was not streamed there.
    last: Option<QueryResult>,
}

/// Whether a result in this `-o` format is written as it is computed: the
/// formats for programs, and Parquet (`None`).
fn streams_to_file(f: Option<Format>) -> bool {
    matches!(
        f,
        None | Some(Format::Csv | Format::Tsv | Format::Json | Format::Ndjson)
    )
}

/// Run `source`'s statements in order, each result on standard output as
/// it is computed; with `-o`, the last query's result goes to the file
/// instead. A failing statement is reported and ends the run (exit 1).
async fn run_statements(
    cli: &Cli,
    session: &mut Session,
    source: &str,
    origin: &str,
    output_format: Option<Option<Format>>,
    screen: &Screen,
) -> Result<ExitCode, Error> {
    let ranges = medql::statements(source);
    // With -o, the last query's result goes to the file and the others to
    // standard output, as without -o; in a format for programs (and
    // Parquet), results are written as they are computed.
    let last_query = ranges.iter().rposition(|r| medql::is_query(source, *r));
    let mut out = Printed {
        stdout: std::io::stdout().lock(),
        first: true,
        written: false,
        last: None,
    };
    for (i, range) in ranges.iter().enumerate() {
        // The `-o` format, when this statement's result goes to the file.
        let file = output_format.filter(|_| Some(i) == last_query);
        let stream = match file {
            Some(f) => streams_to_file(f),
            // Every other result prints on standard output as it is
            // computed, with -o as without.
            None => true,
        };
        let r = session.stream_one(source, origin, *range, stream).await;
        match r {
            Ok(Streamed::Stream(q)) => {
                print_stream(cli, session, q, file, screen, &mut out).await?
            }
            Ok(Streamed::Done(Some(Outcome::Table(t)))) => {
                print_table(cli, t, file.is_some(), screen, &mut out)?
            }
            Ok(Streamed::Done(Some(Outcome::Message(m)))) => {
                if m.contains('\n') {
                    write_out(&mut out.stdout, &format!("{m}\n"))?;
                }
            }
            Ok(Streamed::Done(None)) => {}
            Err(e) => {
                report(&e);
                return Ok(ExitCode::from(1));
            }
        }
    }
    if !out.written {
        write_kept_result(&cli.output, output_format, out.last.take())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A query's rows as they are computed: to the `-o` file (`file`: its
/// format), else on standard output, as a table or markdown (at most
/// `--max-rows` of them) or in a format for programs; then, with
/// `--timing`, how long it took.
async fn print_stream(
    cli: &Cli,
    session: &Session,
    q: QueryStream,
    file: Option<Option<Format>>,
    screen: &Screen,
    out: &mut Printed<'_>,
) -> Result<(), Error> {
    let format = screen.format;
    let start = std::time::Instant::now();
    let rows = if let Some(file_format) = file {
        let path = cli.output.clone().unwrap_or_default();
        let n = write_stream_file(q.batches, &q.schema, file_format, &path, session).await?;
        eprintln!("medql: wrote {n} rows to {path}");
        out.written = true;
        n
    } else if matches!(format, Format::Table | Format::Markdown) {
        if !out.first && format == Format::Table {
            write_out(&mut out.stdout, "\n")?;
        }
        out.first = false;
        // On a terminal a table shows 40 rows unless told; piped, all of
        // them.
        let max_rows = cli.max_rows.unwrap_or(if screen.tty {
            medql::repl::DEFAULT_MAX_ROWS
        } else {
            0
        });
        let (schema, styles) = (q.schema.clone(), q.styles.clone());
        write_text(
            q.batches,
            schema,
            styles,
            format,
            &screen.opts,
            max_rows,
            &mut out.stdout,
        )
        .await?
    } else {
        write_stream(q.batches, &q.schema, format, &mut out.stdout).await?
    };
    if cli.timing {
        eprintln!(
            "timing: parse {:.2} ms · plan {:.2} ms · execute and write {:.2} ms · {rows} rows",
            q.timing.parse.as_secs_f64() * 1e3,
            q.timing.plan.as_secs_f64() * 1e3,
            start.elapsed().as_secs_f64() * 1e3,
        );
    }
    Ok(())
}

/// A statement's finished table: printed on standard output, or, when it
/// is the result for the `-o` file, kept to be written at the end; then,
/// with `--timing`, how long it took.
fn print_table(
    cli: &Cli,
    t: QueryResult,
    to_file: bool,
    screen: &Screen,
    out: &mut Printed<'_>,
) -> Result<(), Error> {
    let start = std::time::Instant::now();
    if !to_file {
        if !out.first && screen.format == Format::Table {
            write_out(&mut out.stdout, "\n")?;
        }
        write_out(
            &mut out.stdout,
            &t.render_with(screen.format, &screen.opts)?,
        )?;
        out.first = false;
    }
    if cli.timing {
        eprintln!(
            "timing: parse {:.2} ms · plan {:.2} ms · execute {:.2} ms · render {:.2} ms · {} rows",
            t.timing.parse.as_secs_f64() * 1e3,
            t.timing.plan.as_secs_f64() * 1e3,
            t.timing.execute.as_secs_f64() * 1e3,
            start.elapsed().as_secs_f64() * 1e3,
            t.num_rows()
        );
    }
    if to_file {
        out.last = Some(t);
    }
    Ok(())
}

/// With `-o` and no result streamed to it: write the kept result in the
/// file's format; no result at all is a usage error.
fn write_kept_result(
    output: &Option<String>,
    output_format: Option<Option<Format>>,
    last: Option<QueryResult>,
) -> Result<(), Error> {
    let (Some(path), Some(fmt)) = (output, output_format) else {
        return Ok(());
    };
    let Some(t) = last else {
        return Err(Error::Usage(format!(
            "-o {path}: no statement produced a result to write"
        )));
    };
    match fmt {
        Some(f) => std::fs::write(path, t.render(f)?).map_err(|e| Error::io(path, e))?,
        None => unreachable!("parquet output is streamed"),
    }
    eprintln!("medql: wrote {} rows to {path}", t.num_rows());
    Ok(())
}

/// `medql check`: parse and plan query files without reading any data.
/// Names that hold for any data (syntax, columns, metrics, clauses) are
/// checked; lexical-tree terms against the built-in GMAI-MMBench vocabulary
/// when no data is named, else not at all; model names never.
async fn check(
    files: &[String],
    spec: &LoadSpec,
    policy: Option<Policy>,
) -> Result<ExitCode, Error> {
    let mut session = Session::load(&LoadSpec::default()).await?;
    session.without_data(spec.is_demo());
    if let Some(p) = policy {
        session.set_policy(p)?;
    }
    let mut bad = 0;
    for f in files {
        let text = read_query_file(f)?;
        for e in session.check(&text, f).await {
            bad += 1;
            match &e {
                Error::Query(q) => eprintln!("{}", q.short()),
                other => eprintln!("{f}: {other}"),
            }
        }
    }
    if bad > 0 {
        eprintln!(
            "medql: {bad} error{} found",
            if bad == 1 { "" } else { "s" }
        );
        return Ok(ExitCode::from(1));
    }
    println!("ok: {}", files.join(", "));
    Ok(ExitCode::SUCCESS)
}

/// Write a query's batches to standard output as they arrive.
async fn write_stream(
    mut batches: SendableRecordBatchStream,
    schema: &medql::datafusion::arrow::datatypes::Schema,
    format: Format,
    stdout: &mut std::io::StdoutLock<'_>,
) -> Result<u64, Error> {
    let mut w = render::StreamWriter::new(&mut *stdout, schema, format).map_err(quiet_pipe)?;
    while let Some(b) = batches.next().await {
        let b = b.map_err(|e| medql::engine_error("running the query", e))?;
        w.write(&b).map_err(quiet_pipe)?;
    }
    let n = w.rows();
    w.finish().map_err(quiet_pipe)?;
    Ok(n)
}

/// Write a query's rows as a table or markdown as they arrive, at most
/// `max_rows` of them (0: all); when rows were left out, a last line gives
/// the total and how to get them all.
async fn write_text(
    mut batches: SendableRecordBatchStream,
    schema: medql::datafusion::arrow::datatypes::SchemaRef,
    styles: std::collections::HashMap<String, medql::plan::Style>,
    format: Format,
    opts: &RenderOptions,
    max_rows: usize,
    stdout: &mut std::io::StdoutLock<'_>,
) -> Result<u64, Error> {
    let mut w = render::paged::TextWriter::new(
        &mut *stdout,
        schema,
        styles,
        format,
        opts.clone(),
        max_rows,
    )?;
    while let Some(b) = batches.next().await {
        let b = b.map_err(|e| medql::engine_error("running the query", e))?;
        w.write(&b).map_err(quiet_pipe)?;
    }
    let (_, shown) = w.finish().map_err(quiet_pipe)?;
    if shown.truncated() {
        write_out(
            stdout,
            &format!(
                "({} of {} rows shown; all of them: --max-rows 0, --format csv or -o FILE)\n",
                shown.shown, shown.total
            ),
        )?;
    }
    Ok(shown.total)
}

/// Write a query's batches to the file of `-o` as they arrive.
async fn write_stream_file(
    mut batches: SendableRecordBatchStream,
    schema: &medql::datafusion::arrow::datatypes::SchemaRef,
    format: Option<Format>,
    path: &str,
    session: &Session,
) -> Result<u64, Error> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let out = std::io::BufWriter::new(file);
    let named = |e: Error| match e {
        Error::Io { source, .. } => Error::io(path, source),
        other => other,
    };
    let mut n = 0u64;
    match format {
        Some(f) => {
            let mut w = render::StreamWriter::new(out, schema, f).map_err(named)?;
            while let Some(b) = batches.next().await {
                let b = b.map_err(|e| medql::engine_error("running the query", e))?;
                w.write(&b).map_err(named)?;
            }
            n = w.rows();
            w.finish().map_err(named)?;
        }
        None => {
            let mut w = render::ParquetStream::new(
                out,
                path,
                schema.clone(),
                &[
                    ("medql.policy", session.policy().name().to_string()),
                    ("medql.version", env!("CARGO_PKG_VERSION").to_string()),
                ],
            )?;
            while let Some(b) = batches.next().await {
                let b = b.map_err(|e| medql::engine_error("running the query", e))?;
                n += b.num_rows() as u64;
                w.write(&b)?;
            }
            w.finish()?;
        }
    }
    Ok(n)
}

/// A closed pipe (`| head`) ends the output quietly.
fn quiet_pipe(e: Error) -> Error {
    if let Error::Io { source, .. } = &e {
        if source.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
    e
}

fn write_out(out: &mut impl Write, s: &str) -> Result<(), Error> {
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) ends the output quietly.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Error::io("standard output", e)),
    }
}

fn read_query_file(path: &str) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Usage(format!("query file not found: {path}")),
        _ => Error::io(path, e),
    })
}
