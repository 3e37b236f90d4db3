//! The catalog binding reads: the session's relations with their columns
//! and types, its models, datasets, policies and lexical-tree values. It is
//! built once per load from the registered tables' schemas; binding a query
//! against it needs no data and runs nothing.

use super::columns;
use crate::scoring::Policy;
use crate::tree::Tree;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, DFSchemaRef};

/// A relation a query can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    /// One row per (model, item), under the session's policy.
    Results,
    /// One row per item.
    Items,
    /// One row per model: what happened to its prediction rows.
    Coverage,
    /// One row per model and dataset: where its numbers came from.
    Provenance,
    /// One row per item: how the models did on it.
    ItemStats,
}

impl Relation {
    pub const ALL: [Relation; 5] = [
        Relation::Results,
        Relation::Items,
        Relation::Coverage,
        Relation::Provenance,
        Relation::ItemStats,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Relation::Results => "results",
            Relation::Items => "items",
            Relation::Coverage => "coverage",
            Relation::Provenance => "provenance",
            Relation::ItemStats => "item_stats",
        }
    }

    /// Whether the relation is shown as it is, never scored: one row per
    /// model (or model and dataset), not per case.
    pub fn shown_only(self) -> bool {
        matches!(self, Relation::Coverage | Relation::Provenance)
    }

    /// The relation a written name means (case-insensitive).
    pub fn find(name: &str) -> Option<Relation> {
        Relation::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(name))
    }
}

/// One column of a relation, for `.schema`, completion and docs.
#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub data_type: DataType,
    pub doc: Option<&'static str>,
}

/// What binding knows about a session.
#[derive(Clone, Debug)]
pub struct Catalog {
    results: DFSchemaRef,
    items: DFSchemaRef,
    coverage: DFSchemaRef,
    provenance: DFSchemaRef,
    item_stats: DFSchemaRef,
    /// Under `recorded`, the models whose verdicts follow another rule set
    /// than the baseline (era detection), with that rule set.
    pub detected: Vec<crate::scoring::provenance::Detected>,
    /// The loaded models, in order: a model's id is its position.
    pub models: Vec<String>,
    /// The models with VLMEvalKit's recorded verdicts (a `hit` column).
    pub recorded: Vec<String>,
    pub datasets: Vec<String>,
    pub tree: Tree,
    /// Whether a model name no loaded model has is an error (not when
    /// checking query files without their data).
    pub models_known: bool,
}

impl Catalog {
    /// `results` is the schema of the results view (with `policy` and the
    /// hidden id columns); `items`, `coverage`, `provenance` and
    /// `item_stats` those of the other relations, in that order.
    pub fn new(
        results: DFSchemaRef,
        [items, coverage, provenance, item_stats]: [DFSchemaRef; 4],
        detected: Vec<crate::scoring::provenance::Detected>,
        models: Vec<String>,
        recorded: Vec<String>,
        datasets: Vec<String>,
        tree: Tree,
    ) -> Catalog {
        Catalog {
            results,
            items,
            coverage,
            provenance,
            item_stats,
            detected,
            models,
            recorded,
            datasets,
            tree,
            models_known: true,
        }
    }

    /// A relation's schema, hidden columns included.
    pub fn schema(&self, r: Relation) -> &DFSchema {
        match r {
            Relation::Results => &self.results,
            Relation::Items => &self.items,
            Relation::Coverage => &self.coverage,
            Relation::Provenance => &self.provenance,
            Relation::ItemStats => &self.item_stats,
        }
    }

    /// A relation's visible columns, in order, with their meaning.
    pub fn columns(&self, r: Relation) -> Vec<Column> {
        self.schema(r)
            .fields()
            .iter()
            .filter(|f| !f.name().starts_with("__"))
            .map(|f| Column {
                name: f.name().clone(),
                data_type: f.data_type().clone(),
                doc: match r {
                    Relation::Provenance => crate::scoring::provenance::doc(f.name()),
                    Relation::ItemStats => columns::item_stats_doc(f.name()),
                    _ => columns::doc(f.name()),
                },
            })
            .collect()
    }

    /// The policies queries can use: `recorded` only where a `hit` column was loaded.
    pub fn policies(&self) -> Vec<Policy> {
        let mut v: Vec<Policy> = Policy::rule_sets().collect();
        if !self.recorded.is_empty() {
            v.push(Policy::Recorded);
        }
        v
    }

    /// A model's id (its position among the loaded models).
    pub fn model_id(&self, name: &str) -> Option<i32> {
        self.models.iter().position(|m| m == name).map(|i| i as i32)
    }

    /// The ids of the models without recorded verdicts: under `recorded`
    /// their correctness is null, and accuracy leaves them out.
    pub fn unrecorded_ids(&self) -> Vec<i32> {
        self.models
            .iter()
            .enumerate()
            .filter(|(_, m)| !self.recorded.contains(m))
            .map(|(i, _)| i as i32)
            .collect()
    }

    /// The values a column can take, where the catalog knows them without
    /// reading rows: models, datasets, policies and the lexical tree's
    /// dimensions.
    pub fn known_values(&self, column: &str) -> Option<Vec<String>> {
        match column {
            "model" if self.models_known => Some(self.models.clone()),
            "dataset" => Some(self.datasets.clone()),
            "policy" => Some(self.policies().iter().map(|p| p.to_string()).collect()),
            c => (crate::tree::DIMENSIONS.iter().any(|(d, _)| *d == c)
                || self.tree.generic.iter().any(|g| g.values.contains_key(c)))
            .then(|| self.tree.column_values(c).keys().cloned().collect())
            .filter(|_| !self.tree.open),
        }
    }
}
