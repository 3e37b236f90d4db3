//! The registry of extraction rule sets: every rule set medql scores with,
//! in one table. The extraction functions (`extract_<name>`), the scored
//! columns (`choice_<name>`, `rule_<name>`, `correct_<name>`), the cache's
//! columns, the policies, `acc(<name>)`, completion and help all read this
//! table: adding a rule set is adding an entry here (its rules in
//! `extract.rs`, and its row in `docs/language.md`; a test fails without it).

use super::extract::{extract, Extraction, Policy as Variant};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

/// One extraction rule set.
pub struct RuleSet {
    /// The name of its policy and the suffix of its columns (lower case).
    pub name: &'static str,
    /// Other names `set policy`, `--policy` and `acc(...)` accept.
    pub aliases: &'static [&'static str],
    /// Which rules these are, as words that follow "VLMEvalKit's" or
    /// "the" (`2024 rules`); `.schema` reads it.
    pub doc: &'static str,
    /// The rules its extraction applies (see [`RuleSet::extract`]).
    pub variant: Variant,
}

impl RuleSet {
    /// The extraction: a prediction (None: a missing cell) and the option
    /// texts of letters A, B, ... (None: no such option) to a letter and
    /// the rule that gave it.
    pub fn extract(&self, prediction: Option<&str>, options: &[Option<&str>]) -> Extraction {
        extract(self.variant, prediction, options)
    }
}

/// Every rule set, in the order columns, policies and help list them: the
/// eras of VLMEvalKit's exact matching (`vlmeval/utils/matching_util.py`).
pub static RULE_SETS: &[RuleSet] = &[
    RuleSet {
        name: "v2024",
        aliases: &["legacy"],
        doc: "2024 rules (until PR #1175, 2025-08-04; GMAI-MMBench's publication)",
        variant: Variant::Legacy,
    },
    RuleSet {
        name: "v2025",
        aliases: &[],
        doc: "2025 rules (PR #1175, 2025-08-04, until PR #1552, 2026-06-17)",
        variant: Variant::V2025,
    },
    RuleSet {
        name: "v2026",
        aliases: &["current"],
        doc: "2026 rules (since PR #1552, 2026-06-17; VLMEvalKit today)",
        variant: Variant::Current,
    },
];

/// The rule set VLMEvalKit's result files were scored with (its 2024
/// rules): `recorded`'s `choice` is its letter, and `shift` and `flips`
/// measure [`DEFAULT`] against it.
pub const BASELINE: &str = "v2024";

/// The default policy's rule set (VLMEvalKit today), which `shift` and
/// `flips` compare with [`BASELINE`].
pub const DEFAULT: &str = "v2026";

/// The stems of each rule set's scored columns, in the order the scored
/// table has them: `choice_<name>`, `rule_<name>`, `correct_<name>`.
pub const SCORED_STEMS: [&str; 3] = ["choice", "rule", "correct"];

/// The rule set of a name or alias (ASCII case-insensitive).
pub fn find(name: &str) -> Option<&'static RuleSet> {
    RULE_SETS.iter().find(|r| {
        r.name.eq_ignore_ascii_case(name) || r.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// The rule set named [`BASELINE`].
pub fn baseline() -> &'static RuleSet {
    find(BASELINE).expect("BASELINE names a rule set")
}

/// The rule set named [`DEFAULT`].
pub fn default_set() -> &'static RuleSet {
    find(DEFAULT).expect("DEFAULT names a rule set")
}

/// The name of the metric part counting rows whose letter differs
/// between two rule sets: `flips_<a>_<b>`.
pub fn flips_name(a: &RuleSet, b: &RuleSet) -> &'static str {
    static NAMES: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        RULE_SETS
            .iter()
            .map(|x| {
                RULE_SETS
                    .iter()
                    .map(|y| format!("flips_{}_{}", x.name, y.name))
                    .collect()
            })
            .collect()
    });
    let at = |r: &RuleSet| {
        RULE_SETS
            .iter()
            .position(|x| x.name == r.name)
            .expect("a rule set of the registry")
    };
    &names[at(a)][at(b)]
}

/// The rule-set names, in registry order.
pub fn names() -> impl Iterator<Item = &'static str> {
    RULE_SETS.iter().map(|r| r.name)
}

/// Names built from a rule set's name, made once.
struct Derived {
    /// `choice_<name>`, `rule_<name>`, `correct_<name>` (as `SCORED_STEMS`).
    scored: [String; 3],
    /// `extract_<name>`: the extraction function.
    function: String,
    /// `hits_<name>`: the metric part counting its correct rows.
    hits: String,
}

fn derived(set: &RuleSet) -> &'static Derived {
    static ALL: OnceLock<Vec<Derived>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        RULE_SETS
            .iter()
            .map(|r| Derived {
                scored: SCORED_STEMS.map(|s| format!("{s}_{}", r.name)),
                function: format!("extract_{}", r.name),
                hits: format!("hits_{}", r.name),
            })
            .collect()
    });
    let i = RULE_SETS
        .iter()
        .position(|r| r.name == set.name)
        .expect("a rule set of the registry");
    &all[i]
}

impl RuleSet {
    /// The scored column `<stem>_<name>` for a stem of [`SCORED_STEMS`]
    /// (`choice`, `rule`, `correct`); None for another stem.
    pub fn column(&self, stem: &str) -> Option<&'static str> {
        let i = SCORED_STEMS.iter().position(|s| *s == stem)?;
        Some(derived(self).scored[i].as_str())
    }

    /// `choice_<name>`.
    pub fn choice(&self) -> &'static str {
        &derived(self).scored[0]
    }

    /// `rule_<name>`.
    pub fn rule(&self) -> &'static str {
        &derived(self).scored[1]
    }

    /// `correct_<name>`.
    pub fn correct(&self) -> &'static str {
        &derived(self).scored[2]
    }

    /// `extract_<name>`: the name of its DataFusion function.
    pub fn function_name(&self) -> &'static str {
        &derived(self).function
    }

    /// `hits_<name>`: the name of the metric part of its correct rows.
    pub fn hits_name(&self) -> &'static str {
        &derived(self).hits
    }
}

// A rule set is known by its name (names are unique; a test checks).
impl PartialEq for RuleSet {
    fn eq(&self, other: &RuleSet) -> bool {
        self.name == other.name
    }
}

impl Eq for RuleSet {}

impl Hash for RuleSet {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.name.hash(h)
    }
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RuleSet({})", self.name)
    }
}

impl fmt::Display for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lower_case_and_found() {
        let mut seen = std::collections::HashSet::new();
        for r in RULE_SETS {
            assert_eq!(r.name, r.name.to_ascii_lowercase());
            assert!(
                r.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "`{}` must work as a column suffix",
                r.name
            );
            assert!(!r.doc.is_empty());
            for n in std::iter::once(&r.name).chain(r.aliases) {
                assert!(seen.insert(n.to_ascii_lowercase()), "`{n}` is used twice");
                assert!(
                    !n.eq_ignore_ascii_case("recorded"),
                    "`recorded` is the policy of VLMEvalKit's own verdicts"
                );
                assert_eq!(find(n), Some(r));
                assert_eq!(find(&n.to_uppercase()), Some(r));
            }
        }
        assert!(find("none").is_none());
        assert_ne!(baseline(), default_set());
    }

    #[test]
    fn derived_names() {
        for r in RULE_SETS {
            assert_eq!(r.choice(), format!("choice_{}", r.name));
            assert_eq!(r.rule(), format!("rule_{}", r.name));
            assert_eq!(r.correct(), format!("correct_{}", r.name));
            assert_eq!(r.column("correct"), Some(r.correct()));
            assert_eq!(r.column("hit"), None);
            assert_eq!(r.function_name(), format!("extract_{}", r.name));
            assert_eq!(r.hits_name(), format!("hits_{}", r.name));
        }
    }

    #[test]
    fn every_rule_set_is_documented() {
        let docs = include_str!("../../docs/language.md");
        for r in RULE_SETS {
            for needle in [
                format!("`{}`", r.name),
                format!("`acc({})`", r.name),
                format!("`choice_{}`", r.name),
            ] {
                assert!(docs.contains(&needle), "docs/language.md lacks {needle}");
            }
        }
    }
}
