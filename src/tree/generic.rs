//! Lexical trees of datasets other than GMAI-MMBench: declared with
//! `--tree DATASET=PATHS`, or inferred from the dataset's own columns.
//! A tree is a list of paths of columns, each from a root to a leaf
//! (`l2_category>category`); its values are the dataset's.

use crate::data::items::{column_name, is_option, Items};
pub use crate::data::trees::Declared;
use std::collections::{BTreeMap, BTreeSet};

/// GMAI-MMBench's profile as paths of columns.
pub const GMAI_PATHS: [[&str; 3]; 3] = [
    ["task", "modality", "category"],
    ["department", "modality", "category"],
    ["granularity", "modality", "category"],
];

/// The most distinct values a column may have to be a tree column when
/// the tree is inferred, and the fewest.
const MAX_VALUES: usize = 64;
const MIN_VALUES: usize = 2;

/// Columns never in an inferred tree: the item's text, its options and
/// answer, pictures and notes.
const NOT_LABELS: &[&str] = &[
    "question",
    "hint",
    "answer",
    "image_path",
    "comment",
    "comments",
    "explanation",
    "rationale",
    "solution",
    "source",
    "note",
    "notes",
];

/// A dataset's tree: its paths and its tree columns' values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DatasetTree {
    pub dataset: String,
    /// Paths of columns, root first.
    pub paths: Vec<Vec<String>>,
    /// Each tree column's values in the dataset, with item counts.
    pub values: BTreeMap<String, BTreeMap<String, u64>>,
    /// Each tree column's header as written (a qualifier may use it).
    pub headers: BTreeMap<String, String>,
    /// Declared with `--tree` (else inferred).
    pub declared: bool,
}

impl DatasetTree {
    /// The tree column a qualifier names (its name or header,
    /// case-insensitive).
    pub fn column(&self, qualifier: &str) -> Option<&str> {
        self.values
            .keys()
            .find(|c| {
                c.eq_ignore_ascii_case(qualifier)
                    || self
                        .headers
                        .get(*c)
                        .is_some_and(|h| h.eq_ignore_ascii_case(qualifier))
            })
            .map(String::as_str)
    }

    /// The paths as `--tree` writes them: `a>b;c>d`.
    pub fn written(&self) -> String {
        self.paths
            .iter()
            .map(|p| p.join(">"))
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// Whether a dataset's items have GMAI-MMBench's three root columns.
pub fn is_gmai(items: &Items, rows: &std::ops::Range<usize>) -> bool {
    ["task", "department", "granularity"].iter().all(|c| {
        items
            .column(c)
            .is_some_and(|v| v[rows.clone()].iter().any(Option::is_some))
    })
}

/// The tree of a dataset: its declared paths, else paths inferred from
/// its columns; with the values of its rows.
pub fn build(items: &Items, dataset: &str, declared: Option<&[Vec<String>]>) -> DatasetTree {
    let rows = items.range(dataset).unwrap_or(0..0);
    let paths = match declared {
        Some(p) => p.to_vec(),
        None => infer(items, &rows),
    };
    let mut values: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut headers = BTreeMap::new();
    for c in paths.iter().flatten() {
        if values.contains_key(c) {
            continue;
        }
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        if let Some(col) = items.columns.iter().find(|x| &x.name == c) {
            for v in col.values[rows.clone()].iter().flatten() {
                *counts.entry(v.clone()).or_default() += 1;
            }
            headers.insert(c.clone(), col.header.clone());
        }
        values.insert(c.clone(), counts);
    }
    DatasetTree {
        dataset: dataset.to_string(),
        paths,
        values,
        headers,
        declared: declared.is_some(),
    }
}

/// Paths inferred from a dataset's columns: the text columns (not the
/// question, options, answer, pictures or notes) with 2 to 64 distinct
/// values; a column B goes under A when each value of B occurs with exactly
/// one value of A and A has fewer values, or as many and comes first (the
/// nearest such A: the one with the most values). Each leaf's chain from
/// its root is a path.
pub fn infer(items: &Items, rows: &std::ops::Range<usize>) -> Vec<Vec<String>> {
    // Candidate columns with their distinct values, in the items' order.
    let mut cands: Vec<(String, usize)> = vec![];
    for col in &items.columns {
        if is_option(&col.name) || NOT_LABELS.contains(&col.name.as_str()) {
            continue;
        }
        let vals = &col.values[rows.clone()];
        let distinct: BTreeSet<&str> = vals.iter().flatten().map(String::as_str).collect();
        let text = vals
            .iter()
            .flatten()
            .any(|v| v.trim().parse::<f64>().is_err());
        let long = {
            let (n, len) = vals
                .iter()
                .flatten()
                .fold((0usize, 0usize), |(n, l), v| (n + 1, l + v.chars().count()));
            n > 0 && len / n > 60
        };
        if text && !long && (MIN_VALUES..=MAX_VALUES).contains(&distinct.len()) {
            cands.push((col.name.clone(), distinct.len()));
        }
    }
    let column = |name: &str| {
        items
            .columns
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.values[rows.clone()])
    };
    // B depends on A: every row's B value comes with one A value.
    let depends = |b: &str, a: &str| -> bool {
        let (Some(bv), Some(av)) = (column(b), column(a)) else {
            return false;
        };
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (x, y) in bv.iter().zip(av) {
            if let (Some(x), Some(y)) = (x, y) {
                match seen.get(x.as_str()) {
                    Some(prev) if *prev != y.as_str() => return false,
                    Some(_) => {}
                    None => {
                        seen.insert(x, y);
                    }
                }
            }
        }
        !seen.is_empty()
    };
    let mut parent: BTreeMap<String, String> = BTreeMap::new();
    for (j, (b, nb)) in cands.iter().enumerate() {
        // A has fewer values, or as many (one to one) and comes first.
        let best = cands
            .iter()
            .enumerate()
            .filter(|(i, (a, na))| a != b && (na < nb || (na == nb && *i < j)) && depends(b, a))
            .map(|(_, c)| c)
            .max_by_key(|(_, na)| *na);
        if let Some((a, _)) = best {
            parent.insert(b.clone(), a.clone());
        }
    }
    let has_child: BTreeSet<&String> = parent.values().collect();
    let mut paths = vec![];
    for (c, _) in &cands {
        if has_child.contains(c) {
            continue;
        }
        let mut chain = vec![c.clone()];
        while let Some(p) = parent.get(chain.last().expect("a column")) {
            if chain.contains(p) {
                break;
            }
            chain.push(p.clone());
        }
        chain.reverse();
        paths.push(chain);
    }
    paths
}

/// A declaration's columns as the items name them (a header or a name, any
/// case); an unknown one is an error naming the dataset's columns.
pub fn resolve_columns(
    items: &Items,
    dataset: &str,
    paths: &[Vec<String>],
) -> Result<Vec<Vec<String>>, String> {
    let rows = items.range(dataset).unwrap_or(0..0);
    let present: Vec<&crate::data::items::ItemColumn> = items
        .columns
        .iter()
        .filter(|c| c.values[rows.clone()].iter().any(Option::is_some))
        .collect();
    paths
        .iter()
        .map(|p| {
            p.iter()
                .map(|w| {
                    let norm = column_name(w);
                    present
                        .iter()
                        .find(|c| {
                            c.name.eq_ignore_ascii_case(w)
                                || c.header.eq_ignore_ascii_case(w)
                                || c.name == norm
                        })
                        .map(|c| c.name.clone())
                        .ok_or_else(|| {
                            format!(
                                "--tree {dataset}: no column `{w}` in its items (columns: {})",
                                present
                                    .iter()
                                    .map(|c| c.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        })
                })
                .collect()
        })
        .collect()
}
