//! The lexical tree: three roots (clinical VQA task, department, perceptual
//! granularity), under each value its modalities, under each modality its
//! category labels. Built from whatever items are loaded, plus the paper's
//! abbreviations, and used to resolve `#terms` into conditions.

use crate::data::Items;
use crate::error::{Error, QueryError, Result};
use crate::syntax::ast::Term;
use datafusion::logical_expr::{lit, Expr};
use datafusion::prelude::ident;
use std::collections::{BTreeMap, BTreeSet};

/// The paper's abbreviations (GMAI-MMBench, NeurIPS 2024): dimension,
/// abbreviation, full name, in the paper's order.
pub const ABBREVIATIONS: &[(&str, &str, &str)] = &[
    ("task", "AR", "Attribute Recognition"),
    ("task", "BVR", "Blood Vessels Recognition"),
    ("task", "B", "Bone"),
    ("task", "CR", "Cell Recognition"),
    ("task", "C", "Counting"),
    ("task", "DD", "Disease Diagnosis"),
    ("task", "IQG", "Image Quality Grading"),
    ("task", "MR", "Microorganism Recognition"),
    ("task", "M", "Muscle"),
    ("task", "NT", "Nervous Tissue"),
    ("task", "OR-A", "Organ Recognition - Abdomen"),
    ("task", "OR-HN", "Organ Recognition - Head and Neck"),
    ("task", "OR-P", "Organ Recognition - Pelvic"),
    ("task", "OR-T", "Organ Recognition - Thorax"),
    ("task", "SG", "Severity Grading"),
    ("task", "SAR", "Surgeon Action Recognition"),
    ("task", "SIR", "Surgical Instrument Recognition"),
    ("task", "SWR", "Surgical Workflow Recognition"),
    ("department", "CS", "Cardiovascular Surgery"),
    ("department", "D", "Dermatology"),
    ("department", "E", "Endocrinology"),
    ("department", "GH", "Gastroenterology and Hepatology"),
    ("department", "GS", "General Surgery"),
    ("department", "H", "Hematology"),
    ("department", "ID", "Infectious Diseases"),
    ("department", "LMP", "Laboratory Medicine and Pathology"),
    ("department", "NH", "Nephrology and Hypertension"),
    ("department", "N", "Neurosurgery"),
    ("department", "OG", "Obstetrics and Gynecology"),
    ("department", "OM", "Oncology (Medical)"),
    ("department", "O", "Ophthalmology"),
    ("department", "OS", "Orthopedic Surgery"),
    (
        "department",
        "ENT/HNS",
        "Otolaryngology (ENT)/Head and Neck Surgery",
    ),
    ("department", "PM", "Pulmonary Medicine"),
    ("department", "SM", "Sports Medicine"),
    ("department", "U", "Urology"),
    ("granularity", "Image", "Image level"),
    ("granularity", "Box", "Box level"),
    ("granularity", "Mask", "Mask level"),
    ("granularity", "Contour", "Contour level"),
];

/// The dimensions a term can name, with their qualifiers.
pub const DIMENSIONS: &[(&str, &[&str])] = &[
    ("task", &["task"]),
    ("department", &["department", "dept"]),
    ("granularity", &["granularity"]),
    ("modality", &["modality"]),
    ("category", &["category"]),
];

const ROOTS: [&str; 3] = ["task", "department", "granularity"];

/// modality -> category -> item count, under one root value.
pub type Modalities = BTreeMap<String, BTreeMap<String, u64>>;

/// The lexical tree of the loaded items.
#[derive(Debug, Default, Clone)]
pub struct Tree {
    /// Distinct values per dimension, with item counts.
    values: BTreeMap<&'static str, BTreeMap<String, u64>>,
    /// root dimension -> root value -> modality -> category -> count
    paths: BTreeMap<&'static str, BTreeMap<String, Modalities>>,
    /// Names are not checked against values (a check without the data):
    /// any term stands for the values it names.
    pub open: bool,
}

/// A dimension's values in the paper's order where it has one, else ascending.
pub fn paper_order(dimension: &str, values: &mut [String]) {
    let rank = |v: &str| {
        ABBREVIATIONS
            .iter()
            .filter(|(d, _, _)| *d == dimension)
            .position(|(_, _, n)| n.eq_ignore_ascii_case(v))
    };
    values.sort_by(|a, b| match (rank(a), rank(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    });
}

/// The paper's abbreviation of a value, if it has one.
pub fn abbreviation(dimension: &str, value: &str) -> Option<&'static str> {
    ABBREVIATIONS
        .iter()
        .find(|(d, _, n)| *d == dimension && n.eq_ignore_ascii_case(value))
        .map(|(_, a, _)| *a)
}

/// Whether a term's glob (`*`, `?`) matches a value, case-insensitively
/// (Unicode lower case on both sides); `[` and `]` are literal.
fn glob_match(pattern: &str, text: &str) -> bool {
    let mut escaped = String::with_capacity(pattern.len() + 4);
    for c in pattern.to_lowercase().chars() {
        match c {
            '[' => escaped.push_str("[[]"),
            ']' => escaped.push_str("[]]"),
            c => escaped.push(c),
        }
    }
    glob::Pattern::new(&escaped).is_ok_and(|p| p.matches(&text.to_lowercase()))
}

static NO_VALUES: BTreeMap<String, u64> = BTreeMap::new();
static NO_PATHS: BTreeMap<String, Modalities> = BTreeMap::new();

impl Tree {
    /// A dimension's values (see [`DIMENSIONS`]) with their item counts;
    /// none for a name that is not a dimension.
    pub fn values_of(&self, dimension: &str) -> &BTreeMap<String, u64> {
        self.values.get(dimension).unwrap_or(&NO_VALUES)
    }

    /// A root dimension's values (task, department, granularity), each
    /// with its modalities and their categories; none for another name.
    pub fn paths_of(&self, root: &str) -> &BTreeMap<String, Modalities> {
        self.paths.get(root).unwrap_or(&NO_PATHS)
    }

    pub fn build(items: &Items) -> Tree {
        let mut t = Tree::default();
        for d in DIMENSIONS {
            t.values.insert(d.0, BTreeMap::new());
        }
        for r in ROOTS {
            t.paths.insert(r, BTreeMap::new());
        }
        for row in 0..items.len() {
            let get = |c: &str| items.value(c, row).map(str::to_string);
            for (d, _) in DIMENSIONS {
                if let Some(v) = get(d) {
                    *t.values
                        .get_mut(d)
                        .expect("dimension")
                        .entry(v)
                        .or_default() += 1;
                }
            }
            let (Some(m), Some(c)) = (get("modality"), get("category")) else {
                continue;
            };
            for r in ROOTS {
                if let Some(v) = get(r) {
                    *t.paths
                        .get_mut(r)
                        .expect("root")
                        .entry(v)
                        .or_default()
                        .entry(m.clone())
                        .or_default()
                        .entry(c.clone())
                        .or_default() += 1;
                }
            }
        }
        t
    }

    /// Values of `dimension` that `name` means: an exact value, an
    /// abbreviation, a granularity short form, or a glob.
    fn matches(&self, dimension: &str, name: &str) -> Vec<String> {
        let Some(values) = self.values.get(dimension) else {
            return vec![];
        };
        if name.contains(['*', '?']) {
            return values
                .keys()
                .filter(|v| glob_match(name, v))
                .cloned()
                .collect();
        }
        if let Some(v) = values.keys().find(|v| v.eq_ignore_ascii_case(name)) {
            return vec![v.clone()];
        }
        ABBREVIATIONS
            .iter()
            .filter(|(d, a, _)| *d == dimension && a.eq_ignore_ascii_case(name))
            .filter_map(|(_, _, full)| values.keys().find(|v| v.eq_ignore_ascii_case(full)))
            .cloned()
            .collect()
    }

    /// Every name a term may use, for suggestions and completion.
    pub fn all_names(&self) -> Vec<String> {
        let mut out: BTreeSet<String> = BTreeSet::new();
        for vals in self.values.values() {
            out.extend(vals.keys().cloned());
        }
        for (d, a, full) in ABBREVIATIONS {
            if self
                .values
                .get(d)
                .is_some_and(|v| v.keys().any(|k| k.eq_ignore_ascii_case(full)))
            {
                out.insert(a.to_string());
            }
        }
        out.into_iter().collect()
    }

    /// The condition a term stands for.
    pub fn condition(&self, term: &Term) -> Result<Expr> {
        let conds = self.resolve(term)?;
        let mut out: Option<Expr> = None;
        for (column, values) in conds {
            let e = if values.len() == 1 {
                ident(column).eq(lit(values[0].clone()))
            } else {
                ident(column).in_list(values.into_iter().map(lit).collect(), false)
            };
            out = Some(match out {
                None => e,
                Some(o) => o.and(e),
            });
        }
        Ok(out.expect("a resolved term has a condition"))
    }

    /// A term as a conjunction of (column, allowed values).
    pub fn resolve(&self, term: &Term) -> Result<Vec<(&'static str, Vec<String>)>> {
        let err = |msg: String, help: String| {
            Error::query(QueryError::new(msg, term.span).with_help(help))
        };
        if let Some(q) = &term.qualifier {
            if self.open {
                let dim = qualifier_dimension(q)?;
                return Ok(vec![(dim, vec![joined(term)])]);
            }
            let dim = qualifier_dimension(q)?;
            let name = joined(term);
            let found = self.matches(dim, &name);
            if found.is_empty() {
                let near =
                    crate::names::nearest(&name, self.values_of(dim).keys().map(|s| s.as_str()), 3);
                return Err(err(
                    format!("no {dim} `{name}` in the loaded items"),
                    format!("nearest {dim} names: {}", quote_list(&near)),
                ));
            }
            return Ok(vec![(dim, found)]);
        }
        let whole = joined(term);
        if self.open {
            return Ok(vec![("category", vec![whole])]);
        }
        let hits: Vec<(&'static str, Vec<String>)> = DIMENSIONS
            .iter()
            .map(|(d, _)| (*d, self.matches(d, &whole)))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        match hits.len() {
            1 => return Ok(hits),
            n if n > 1 => {
                let forms: Vec<String> = hits
                    .iter()
                    .map(|(d, v)| {
                        format!(
                            "#{d}:{}",
                            quote_term(if whole.contains(['*', '?']) {
                                &whole
                            } else {
                                &v[0]
                            })
                        )
                    })
                    .collect();
                return Err(err(
                    format!("`{whole}` is ambiguous: it names values in {n} dimensions"),
                    format!("write one of {}", forms.join(", ")),
                ));
            }
            _ => {}
        }
        if term.segments.len() > 1 {
            return self.resolve_path(term);
        }
        let names = self.all_names();
        let near = crate::names::nearest(&whole, names.iter().map(|s| s.as_str()), 3);
        Err(err(
            format!("unknown lexical-tree name `{whole}`"),
            format!(
                "nearest names: {}; `.tree` lists them all",
                quote_list(&near)
            ),
        ))
    }

    fn resolve_path(&self, term: &Term) -> Result<Vec<(&'static str, Vec<String>)>> {
        let segs: Vec<&str> = term.segments.iter().map(|s| s.text.as_str()).collect();
        let first = term.segments[0].span;
        let mut roots: Vec<(&'static str, String)> = vec![];
        for r in ROOTS {
            for v in self.matches(r, segs[0]) {
                roots.push((r, v));
            }
        }
        if roots.is_empty() {
            return Err(Error::query(
                QueryError::new(
                    format!("`{}` is not a task, department or granularity", segs[0]),
                    first,
                )
                .with_help("a path starts at a root value: #DD/\"X-ray\"/\"lung nodule\""),
            ));
        }
        if roots.len() > 1 {
            return Err(Error::query(QueryError::new(
                format!(
                    "`{}` names several root values; a path needs exactly one",
                    segs[0]
                ),
                first,
            )));
        }
        let (root, value) = roots.remove(0);
        let mut out = vec![(root, vec![value.clone()])];
        let under = &self.paths_of(root)[&value];
        let modality_seg = &term.segments[1];
        let modalities: Vec<String> = under
            .keys()
            .filter(|m| {
                if modality_seg.text.contains(['*', '?']) {
                    glob_match(&modality_seg.text, m)
                } else {
                    m.eq_ignore_ascii_case(&modality_seg.text)
                }
            })
            .cloned()
            .collect();
        if modalities.is_empty() {
            let there: Vec<&str> = under.keys().map(|s| s.as_str()).collect();
            return Err(Error::query(
                QueryError::new(
                    format!("no modality `{}` under {value}", modality_seg.text),
                    modality_seg.span,
                )
                .with_help(format!("modalities there: {}", quote_list(&there))),
            ));
        }
        out.push(("modality", modalities.clone()));
        if let Some(cat_seg) = term.segments.get(2) {
            let mut cats: BTreeSet<String> = BTreeSet::new();
            for m in &modalities {
                for c in under[m].keys() {
                    let ok = if cat_seg.text.contains(['*', '?']) {
                        glob_match(&cat_seg.text, c)
                    } else {
                        c.eq_ignore_ascii_case(&cat_seg.text)
                    };
                    if ok {
                        cats.insert(c.clone());
                    }
                }
            }
            if cats.is_empty() {
                let there: BTreeSet<&str> = modalities
                    .iter()
                    .flat_map(|m| under[m].keys().map(|s| s.as_str()))
                    .collect();
                let there: Vec<&str> = there.into_iter().collect();
                let near = crate::names::nearest(&cat_seg.text, there.iter().copied(), 5);
                return Err(Error::query(
                    QueryError::new(
                        format!(
                            "no category `{}` under {value} / {}",
                            cat_seg.text,
                            modalities.join(", ")
                        ),
                        cat_seg.span,
                    )
                    .with_help(format!(
                        "{} categories there, nearest: {}",
                        there.len(),
                        quote_list(&near)
                    )),
                ));
            }
            out.push(("category", cats.into_iter().collect()));
        }
        if let Some(extra) = term.segments.get(3) {
            return Err(Error::query(QueryError::new(
                "a path has at most three steps: root / modality / category",
                extra.span,
            )));
        }
        Ok(out)
    }
}

/// The dimension a qualifier (`dept:`, `modality:`, ...) names.
fn qualifier_dimension(q: &crate::syntax::ast::Name) -> Result<&'static str> {
    DIMENSIONS
        .iter()
        .find(|(_, quals)| quals.iter().any(|x| x.eq_ignore_ascii_case(&q.text)))
        .map(|(d, _)| *d)
        .ok_or_else(|| {
            Error::query(
                QueryError::new(format!("unknown qualifier `{}`", q.text), q.span).with_help(
                    "qualifiers: task, department (dept), granularity, modality, category",
                ),
            )
        })
}

fn joined(term: &Term) -> String {
    term.segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join("/")
}

/// A name as a term would be written: bare when it can be, else quoted.
pub fn quote_term(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '*' | '.' | '+' | '?'))
    {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\\\""))
    }
}

fn quote_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("#{}", quote_term(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*MRI", "T2 weighted MRI"));
        assert!(glob_match("*mri", "MRI"));
        assert!(!glob_match("*MRI", "MRI scan"));
        assert!(glob_match("X-?ay", "X-ray"));
        assert!(glob_match("*[b]*", "a [B] c"));
        assert!(!glob_match("*[b]*", "a b c"));
        assert!(glob_match("ÉCHO*", "écho cardiaque"));
    }
}
