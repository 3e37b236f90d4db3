//! How a result column is printed for people. A leaf module: the metric
//! registry sets styles, renderers and reports read them.

/// How a renderer should print a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// A percentage: two decimals in tables.
    Percent,
    /// A p-value: three significant digits in exponent form in tables.
    PValue,
}
