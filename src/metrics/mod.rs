//! Statistics: the Wilson score interval (as DataFusion scalar functions
//! `wilson_low`, `wilson_high` over hits and n) and the exact McNemar test;
//! and the registry of metrics.

pub mod bootstrap;
pub mod registry;

use datafusion::arrow::array::{Array, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::Arc;

/// The 97.5% quantile of the standard normal distribution.
pub const Z95: f64 = 1.959963984540054;

/// The Wilson 95% interval of a proportion `hits / n`, in percent; None when n = 0.
pub fn wilson(hits: f64, n: f64) -> Option<(f64, f64)> {
    if n <= 0.0 {
        return None;
    }
    let p = hits / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    Some((
        100.0 * (centre - half).max(0.0),
        100.0 * (centre + half).min(1.0),
    ))
}

/// Exact two-sided McNemar p-value for discordant counts `b` and `c`:
/// `min(1, 2 * P(X <= min(b, c)))` for X ~ Binomial(b + c, 1/2); 1 when both are 0.
pub fn mcnemar(b: u64, c: u64) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let k = b.min(c);
    // P(X <= k) summed in log space for stability with large n.
    let ln_half_n = -(n as f64) * std::f64::consts::LN_2;
    let mut log_term = ln_half_n; // log C(n, 0) / 2^n
    let mut total = log_term.exp();
    for i in 1..=k {
        log_term += ((n - i + 1) as f64).ln() - (i as f64).ln();
        total += log_term.exp();
    }
    (2.0 * total).min(1.0)
}

/// The one-sided 80% quantile of the standard normal distribution (80% power).
pub const Z80: f64 = 0.8416212335729143;

/// The standard error of an accuracy of `hits` of `n` items, in points:
/// `100 * sqrt(var(x) / n)` with the sample variance (n - 1); None when
/// n < 2.
pub fn se(hits: f64, n: f64) -> Option<f64> {
    if n < 2.0 {
        return None;
    }
    let p = hits / n;
    let var = n * p * (1.0 - p) / (n - 1.0);
    Some(100.0 * (var / n).sqrt())
}

/// The clustered standard error (Miller 2024, eq. 4; lmms-eval's
/// `clustered_stderr`), in points, of `hits` of `n` items in clusters with
/// `a` = sum over clusters of hits_c^2, `b` = sum of hits_c * n_c and `c` =
/// sum of n_c^2: `100 * sqrt(var / n + (1 / n^2) * sum_c sum_{i != j in c}
/// (x_i - p)(x_j - p))`, where the double sum is `sum_c (hits_c - n_c p)^2
/// - n p (1 - p)`. None when n < 2.
pub fn se_clustered(hits: f64, n: f64, a: f64, b: f64, c: f64) -> Option<f64> {
    if n < 2.0 {
        return None;
    }
    let p = hits / n;
    let var = n * p * (1.0 - p) / (n - 1.0);
    let within = a - 2.0 * p * b + p * p * c - n * p * (1.0 - p);
    Some(100.0 * (var / n + within / (n * n)).max(0.0).sqrt())
}

/// The minimum detectable effect of a paired comparison on `n` items at
/// accuracy `hits / n`, in points: 80% power, alpha 0.05 two-sided, item
/// scores correlated at 0.5 (lmms-eval's default); z-based. None when n = 0.
pub fn mde(hits: f64, n: f64) -> Option<f64> {
    if n <= 0.0 {
        return None;
    }
    let p = hits / n;
    Some(100.0 * (Z95 + Z80) * (2.0 * p * (1.0 - p) * (1.0 - 0.5) / n).sqrt())
}

/// Half the 95% interval of a paired difference of accuracies, in points,
/// from the items only model a got right (`only_a`), only model b got right
/// (`only_b`) and both answered (`n`): Z95 * 100 * sqrt(var(x_a - x_b) / n),
/// var with n - 1. None when n < 2.
pub fn delta_half(only_a: f64, only_b: f64, n: f64) -> Option<f64> {
    if n < 2.0 {
        return None;
    }
    let mean = (only_a - only_b) / n;
    let var = (only_a + only_b - n * mean * mean) / (n - 1.0);
    Some(Z95 * 100.0 * (var.max(0.0) / n).sqrt())
}

/// Benjamini-Hochberg adjustment of a list of p-values (same order out),
/// as R's `p.adjust(p, "BH")`.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![0.0; m];
    let mut running = f64::INFINITY;
    for (rank, &i) in order.iter().enumerate().rev() {
        let adj = (m as f64 * p[i] / (rank + 1) as f64).min(1.0);
        running = running.min(adj);
        out[i] = running;
    }
    out
}

/// A statistic of a group's counts, as a DataFusion function over Float64
/// arguments (null in, null out; null where the statistic is undefined).
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
pub enum Stat {
    /// `se(hits, n)`.
    Se,
    /// `se_clustered(hits, n, a, b, c)`.
    SeClustered,
    /// `mde(hits, n)`.
    Mde,
    /// `delta_half(only_a, only_b, n)`.
    DeltaHalf,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct StatUdf {
    stat: Stat,
    signature: Signature,
}

impl StatUdf {
    pub fn udf(stat: Stat) -> ScalarUDF {
        let n = match stat {
            Stat::SeClustered => 5,
            Stat::DeltaHalf => 3,
            Stat::Se | Stat::Mde => 2,
        };
        ScalarUDF::from(StatUdf {
            stat,
            signature: Signature::exact(vec![DataType::Float64; n], Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for StatUdf {
    fn name(&self) -> &str {
        match self.stat {
            Stat::Se => "stat_se",
            Stat::SeClustered => "stat_se_clustered",
            Stat::Mde => "stat_mde",
            Stat::DeltaHalf => "stat_delta_half",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let cols: Vec<&Float64Array> = arrays
            .iter()
            .map(|a| a.as_primitive::<Float64Type>())
            .collect();
        let rows = cols.first().map_or(0, |c| c.len());
        let out: Float64Array = (0..rows)
            .map(|i| {
                if cols.iter().any(|c| c.is_null(i)) {
                    return None;
                }
                let v = |k: usize| cols[k].value(i);
                match self.stat {
                    Stat::Se => se(v(0), v(1)),
                    Stat::Mde => mde(v(0), v(1)),
                    Stat::SeClustered => se_clustered(v(0), v(1), v(2), v(3), v(4)),
                    Stat::DeltaHalf => delta_half(v(0), v(1), v(2)),
                }
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// Holm's step-down adjustment of a list of p-values (same order out).
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        let adj = ((m - rank) as f64 * p[i]).min(1.0);
        running = running.max(adj);
        out[i] = running;
    }
    out
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct WilsonUdf {
    high: bool,
    signature: Signature,
}

impl WilsonUdf {
    pub fn udf(high: bool) -> ScalarUDF {
        ScalarUDF::from(WilsonUdf {
            high,
            signature: Signature::exact(
                vec![DataType::Float64, DataType::Float64],
                Volatility::Immutable,
            ),
        })
    }
}

impl ScalarUDFImpl for WilsonUdf {
    fn name(&self) -> &str {
        if self.high {
            "wilson_high"
        } else {
            "wilson_low"
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        if arrays.len() != 2 {
            return exec_err!("{} takes hits and n", self.name());
        }
        let hits = arrays[0].as_primitive::<Float64Type>();
        let n = arrays[1].as_primitive::<Float64Type>();
        let out: Float64Array = (0..hits.len())
            .map(|i| {
                if hits.is_null(i) || n.is_null(i) {
                    return None;
                }
                wilson(hits.value(i), n.value(i)).map(|(lo, hi)| if self.high { hi } else { lo })
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// `mcnemar_p(only_a, only_b)`: the exact McNemar p-value as a DataFusion function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct McnemarUdf {
    signature: Signature,
}

impl McnemarUdf {
    pub fn udf() -> ScalarUDF {
        ScalarUDF::from(McnemarUdf {
            signature: Signature::exact(
                vec![DataType::Int64, DataType::Int64],
                Volatility::Immutable,
            ),
        })
    }
}

impl ScalarUDFImpl for McnemarUdf {
    fn name(&self) -> &str {
        "mcnemar_p"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use datafusion::arrow::datatypes::Int64Type;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        if arrays.len() != 2 {
            return exec_err!("mcnemar_p takes two counts");
        }
        let b = arrays[0].as_primitive::<Int64Type>();
        let c = arrays[1].as_primitive::<Int64Type>();
        let out: Float64Array = (0..b.len())
            .map(|i| {
                if b.is_null(i) || c.is_null(i) {
                    return None;
                }
                Some(mcnemar(b.value(i).max(0) as u64, c.value(i).max(0) as u64))
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[cfg(test)]
mod tests {

    /// The definitions written out over the rows (an independent check of
    /// the closed forms).
    fn by_rows(x: &[u8], clusters: &[usize]) -> (f64, f64) {
        let n = x.len() as f64;
        let p = x.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = x.iter().map(|&v| (v as f64 - p).powi(2)).sum::<f64>() / (n - 1.0);
        let mut cross = 0.0;
        for i in 0..x.len() {
            for j in 0..x.len() {
                if i != j && clusters[i] == clusters[j] {
                    cross += (x[i] as f64 - p) * (x[j] as f64 - p);
                }
            }
        }
        (
            100.0 * (var / n).sqrt(),
            100.0 * (var / n + cross / (n * n)).sqrt(),
        )
    }

    #[test]
    fn standard_errors_as_defined() {
        let x = [1u8, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0];
        let cl = [0usize, 0, 0, 1, 1, 2, 2, 2, 2, 3, 4, 4];
        let (se_rows, clustered_rows) = by_rows(&x, &cl);
        let hits = x.iter().filter(|&&v| v == 1).count() as f64;
        let n = x.len() as f64;
        assert!((se(hits, n).unwrap() - se_rows).abs() < 1e-9);
        // Cluster sums: a = sum h_c^2, b = sum h_c n_c, c = sum n_c^2.
        let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
        for k in 0..5 {
            let nc = cl.iter().filter(|&&v| v == k).count() as f64;
            let hc = cl
                .iter()
                .zip(&x)
                .filter(|(&v, &y)| v == k && y == 1)
                .count() as f64;
            a += hc * hc;
            b += hc * nc;
            c += nc * nc;
        }
        let got = se_clustered(hits, n, a, b, c).unwrap();
        assert!(
            (got - clustered_rows).abs() < 1e-9,
            "{got} {clustered_rows}"
        );
        // Every row its own cluster: the plain standard error.
        assert!((se_clustered(hits, n, hits, hits, n).unwrap() - se_rows).abs() < 1e-9);
        // n < 2, all equal.
        assert_eq!(se(1.0, 1.0), None);
        assert_eq!(se(5.0, 5.0), Some(0.0));
        assert_eq!(mde(0.0, 0.0), None);
        let m = mde(50.0, 100.0).unwrap();
        assert!((m - 100.0 * (Z95 + Z80) * (0.25f64 / 100.0).sqrt()).abs() < 1e-9);
    }

    #[test]
    fn benjamini_hochberg_as_r() {
        // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "BH") = 0.02 0.04 0.04 0.02
        let q = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.005]);
        for (a, b) in q.iter().zip([0.02, 0.04, 0.04, 0.02]) {
            assert!((a - b).abs() < 1e-12, "{q:?}");
        }
        // R: p.adjust(c(0.5, 0.9), "BH") = 0.9 0.9
        assert_eq!(benjamini_hochberg(&[0.5, 0.9]), [0.9, 0.9]);
    }

    use super::*;

    #[test]
    fn wilson_known_values() {
        // 50/100: centre 0.5, half-width 0.0960 (textbook value 40.38%..59.62%).
        let (lo, hi) = wilson(50.0, 100.0).unwrap();
        assert!((lo - 40.383).abs() < 1e-3, "{lo}");
        assert!((hi - 59.617).abs() < 1e-3, "{hi}");
        let (lo, hi) = wilson(0.0, 10.0).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - 27.753).abs() < 1e-3, "{hi}");
        assert_eq!(wilson(0.0, 0.0), None);
    }

    #[test]
    fn mcnemar_exact() {
        assert_eq!(mcnemar(0, 0), 1.0);
        // b=1, c=5: 2 * (1 + 6) / 64 = 0.21875
        assert!((mcnemar(1, 5) - 0.21875).abs() < 1e-12);
        assert!((mcnemar(5, 1) - 0.21875).abs() < 1e-12);
        // b=0, c=10: 2 / 1024
        assert!((mcnemar(0, 10) - 2.0 / 1024.0).abs() < 1e-15);
        assert_eq!(mcnemar(3, 3), 1.0);
    }

    #[test]
    fn holm_adjustment() {
        let adj = holm(&[0.01, 0.04, 0.03]);
        assert!((adj[0] - 0.03).abs() < 1e-12);
        assert!((adj[2] - 0.06).abs() < 1e-12);
        assert!((adj[1] - 0.06).abs() < 1e-12);
    }
}
