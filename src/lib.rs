//! medql: an embedded query engine and query language over benchmark items
//! and model predictions (GMAI-MMBench and VLMEvalKit's files).
//!
//! ```no_run
//! # async fn demo() -> medql::Result<()> {
//! let mut session = medql::Session::load(&medql::LoadSpec::default()).await?; // demo data
//! for out in session.run("by model score acc, n", "example").await? {
//!     if let medql::Outcome::Table(t) = out {
//!         print!("{}", t.render(medql::render::Format::Table)?);
//!     }
//! }
//! # Ok(()) }
//! ```

pub mod bind;
pub mod data;
pub mod error;
pub mod metrics;
pub mod names;
pub mod plan;
pub mod render;
#[cfg(feature = "cli")]
pub mod repl;
#[cfg(feature = "report")]
pub mod report;
pub mod scoring;
pub mod style;
pub mod syntax;
pub mod text;
pub mod tree;

pub use data::LoadSpec;
pub use error::{engine_error, Error, QueryError, Result};
pub use scoring::Policy;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use style::Style;
use syntax::ast::{self, Statement};

pub use datafusion;

/// What was loaded, for banners, reports and `.models`.
#[derive(Clone, Debug, Default)]
pub struct SessionInfo {
    pub items: usize,
    pub datasets: Vec<String>,
    pub models: Vec<String>,
    /// What happened to the prediction rows of each model on each dataset.
    pub coverage: Vec<(String, String, data::Coverage)>,
    /// Where every model's numbers came from: one row per model and
    /// dataset, as the `provenance` relation holds them.
    pub provenance: Vec<scoring::provenance::Row>,
    pub warnings: Vec<String>,
    /// What loading noted that is no problem (skipped files, a file read
    /// once of two alike); printed as notes, never an error.
    pub notes: Vec<String>,
    pub demo: bool,
    pub item_files: Vec<String>,
    pub prediction_files: Vec<String>,
    /// Models whose files carry VLMEvalKit's `hit` column.
    pub recorded_models: Vec<String>,
    /// Whether any loaded item has an answer (a TEST split has none).
    pub has_answers: bool,
    pub load_time: Duration,
    /// Time spent scoring (both rule sets, every prediction).
    pub score_time: Duration,
    /// What was asked for (empty: the demo data).
    pub spec: LoadSpec,
    /// Prediction sets (a model on a dataset) read back from the cache, and
    /// sets scored in this load.
    pub cache_hits: usize,
    pub cache_misses: usize,
}

/// When some models carry VLMEvalKit's verdicts (a `hit` column) and
/// others do not: one warning naming the others, whose accuracy under
/// `recorded` is null.
fn unrecorded_warning(sets: &[data::PredictionSet]) -> Option<String> {
    let models = distinct_models(sets);
    let recorded = recorded_models(sets);
    let without: Vec<&str> = models
        .iter()
        .filter(|m| !recorded.contains(m))
        .map(String::as_str)
        .collect();
    if without.is_empty() || without.len() == models.len() {
        return None;
    }
    Some(format!(
        "{} of {} models have no result file with VLMEvalKit's `hit` column, so no recorded score \
         (null under --policy recorded, no `recorded` row in `by policy`): {}",
        without.len(),
        models.len(),
        without.join(", ")
    ))
}

/// The loaded models, each once, sorted by name (a model's id is its
/// position).
fn distinct_models(sets: &[data::PredictionSet]) -> Vec<String> {
    let mut m: Vec<String> = sets.iter().map(|s| s.model.clone()).collect();
    m.sort();
    m.dedup();
    m
}

/// The models with VLMEvalKit's verdicts on some dataset, each once.
fn recorded_models(sets: &[data::PredictionSet]) -> Vec<String> {
    let mut m: Vec<String> = sets
        .iter()
        .filter(|s| s.hit.is_some())
        .map(|s| s.model.clone())
        .collect();
    m.sort();
    m.dedup();
    m
}

/// The result of one statement.
#[derive(Debug)]
pub enum Outcome {
    Table(QueryResult),
    Message(String),
}

/// A query's result batches, with how to print its columns.
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub styles: HashMap<String, Style>,
    /// Parse + plan + execute.
    pub elapsed: Duration,
    pub timing: Timing,
}

/// Where a statement's time went.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    pub parse: Duration,
    pub plan: Duration,
    pub execute: Duration,
}

impl QueryResult {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }

    /// Every row as cells, in order.
    pub fn rows(&self) -> Vec<Vec<render::Cell>> {
        self.batches
            .iter()
            .flat_map(|b| {
                (0..b.num_rows())
                    .map(move |r| b.columns().iter().map(|a| render::cell(a, r)).collect())
            })
            .collect()
    }

    pub fn render(&self, format: render::Format) -> Result<String> {
        self.render_with(format, &render::RenderOptions::default())
    }

    pub fn render_with(
        &self,
        format: render::Format,
        opts: &render::RenderOptions,
    ) -> Result<String> {
        render::render(&self.batches, &self.schema, &self.styles, format, opts)
    }
}

/// How a session runs.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Bytes the query engine's memory pool may hold (sorts, aggregates,
    /// joins); None: no limit. The loaded data itself is not counted.
    pub memory_limit: Option<usize>,
    /// Keep loaded and scored data here, and start from it next time.
    pub cache: Option<data::cache::Cache>,
}

/// A statement run by [`Session::stream_one`].
pub enum Streamed {
    /// A query's rows, computed as they are read.
    Stream(QueryStream),
    /// Any other statement, or a query run to the end.
    Done(Option<Outcome>),
}

/// A query's result as a stream of batches.
pub struct QueryStream {
    pub schema: SchemaRef,
    pub styles: HashMap<String, Style>,
    pub batches: datafusion::execution::SendableRecordBatchStream,
    /// Parse and plan; execution is the reader's.
    pub timing: Timing,
}

/// The statements of a source text, as byte ranges, in order.
pub fn statements(source: &str) -> Vec<(usize, usize)> {
    syntax::split::split_statements(source)
}

/// Whether the statement at `range` is a query (it produces a table).
pub fn is_query(source: &str, (start, end): (usize, usize)) -> bool {
    syntax::parse_statement(source, start, end)
        .is_ok_and(|p| matches!(p.statement, Statement::Query(_)))
}

/// A loaded benchmark and its predictions, scored, ready for queries.
/// Cloning is cheap: the data is shared.
#[derive(Clone)]
pub struct Session {
    ctx: SessionContext,
    policy: Policy,
    /// `rank_ci`'s resamples and seed.
    bootstrap: bind::Bootstrap,
    params: HashMap<String, String>,
    lets: HashMap<String, ast::Expr>,
    /// What binding resolves names against.
    catalog: Arc<bind::Catalog>,
    info: SessionInfo,
    /// How it was started; `.load` keeps them.
    options: Options,
    /// The plans this session has executed.
    runs: Arc<plan::Runs>,
    /// Where each item's image lies in its items file.
    images: Arc<data::images::ImageIndex>,
}

/// Whether one model's batches (a partition of its table) are in
/// `model, index` order: one model's rows have one name, so `index` never
/// decreasing is enough.
fn in_index_order(batches: &[RecordBatch]) -> bool {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Int64Type;
    let mut last = i64::MIN;
    for b in batches {
        let Some(index) = b
            .column_by_name("index")
            .and_then(|c| c.as_primitive_opt::<Int64Type>())
        else {
            return false;
        };
        if index.null_count() > 0 {
            return false;
        }
        for &v in index.values() {
            if v < last {
                return false;
            }
            last = v;
        }
    }
    true
}

/// The `coverage` relation: per model and dataset, what happened to every
/// prediction row read (`read = scored + duplicated + unknown + invalid`)
/// and how many items had no prediction (`missing`).
fn coverage_table(sets: &[data::PredictionSet]) -> Result<MemTable> {
    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let mut fields = vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("dataset", DataType::Utf8, false),
    ];
    let counts = [
        "read",
        "scored",
        "duplicated",
        "unknown",
        "invalid",
        "missing",
    ];
    fields.extend(
        counts
            .iter()
            .map(|c| Field::new(*c, DataType::Int64, false)),
    );
    fields.push(Field::new("files", DataType::Utf8, false));
    let schema = Arc::new(Schema::new(fields));
    let col = |f: fn(&data::Coverage) -> u64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(
            sets.iter().map(|s| f(&s.coverage) as i64),
        ))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            sets.iter().map(|s| s.model.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            sets.iter().map(|s| s.dataset.as_str()),
        )),
        col(|c| c.read),
        col(|c| c.scored),
        col(|c| c.duplicated),
        col(|c| c.unknown),
        col(|c| c.invalid),
        col(|c| c.missing),
        Arc::new(StringArray::from_iter_values(
            sets.iter().map(|s| s.files.join(", ")),
        )),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| Error::engine("building coverage", e))?;
    MemTable::try_new(schema, vec![vec![batch]]).map_err(|e| Error::engine("building coverage", e))
}

/// Tests of cancellation make every query this slow (milliseconds); read
/// from `MEDQL_TEST_QUERY_DELAY_MS`, and nothing else reads it.
fn test_delay() -> Option<u64> {
    std::env::var("MEDQL_TEST_QUERY_DELAY_MS")
        .ok()?
        .parse()
        .ok()
}

fn attach(e: Error, origin: &str, source: &str) -> Error {
    match e {
        Error::Query(q) => Error::query(q.in_source(origin, source)),
        other => other,
    }
}

impl Session {
    /// Load items and predictions (or the demo data when the spec is empty)
    /// and score every prediction under every policy.
    pub async fn load(spec: &LoadSpec) -> Result<Session> {
        Session::load_with(spec, &Options::default()).await
    }

    /// [`Session::load`] with options (memory limit, cache).
    pub async fn load_with(spec: &LoadSpec, opts: &Options) -> Result<Session> {
        let start = Instant::now();
        let cache = opts
            .cache
            .clone()
            .map(|c| c.keeping(scoring::relation::cached_fields()));
        let loaded = data::load_with(spec, cache.as_ref())?;
        let mut s = Session::from_loaded_with(loaded, opts).await?;
        s.info.load_time = start.elapsed();
        s.info.spec = spec.clone();
        Ok(s)
    }

    pub async fn from_loaded(loaded: data::Loaded) -> Result<Session> {
        Session::from_loaded_with(loaded, &Options::default()).await
    }

    pub async fn from_loaded_with(loaded: data::Loaded, opts: &Options) -> Result<Session> {
        let start = Instant::now();
        let mut config = SessionConfig::new().with_information_schema(false);
        // A join's side is built in memory once (not hashed into partitions
        // with the other side) when it is estimated under this size. The
        // estimate of a model's own rows counts the item columns its batches
        // slice in full (tens of MB at 25,831 items), so the default (1 MB)
        // would repartition all other models' rows to join one model's.
        config
            .options_mut()
            .optimizer
            .hash_join_single_partition_threshold = 256 << 20;
        let mut runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new();
        if let Some(bytes) = opts.memory_limit {
            runtime = runtime.with_memory_limit(bytes, 1.0);
        }
        let runtime = runtime
            .build_arc()
            .map_err(|e| Error::engine("setting up the query engine", e))?;
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        // Common-subexpression elimination can disagree with the physical
        // planner on the nullability of CASE expressions it factors out
        // (seen with `compare`); medql's plans are small enough without it.
        ctx.remove_optimizer_rule("common_sub_expression_eliminate");
        let items_table = scoring::relation::items_table(&loaded.items)?;
        ctx.register_table("items", Arc::new(items_table))
            .map_err(|e| Error::engine("registering items", e))?;
        ctx.register_table("coverage", Arc::new(coverage_table(&loaded.sets)?))
            .map_err(|e| Error::engine("registering coverage", e))?;
        let score_start = Instant::now();
        let parts = ctx.state().config().target_partitions();
        let scored =
            scoring::relation::score(&loaded.items, &loaded.sets, parts, loaded.pending.is_some())?;
        let score_time = score_start.elapsed();
        if let Some((cache, pending)) = &loaded.pending {
            for ((entry, columns), counts) in pending.iter().zip(&scored.fresh).zip(&scored.counts)
            {
                if let (Some((key, meta)), Some(columns)) = (entry, columns) {
                    let meta = data::cache::ModelMeta {
                        counts: Some(counts.clone()),
                        ..meta.clone()
                    };
                    cache.put_model(key, columns, &meta);
                }
            }
        }
        // Every batch holds one model's rows: each model also gets a table
        // of its own batches, so that a query pinned to one model
        // (`where model = 'x' ...`) scans 1/N of the rows.
        let mut per_model: HashMap<i32, Vec<RecordBatch>> = HashMap::new();
        for b in scored.partitions.iter().flatten() {
            use datafusion::arrow::array::AsArray;
            if let Some(ids) = b.column_by_name("model_id") {
                let ids = ids.as_primitive::<datafusion::arrow::datatypes::Int32Type>();
                if !ids.is_empty() {
                    per_model.entry(ids.value(0)).or_default().push(b.clone());
                }
            }
        }
        for (id, batches) in per_model {
            let half = batches.len().div_ceil(2);
            let parts: Vec<Vec<RecordBatch>> =
                batches.chunks(half.max(1)).map(|c| c.to_vec()).collect();
            let ordered = parts.iter().all(|p| in_index_order(p));
            let mut t = MemTable::try_new(scored.schema.clone(), parts)
                .map_err(|e| Error::engine("registering results", e))?;
            // A model's rows usually come in item order: said so, a query
            // that lists them in that order (`show`'s default) reads the
            // first rows instead of sorting all of them.
            if ordered {
                t = t.with_sort_order(vec![["model", "index"]
                    .iter()
                    .map(|c| datafusion::prelude::col(*c).sort(true, false))
                    .collect()]);
            }
            ctx.register_table(plan::model_table(id), Arc::new(t))
                .map_err(|e| Error::engine("registering results", e))?;
        }
        let counts = scored.counts;
        let scored = MemTable::try_new(scored.schema, scored.partitions)
            .map_err(|e| Error::engine("registering results", e))?;
        ctx.register_table("scored", Arc::new(scored))
            .map_err(|e| Error::engine("registering results", e))?;
        let provenance =
            scoring::provenance::Provenance::build(&loaded.sets, &loaded.runs, &counts);
        ctx.register_table("provenance", Arc::new(provenance.table()?))
            .map_err(|e| Error::engine("registering provenance", e))?;
        let mut warnings = loaded.warnings;
        warnings.extend(unrecorded_warning(&loaded.sets));
        let mut notes = loaded.notes;
        notes.extend(provenance.notes());
        let info = SessionInfo {
            items: loaded.items.len(),
            datasets: loaded.items.datasets(),
            models: distinct_models(&loaded.sets),
            coverage: loaded
                .sets
                .iter()
                .map(|s| (s.model.clone(), s.dataset.clone(), s.coverage.clone()))
                .collect(),
            provenance: provenance.rows.clone(),
            warnings,
            notes,
            demo: loaded.demo,
            item_files: loaded.items.files.clone(),
            prediction_files: loaded.prediction_files,
            recorded_models: recorded_models(&loaded.sets),
            has_answers: loaded
                .items
                .column("answer")
                .unwrap_or_default()
                .iter()
                .any(|a| a.as_deref().is_some_and(|s| !s.is_empty())),
            load_time: start.elapsed(),
            score_time,
            spec: LoadSpec::default(),
            cache_hits: loaded.cache_hits,
            cache_misses: loaded.cache_misses,
        };
        let schema = |df: datafusion::dataframe::DataFrame| Arc::new(df.schema().clone());
        let table = |name: &'static str| {
            let ctx = ctx.clone();
            async move {
                ctx.table(name)
                    .await
                    .map_err(|e| Error::engine("registering results", e))
            }
        };
        let catalog = bind::Catalog::new(
            schema(plan::results_view(
                table("scored").await?,
                Policy::default(),
                true,
                &[],
            )?),
            [
                schema(table("items").await?),
                schema(table("coverage").await?),
                schema(table("provenance").await?),
                schema(plan::item_stats::view(&ctx, Policy::default(), &[], &[]).await?),
            ],
            provenance.recorded_rules(),
            info.models.clone(),
            info.recorded_models.clone(),
            info.datasets.clone(),
            tree::Tree::build_declared(&loaded.items, &loaded.trees).map_err(Error::Usage)?,
        );
        Ok(Session {
            ctx,
            policy: Policy::default(),
            bootstrap: bind::Bootstrap::default(),
            params: HashMap::new(),
            lets: HashMap::new(),
            catalog: Arc::new(catalog),
            info,
            options: opts.clone(),
            runs: Arc::new(plan::Runs::default()),
            images: Arc::new(loaded.items.image_index()),
        })
    }

    /// The images of an item of a dataset, read from its items file by
    /// offset now (a list cell gives each of its pictures, a reference
    /// cell the referenced item's): empty for an item without a PNG or
    /// JPEG picture; an error when the file changed since it was loaded
    /// or cannot be read, or a reference leads nowhere.
    pub fn item_images(&self, dataset: &str, index: i64) -> Result<Vec<data::images::Image>> {
        self.images.item_images(dataset, index)
    }

    /// Whether any loaded item has an image cell (a column of base64
    /// pictures was read): else [`Session::item_images`] is always empty.
    pub fn has_item_images(&self) -> bool {
        !self.images.is_empty()
    }

    /// Check query files without their data: model names are not known,
    /// and with `terms_known` false neither are lexical-tree names; every
    /// rule that holds for any data (syntax, columns, metrics, clauses)
    /// still applies.
    pub fn without_data(&mut self, terms_known: bool) {
        let c = Arc::make_mut(&mut self.catalog);
        c.models_known = false;
        c.tree.open = !terms_known;
    }

    /// What was loaded.
    pub fn info(&self) -> &SessionInfo {
        &self.info
    }

    /// How the session was started (a new load keeps them).
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The policy queries are scored under.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// The values of query parameters (`$name`).
    pub fn params(&self) -> &HashMap<String, String> {
        &self.params
    }

    /// Give one query parameter its value.
    pub fn set_param(&mut self, name: &str, value: &str) {
        self.params.insert(name.to_string(), value.to_string());
    }

    /// Give query parameters their values (replacing all of them).
    pub fn set_params(&mut self, params: HashMap<String, String>) {
        self.params = params;
    }

    pub fn tree(&self) -> &tree::Tree {
        &self.catalog.tree
    }

    /// The relations, columns, models and values queries are bound against.
    pub fn catalog(&self) -> &bind::Catalog {
        &self.catalog
    }

    /// How many plans this session has executed (queries, and the steps
    /// some need first: pivot values, the best model, a comparison before
    /// Holm's adjustment). `check` executes none.
    pub fn plans_executed(&self) -> u64 {
        self.runs.count()
    }

    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The policies queries can use: `recorded` only where a `hit` column was loaded.
    pub fn policies(&self) -> Vec<Policy> {
        self.catalog.policies()
    }

    pub fn set_policy(&mut self, p: Policy) -> Result<()> {
        if p == Policy::Recorded
            && self.info.recorded_models.is_empty()
            && self.catalog.models_known
        {
            return Err(Error::Usage(
                "policy `recorded` needs prediction files with a `hit` column (VLMEvalKit's *_result.xlsx)".into(),
            ));
        }
        self.policy = p;
        Ok(())
    }

    /// Run every statement of `source` in order; the first error stops the run.
    pub async fn run(&mut self, source: &str, origin: &str) -> Result<Vec<Outcome>> {
        let mut out = vec![];
        for parsed in syntax::parse_source(source) {
            let parsed = parsed.map_err(|e| Error::query(e.in_source(origin, source)))?;
            let o = self
                .statement(&parsed.statement, true)
                .await
                .map_err(|e| attach(e, origin, source))?;
            if let Some(o) = o {
                out.push(o);
            }
        }
        Ok(out)
    }

    /// Run the statements of `source` in order: one result per statement run.
    /// With `keep_going`, errors do not stop the rest (golden tests, `.read`);
    /// without it the first error is the last result.
    pub async fn run_each(
        &mut self,
        source: &str,
        origin: &str,
        keep_going: bool,
    ) -> Vec<Result<Option<Outcome>>> {
        let mut out = vec![];
        for range in statements(source) {
            if !keep_going
                && out
                    .last()
                    .is_some_and(|r: &Result<Option<Outcome>>| r.is_err())
            {
                break;
            }
            out.push(self.run_one(source, origin, range).await);
        }
        out
    }

    /// Run one statement of `source` (a range from [`statements`]).
    pub async fn run_one(
        &mut self,
        source: &str,
        origin: &str,
        range: (usize, usize),
    ) -> Result<Option<Outcome>> {
        match self.stream_one(source, origin, range, false).await? {
            Streamed::Done(o) => Ok(o),
            Streamed::Stream(_) => unreachable!("not streamed"),
        }
    }

    /// Run one statement; a query's result comes back as a stream of
    /// batches when `stream` is set, so that it can be written out as it
    /// is computed.
    pub async fn stream_one(
        &mut self,
        source: &str,
        origin: &str,
        (start, end): (usize, usize),
        stream: bool,
    ) -> Result<Streamed> {
        let t0 = Instant::now();
        let parsed = syntax::parse_statement(source, start, end)
            .map_err(|e| Error::query(e.in_source(origin, source)))?;
        let parse = t0.elapsed();
        if stream {
            if let Statement::Query(q) = &parsed.statement {
                let planned = self
                    .prepare(q)
                    .await
                    .map_err(|e| attach(e, origin, source))?;
                let plan = t0.elapsed() - parse;
                if let Some(ms) = test_delay() {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                let schema: SchemaRef = Arc::new(planned.df.schema().as_arrow().clone());
                let batches = self.runs.stream(planned.df).await?;
                return Ok(Streamed::Stream(QueryStream {
                    schema,
                    styles: planned.styles,
                    batches,
                    timing: Timing {
                        parse,
                        plan,
                        execute: Duration::ZERO,
                    },
                }));
            }
        }
        let out = self
            .statement(&parsed.statement, true)
            .await
            .map_err(|e| attach(e, origin, source))?;
        Ok(Streamed::Done(match out {
            Some(Outcome::Table(mut t)) => {
                t.timing.parse = parse;
                t.elapsed += parse;
                Some(Outcome::Table(t))
            }
            other => other,
        }))
    }

    /// The plans of the last statement of `source`, a query with or without
    /// `explain` in front, as `explain` prints them. The statements before
    /// it run first on a copy of this session, so that a `let` or `set`
    /// among them applies; this session is left as it was.
    pub async fn explain_source(&self, source: &str, origin: &str) -> Result<String> {
        let ranges = statements(source);
        let Some((&last, before)) = ranges.split_last() else {
            return Err(Error::query(
                QueryError::new("nothing to explain", text::Span::new(0, source.len()))
                    .with_help("give a query, for example `by model score acc`")
                    .in_source(origin, source),
            ));
        };
        let mut s = self.clone();
        for r in before {
            s.run_one(source, origin, *r).await?;
        }
        let parsed = syntax::parse_statement(source, last.0, last.1)
            .map_err(|e| Error::query(e.in_source(origin, source)))?;
        match &parsed.statement {
            Statement::Query(q) | Statement::Explain(q) => match s.explain(q).await {
                Ok(Outcome::Message(m)) => Ok(m),
                Ok(Outcome::Table(_)) => Err(Error::engine("explaining", "no plan text")),
                Err(e) => Err(attach(e, origin, source)),
            },
            _ => Err(Error::query(
                QueryError::new(
                    "only a query can be explained",
                    text::Span::new(last.0, last.1),
                )
                .with_help("give a query, for example `by model score acc`")
                .in_source(origin, source),
            )),
        }
    }

    /// Parse and resolve every statement without running any; all errors
    /// are returned, one per bad statement.
    pub async fn check(&mut self, source: &str, origin: &str) -> Vec<Error> {
        let saved = (self.policy, self.lets.clone());
        let mut errors = vec![];
        for parsed in syntax::parse_source(source) {
            match parsed {
                Err(e) => errors.push(Error::query(e.in_source(origin, source))),
                Ok(p) => {
                    if let Err(e) = self.statement(&p.statement, false).await {
                        errors.push(attach(e, origin, source));
                    }
                }
            }
        }
        self.policy = saved.0;
        self.lets = saved.1;
        errors
    }

    async fn statement(&mut self, st: &Statement, execute: bool) -> Result<Option<Outcome>> {
        use futures::FutureExt;
        // A panic inside the engine is a bug, but it must not end the
        // session: it becomes an error for this statement.
        match std::panic::AssertUnwindSafe(self.statement_inner(st, execute))
            .catch_unwind()
            .await
        {
            Ok(r) => r,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                Err(Error::engine(
                    "internal error while running the statement (please report it)",
                    msg,
                ))
            }
        }
    }

    async fn statement_inner(&mut self, st: &Statement, execute: bool) -> Result<Option<Outcome>> {
        match st {
            Statement::Set { name, value } => {
                let setting = name.text.to_lowercase();
                if setting == "bootstrap" || setting == "seed" {
                    return self.set_bootstrap(&setting, value).map(Some);
                }
                if setting != "policy" {
                    return Err(Error::query(
                        QueryError::new(format!("unknown setting `{}`", name.text), name.span)
                            .with_help("settings: policy, bootstrap, seed"),
                    ));
                }
                let p: Policy = value
                    .text
                    .parse()
                    .map_err(|m: String| Error::query(QueryError::new(m, value.span)))?;
                self.set_policy(p)
                    .map_err(|e| Error::query(QueryError::new(e.to_string(), value.span)))?;
                Ok(Some(Outcome::Message(format!("policy = {}", value.text))))
            }
            Statement::Let { name, predicate } => {
                let key = name.text.to_lowercase();
                if bind::columns::result_columns()
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(&key))
                {
                    return Err(Error::query(
                        QueryError::new(format!("`{}` is a column name", name.text), name.span)
                            .with_help("give the selection another name"),
                    ));
                }
                // Bind it now, so that a bad selection fails where it is defined.
                let schema = self.catalog.schema(bind::Relation::Results);
                bind::condition(predicate, schema, &self.env())?;
                self.lets.insert(key, predicate.clone());
                Ok(Some(Outcome::Message(format!("let {}", name.text))))
            }
            Statement::Explain(q) | Statement::Query(q) if !execute => {
                let bound = bind::bind(q, &self.env())?;
                plan::check(&self.ctx, &bound, &self.env()).await?;
                Ok(None)
            }
            Statement::Explain(q) => self.explain(q).await.map(Some),
            Statement::Query(q) => {
                let start = Instant::now();
                let planned = self.prepare(q).await?;
                let plan = start.elapsed();
                if let Some(ms) = test_delay() {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                let schema: SchemaRef = Arc::new(planned.df.schema().as_arrow().clone());
                let batches = self.runs.collect(planned.df, "running the query").await?;
                let elapsed = start.elapsed();
                Ok(Some(Outcome::Table(QueryResult {
                    schema,
                    batches,
                    styles: planned.styles,
                    elapsed,
                    timing: Timing {
                        parse: Duration::ZERO,
                        plan,
                        execute: elapsed - plan,
                    },
                })))
            }
        }
    }

    /// `set bootstrap = N` (resamples, 1 to [`metrics::bootstrap::MAX_RESAMPLES`]) or `set
    /// seed = N` (0 to 2^64 - 1): how `rank_ci` resamples.
    fn set_bootstrap(&mut self, setting: &str, value: &ast::Name) -> Result<Outcome> {
        let bad = |what: String| {
            Error::query(QueryError::new(what, value.span).with_help(format!(
                "for example `set {setting} = {}`",
                if setting == "seed" { "7" } else { "2000" }
            )))
        };
        let n: u64 = value.text.trim().parse().map_err(|_| {
            bad(format!(
                "`{setting}` takes a whole number, not `{}`",
                value.text
            ))
        })?;
        if setting == "seed" {
            self.bootstrap.seed = n;
        } else {
            if n == 0 || n > u64::from(metrics::bootstrap::MAX_RESAMPLES) {
                return Err(bad(format!(
                    "`bootstrap` is the number of resamples: 1 to {}",
                    metrics::bootstrap::MAX_RESAMPLES
                )));
            }
            self.bootstrap.resamples = n as u32;
        }
        Ok(Outcome::Message(format!("{setting} = {n}")))
    }

    /// `rank_ci`'s resamples and seed.
    pub fn bootstrap(&self) -> bind::Bootstrap {
        self.bootstrap
    }

    /// Keep another session's `rank_ci` settings (a reload).
    pub fn set_bootstrap_settings(&mut self, b: bind::Bootstrap) {
        self.bootstrap = b;
    }

    /// What binding reads from the session.
    fn env(&self) -> bind::Env<'_> {
        bind::Env {
            catalog: &self.catalog,
            policy: self.policy,
            lets: &self.lets,
            params: &self.params,
            bootstrap: self.bootstrap,
        }
    }

    /// Bind a query and run the steps before its final plan.
    async fn prepare(&self, q: &ast::Query) -> Result<plan::Prepared> {
        let env = self.env();
        let bound = bind::bind(q, &env)?;
        plan::prepare(&self.ctx, &bound, &env, &self.runs).await
    }

    /// `explain`: the execution steps the query needs first (run, to find
    /// what the final plan depends on), and the plans that then run.
    async fn explain(&self, q: &ast::Query) -> Result<Outcome> {
        let env = self.env();
        let bound = bind::bind(q, &env)?;
        let (facts, steps) = plan::gather(&self.ctx, &bound, &env, &self.runs).await?;
        let lowered = plan::lower(&self.ctx, &bound, &facts, &env).await?;
        let mut out = String::new();
        for (i, s) in steps.iter().enumerate() {
            out.push_str(&format!(
                "step {}: {} (run first; the plan below depends on it):\n{}\n\n",
                i + 1,
                s.what,
                s.plan.display_indent()
            ));
        }
        if lowered.holm {
            let body = lowered.body.clone();
            out.push_str(&format!(
                "the comparison (run, then Holm's adjustment adds p_holm over all its rows in memory):\n{}\n\n",
                body.logical_plan().display_indent()
            ));
            out.push_str(&physical(body).await?);
            out.push_str("\n\nthen, over the adjusted rows in memory:\n");
        }
        let df = plan::tail_unrun(&self.ctx, &lowered, &bound, &env)?;
        out.push_str(&format!(
            "logical plan:\n{}\n\n",
            df.logical_plan().display_indent()
        ));
        out.push_str(&physical(df).await?);
        Ok(Outcome::Message(out))
    }
}

/// A DataFrame's physical plan, indented.
async fn physical(df: datafusion::dataframe::DataFrame) -> Result<String> {
    let p = df
        .create_physical_plan()
        .await
        .map_err(|e| Error::engine("planning the query", e))?;
    Ok(format!(
        "physical plan:\n{}",
        datafusion::physical_plan::displayable(p.as_ref()).indent(true)
    ))
}

#[cfg(test)]
mod architecture {
    //! The top-level modules of `src/` form no cycle: no two of them use
    //! each other through any chain of `crate::` paths.

    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    fn sources(p: &Path, out: &mut String) {
        if p.is_dir() {
            for e in std::fs::read_dir(p).unwrap() {
                sources(&e.unwrap().path(), out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push_str(&std::fs::read_to_string(p).unwrap());
        }
    }

    /// Module -> the other top-level modules its code names.
    fn graph() -> BTreeMap<String, BTreeSet<String>> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut modules = BTreeMap::new();
        for e in std::fs::read_dir(&src).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            if name == "lib" || name == "main" {
                continue;
            }
            let mut text = String::new();
            sources(&p, &mut text);
            modules.insert(name, text);
        }
        let names: Vec<String> = modules.keys().cloned().collect();
        let mut g = BTreeMap::new();
        for (m, text) in &modules {
            let mut deps = BTreeSet::new();
            for (i, _) in text.match_indices("crate::") {
                let rest = &text[i + "crate::".len()..];
                // `crate::x` or `crate::{x, y::z}`.
                let words: Vec<&str> = match rest.strip_prefix('{') {
                    Some(group) => group[..group.find('}').unwrap_or(0)]
                        .split(',')
                        .map(|w| w.trim().split("::").next().unwrap_or(""))
                        .collect(),
                    None => vec![rest
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or("")],
                };
                for w in words {
                    if w != m && names.iter().any(|n| n == w) {
                        deps.insert(w.to_string());
                    }
                }
            }
            g.insert(m.clone(), deps);
        }
        g
    }

    #[test]
    fn top_level_modules_have_no_cycle() {
        let g = graph();
        assert!(g.len() >= 10, "{g:?}");
        // Depth-first search; a module met again on the current path is a cycle.
        fn visit(
            m: &str,
            g: &BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) {
            if done.contains(m) {
                return;
            }
            if let Some(at) = path.iter().position(|x| x == m) {
                panic!("import cycle: {} -> {m}", path[at..].join(" -> "));
            }
            path.push(m.to_string());
            for d in &g[m] {
                visit(d, g, path, done);
            }
            path.pop();
            done.insert(m.to_string());
        }
        let mut done = BTreeSet::new();
        for m in g.keys() {
            visit(m, &g, &mut vec![], &mut done);
        }
    }
}
