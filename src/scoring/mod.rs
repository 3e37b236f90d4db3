//! Scoring: VLMEvalKit's answer-extraction rules (`extract`), the registry
//! of rule sets (`rules`), every rule set applied to a batch of Arrow
//! arrays at once (`kernel`), the building of the scored `results` relation, once
//! per load, and the `provenance` relation with era detection.

pub mod extract;
pub mod kernel;
pub mod provenance;
pub mod relation;
pub mod rules;

use datafusion::logical_expr::{lit, when, Expr};
use datafusion::prelude::ident;
use rules::{RuleSet, RULE_SETS};
use std::fmt;
use std::str::FromStr;

/// The extraction policy that gives `choice`, `rule` and `correct`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    /// One rule set of the registry ([`rules::RULE_SETS`]).
    Rules(&'static RuleSet),
    /// The `hit` column of VLMEvalKit's result files.
    Recorded,
}

/// The default policy: the rule set [`rules::DEFAULT`] (VLMEvalKit today).
impl Default for Policy {
    fn default() -> Policy {
        Policy::Rules(rules::default_set())
    }
}

impl Policy {
    /// The name of the policy of VLMEvalKit's own verdicts.
    pub const RECORDED: &'static str = "recorded";

    /// Every rule set's policy, in registry order.
    pub fn rule_sets() -> impl Iterator<Item = Policy> {
        RULE_SETS.iter().map(Policy::Rules)
    }

    /// Every policy: the rule sets, then `recorded`.
    pub fn all() -> Vec<Policy> {
        Policy::rule_sets()
            .chain(std::iter::once(Policy::Recorded))
            .collect()
    }

    /// Every policy's name, in order.
    pub fn names() -> Vec<&'static str> {
        Policy::all().into_iter().map(Policy::name).collect()
    }

    /// Every name a policy can be written with: each policy's name, then
    /// its rule set's aliases (`legacy`, `current`).
    pub fn spellings() -> Vec<&'static str> {
        let mut v = Policy::names();
        v.extend(
            rules::RULE_SETS
                .iter()
                .flat_map(|r| r.aliases.iter().copied()),
        );
        v
    }

    /// The policy names as prose: `legacy, current or recorded` with `last`
    /// = "or".
    pub fn names_joined(last: &str) -> String {
        let names = Policy::names();
        match names.split_last() {
            Some((tail, [])) => tail.to_string(),
            Some((tail, head)) => format!("{} {last} {tail}", head.join(", ")),
            None => String::new(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Policy::Rules(r) => r.name,
            Policy::Recorded => Policy::RECORDED,
        }
    }

    /// The rule set of the policy; None for `recorded`.
    pub fn rule_set(self) -> Option<&'static RuleSet> {
        match self {
            Policy::Rules(r) => Some(r),
            Policy::Recorded => None,
        }
    }

    /// What `results`' column `choice`, `rule` or `correct` is under the
    /// policy, over the scored table; None for any other column. Under
    /// `recorded`, `choice` and `rule` are those of [`rules::BASELINE`]
    /// (the rules VLMEvalKit's reference result files were scored with).
    pub fn column(self, name: &str) -> Option<Expr> {
        self.column_with(name, &[])
    }

    /// [`Policy::column`], where under `recorded` the models in `detected`
    /// (and the dataset, where one is named) take `choice` and `rule` from
    /// the rule set their recorded verdicts were found to follow.
    pub fn column_with(self, name: &str, detected: &[provenance::Detected]) -> Option<Expr> {
        match (self, name) {
            (Policy::Rules(r), _) => r.column(name).map(ident),
            (Policy::Recorded, "choice" | "rule") => {
                let base = ident(rules::baseline().column(name)?);
                if detected.is_empty() {
                    return Some(base);
                }
                let mut arms = detected.iter().filter_map(|(id, dataset, r)| {
                    let mut cond = ident("model_id").eq(lit(*id));
                    if let Some(d) = dataset {
                        cond = cond.and(ident("dataset").eq(lit(d.clone())));
                    }
                    Some((cond, ident(r.column(name)?)))
                });
                let (c, v) = arms.next()?;
                let mut e = when(c, v);
                for (c, v) in arms {
                    e = e.when(c, v);
                }
                e.otherwise(base).ok()
            }
            (Policy::Recorded, "correct") => Some(ident("correct_recorded")),
            (Policy::Recorded, _) => None,
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Policy, String> {
        let s = s.trim().to_ascii_lowercase();
        if s == Policy::RECORDED {
            return Ok(Policy::Recorded);
        }
        rules::find(&s).map(Policy::Rules).ok_or_else(|| {
            format!(
                "unknown policy `{s}`; the policies are {}",
                Policy::names_joined("and")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_set_is_a_policy() {
        let all = Policy::all();
        assert_eq!(all.len(), RULE_SETS.len() + 1);
        assert_eq!(all.last(), Some(&Policy::Recorded));
        for r in RULE_SETS {
            let p = Policy::Rules(r);
            assert!(all.contains(&p));
            for n in std::iter::once(&r.name).chain(r.aliases) {
                assert_eq!(n.parse::<Policy>(), Ok(p));
                assert_eq!(n.to_uppercase().parse::<Policy>(), Ok(p));
            }
            assert_eq!(p.to_string(), r.name);
            assert_eq!(p.to_string().parse::<Policy>(), Ok(p));
            assert_eq!(p.rule_set(), Some(r));
        }
        assert_eq!(" Recorded ".parse::<Policy>(), Ok(Policy::Recorded));
        assert_eq!(Policy::Recorded.to_string(), "recorded");
        assert_eq!(
            Policy::default(),
            Policy::Rules(rules::find(rules::DEFAULT).unwrap())
        );
        let err = "strict".parse::<Policy>().unwrap_err();
        for n in Policy::names() {
            assert!(err.contains(n), "{err}");
        }
    }

    #[test]
    fn names_as_prose() {
        let names = Policy::names();
        let joined = Policy::names_joined("or");
        assert!(joined.ends_with(&format!(" or {}", Policy::RECORDED)));
        assert_eq!(joined.replace(" or ", ", "), names.join(", "));
    }

    #[test]
    fn columns_under_each_policy() {
        for p in Policy::all() {
            for c in ["choice", "rule", "correct"] {
                assert!(p.column(c).is_some(), "{p} {c}");
            }
            assert!(p.column("answer").is_none());
        }
        let r = rules::baseline();
        assert_eq!(Policy::Rules(r).column("rule"), Some(ident(r.rule())));
        assert_eq!(Policy::Recorded.column("choice"), Some(ident(r.choice())));
    }
}
