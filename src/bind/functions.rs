//! The scalar functions expressions may call: DataFusion's own library,
//! looked up by name or alias (case-insensitive). Binding checks their
//! arguments; completion, highlighting and `.help functions` list them.

use datafusion::logical_expr::{ScalarUDF, Volatility};
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

/// Every function under each of its names, lower-case.
static FUNCTIONS: LazyLock<BTreeMap<String, Arc<ScalarUDF>>> = LazyLock::new(|| {
    let mut m = BTreeMap::new();
    for f in datafusion::functions::all_default_functions() {
        for name in std::iter::once(f.name()).chain(f.aliases().iter().map(String::as_str)) {
            m.insert(name.to_lowercase(), Arc::clone(&f));
        }
    }
    m
});

/// The function a (lower-case) name calls.
pub fn find(name: &str) -> Option<Arc<ScalarUDF>> {
    FUNCTIONS.get(name).cloned()
}

/// Every name a function can be called by, in order, with `div`.
pub fn names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS
        .keys()
        .map(String::as_str)
        .chain(std::iter::once("div"))
}

/// The names that can be called from a query: not the volatile ones.
pub fn callable() -> Vec<&'static str> {
    let mut v: Vec<&str> = FUNCTIONS
        .iter()
        .filter(|(_, f)| f.signature().volatility != Volatility::Volatile)
        .map(|(n, _)| n.as_str())
        .collect();
    v.push("div");
    v.sort_unstable();
    v
}

/// How a function is called, from DataFusion's documentation where it has
/// it (`length(str)`), else its name with `(...)`.
pub fn signature(f: &ScalarUDF) -> String {
    f.documentation()
        .map(|d| d.syntax_example.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("{}(...)", f.name()))
}

/// What a function does, in one line (DataFusion's description).
pub fn description(f: &ScalarUDF) -> Option<String> {
    f.documentation()
        .map(|d| {
            d.description
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_is_there() {
        for n in [
            "length",
            "lower",
            "upper",
            "substr",
            "strpos",
            "regexp_like",
            "regexp_replace",
            "coalesce",
            "round",
            "abs",
            "least",
            "greatest",
            "starts_with",
        ] {
            assert!(find(n).is_some(), "{n}");
        }
        let callable = callable();
        assert!(callable.contains(&"length") && callable.contains(&"div"));
        assert!(!callable.contains(&"random") && !callable.contains(&"uuid"));
        assert!(signature(&find("lower").unwrap()).starts_with("lower("));
    }
}
