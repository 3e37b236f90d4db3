//! The `medql` command line: a thin front end over `medql::Session`.

use clap::{Parser, Subcommand};
use futures::StreamExt;
use medql::datafusion::execution::SendableRecordBatchStream;
use medql::render::{self, Format, RenderOptions};
use medql::{Error, LoadSpec, Outcome, Policy, QueryResult, Session, Streamed};
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
    #[arg(global = true, long, value_name = "SIZE", value_parser = parse_size)]
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
        /// Average bytes of base64 image per item (0: no image column)
        #[arg(long, default_value_t = 0)]
        image_bytes: usize,
        /// Random seed
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Show the DataFusion logical and physical plans of a query
    Explain {
        /// The query
        query: String,
    },
}

fn parse_policy(s: &str) -> Result<Policy, String> {
    s.parse()
}

/// `--policy`'s help: `Answer-extraction policy: legacy, current or recorded`.
fn policy_help() -> String {
    format!("Answer-extraction policy: {}", Policy::names_joined("or"))
}

fn parse_file_format(s: &str) -> Result<medql::data::generate::FileFormat, String> {
    s.parse()
}

/// This build of medql, for cache keys: the version and the binary's size
/// and modification time, so that a rebuilt binary never reads entries
/// written by another.
fn build_id() -> String {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| {
            let t = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            format!("{}-{t}", m.len())
        })
        .unwrap_or_default();
    format!("{}-{exe}", env!("CARGO_PKG_VERSION"))
}

/// A size in bytes: a number with an optional K, M or G suffix (powers of 1024).
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: usize = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'B' => 1,
                _ => return Err(format!("`{s}`: use a number with K, M or G, like 512M")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    match num.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && n.is_finite() => Ok((n * mult as f64) as usize),
        _ => Err(format!(
            "`{s}`: use a positive number with K, M or G, like 512M"
        )),
    }
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

async fn run(cli: Cli) -> Result<ExitCode, Error> {
    let mut params = std::collections::HashMap::new();
    for p in &cli.params {
        let Some((k, v)) = p.split_once('=') else {
            return Err(Error::Usage(format!("--param takes NAME=VALUE, got `{p}`")));
        };
        let k = k.trim().trim_start_matches('$');
        if k.is_empty() {
            return Err(Error::Usage(format!("--param `{p}` has no name")));
        }
        params.insert(k.to_string(), v.to_string());
    }
    let output_format = match (&cli.output, &cli.command) {
        (_, Some(Command::Report { .. })) => None,
        (o, _) => o
            .as_ref()
            .map(|o| Format::from_extension(o).map_err(Error::Usage))
            .transpose()?,
    };
    if let Some(Command::Gen {
        n_models,
        n_items,
        out,
        file_format,
        image_bytes,
        seed,
    }) = &cli.command
    {
        let start = std::time::Instant::now();
        let g = medql::data::generate::write(&medql::data::generate::GenOptions {
            n_models: *n_models,
            n_items: *n_items,
            out: out.into(),
            format: *file_format,
            image_bytes: *image_bytes,
            seed: *seed,
        })?;
        eprintln!(
            "medql: wrote {} and {} prediction files ({:.1} MB) in {} ms",
            g.items_file.display(),
            g.prediction_files.len(),
            g.bytes as f64 / 1e6,
            start.elapsed().as_millis()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let spec = LoadSpec {
        items: cli.items.clone(),
        predictions: cli.predictions.clone(),
    };
    if let Some(Command::Check { files }) = &cli.command {
        return check(files, &spec, cli.policy).await;
    }
    let load_start = std::time::Instant::now();
    let cache = if cli.no_cache || spec.is_demo() {
        None
    } else {
        match cli
            .cache
            .clone()
            .or_else(medql::data::cache::Cache::default_dir)
        {
            Some(dir) => match medql::data::cache::Cache::open(&dir, build_id()) {
                Ok(c) => Some(c),
                Err(e) => {
                    eprintln!("warning: no cache ({e}); loading without it");
                    None
                }
            },
            None => None,
        }
    };
    let options = medql::Options {
        memory_limit: cli.memory_limit,
        cache,
    };
    // A progress line on a terminal while loading takes over a second.
    let progress = (std::io::stderr().is_terminal() && !spec.is_demo()).then(|| {
        let after = std::env::var("MEDQL_PROGRESS_AFTER_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        medql::data::progress::Display::start(std::time::Duration::from_millis(after))
    });
    let loaded = Session::load_with(&spec, &options).await;
    drop(progress);
    let mut session = loaded?;
    if cli.timing {
        eprintln!(
            "timing: load and score {:.1} ms ({} items, {} models: {} from the cache, {} scored in {:.1} ms)",
            load_start.elapsed().as_secs_f64() * 1e3,
            session.info().items,
            session.info().models.len(),
            session.info().cache_hits,
            session.info().cache_misses,
            session.info().score_time.as_secs_f64() * 1e3,
        );
    }
    if session.info().demo {
        eprintln!(
            "medql: no --items or --predictions given: using the built-in synthetic demo data ({} items, {} models)",
            session.info().items,
            session.info().models.len()
        );
    }
    if cli.strict && !session.info().warnings.is_empty() {
        for w in &session.info().warnings {
            eprintln!("medql: error (--strict): {w}");
        }
        return Ok(ExitCode::from(1));
    }
    for w in &session.info().warnings {
        eprintln!("warning: {w}");
    }
    for n in &session.info().notes {
        eprintln!("note: {n}");
    }
    if let Some(p) = cli.policy {
        session.set_policy(p)?;
    }
    session.set_params(params);
    let tty = std::io::stdout().is_terminal();
    let format = cli.format.unwrap_or(Format::Table);
    let opts = RenderOptions {
        fit: tty,
        width: std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()),
        ..Default::default()
    };

    let (source, origin) = match (&cli.command, &cli.execute) {
        (Some(Command::Check { .. }), _) => unreachable!("handled above"),
        (
            Some(Command::Report {
                inputs,
                leaderboard,
                aliases,
                alias_file,
            }),
            _,
        ) => {
            let mut pairs = vec![];
            if let Some(f) = alias_file {
                pairs.extend(medql::report::leaderboard::alias_file(f)?);
            }
            for a in aliases {
                pairs.push(medql::report::leaderboard::parse_alias(a)?);
            }
            let output = std::path::PathBuf::from(
                cli.output.clone().unwrap_or_else(|| "report.html".into()),
            );
            let start = std::time::Instant::now();
            let summary = medql::report::write_report(
                &mut session,
                &medql::report::ReportOptions {
                    inputs: inputs.clone(),
                    output: output.clone(),
                    leaderboard: *leaderboard,
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
            return Ok(ExitCode::SUCCESS);
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
        (Some(Command::Gen { .. }), _) => unreachable!("handled above"),
        (Some(Command::Run { file }), None) => (read_query_file(file)?, file.clone()),
        (Some(Command::Run { .. }), Some(_)) => {
            return Err(Error::Usage(
                "give either `run FILE` or `-e QUERY`, not both".into(),
            ))
        }
        (None, Some(q)) => (q.clone(), "query".to_string()),
        (None, None) => {
            let color = !cli.no_color && std::env::var_os("NO_COLOR").is_none() && tty;
            let max_rows = cli.max_rows.unwrap_or(medql::repl::DEFAULT_MAX_ROWS);
            medql::repl::run(&mut session, format, color, max_rows).await?;
            return Ok(ExitCode::SUCCESS);
        }
    };

    let ranges = medql::statements(&source);
    // With -o, the last query's result goes to the file and the others to
    // standard output, as without -o; in a format for programs (and
    // Parquet), results are written as they are computed.
    let last_query = ranges.iter().rposition(|r| medql::is_query(&source, *r));
    let streams = |f: Option<Format>| {
        matches!(
            f,
            None | Some(Format::Csv | Format::Tsv | Format::Json | Format::Ndjson)
        )
    };
    let mut last: Option<QueryResult> = None;
    let mut written = false;
    let mut stdout = std::io::stdout().lock();
    let mut first = true;
    for (i, range) in ranges.iter().enumerate() {
        let to_file = output_format.is_some() && Some(i) == last_query;
        let stream = if to_file {
            streams(output_format.flatten())
        } else {
            // Every other result prints on standard output as it is
            // computed, with -o as without.
            true
        };
        let r = session.stream_one(&source, &origin, *range, stream).await;
        match r {
            Ok(Streamed::Stream(q)) => {
                let start = std::time::Instant::now();
                let path = cli.output.clone().unwrap_or_default();
                let rows = if to_file {
                    let n = write_stream_file(
                        q.batches,
                        &q.schema,
                        output_format.flatten(),
                        &path,
                        &session,
                    )
                    .await?;
                    eprintln!("medql: wrote {n} rows to {path}");
                    written = true;
                    n
                } else if matches!(format, Format::Table | Format::Markdown) {
                    if !first && format == Format::Table {
                        write_out(&mut stdout, "\n")?;
                    }
                    first = false;
                    // On a terminal a table shows 40 rows unless told;
                    // piped, all of them.
                    let max_rows = cli.max_rows.unwrap_or(if tty {
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
                        &opts,
                        max_rows,
                        &mut stdout,
                    )
                    .await?
                } else {
                    write_stream(q.batches, &q.schema, format, &mut stdout).await?
                };
                if cli.timing {
                    eprintln!(
                        "timing: parse {:.2} ms · plan {:.2} ms · execute and write {:.2} ms · {rows} rows",
                        q.timing.parse.as_secs_f64() * 1e3,
                        q.timing.plan.as_secs_f64() * 1e3,
                        start.elapsed().as_secs_f64() * 1e3,
                    );
                }
            }
            Ok(Streamed::Done(Some(Outcome::Table(t)))) => {
                let start = std::time::Instant::now();
                if !to_file {
                    if !first && format == Format::Table {
                        write_out(&mut stdout, "\n")?;
                    }
                    write_out(&mut stdout, &t.render_with(format, &opts)?)?;
                    first = false;
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
                    last = Some(t);
                }
            }
            Ok(Streamed::Done(Some(Outcome::Message(m)))) => {
                if m.contains('\n') {
                    write_out(&mut stdout, &format!("{m}\n"))?;
                }
            }
            Ok(Streamed::Done(None)) => {}
            Err(e) => {
                report(&e);
                return Ok(ExitCode::from(1));
            }
        }
    }
    if let (Some(path), Some(fmt), false) = (&cli.output, output_format, written) {
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
    }
    Ok(ExitCode::SUCCESS)
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
