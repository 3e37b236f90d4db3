//! How a result column is printed for people, and what it is (a key or a
//! metric). A leaf module: planning puts both on the result's Arrow fields
//! as metadata (so they travel with the result, into Parquet files too);
//! renderers and reports read them back.

use datafusion::arrow::datatypes::{Field, Schema};
use std::collections::{BTreeMap, HashMap};

/// The field-metadata key of a column's [`Style`].
pub const STYLE_KEY: &str = "medql.style";

/// The field-metadata key of a column's [`Role`].
pub const ROLE_KEY: &str = "medql.role";

/// How a renderer should print a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// A percentage: two decimals in tables.
    Percent,
    /// A p-value: three significant digits in exponent form in tables.
    PValue,
}

impl Style {
    pub fn tag(self) -> &'static str {
        match self {
            Style::Percent => "percent",
            Style::PValue => "p_value",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Style> {
        [Style::Percent, Style::PValue]
            .into_iter()
            .find(|s| s.tag() == tag)
    }
}

/// What an aggregated result's column is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A group key (`by` keys; the pair of models in `compare`).
    Key,
    /// A computed value (a metric, a comparison's counts and tests).
    Metric,
}

impl Role {
    pub fn tag(self) -> &'static str {
        match self {
            Role::Key => "key",
            Role::Metric => "metric",
        }
    }
}

/// The field metadata of a column with this role and style.
pub fn metadata(role: Role, style: Option<Style>) -> BTreeMap<String, String> {
    let mut m = BTreeMap::from([(ROLE_KEY.to_string(), role.tag().to_string())]);
    if let Some(s) = style {
        m.insert(STYLE_KEY.to_string(), s.tag().to_string());
    }
    m
}

/// A field's style, from its metadata.
pub fn style_of(field: &Field) -> Option<Style> {
    field
        .metadata()
        .get(STYLE_KEY)
        .and_then(|t| Style::from_tag(t))
}

/// A field's role, from its metadata (none for case rows).
pub fn role_of(field: &Field) -> Option<Role> {
    match field.metadata().get(ROLE_KEY).map(String::as_str) {
        Some("key") => Some(Role::Key),
        Some("metric") => Some(Role::Metric),
        _ => None,
    }
}

/// The styled columns of a schema, by name.
pub fn styles_of(schema: &Schema) -> HashMap<String, Style> {
    schema
        .fields()
        .iter()
        .filter_map(|f| style_of(f).map(|s| (f.name().clone(), s)))
        .collect()
}
