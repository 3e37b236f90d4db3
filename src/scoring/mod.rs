//! Scoring: VLMEvalKit's answer-extraction rules (`extract`), wrapped as
//! vectorised DataFusion scalar functions (`udf`), and the building of the
//! scored `results` relation, once per load.

pub mod extract;
pub mod relation;
pub mod udf;

use std::fmt;
use std::str::FromStr;

/// The extraction policy that gives `choice`, `rule` and `correct`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Policy {
    /// VLMEvalKit's exact-matching rules until August 2025.
    Legacy,
    /// VLMEvalKit's rules today.
    #[default]
    Current,
    /// The `hit` column of VLMEvalKit's result files.
    Recorded,
}

impl Policy {
    pub const ALL: [Policy; 3] = [Policy::Legacy, Policy::Current, Policy::Recorded];

    pub fn name(self) -> &'static str {
        match self {
            Policy::Legacy => "legacy",
            Policy::Current => "current",
            Policy::Recorded => "recorded",
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
        match s.trim().to_ascii_lowercase().as_str() {
            "legacy" => Ok(Policy::Legacy),
            "current" => Ok(Policy::Current),
            "recorded" => Ok(Policy::Recorded),
            other => Err(format!(
                "unknown policy `{other}`; the policies are legacy, current and recorded"
            )),
        }
    }
}
