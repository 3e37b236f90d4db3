//! The extraction rules as DataFusion scalar functions over Arrow arrays:
//! one per rule set of the registry, `extract_<name>(prediction, A, B, C,
//! D, E)` (`extract_legacy`, `extract_current`), returning a struct
//! `{choice, rule}` per row.

use super::rules::RuleSet;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::Arc;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ExtractUdf {
    rules: &'static RuleSet,
    signature: Signature,
}

impl ExtractUdf {
    pub fn new(rules: &'static RuleSet) -> ExtractUdf {
        ExtractUdf {
            rules,
            // The prediction, then the options' texts in letter order from A.
            signature: Signature::variadic(vec![DataType::Utf8], Volatility::Immutable),
        }
    }

    pub fn udf(rules: &'static RuleSet) -> ScalarUDF {
        ScalarUDF::from(ExtractUdf::new(rules))
    }
}

pub fn result_fields() -> Fields {
    Fields::from(vec![
        Field::new("choice", DataType::Utf8, false),
        Field::new("rule", DataType::Utf8, false),
    ])
}

/// Cells that pandas reads as missing (its default `na_values`), so that
/// VLMEvalKit sees NaN where the file says `None` or `N/A`: a prediction
/// reading `None` is scored as `nan`, an option reading `NA` is no option.
pub fn is_pandas_na(s: &str) -> bool {
    matches!(
        s,
        "" | "#N/A"
            | "#N/A N/A"
            | "#NA"
            | "-1.#IND"
            | "-1.#QNAN"
            | "-NaN"
            | "-nan"
            | "1.#IND"
            | "1.#QNAN"
            | "<NA>"
            | "N/A"
            | "NA"
            | "NULL"
            | "NaN"
            | "None"
            | "n/a"
            | "nan"
            | "null"
    )
}

/// Each letter's text, `A` to `Z` (`Z` is also no letter).
const LETTERS: [&str; 26] = [
    "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S",
    "T", "U", "V", "W", "X", "Y", "Z",
];

impl ScalarUDFImpl for ExtractUdf {
    fn name(&self) -> &str {
        self.rules.function_name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(result_fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        if arrays.len() < 2 || arrays.len() > 27 {
            return exec_err!("{} takes a prediction and 1 to 26 options", self.name());
        }
        let pred = arrays[0].as_string::<i32>();
        let opts: Vec<_> = arrays[1..].iter().map(|a| a.as_string::<i32>()).collect();
        let n = pred.len();
        let mut choice = StringBuilder::with_capacity(n, n);
        let mut rule = StringBuilder::with_capacity(n, n * 8);
        let mut options: Vec<Option<&str>> = vec![None; opts.len()];
        let extract = self.rules.extract;
        for i in 0..n {
            for (l, o) in opts.iter().enumerate() {
                options[l] = (!o.is_null(i))
                    .then(|| o.value(i))
                    .filter(|v| !is_pandas_na(v));
            }
            let p = (!pred.is_null(i))
                .then(|| pred.value(i))
                .filter(|v| !is_pandas_na(v));
            let e = extract(p, &options);
            let letter = match e.choice {
                b'A'..=b'Z' => LETTERS[(e.choice - b'A') as usize],
                _ => "Z",
            };
            choice.append_value(letter);
            rule.append_value(e.rule.as_str());
        }
        crate::data::progress::scored(n as u64);
        let out = StructArray::new(
            result_fields(),
            vec![
                Arc::new(choice.finish()) as ArrayRef,
                Arc::new(rule.finish()) as ArrayRef,
            ],
            None,
        );
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}
