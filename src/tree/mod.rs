//! The lexical tree: three roots (clinical VQA task, department, perceptual
//! granularity), under each value its modalities, under each modality its
//! category labels. Built from the items of GMAI-MMBench-shaped datasets,
//! plus the paper's abbreviations, and used to resolve `#terms` into
//! conditions. Other datasets have trees of their own ([`generic`]).

pub mod generic;

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

/// A conjunction of (column, allowed values).
pub type Conjunction = Vec<(String, Vec<String>)>;

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
    /// Whether some loaded dataset has GMAI-MMBench's shape.
    pub gmai: bool,
    /// The trees of the other datasets (and of any declared with `--tree`).
    pub generic: Vec<generic::DatasetTree>,
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

    /// The tree of GMAI-MMBench-shaped datasets and one per other dataset.
    pub fn build(items: &Items) -> Tree {
        Tree::build_declared(items, &[]).unwrap_or_default()
    }

    /// [`Tree::build`] where `declared` gives some datasets' paths
    /// (`--tree`); a dataset or column the items do not have is an error.
    pub fn build_declared(
        items: &Items,
        declared: &[generic::Declared],
    ) -> std::result::Result<Tree, String> {
        let mut t = Tree::default();
        for d in DIMENSIONS {
            t.values.insert(d.0, BTreeMap::new());
        }
        for r in ROOTS {
            t.paths.insert(r, BTreeMap::new());
        }
        let datasets = items.datasets();
        let mut gmai_rows = vec![];
        for (name, _) in declared {
            if !datasets.iter().any(|d| d.eq_ignore_ascii_case(name)) {
                return Err(format!(
                    "--tree: no dataset `{name}` is loaded (datasets: {})",
                    datasets.join(", ")
                ));
            }
        }
        for d in &datasets {
            let rows = items.range(d).unwrap_or(0..0);
            let decl = declared
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(d))
                .map(|(_, p)| generic::resolve_columns(items, d, p))
                .transpose()?;
            let gmai_paths: Vec<Vec<String>> = generic::GMAI_PATHS
                .iter()
                .map(|p| p.iter().map(|c| c.to_string()).collect())
                .collect();
            let gmai = match &decl {
                Some(p) => *p == gmai_paths,
                None => generic::is_gmai(items, &rows),
            };
            if gmai {
                gmai_rows.push(rows);
            } else {
                t.generic.push(generic::build(items, d, decl.as_deref()));
            }
        }
        t.gmai = !gmai_rows.is_empty();
        for row in gmai_rows.into_iter().flatten() {
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
        Ok(t)
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
        for g in &self.generic {
            for vals in g.values.values() {
                out.extend(vals.keys().cloned());
            }
        }
        out.into_iter().collect()
    }

    /// The values a tree column of any dataset can take (GMAI-MMBench's
    /// dimensions, or another dataset's tree columns), with item counts.
    pub fn column_values(&self, column: &str) -> BTreeMap<String, u64> {
        let mut out = self.values_of(column).clone();
        for g in &self.generic {
            for (v, n) in g.values.get(column).into_iter().flatten() {
                *out.entry(v.clone()).or_default() += n;
            }
        }
        out
    }

    /// The condition a term stands for: in GMAI-MMBench's tree, and in
    /// the other datasets' trees, any of them.
    pub fn condition(&self, term: &Term) -> Result<Expr> {
        let mut out: Option<Expr> = None;
        for conj in self.alternatives(term)? {
            let mut all: Option<Expr> = None;
            for (column, values) in conj {
                let e = if values.len() == 1 {
                    ident(column).eq(lit(values[0].clone()))
                } else {
                    ident(column).in_list(values.into_iter().map(lit).collect(), false)
                };
                all = Some(match all {
                    None => e,
                    Some(o) => o.and(e),
                });
            }
            if let Some(a) = all {
                out = Some(match out {
                    None => a,
                    Some(o) => o.or(a),
                });
            }
        }
        Ok(out.expect("a resolved term has a condition"))
    }

    /// A term as alternatives, each a conjunction of (column, allowed
    /// values): GMAI-MMBench's tree where it knows the term, and each other
    /// dataset's tree where it does.
    pub fn alternatives(&self, term: &Term) -> Result<Vec<Conjunction>> {
        let gmai = |c: Vec<(&'static str, Vec<String>)>| -> Conjunction {
            c.into_iter().map(|(d, v)| (d.to_string(), v)).collect()
        };
        if self.generic.is_empty() || self.open {
            return Ok(vec![gmai(self.resolve(term)?)]);
        }
        let mut out = vec![];
        if self.gmai && self.gmai_knows(term) {
            out.push(gmai(self.resolve(term)?));
        }
        out.extend(self.resolve_generic(term)?);
        if !out.is_empty() {
            return Ok(out);
        }
        let whole = joined(term);
        if let Some(q) = &term.qualifier {
            // A tree column of some dataset: its values, nearest first.
            let values: BTreeSet<&str> = self
                .generic
                .iter()
                .filter_map(|g| g.column(&q.text).map(|c| &g.values[c]))
                .flat_map(|v| v.keys().map(String::as_str))
                .collect();
            if !values.is_empty() {
                let near = crate::names::nearest(&whole, values.iter().copied(), 3);
                return Err(Error::query(
                    QueryError::new(
                        format!("no {} `{whole}` in the loaded items", q.text),
                        term.span,
                    )
                    .with_help(format!(
                        "nearest {} names: {}",
                        q.text,
                        quote_list(&near)
                    )),
                ));
            }
        }
        if self.gmai {
            // GMAI-MMBench's own error, with its suggestions.
            self.resolve(term)?;
        }
        let names = self.all_names();
        let near = crate::names::nearest(&whole, names.iter().map(|s| s.as_str()), 3);
        let what = match &term.qualifier {
            Some(q) => format!("no {} `{whole}` in the loaded items", q.text),
            None => format!("unknown lexical-tree name `{whole}`"),
        };
        Err(Error::query(QueryError::new(what, term.span).with_help(
            format!(
                "nearest names: {}; `.tree` lists them all",
                quote_list(&near)
            ),
        )))
    }

    /// Whether GMAI-MMBench's tree has something a term names.
    fn gmai_knows(&self, term: &Term) -> bool {
        match &term.qualifier {
            Some(q) => DIMENSIONS
                .iter()
                .find(|(_, quals)| quals.iter().any(|x| x.eq_ignore_ascii_case(&q.text)))
                .is_some_and(|(d, _)| !self.matches(d, &joined(term)).is_empty()),
            None => {
                let whole = joined(term);
                DIMENSIONS
                    .iter()
                    .any(|(d, _)| !self.matches(d, &whole).is_empty())
                    || (term.segments.len() > 1
                        && ROOTS
                            .iter()
                            .any(|r| !self.matches(r, &term.segments[0].text).is_empty()))
            }
        }
    }

    /// A term in the other datasets' trees: per dataset, the tree column it
    /// names (a name in two columns of one dataset is ambiguous), or a path
    /// from a root down its columns. Conjunctions on one column are merged.
    fn resolve_generic(&self, term: &Term) -> Result<Vec<Conjunction>> {
        let whole = joined(term);
        let find = find_values;
        let mut found: Vec<Conjunction> = vec![];
        for g in &self.generic {
            if let Some(q) = &term.qualifier {
                if let Some(c) = g.column(&q.text) {
                    let v = find(&g.values[c], &whole);
                    if !v.is_empty() {
                        found.push(vec![(c.to_string(), v)]);
                    } else if term.segments.len() > 1 {
                        // A path from this column down.
                        found.extend(generic_path(g, Some(c), term));
                    }
                }
                continue;
            }
            let hits: Vec<(String, Vec<String>)> = g
                .values
                .iter()
                .map(|(c, vals)| (c.clone(), find(vals, &whole)))
                .filter(|(_, v)| !v.is_empty())
                .collect();
            if hits.len() > 1 {
                let forms: Vec<String> = hits
                    .iter()
                    .map(|(c, v)| format!("#{c}:{}", quote_term(&v[0])))
                    .collect();
                return Err(Error::query(
                    QueryError::new(
                        format!(
                            "`{whole}` is ambiguous in {}: it names values in {} columns",
                            g.dataset,
                            hits.len()
                        ),
                        term.span,
                    )
                    .with_help(format!("write one of {}", forms.join(", "))),
                ));
            }
            if let Some(h) = hits.into_iter().next() {
                found.push(vec![h]);
                continue;
            }
            if term.segments.len() > 1 {
                found.extend(generic_path(g, None, term));
            }
        }
        // One alternative per column set, values merged.
        let mut merged: Vec<Conjunction> = vec![];
        for conj in found {
            let cols: Vec<&String> = conj.iter().map(|(c, _)| c).collect();
            match merged
                .iter_mut()
                .find(|m| m.iter().map(|(c, _)| c).collect::<Vec<_>>() == cols)
            {
                Some(m) => {
                    for ((_, into), (_, from)) in m.iter_mut().zip(conj) {
                        for v in from {
                            if !into.contains(&v) {
                                into.push(v);
                            }
                        }
                    }
                }
                None => merged.push(conj),
            }
        }
        Ok(merged)
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

/// The values of `vals` a name means: equal ignoring case, or matching its
/// glob.
fn find_values(vals: &BTreeMap<String, u64>, name: &str) -> Vec<String> {
    if name.contains(['*', '?']) {
        vals.keys()
            .filter(|v| glob_match(name, v))
            .cloned()
            .collect()
    } else {
        vals.keys()
            .filter(|v| v.eq_ignore_ascii_case(name))
            .cloned()
            .collect()
    }
}

/// A path term in one dataset's tree: the segments matched, in order,
/// against the columns of a path from its root (or from column `from`)
/// whose first column has the first.
fn generic_path(g: &generic::DatasetTree, from: Option<&str>, term: &Term) -> Option<Conjunction> {
    let starts = g.paths.iter().filter_map(|p| match from {
        None => Some(&p[..]),
        Some(c) => p.iter().position(|x| x == c).map(|i| &p[i..]),
    });
    for path in starts {
        if path.len() < term.segments.len() {
            continue;
        }
        let conj: Conjunction = term
            .segments
            .iter()
            .zip(path)
            .map(|(s, c)| (c.clone(), find_values(&g.values[c], &s.text)))
            .collect();
        if conj.iter().all(|(_, v)| !v.is_empty()) {
            return Some(conj);
        }
    }
    None
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
