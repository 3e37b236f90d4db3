//! `Session.tree()`: a dataset's lexical tree as nested nodes with item
//! counts, counted by queries over `items` (one per path of the tree).

use crate::Node;
use medql::datafusion::arrow::array::{Array, AsArray};
use medql::datafusion::arrow::datatypes::Int64Type;
use medql::{Error, Outcome, Result, Session};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::collections::BTreeMap;

/// GMAI-MMBench's paths: each root dimension, then modality, then category.
const GMAI_PATHS: [[&str; 3]; 3] = [
    ["task", "modality", "category"],
    ["department", "modality", "category"],
    ["granularity", "modality", "category"],
];

fn quote_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn quote_column(s: &str) -> String {
    format!("`{s}`")
}

/// One dataset's tree: a node per root column, each with the values under it.
async fn dataset_tree(s: &mut Session, dataset: &str) -> Result<BTreeMap<String, Node>> {
    let paths: Vec<Vec<String>> = match s.tree().generic.iter().find(|g| g.dataset == dataset) {
        Some(g) => g.paths.clone(),
        None => GMAI_PATHS
            .iter()
            .map(|p| p.iter().map(|c| c.to_string()).collect())
            .collect(),
    };
    let mut roots = BTreeMap::new();
    for path in paths {
        let Some(root) = path.first() else { continue };
        let keys: Vec<String> = path.iter().map(|c| quote_column(c)).collect();
        let q = format!(
            "from items where dataset = {} by {} score n",
            quote_text(dataset),
            keys.join(", ")
        );
        let node: &mut Node = roots.entry(root.clone()).or_default();
        if !node.children.is_empty() {
            // A second path from the same root column adds no counts.
            continue;
        }
        for out in s.run(&q, "tree").await? {
            let Outcome::Table(t) = out else { continue };
            for b in &t.batches {
                let n = b
                    .column_by_name("n")
                    .ok_or_else(|| Error::engine("counting the tree", "no column n"))?;
                let n = n
                    .as_primitive_opt::<Int64Type>()
                    .ok_or_else(|| Error::engine("counting the tree", "n is not a count"))?;
                for r in 0..b.num_rows() {
                    let count = n.value(r);
                    node.n += count;
                    let mut at = &mut *node;
                    for c in 0..path.len() {
                        let col = b.column(c);
                        if col.is_null(r) {
                            break;
                        }
                        let key = match medql::render::cell(col, r) {
                            medql::render::Cell::Text(t) => t,
                            other => medql::render::human(&other, None),
                        };
                        at = at.children.entry(key).or_default();
                        at.n += count;
                    }
                }
            }
        }
    }
    Ok(roots)
}

/// How many items `dataset` has.
async fn items_in(s: &mut Session, dataset: &str) -> Result<i64> {
    let q = format!("from items where dataset = {} score n", quote_text(dataset));
    for out in s.run(&q, "tree").await? {
        if let Outcome::Table(t) = out {
            for b in &t.batches {
                if let Some(n) = b
                    .column_by_name("n")
                    .and_then(|c| c.as_primitive_opt::<Int64Type>())
                {
                    if !n.is_empty() {
                        return Ok(n.value(0));
                    }
                }
            }
        }
    }
    Ok(0)
}

/// Whether `step` names `value`: its name or, for GMAI-MMBench's values,
/// the paper's abbreviation (case-insensitive).
fn names(step: &str, value: &str) -> bool {
    value.eq_ignore_ascii_case(step)
        || medql::tree::DIMENSIONS.iter().any(|(d, _)| {
            medql::tree::abbreviation(d, value).is_some_and(|a| a.eq_ignore_ascii_case(step))
        })
}

/// Follow `path` (`DD`, `task/DD/CT`): each step names a child of the
/// node before; the first may also skip the root column.
fn descend(roots: BTreeMap<String, Node>, path: &str, dataset: &str) -> Result<(String, Node)> {
    let steps: Vec<&str> = path
        .split('/')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let miss = |step: &str, among: Vec<&str>| {
        let near = medql::names::nearest(step, among.iter().copied(), 3);
        Error::Usage(format!(
            "no `{step}` in {dataset}'s tree at this level{}",
            if near.is_empty() {
                String::new()
            } else {
                format!("; did you mean {}?", near.join(", "))
            }
        ))
    };
    let Some((first, rest)) = steps.split_first() else {
        return Err(Error::Usage(
            "give a path such as `DD` or `task/DD/CT`".into(),
        ));
    };
    let mut roots = roots;
    let root_key = roots.keys().find(|k| names(first, k)).cloned();
    let (mut name, mut node) = match root_key {
        Some(k) => {
            let n = roots.remove(&k).unwrap_or_default();
            (k, n)
        }
        None => {
            // A value under some root column.
            let found = roots.values_mut().find_map(|r| {
                let k = r.children.keys().find(|k| names(first, k)).cloned()?;
                r.children.remove(&k).map(|n| (k, n))
            });
            match found {
                Some(f) => f,
                None => {
                    let among: Vec<&str> = roots
                        .iter()
                        .flat_map(|(k, r)| {
                            std::iter::once(k.as_str()).chain(r.children.keys().map(String::as_str))
                        })
                        .collect();
                    return Err(miss(first, among));
                }
            }
        }
    };
    for step in rest {
        let key = node.children.keys().find(|k| names(step, k)).cloned();
        match key {
            Some(k) => {
                let child = node.children.remove(&k).unwrap_or_default();
                name = k;
                node = child;
            }
            None => {
                return Err(miss(
                    step,
                    node.children.keys().map(String::as_str).collect(),
                ))
            }
        }
    }
    Ok((name, node))
}

/// The tree `Session.tree(dataset, path)` gives, as (name, node) pairs.
pub async fn of(
    mut s: Session,
    dataset: Option<&str>,
    path: Option<&str>,
) -> Result<Vec<(String, Node)>> {
    let all = s.info().datasets.clone();
    let chosen: Vec<String> = match dataset {
        Some(d) => match all.iter().find(|x| x.eq_ignore_ascii_case(d)) {
            Some(x) => vec![x.clone()],
            None => {
                return Err(Error::Usage(format!(
                    "no dataset `{d}`; loaded: {}",
                    all.join(", ")
                )))
            }
        },
        None => all.clone(),
    };
    if let [one] = chosen.as_slice() {
        let roots = dataset_tree(&mut s, one).await?;
        return match path.filter(|p| !p.trim().is_empty()) {
            Some(p) => Ok(vec![descend(roots, p, one)?]),
            None => Ok(roots.into_iter().collect()),
        };
    }
    if path.is_some_and(|p| !p.trim().is_empty()) {
        return Err(Error::Usage(format!(
            "several datasets are loaded ({}): name one with dataset=",
            all.join(", ")
        )));
    }
    let mut out = vec![];
    for d in chosen {
        let roots = dataset_tree(&mut s, &d).await?;
        let total = items_in(&mut s, &d).await?;
        out.push((
            d,
            Node {
                n: total,
                children: roots,
            },
        ));
    }
    Ok(out)
}

/// Nodes as `{name: {"n": int, "children": {...}}}`.
pub fn to_dict<'py>(py: Python<'py>, nodes: &[(String, Node)]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, node) in nodes {
        d.set_item(name, node_dict(py, node)?)?;
    }
    Ok(d)
}

fn node_dict<'py>(py: Python<'py>, node: &Node) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("n", node.n)?;
    let children = PyDict::new(py);
    for (k, v) in &node.children {
        children.set_item(k, node_dict(py, v)?)?;
    }
    d.set_item("children", children)?;
    Ok(d)
}
