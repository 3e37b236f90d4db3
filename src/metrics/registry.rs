//! The metric registry: every metric `score` knows, in one table. An entry
//! says what the metric is called, what it means, what argument it takes,
//! which additive parts it is computed from, how the parts become its
//! value, and how it is printed. Binding, planning, completion, help and
//! the docs all read this table: adding a metric is adding an entry here
//! (and a line in `docs/language.md`).

use crate::scoring::rules::{self, RuleSet};
use crate::style::Style;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{case, cast, lit, Expr};
use datafusion::prelude::ident;

/// The argument a metric takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    None,
    /// A column of the relation: `macro(task)`.
    Column,
    /// An extraction rule set: `acc(legacy)`; without one the session's policy.
    RuleSet,
    /// Two rule sets, from and to: `shift(v2024, v2025)`; without them
    /// [`rules::BASELINE`] and [`rules::DEFAULT`].
    RuleSetPair,
    /// An expression over the rows: `mean(length(prediction))`. Binding
    /// computes it as a column of the rows (see [`agg_column`]).
    Expr,
}

/// An aggregate over an expression of the rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggKind {
    Mean,
    Sum,
    Min,
    Max,
    Median,
}

/// The column of the rows that the `slot`-th aggregated expression of a
/// query is computed into.
pub fn agg_column(slot: u16) -> String {
    format!("__agg{slot}")
}

/// An additive part of the metrics, aggregated once per group and scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// Rows.
    N,
    /// Correct rows under the session's policy.
    Hits,
    /// Rows whose item has an answer.
    Answers,
    /// Rows whose choice is `Z` (no letter found).
    Z,
    /// Items not answered.
    Missing,
    /// Rows with an answer but no verdict (see [`Part::N`]); only where
    /// such rows can exist.
    Unjudged,
    /// Correct rows under one rule set (`acc(<rule set>)`, `shift`).
    HitsUnder(&'static RuleSet),
    /// Correct rows by VLMEvalKit's recorded verdicts (`acc(recorded)`).
    HitsRecorded,
    /// Rows with an answer but no recorded verdict (a model without a
    /// result file).
    UnjudgedRecorded,
    /// Rows whose letter differs between two rule sets.
    Flips(&'static RuleSet, &'static RuleSet),
    /// The mean of 1 / n_options.
    Inv,
    /// An aggregate of an expression's column (its slot).
    Agg(AggKind, u16),
}

impl Part {
    /// The column name stem of the part.
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        let stem: &'static str = match self {
            Part::N => "n",
            Part::Hits => "hits",
            Part::Answers => "answers",
            Part::Z => "z",
            Part::Missing => "missing",
            Part::Unjudged => "unjudged",
            Part::HitsUnder(r) => r.hits_name(),
            Part::HitsRecorded => "hits_recorded",
            Part::UnjudgedRecorded => "unjudged_recorded",
            Part::Flips(a, b) => rules::flips_name(a, b),
            Part::Inv => "inv",
            Part::Agg(kind, slot) => {
                return std::borrow::Cow::Owned(format!("agg_{kind:?}_{slot}").to_lowercase())
            }
        };
        std::borrow::Cow::Borrowed(stem)
    }

    /// Whether the part needs predictions (not available `from items`).
    pub fn needs_predictions(self) -> bool {
        !matches!(self, Part::N | Part::Inv | Part::Agg(..))
    }

    /// How the part is aggregated, over which value of a row.
    pub fn aggregate(self) -> Result<Aggregate> {
        Ok(match self {
            Part::N => Aggregate::Count(lit(1i64)),
            Part::Hits => Aggregate::CountIf(ident("correct")),
            Part::Answers => Aggregate::Count(ident("answer")),
            Part::Z => Aggregate::CountIf(ident("choice").eq(lit("Z"))),
            Part::Missing => Aggregate::CountIf(ident("answered").is_false()),
            Part::Unjudged => Aggregate::CountIf(
                ident("answer")
                    .is_not_null()
                    .and(ident("correct").is_null()),
            ),
            Part::HitsUnder(r) => Aggregate::CountIf(ident(r.correct())),
            Part::HitsRecorded => Aggregate::CountIf(ident(RECORDED_CORRECT)),
            Part::UnjudgedRecorded => Aggregate::CountIf(
                ident("answer")
                    .is_not_null()
                    .and(ident(RECORDED_CORRECT).is_null()),
            ),
            Part::Flips(a, b) => Aggregate::CountIf(ident(a.choice()).not_eq(ident(b.choice()))),
            Part::Agg(kind, slot) => {
                let c = ident(agg_column(slot));
                match kind {
                    AggKind::Mean => Aggregate::Avg(c),
                    AggKind::Sum => Aggregate::Sum(c),
                    AggKind::Min => Aggregate::Min(c),
                    AggKind::Max => Aggregate::Max(c),
                    AggKind::Median => Aggregate::Median(c),
                }
            }
            Part::Inv => Aggregate::Avg(
                case(ident("n_options").gt(lit(0i64)))
                    .when(
                        lit(true),
                        exact(lit(1.0f64) / cast(ident("n_options"), DataType::Float64)),
                    )
                    .end()?,
            ),
        })
    }
}

/// How a part is aggregated.
pub enum Aggregate {
    Count(Expr),
    /// The rows where a condition holds (null: not holding). Where every
    /// group has rows this is a filtered count; over no rows (a query
    /// without keys, a pivot cell) it is null, as a sum of 0s and 1s is.
    CountIf(Expr),
    Sum(Expr),
    Avg(Expr),
    Min(Expr),
    Max(Expr),
    /// Not combinable from partial aggregates.
    Median(Expr),
}

/// 1 where `cond` holds, else 0 (null counts as not holding). A cast of
/// a boolean is a single vectorised kernel, far cheaper than a CASE.
pub fn one_if(cond: Expr) -> Expr {
    cast(cond.is_true(), DataType::Int64)
}

/// The rows where `cond` holds (null counts as not holding), as a count
/// with a filter: the condition is evaluated on bitmaps and the rows it
/// keeps are counted, with no per-row cast to a number and sum (0, not
/// null, over no rows).
pub fn count_if(cond: Expr) -> Result<Expr, datafusion::error::DataFusionError> {
    use datafusion::logical_expr::ExprFunctionExt;
    datafusion::functions_aggregate::expr_fn::count(lit(1i64))
        .filter(cond)
        .build()
}

/// A fraction as a fixed-point decimal (20 places), so that sums of
/// fractions are exact integer sums: the same in any order, hence the same
/// bytes from run to run however the rows are split among threads (a sum
/// of floats is not associative).
pub fn exact(e: Expr) -> Expr {
    cast(e, DataType::Decimal128(38, 20))
}

/// What a metric's final expression can use: its scope's parts and the
/// helpers every percentage shares.
pub struct Cells<'a> {
    /// The part's column in this scope.
    pub part: &'a dyn Fn(Part) -> Expr,
    /// Some answered rows may lack a verdict: accuracies count only the
    /// rows that have one.
    pub partial_verdicts: bool,
    /// For `macro`: the columns of its per-key share sum and key count.
    pub macro_cells: Option<(Expr, Expr)>,
    /// For `se_clustered`: the columns of its cluster sums (sum of
    /// hits_c^2, of hits_c * n_c, of n_c^2).
    pub cluster_cells: Option<(Expr, Expr, Expr)>,
    /// For `acc(<rule set>)`: the rule set's name.
    pub rule_set: Option<&'a str>,
    /// For `shift(a, b)` and `flips(a, b)`: the two rule sets' names.
    pub rule_pair: Option<(&'a str, &'a str)>,
    /// For an aggregate over an expression: its slot.
    pub agg: Option<u16>,
}

/// An expression as a Float64.
pub fn f64e(e: Expr) -> Expr {
    cast(e, DataType::Float64)
}

impl Cells<'_> {
    /// Rows that count for accuracy: those with an answer (a TEST split's
    /// rows have none), without those lacking a verdict.
    pub fn judged_n(&self) -> Expr {
        self.judged_answers()
    }

    /// Answered items that count for accuracy.
    pub fn judged_answers(&self) -> Expr {
        if self.partial_verdicts {
            (self.part)(Part::Answers) - (self.part)(Part::Unjudged)
        } else {
            (self.part)(Part::Answers)
        }
    }

    /// `100 * num / n`, null when n = 0.
    pub fn pct_of(&self, num: Expr, n: Expr) -> Result<Expr> {
        case(n.clone().gt(lit(0i64)))
            .when(lit(true), f64e(num) / f64e(n) * lit(100.0f64))
            .end()
    }

    /// `e` where the group has answered items with verdicts, else null.
    pub fn gate(&self, e: Expr) -> Result<Expr> {
        case(self.judged_answers().gt(lit(0i64)))
            .when(lit(true), e)
            .end()
    }

    /// `e` where the group has answered items, else null.
    pub fn gate_all(&self, e: Expr) -> Result<Expr> {
        case((self.part)(Part::Answers).gt(lit(0i64)))
            .when(lit(true), e)
            .end()
    }

    /// The rule sets `shift` and `flips` compare: from and to.
    fn pair(&self) -> (&'static RuleSet, &'static RuleSet) {
        let find = |n: &str| rules::find(n);
        match self.rule_pair.and_then(|(a, b)| find(a).zip(find(b))) {
            Some(p) => p,
            None => (rules::baseline(), rules::default_set()),
        }
    }

    /// The correct rows under `acc(<rule set>)`'s rule set.
    fn hits_under(&self) -> Part {
        Part::HitsUnder(
            self.rule_set
                .and_then(rules::find)
                .unwrap_or_else(rules::default_set),
        )
    }
}

/// One metric.
pub struct MetricDef {
    pub name: &'static str,
    /// What the metric means, for help, completion and docs; `{rule sets}`
    /// stands for the metric with every rule set (`acc(legacy), ...`),
    /// `{baseline}` and `{default}` for [`rules::BASELINE`] and
    /// [`rules::DEFAULT`] (see [`MetricDef::describe`]).
    pub doc: &'static str,
    pub arg: Arg,
    /// The output column names; `{}` stands for the argument (a rule set,
    /// or the resolved column name).
    pub outputs: &'static [&'static str],
    /// The parts it is computed from.
    pub parts: fn(&Cells) -> Vec<Part>,
    /// The value(s) from the parts, one per output.
    pub value: fn(&Cells) -> Result<Vec<Expr>>,
    pub style: Option<Style>,
}

impl MetricDef {
    /// Whether it can be computed on item rows alone (`from items`).
    pub fn on_items(&self, cells: &Cells) -> bool {
        (self.parts)(cells).iter().all(|p| !p.needs_predictions())
    }

    /// The output names for an argument.
    pub fn output_names(&self, arg: Option<&str>) -> Vec<String> {
        self.outputs
            .iter()
            .map(|o| o.replace("{}", arg.unwrap_or("")))
            .collect()
    }

    /// What it means, with the rule sets of the registry in place of
    /// `{rule sets}`, `{baseline}` and `{default}`.
    pub fn describe(&self) -> String {
        let with_each: Vec<String> = rules::names()
            .map(|r| format!("{}({r})", self.name))
            .collect();
        self.doc
            .replace("{rule sets}", &with_each.join(", "))
            .replace("{baseline}", rules::BASELINE)
            .replace("{default}", rules::DEFAULT)
    }

    /// How it is written, for help and completion: `macro(<key>)`.
    pub fn usage(&self) -> String {
        match self.arg {
            Arg::None => self.name.to_string(),
            Arg::Column => format!("{}(<key>)", self.name),
            Arg::RuleSet => format!("{}[(<rule set>)]", self.name),
            Arg::RuleSetPair => format!("{}[(<rule set>, <rule set>)]", self.name),
            Arg::Expr => format!("{}(<expression>)", self.name),
        }
    }
}

/// The hidden column of the results view holding the recorded verdict
/// whatever the policy (`acc(recorded)`).
pub const RECORDED_CORRECT: &str = "__correct_recorded";

/// `acc(<rule set>)` names `recorded`: VLMEvalKit's verdicts.
pub const RECORDED: &str = "recorded";

fn acc_parts(c: &Cells) -> Vec<Part> {
    let mut v = vec![Part::N, Part::Hits, Part::Answers];
    if c.partial_verdicts {
        v.push(Part::Unjudged);
    }
    match c.rule_set {
        Some(RECORDED) => v.extend([Part::HitsRecorded, Part::UnjudgedRecorded]),
        Some(_) => v.push(c.hits_under()),
        None => {}
    }
    v
}

/// Every metric, in the order help lists them.
pub static METRICS: &[MetricDef] = &[
    MetricDef {
        name: "n",
        doc: "rows in the group",
        arg: Arg::None,
        outputs: &["n"],
        parts: |_| vec![Part::N],
        value: |c| Ok(vec![(c.part)(Part::N)]),
        style: None,
    },
    MetricDef {
        name: "hits",
        doc: "correct rows",
        arg: Arg::None,
        outputs: &["hits"],
        parts: acc_parts,
        value: |c| {
            if !c.partial_verdicts {
                return Ok(vec![(c.part)(Part::Hits)]);
            }
            // No hits to count where there are answers but no verdicts.
            let none = (c.part)(Part::Answers)
                .gt(lit(0i64))
                .and(c.judged_answers().eq(lit(0i64)));
            Ok(vec![case(none)
                .when(lit(false), (c.part)(Part::Hits))
                .end()?])
        },
        style: None,
    },
    MetricDef {
        name: "acc",
        doc: "100 * hits / items with an answer; {rule sets}: under one rule set whatever the policy",
        arg: Arg::RuleSet,
        outputs: &["acc"],
        parts: acc_parts,
        value: |c| {
            Ok(vec![match c.rule_set {
                // VLMEvalKit's verdicts: rows without one do not count,
                // and a group with none has no accuracy.
                Some(RECORDED) => {
                    let unjudged = || (c.part)(Part::UnjudgedRecorded);
                    let judged = (c.part)(Part::Answers) - unjudged();
                    case(judged.clone().gt(lit(0i64)))
                        .when(lit(true), c.pct_of((c.part)(Part::HitsRecorded), judged)?)
                        .end()?
                }
                // Under one rule set every answered row has a verdict.
                Some(_) => c.gate_all(c.pct_of((c.part)(c.hits_under()), (c.part)(Part::Answers))?)?,
                None => c.gate(c.pct_of((c.part)(Part::Hits), c.judged_n())?)?,
            }])
        },
        style: Some(Style::Percent),
    },
    MetricDef {
        name: "ci",
        doc: "Wilson 95% interval of acc: ci_low, ci_high",
        arg: Arg::None,
        outputs: &["ci_low", "ci_high"],
        parts: acc_parts,
        value: |c| {
            let args = vec![f64e((c.part)(Part::Hits)), f64e(c.judged_n())];
            Ok(vec![
                c.gate(super::WilsonUdf::udf(false).call(args.clone()))?,
                c.gate(super::WilsonUdf::udf(true).call(args))?,
            ])
        },
        style: Some(Style::Percent),
    },
    MetricDef {
        name: "se",
        doc: "standard error of acc (points): 100 * sqrt(var(x) / n), var with n - 1; null when n < 2",
        arg: Arg::None,
        outputs: &["se"],
        parts: acc_parts,
        value: |c| {
            let args = vec![f64e((c.part)(Part::Hits)), f64e(c.judged_n())];
            Ok(vec![c.gate(super::StatUdf::udf(super::Stat::Se).call(args))?])
        },
        style: Some(Style::Percent),
    },
    MetricDef {
        name: "se_clustered",
        doc: "se_clustered(<key>): standard error of acc with the items clustered by <key> (Miller 2024, eq. 4; a null key is a cluster of its own)",
        arg: Arg::Column,
        outputs: &["se_clustered_{}"],
        parts: acc_parts,
        value: |c| {
            let (a, b, k) = c.cluster_cells.clone().expect("cluster cells");
            let args = vec![
                f64e((c.part)(Part::Hits)),
                f64e(c.judged_n()),
                f64e(a),
                f64e(b),
                f64e(k),
            ];
            Ok(vec![c.gate(
                super::StatUdf::udf(super::Stat::SeClustered).call(args),
            )?])
        },
        style: Some(Style::Percent),
    },
    MetricDef {
        name: "mde",
        doc: "smallest accuracy difference (points) a paired test on these items detects with 80% power at alpha 0.05, for two models of this accuracy correlated at 0.5",
        arg: Arg::None,
        outputs: &["mde"],
        parts: acc_parts,
        value: |c| {
            let args = vec![f64e((c.part)(Part::Hits)), f64e(c.judged_n())];
            Ok(vec![c.gate(super::StatUdf::udf(super::Stat::Mde).call(args))?])
        },
        style: Some(Style::Percent),
    },
    MetricDef {
        name: "acc_adj",
        doc: "chance-adjusted accuracy: 100 * (acc - random) / (100 - random); negative below chance",
        arg: Arg::None,
        outputs: &["acc_adj"],
        parts: |c| {
            let mut v = acc_parts(c);
            v.push(Part::Inv);
            v
        },
        value: |c| {
            let acc = c.pct_of((c.part)(Part::Hits), c.judged_n())?;
            let random = f64e((c.part)(Part::Inv)) * lit(100.0f64);
            let adj = case(random.clone().lt(lit(100.0f64)))
                .when(
                    lit(true),
                    (acc - random.clone()) / (lit(100.0f64) - random) * lit(100.0f64),
                )
                .end()?;
            Ok(vec![c.gate(adj)?])
        },
        style: Some(Style::Percent),
    },
    MetricDef {
        name: "rank",
        doc: "the model's rank by acc within each group of the other by keys (1 = best; ties share the smaller rank; a null acc has no rank); needs model among the by keys",
        arg: Arg::None,
        outputs: &["rank"],
        parts: acc_parts,
        // The accuracy it ranks by; the ranking itself is a window over
        // the groups, added when the query is lowered.
        value: |c| Ok(vec![c.gate(c.pct_of((c.part)(Part::Hits), c.judged_n())?)?]),
        style: None,
    },
    MetricDef {
        name: "rank_ci",
        doc: "the 95% bootstrap interval of rank: the group's items resampled B times (set bootstrap = N; 1000 by default), the same resample for every model, rank_low and rank_high the 2.5% and 97.5% order statistics of the model's ranks, widened to include rank; reproducible for a seed (set seed = N; 0 by default); needs model among the by keys",
        arg: Arg::None,
        outputs: &["rank_low", "rank_high"],
        parts: acc_parts,
        // The intervals come from the bootstrap, run before the plan and
        // joined to the groups when the query is lowered.
        value: |_| Ok(vec![lit(ScalarValue::Int64(None)), lit(ScalarValue::Int64(None))]),
        style: None,
    },
    MetricDef {
        name: "mean",
        doc: "the mean of an expression over the group's rows (nulls left out; booleans count as 0 and 1): mean(length(prediction))",
        arg: Arg::Expr,
        outputs: &["mean_{}"],
        parts: |c| vec![Part::Agg(AggKind::Mean, c.agg.unwrap_or(0))],
        value: |c| Ok(vec![(c.part)(Part::Agg(AggKind::Mean, c.agg.unwrap_or(0)))]),
        style: None,
    },
    MetricDef {
        name: "sum",
        doc: "the sum of an expression over the group's rows: sum(n_options)",
        arg: Arg::Expr,
        outputs: &["sum_{}"],
        parts: |c| vec![Part::Agg(AggKind::Sum, c.agg.unwrap_or(0))],
        value: |c| Ok(vec![(c.part)(Part::Agg(AggKind::Sum, c.agg.unwrap_or(0)))]),
        style: None,
    },
    MetricDef {
        name: "min",
        doc: "the smallest value of an expression over the group's rows",
        arg: Arg::Expr,
        outputs: &["min_{}"],
        parts: |c| vec![Part::Agg(AggKind::Min, c.agg.unwrap_or(0))],
        value: |c| Ok(vec![(c.part)(Part::Agg(AggKind::Min, c.agg.unwrap_or(0)))]),
        style: None,
    },
    MetricDef {
        name: "max",
        doc: "the largest value of an expression over the group's rows",
        arg: Arg::Expr,
        outputs: &["max_{}"],
        parts: |c| vec![Part::Agg(AggKind::Max, c.agg.unwrap_or(0))],
        value: |c| Ok(vec![(c.part)(Part::Agg(AggKind::Max, c.agg.unwrap_or(0)))]),
        style: None,
    },
    MetricDef {
        name: "median",
        doc: "the median of an expression over the group's rows",
        arg: Arg::Expr,
        outputs: &["median_{}"],
        parts: |c| vec![Part::Agg(AggKind::Median, c.agg.unwrap_or(0))],
        value: |c| Ok(vec![(c.part)(Part::Agg(AggKind::Median, c.agg.unwrap_or(0)))]),
        style: None,
    },
    MetricDef {
        name: "fail",
        doc: "percent of rows whose choice is Z (no letter found)",
        arg: Arg::None,
        outputs: &["fail"],
        parts: |_| vec![Part::N, Part::Z],
        value: |c| Ok(vec![c.pct_of((c.part)(Part::Z), (c.part)(Part::N))?]),
        style: Some(Style::Percent),
    },
    MetricDef {
        name: "missing",
        doc: "rows not answered",
        arg: Arg::None,
        outputs: &["missing"],
        parts: |_| vec![Part::Missing],
        value: |c| Ok(vec![(c.part)(Part::Missing)]),
        style: None,
    },
    MetricDef {
        name: "random",
        doc: "100 * mean(1 / n_options): chance level",
        arg: Arg::None,
        outputs: &["random"],
        parts: |_| vec![Part::Inv],
        value: |c| Ok(vec![f64e((c.part)(Part::Inv)) * lit(100.0f64)]),
        style: Some(Style::Percent),
    },
    MetricDef {
        name: "macro",
        doc: "macro(<key>): unweighted mean of the per-<key> accuracies",
        arg: Arg::Column,
        outputs: &["macro_{}"],
        parts: acc_parts,
        value: |c| {
            let (sum, keys) = c.macro_cells.clone().expect("macro cells");
            let e = case(keys.clone().gt(lit(0i64)))
                .when(
                    lit(true),
                    f64e(sum) / f64e(keys) * lit(100.0f64),
                )
                .end()?;
            Ok(vec![c.gate(e)?])
        },
        style: Some(Style::Percent),
    },
    MetricDef {
        name: "shift",
        doc: "points gained by the {default} rules over the {baseline} ones; shift(a, b): by b over a",
        arg: Arg::RuleSetPair,
        outputs: &["shift"],
        parts: |c| {
            let (from, to) = c.pair();
            vec![
                Part::N,
                Part::Answers,
                Part::HitsUnder(from),
                Part::HitsUnder(to),
            ]
        },
        value: |c| {
            let (from, to) = c.pair();
            let diff = f64e((c.part)(Part::HitsUnder(to)))
                - f64e((c.part)(Part::HitsUnder(from)));
            Ok(vec![c.gate_all(c.pct_of(diff, (c.part)(Part::Answers))?)?])
        },
        style: Some(Style::Percent),
    },
    MetricDef {
        name: "flips",
        doc: "rows whose extracted letter differs between the two rule sets; flips(a, b): between a and b",
        arg: Arg::RuleSetPair,
        outputs: &["flips"],
        parts: |c| {
            let (a, b) = c.pair();
            vec![Part::Flips(a, b)]
        },
        value: |c| {
            let (a, b) = c.pair();
            Ok(vec![(c.part)(Part::Flips(a, b))])
        },
        style: None,
    },
];

/// The metric of a name (case-insensitive).
pub fn find(name: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|m| m.name.eq_ignore_ascii_case(name))
}

/// The metric names, in help order.
pub fn names() -> impl Iterator<Item = &'static str> {
    METRICS.iter().map(|m| m.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_documented_and_found() {
        let docs = include_str!("../../docs/language.md");
        for m in METRICS {
            assert!(
                docs.contains(&format!("| `{}", m.name))
                    || docs.contains(&format!(", `{}", m.name)),
                "docs/language.md has no row for `{}`",
                m.name
            );
            assert!(std::ptr::eq(find(&m.name.to_uppercase()).unwrap(), m));
            assert!(!m.doc.is_empty() && !m.outputs.is_empty());
            assert!(!m.describe().contains('{'), "{}", m.describe());
        }
        assert!(find("accuracy").is_none());
    }

    #[test]
    fn parts_follow_the_request() {
        let zero = |_: Part| lit(0i64);
        let plain = Cells {
            part: &zero,
            partial_verdicts: false,
            macro_cells: None,
            cluster_cells: None,
            rule_set: None,
            rule_pair: None,
            agg: None,
        };
        let acc = find("acc").unwrap();
        assert_eq!(
            (acc.parts)(&plain),
            vec![Part::N, Part::Hits, Part::Answers]
        );
        assert!(!acc.on_items(&plain));
        assert!(find("random").unwrap().on_items(&plain));
        assert!(find("n").unwrap().on_items(&plain));
        for r in rules::RULE_SETS {
            let recorded = Cells {
                part: &zero,
                partial_verdicts: true,
                macro_cells: None,
                cluster_cells: None,
                rule_set: Some(r.name),
                rule_pair: None,
                agg: None,
            };
            let p = (acc.parts)(&recorded);
            assert!(
                p.contains(&Part::Unjudged) && p.contains(&Part::HitsUnder(r)),
                "{p:?}"
            );
            assert_eq!(Part::HitsUnder(r).name(), format!("hits_{}", r.name));
        }
        let shift = (find("shift").unwrap().parts)(&plain);
        assert!(shift.contains(&Part::HitsUnder(rules::baseline())));
        assert!(shift.contains(&Part::HitsUnder(rules::default_set())));
        assert_eq!(
            find("ci").unwrap().output_names(None),
            ["ci_low", "ci_high"]
        );
        assert_eq!(
            find("macro").unwrap().output_names(Some("task")),
            ["macro_task"]
        );
        assert_eq!(find("macro").unwrap().usage(), "macro(<key>)");
    }
}
