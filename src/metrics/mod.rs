//! Statistics: the Wilson score interval (as DataFusion scalar functions
//! `wilson_low`, `wilson_high` over hits and n) and the exact McNemar test;
//! and the registry of metrics.

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
