//! medql for Python: the query engine as the extension module
//! `medql._medql`. The package's `__init__.py` defines the exception and
//! warning classes and re-exports what is here.
//!
//! Every load and query runs on a Tokio runtime with the GIL released; the
//! calling thread wakes every few milliseconds to let Python see signals,
//! and a KeyboardInterrupt drops the running future, which cancels it.

use medql::datafusion::arrow::array::{ArrayRef, RecordBatch, StructArray};
use medql::datafusion::arrow::compute::cast;
use medql::datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use medql::style::Style;
use pyo3::exceptions::{PyImportError, PyKeyboardInterrupt, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict, PyList, PyString};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

mod tree;

/// Rows `repr()` prints; the rest are counted in a last line.
const REPR_ROWS: usize = 50;
/// Rows the HTML view shows in a notebook.
const HTML_ROWS: usize = 100;
/// How often a waiting call looks for Ctrl-C.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RT: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("medql")
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| raise_plain(&format!("cannot start the query runtime: {e}")))
}

/// Run the future `make` gives on the runtime, with the GIL released, until
/// it is done. Ctrl-C (a pending KeyboardInterrupt, or any exception a
/// signal handler raises) drops the future, which stops its work, and is
/// raised here.
fn run_blocking<T, F, Fut>(py: Python<'_>, make: F) -> PyResult<T>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    let rt = runtime()?;
    let handle = rt.handle().clone();
    let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
    let (done, result) = std::sync::mpsc::channel::<Option<T>>();
    rt.spawn_blocking(move || {
        let out = handle.block_on(async move {
            tokio::select! {
                out = make() => Some(out),
                _ = cancelled => None,
            }
        });
        let _ = done.send(out);
    });
    let mut cancel = Some(cancel);
    // Shared with the thread that waits without the GIL.
    let result = Mutex::new(result);
    let wait = || match result.lock() {
        Ok(r) => r.recv_timeout(SIGNAL_POLL),
        Err(_) => Err(std::sync::mpsc::RecvTimeoutError::Disconnected),
    };
    loop {
        match py.detach(wait) {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => return Err(PyKeyboardInterrupt::new_err("cancelled")),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if let Err(e) = py.check_signals() {
                    if let Some(c) = cancel.take() {
                        let _ = c.send(());
                    }
                    return Err(e);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(raise_plain(
                    "internal error: the query engine stopped (please report it)",
                ))
            }
        }
    }
}

/// An exception class of the package (`Error`, `QueryError`, ...).
fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("medql")?.getattr(name)
}

/// A `medql.Error` with this message.
fn raise_plain(message: &str) -> PyErr {
    Python::attach(|py| match class(py, "Error") {
        Ok(cls) => match cls.call1((message,)) {
            Ok(e) => PyErr::from_value(e),
            Err(e) => e,
        },
        Err(e) => e,
    })
}

/// Character offset of byte offset `at` in `text`.
fn char_offset(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    text[..at].chars().count()
}

/// A `medql.QueryError` for a query error: the rendered message (source
/// line and caret), the span in characters of the source text, the line
/// and column, the hint.
fn query_error<'py>(py: Python<'py>, q: &medql::QueryError) -> PyResult<Bound<'py, PyAny>> {
    let kw = PyDict::new(py);
    let span = (
        char_offset(&q.source, q.span.start),
        char_offset(&q.source, q.span.end.max(q.span.start)),
    );
    kw.set_item("span", span)?;
    kw.set_item("help", q.help.clone())?;
    let (line, col) = q.line_col();
    kw.set_item("line", line)?;
    kw.set_item("col", col)?;
    kw.set_item("origin", &q.origin)?;
    kw.set_item("reason", &q.message)?;
    class(py, "QueryError")?.call((q.to_string().trim_end(),), Some(&kw))
}

/// The Python exception for a medql error.
fn to_py(e: medql::Error) -> PyErr {
    Python::attach(|py| {
        let made = match &e {
            medql::Error::Query(q) => query_error(py, q),
            medql::Error::Data(d) => {
                let kw = PyDict::new(py);
                kw.set_item("file", &d.file)?;
                kw.set_item(
                    "place",
                    d.row
                        .map(|r| format!("{} {r}", medql::error::row_unit(&d.file))),
                )?;
                kw.set_item("row", d.row)?;
                kw.set_item("column", d.column.clone())?;
                kw.set_item("reason", &d.message)?;
                class(py, "DataError")?.call((d.to_string(),), Some(&kw))
            }
            medql::Error::Io { path, source } => {
                let kw = PyDict::new(py);
                kw.set_item("file", path)?;
                kw.set_item("reason", source.to_string())?;
                class(py, "DataError")?.call((e.to_string(),), Some(&kw))
            }
            other => class(py, "Error")?.call1((other.to_string(),)),
        };
        Ok::<PyErr, PyErr>(PyErr::from_value(made?))
    })
    .unwrap_or_else(|e| e)
}

/// Paths given as `None`, a `str`, an `os.PathLike`, or a list of those.
fn paths(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<String>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(vec![]);
    };
    let one = |o: &Bound<'_, PyAny>| -> PyResult<String> {
        if let Ok(s) = o.cast::<PyString>() {
            return s.extract::<String>();
        }
        if o.hasattr("__fspath__")? {
            let p: PathBuf = o.extract()?;
            return Ok(p.to_string_lossy().into_owned());
        }
        Err(PyTypeError::new_err(format!(
            "{what}: give a path (str or os.PathLike) or a list of paths, not {}",
            o.get_type().name()?
        )))
    };
    if obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__")? {
        return Ok(vec![one(obj)?]);
    }
    match obj.try_iter() {
        Ok(items) => items.map(|o| one(&o?)).collect(),
        Err(_) => Ok(vec![one(obj)?]),
    }
}

/// Where loaded data is cached: `True` (the default place), `False`, or a
/// directory.
#[derive(Clone)]
enum CacheChoice {
    Default,
    Off,
    Dir(PathBuf),
}

impl CacheChoice {
    fn of(obj: Option<&Bound<'_, PyAny>>) -> PyResult<CacheChoice> {
        let Some(obj) = obj.filter(|o| !o.is_none()) else {
            return Ok(CacheChoice::Default);
        };
        if let Ok(b) = obj.extract::<bool>() {
            return Ok(if b {
                CacheChoice::Default
            } else {
                CacheChoice::Off
            });
        }
        let p = paths(Some(obj), "cache")?;
        match p.as_slice() {
            [one] => Ok(CacheChoice::Dir(PathBuf::from(one))),
            _ => Err(PyTypeError::new_err(
                "cache: give True, False or one directory",
            )),
        }
    }

    /// The cache to use for `spec` (none for the demo data), named after
    /// this build of the module.
    fn open(&self, py: Python<'_>, spec: &medql::LoadSpec) -> Option<medql::data::cache::Cache> {
        if spec.is_demo() {
            return None;
        }
        let dir = match self {
            CacheChoice::Off => return None,
            CacheChoice::Default => medql::data::cache::Cache::default_dir()?,
            CacheChoice::Dir(d) => d.clone(),
        };
        let module: Option<PathBuf> = py
            .import("medql._medql")
            .and_then(|m| m.getattr("__file__"))
            .and_then(|f| f.extract())
            .ok();
        let build = medql::data::cache::build_id(&module.unwrap_or_default());
        match medql::data::cache::Cache::open(&dir, build) {
            Ok(c) => Some(c),
            Err(e) => {
                warn(py, &format!("no cache ({e}); loading without it"));
                None
            }
        }
    }
}

/// A `medql.DataWarning` through Python's `warnings` module.
fn warn(py: Python<'_>, message: &str) {
    let text = std::ffi::CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    if let Ok(cls) = class(py, "DataWarning") {
        if let Err(e) = PyErr::warn(py, &cls, &text, 1) {
            // Warnings turned into errors: keep the first as pending.
            e.restore(py);
        }
    }
}

/// A size: bytes as an int, or text such as "2G".
fn parse_memory_limit(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<usize>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if let Ok(n) = obj.extract::<usize>() {
        if n == 0 {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "memory_limit: give a positive number of bytes, or text such as \"2G\"",
            ));
        }
        return Ok(Some(n));
    }
    let s: String = obj.extract().map_err(|_| {
        PyTypeError::new_err("memory_limit: give bytes as an int, or text such as \"2G\"")
    })?;
    medql::text::parse_size(&s)
        .map(Some)
        .map_err(|m| pyo3::exceptions::PyValueError::new_err(format!("memory_limit: {m}")))
}

/// A loaded benchmark and its predictions, scored under every rule set,
/// ready for queries.
#[pyclass(name = "Session", module = "medql")]
struct Session {
    inner: Mutex<medql::Session>,
    cache: CacheChoice,
    strict: bool,
    memory_limit: Option<usize>,
}

impl Session {
    fn get(&self) -> PyResult<medql::Session> {
        Ok(match self.inner.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        })
    }

    fn put(&self, s: medql::Session) {
        // A panic while the lock was held leaves it poisoned; the session
        // put here is whole, so the lock is usable again.
        self.inner.clear_poison();
        match self.inner.lock() {
            Ok(mut g) => *g = s,
            Err(poisoned) => *poisoned.into_inner() = s,
        }
    }

    /// Load `spec`, say what loading found (warnings, or with `strict` a
    /// `DataError`), and keep `keep`'s settings.
    fn load(
        py: Python<'_>,
        spec: medql::LoadSpec,
        cache: &CacheChoice,
        memory_limit: Option<usize>,
        strict: bool,
    ) -> PyResult<medql::Session> {
        let options = medql::Options {
            memory_limit,
            cache: cache.open(py, &spec),
        };
        let session = run_blocking(py, move || async move {
            medql::Session::load_with(&spec, &options).await
        })?
        .map_err(to_py)?;
        let info = session.info();
        if strict && !info.warnings.is_empty() {
            let kw = PyDict::new(py);
            let named = info
                .prediction_files
                .iter()
                .chain(&info.item_files)
                .find(|f| info.warnings.iter().any(|w| w.contains(f.as_str())));
            kw.set_item("file", named.cloned().unwrap_or_default())?;
            kw.set_item("reason", info.warnings.join("; "))?;
            let text = format!(
                "strict: loading warned ({} warning{}): {}",
                info.warnings.len(),
                if info.warnings.len() == 1 { "" } else { "s" },
                info.warnings.join("; ")
            );
            return Err(PyErr::from_value(
                class(py, "DataError")?.call((text,), Some(&kw))?,
            ));
        }
        for w in &info.warnings {
            warn(py, w);
        }
        if let Some(e) = PyErr::take(py) {
            return Err(e);
        }
        Ok(session)
    }

    /// Load again with `spec`, keeping the policy, `rank_ci`'s settings
    /// and the parameters.
    fn reload(&self, py: Python<'_>, spec: medql::LoadSpec) -> PyResult<()> {
        let old = self.get()?;
        let mut s = Session::load(py, spec, &self.cache, self.memory_limit, self.strict)?;
        let _ = s.set_policy(old.policy());
        s.set_bootstrap_settings(old.bootstrap());
        s.set_params(old.params().clone());
        self.put(s);
        Ok(())
    }

    /// Run every statement of `source`; the session keeps what the
    /// statements that ran changed (a `set`, a `let`), even when a later
    /// one fails.
    fn execute(
        &self,
        py: Python<'_>,
        source: String,
        origin: String,
        params: HashMap<String, String>,
    ) -> PyResult<Vec<medql::Outcome>> {
        let mut s = self.get()?;
        let saved = s.params().clone();
        let mut merged = saved.clone();
        merged.extend(params);
        s.set_params(merged);
        let (mut s, out) = run_blocking(py, move || async move {
            let mut out = vec![];
            let mut failed = None;
            for r in s.run_each(&source, &origin, false).await {
                match r {
                    Ok(Some(o)) => out.push(o),
                    Ok(None) => {}
                    Err(e) => failed = Some(e),
                }
            }
            (s, failed.map_or(Ok(out), Err))
        })?;
        s.set_params(saved);
        self.put(s);
        out.map_err(to_py)
    }
}

/// Keyword arguments as query parameters: text, whole numbers and floats.
fn params(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<HashMap<String, String>> {
    let mut out = HashMap::new();
    let Some(kwargs) = kwargs else {
        return Ok(out);
    };
    for (k, v) in kwargs.iter() {
        let name: String = k.extract()?;
        let name = name.trim_start_matches('$').to_string();
        let value = if let Ok(s) = v.cast::<PyString>() {
            s.extract::<String>()?
        } else if v.is_instance_of::<pyo3::types::PyBool>() {
            return Err(PyTypeError::new_err(format!(
                "parameter `{name}`: give text or a number, not a bool"
            )));
        } else if let Ok(i) = v.extract::<i64>() {
            i.to_string()
        } else if let Ok(f) = v.extract::<f64>() {
            if !f.is_finite() {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "parameter `{name}`: {f} is not a finite number"
                )));
            }
            format!("{f:?}")
        } else {
            return Err(PyTypeError::new_err(format!(
                "parameter `{name}`: give text or a number, not {}",
                v.get_type().name()?
            )));
        };
        out.insert(name, value);
    }
    Ok(out)
}

#[pymethods]
impl Session {
    #[new]
    #[pyo3(signature = (items=None, predictions=None, policy="current", cache=None, strict=false, memory_limit=None, trees=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        items: Option<&Bound<'_, PyAny>>,
        predictions: Option<&Bound<'_, PyAny>>,
        policy: &str,
        cache: Option<&Bound<'_, PyAny>>,
        strict: bool,
        memory_limit: Option<&Bound<'_, PyAny>>,
        trees: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Session> {
        let spec = medql::LoadSpec {
            items: paths(items, "items")?,
            predictions: paths(predictions, "predictions")?,
            trees: paths(trees, "trees")?,
        };
        if spec.items.is_empty() && !spec.predictions.is_empty() {
            return Err(raise_plain(
                "predictions need items: give items=PATH (the benchmark's TSV) too",
            ));
        }
        let policy: medql::Policy = policy.parse().map_err(|m: String| raise_plain(&m))?;
        let cache = CacheChoice::of(cache)?;
        let memory_limit = parse_memory_limit(memory_limit)?;
        let mut s = Session::load(py, spec, &cache, memory_limit, strict)?;
        s.set_policy(policy).map_err(to_py)?;
        Ok(Session {
            inner: Mutex::new(s),
            cache,
            strict,
            memory_limit,
        })
    }

    /// Add a benchmark's items (a dataset of the same name is replaced)
    /// and load everything again.
    fn load_items(&self, py: Python<'_>, paths_: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut spec = self.get()?.info().spec.clone();
        let name = |p: &str| medql::data::items::dataset_name(std::path::Path::new(p));
        for p in paths(Some(paths_), "load_items")? {
            let new = name(&p);
            spec.items.retain(|i| name(i) != new);
            spec.items.push(p);
        }
        self.reload(py, spec)
    }

    /// Add prediction files (files, globs or directories) and load
    /// everything again.
    fn load_predictions(&self, py: Python<'_>, paths_: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut spec = self.get()?.info().spec.clone();
        if spec.items.is_empty() {
            return Err(raise_plain(
                "load items first: load_items(PATH) with the benchmark's TSV",
            ));
        }
        spec.predictions
            .extend(paths(Some(paths_), "load_predictions")?);
        self.reload(py, spec)
    }

    /// The policy queries are scored under, by its canonical name.
    #[getter]
    fn get_policy(&self) -> PyResult<String> {
        Ok(self.get()?.policy().name().to_string())
    }

    #[setter]
    fn set_policy(&self, name: &str) -> PyResult<()> {
        let p: medql::Policy = name.parse().map_err(|m: String| raise_plain(&m))?;
        let mut s = self.get()?;
        s.set_policy(p).map_err(to_py)?;
        self.put(s);
        Ok(())
    }

    /// Every policy this session can score under.
    #[getter]
    fn policies(&self) -> PyResult<Vec<String>> {
        Ok(self
            .get()?
            .policies()
            .into_iter()
            .map(|p| p.name().to_string())
            .collect())
    }

    #[getter]
    fn models(&self) -> PyResult<Vec<String>> {
        Ok(self.get()?.info().models.clone())
    }

    #[getter]
    fn datasets(&self) -> PyResult<Vec<String>> {
        Ok(self.get()?.info().datasets.clone())
    }

    /// How many items were loaded.
    #[getter]
    fn items(&self) -> PyResult<usize> {
        Ok(self.get()?.info().items)
    }

    /// What loading warned about (also given through `warnings`).
    #[getter]
    fn warnings(&self) -> PyResult<Vec<String>> {
        Ok(self.get()?.info().warnings.clone())
    }

    /// What loading noted that is no problem (a file skipped, ...).
    #[getter]
    fn notes(&self) -> PyResult<Vec<String>> {
        Ok(self.get()?.info().notes.clone())
    }

    /// Whether this is the built-in synthetic demo data.
    #[getter]
    fn demo(&self) -> PyResult<bool> {
        Ok(self.get()?.info().demo)
    }

    /// Run every statement of `text` and return the last query's result
    /// (None when no statement is a query). Keyword arguments give `$name`
    /// parameters their values, for this call.
    #[pyo3(signature = (text, **kwargs))]
    fn query(
        &self,
        py: Python<'_>,
        text: &str,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Option<QueryResult>> {
        let params = params(kwargs)?;
        let out = self.execute(py, text.to_string(), "query".into(), params)?;
        Ok(last_table(out))
    }

    /// Run a query file (`.mql`): its last query's result, or with
    /// `all=True` every query's result in order.
    #[pyo3(signature = (path, all=false, **kwargs))]
    fn run(
        &self,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        all: bool,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let path = match paths(Some(path), "run")?.as_slice() {
            [one] => one.clone(),
            _ => return Err(PyTypeError::new_err("run: give one query file")),
        };
        let params = params(kwargs)?;
        let text = std::fs::read_to_string(&path).map_err(|e| to_py(medql::Error::io(&path, e)))?;
        let out = self.execute(py, text, path, params)?;
        if all {
            let results: Vec<QueryResult> = tables(out).collect();
            Ok(PyList::new(py, results)?.into_any().unbind())
        } else {
            Ok(last_table(out).into_pyobject(py)?.into_any().unbind())
        }
    }

    /// The plans of a query, as `explain` prints them.
    fn explain(&self, py: Python<'_>, text: &str) -> PyResult<String> {
        let s = self.get()?;
        let text = text.to_string();
        run_blocking(
            py,
            move || async move { s.explain_source(&text, "query").await },
        )?
        .map_err(to_py)
    }

    /// Parse and resolve every statement of `text` without running it:
    /// one `QueryError` per bad statement, empty when all is well.
    fn check(&self, py: Python<'_>, text: &str) -> PyResult<Vec<Py<PyAny>>> {
        let mut s = self.get()?;
        let text = text.to_string();
        let errors = run_blocking(py, move || async move { s.check(&text, "query").await })?;
        errors
            .into_iter()
            .map(|e| match e {
                medql::Error::Query(q) => Ok(query_error(py, &q)?.unbind()),
                other => {
                    let kw = PyDict::new(py);
                    kw.set_item("reason", other.to_string())?;
                    Ok(class(py, "QueryError")?
                        .call((other.to_string(),), Some(&kw))?
                        .unbind())
                }
            })
            .collect()
    }

    /// The lexical tree: `{name: {"n": items, "children": {...}}}`. With
    /// several datasets loaded the first level is the datasets; `dataset`
    /// picks one, and `path` (`"DD"`, `"task/DD/CT"`) a node inside it.
    #[pyo3(signature = (dataset=None, path=None))]
    fn tree(
        &self,
        py: Python<'_>,
        dataset: Option<&str>,
        path: Option<&str>,
    ) -> PyResult<Py<PyAny>> {
        let s = self.get()?;
        let dataset = dataset.map(str::to_string);
        let path = path.map(str::to_string);
        let nodes = run_blocking(py, move || async move {
            tree::of(s, dataset.as_deref(), path.as_deref()).await
        })?
        .map_err(to_py)?;
        Ok(tree::to_dict(py, &nodes)?.into_any().unbind())
    }

    /// Write the report (HTML or Markdown, by the extension) of the
    /// standard queries, or of `queries` (files or directories), with the
    /// published leaderboard when `leaderboard` is set. Returns the path.
    #[pyo3(signature = (path, leaderboard=false, queries=None))]
    fn report(
        &self,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        leaderboard: bool,
        queries: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        let output = match paths(Some(path), "report")?.as_slice() {
            [one] => one.clone(),
            _ => return Err(PyTypeError::new_err("report: give one output path")),
        };
        let inputs = paths(queries, "queries")?;
        let mut s = self.get()?;
        let out = output.clone();
        run_blocking(py, move || async move {
            medql::report::write_report(
                &mut s,
                &medql::report::ReportOptions {
                    inputs,
                    output: PathBuf::from(out),
                    leaderboard,
                    aliases: vec![],
                },
            )
            .await
        })?
        .map_err(to_py)?;
        Ok(output)
    }

    fn __repr__(&self) -> PyResult<String> {
        let s = self.get()?;
        let info = s.info();
        Ok(format!(
            "medql.Session({} items in {}, {} models, policy {}{})",
            info.items,
            info.datasets.join(", "),
            info.models.len(),
            s.policy().name(),
            if info.demo { ", demo data" } else { "" }
        ))
    }
}

fn tables(out: Vec<medql::Outcome>) -> impl Iterator<Item = QueryResult> {
    out.into_iter().filter_map(|o| match o {
        medql::Outcome::Table(t) => Some(QueryResult::new(t)),
        medql::Outcome::Message(_) => None,
    })
}

fn last_table(out: Vec<medql::Outcome>) -> Option<QueryResult> {
    tables(out).last()
}

/// A query's result: Arrow record batches, exported without copies
/// through the Arrow PyCapsule interface.
#[pyclass(name = "Result", module = "medql", frozen)]
struct QueryResult {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    styles: HashMap<String, Style>,
    elapsed: Duration,
}

/// The type a column is exported as: string and binary views become
/// plain UTF-8 and binary, which every Arrow reader knows.
fn plain(t: &DataType) -> DataType {
    match t {
        DataType::Utf8View => DataType::Utf8,
        DataType::BinaryView => DataType::Binary,
        other => other.clone(),
    }
}

impl QueryResult {
    fn new(t: medql::QueryResult) -> QueryResult {
        let needs = t
            .schema
            .fields()
            .iter()
            .any(|f| plain(f.data_type()) != *f.data_type());
        let (schema, batches) = if needs {
            let fields: Vec<Field> = t
                .schema
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_data_type(plain(f.data_type())))
                .collect();
            let schema = Arc::new(Schema::new_with_metadata(
                fields,
                t.schema.metadata().clone(),
            ));
            let batches = t
                .batches
                .iter()
                .filter_map(|b| {
                    let cols: Vec<ArrayRef> = b
                        .columns()
                        .iter()
                        .map(|a| {
                            let to = plain(a.data_type());
                            if to == *a.data_type() {
                                Some(a.clone())
                            } else {
                                cast(a, &to).ok()
                            }
                        })
                        .collect::<Option<_>>()?;
                    RecordBatch::try_new(schema.clone(), cols).ok()
                })
                .collect();
            (schema, batches)
        } else {
            (t.schema, t.batches)
        };
        QueryResult {
            schema,
            batches,
            styles: t.styles,
            elapsed: t.elapsed,
        }
    }

    fn rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }

    /// The first `n` rows.
    fn head(&self, n: usize) -> Vec<RecordBatch> {
        let mut left = n;
        let mut out = vec![];
        for b in &self.batches {
            if left == 0 {
                break;
            }
            let take = b.num_rows().min(left);
            out.push(b.slice(0, take));
            left -= take;
        }
        out
    }
}

#[pymethods]
impl QueryResult {
    /// The Arrow C stream of the result's batches (`pyarrow.table(r)`,
    /// `polars.DataFrame(r)`, `duckdb.arrow(r)`): the batches' buffers are
    /// shared, not copied.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let fields = self.schema.fields().clone();
        let arrays = self
            .batches
            .clone()
            .into_iter()
            .map(|b| Ok(Arc::new(StructArray::from(b)) as ArrayRef));
        let reader = Box::new(pyo3_arrow::ffi::ArrayIterator::new(
            arrays,
            Field::new_struct("", fields, false)
                .with_metadata(self.schema.metadata().clone())
                .into(),
        ));
        Ok(pyo3_arrow::ffi::to_stream_pycapsule(
            py,
            reader,
            requested_schema,
        )?)
    }

    /// The Arrow C schema of the result.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        Ok(pyo3_arrow::ffi::to_schema_pycapsule(
            py,
            self.schema.as_ref(),
        )?)
    }

    /// The result as a `pyarrow.Table` (needs pyarrow).
    fn to_arrow<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let pa = py
            .import("pyarrow")
            .map_err(|_| PyImportError::new_err("to_arrow() needs pyarrow: pip install pyarrow"))?;
        pa.getattr("table")?.call1((slf,))
    }

    /// The result as a `pandas.DataFrame` (needs pyarrow and pandas).
    fn to_pandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        py.import("pandas").map_err(|_| {
            PyImportError::new_err(
                "to_pandas() needs pandas and pyarrow: pip install pandas pyarrow",
            )
        })?;
        QueryResult::to_arrow(slf)?.call_method0("to_pandas")
    }

    /// The result as a `polars.DataFrame` (needs polars).
    fn to_polars<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let pl = py
            .import("polars")
            .map_err(|_| PyImportError::new_err("to_polars() needs polars: pip install polars"))?;
        pl.getattr("DataFrame")?.call1((slf,))
    }

    /// The column names, in order.
    #[getter]
    fn columns(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().to_string())
            .collect()
    }

    /// Seconds the query took (parse, plan, execute).
    #[getter]
    fn elapsed(&self) -> f64 {
        self.elapsed.as_secs_f64()
    }

    fn __len__(&self) -> usize {
        self.rows()
    }

    /// The result as the command line's table prints it (the first rows).
    fn __repr__(&self) -> PyResult<String> {
        let total = self.rows();
        let head = self.head(REPR_ROWS);
        let mut text = medql::render::render(
            &head,
            &self.schema,
            &self.styles,
            medql::render::Format::Table,
            &medql::render::RenderOptions::default(),
        )
        .map_err(to_py)?;
        if total > REPR_ROWS {
            text.push_str(&format!("({total} rows; the first {REPR_ROWS} shown)\n"));
        } else {
            text.push_str(&format!(
                "({total} row{})\n",
                if total == 1 { "" } else { "s" }
            ));
        }
        Ok(text.trim_end().to_string())
    }

    fn __str__(&self) -> PyResult<String> {
        self.__repr__()
    }

    /// The result as an HTML table for notebooks: numbers as the command
    /// line shows them, every text escaped.
    fn _repr_html_(&self) -> String {
        medql::render::html(&self.batches, &self.schema, &self.styles, HTML_ROWS)
    }
}

/// A node of a lexical tree as the Python API gives it.
#[derive(Default, Debug)]
pub struct Node {
    n: i64,
    children: BTreeMap<String, Node>,
}

#[pymodule]
fn _medql(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Session>()?;
    m.add_class::<QueryResult>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
