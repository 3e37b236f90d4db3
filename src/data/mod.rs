//! Loading data: benchmark items (TSV), model predictions (xlsx, csv, tsv,
//! json, jsonl, parquet) and the built-in synthetic demo benchmark.

pub mod demo;
pub mod generate;
pub mod items;
pub mod predictions;
pub mod table;

use crate::error::Result;
pub use items::Items;
pub use predictions::{Coverage, PredictionSet};

/// What to load.
#[derive(Clone, Debug, Default)]
pub struct LoadSpec {
    /// Items TSV files or globs, concatenated in order.
    pub items: Vec<String>,
    /// Prediction files, globs or directories.
    pub predictions: Vec<String>,
}

impl LoadSpec {
    pub fn is_demo(&self) -> bool {
        self.items.is_empty() && self.predictions.is_empty()
    }
}

/// Items and aligned predictions, with what the loader had to say.
#[derive(Debug)]
pub struct Loaded {
    pub items: Items,
    pub sets: Vec<PredictionSet>,
    pub warnings: Vec<String>,
    pub demo: bool,
    pub prediction_files: Vec<String>,
}

pub fn load(spec: &LoadSpec) -> Result<Loaded> {
    if spec.is_demo() {
        return Ok(demo_loaded());
    }
    if spec.items.is_empty() {
        return Err(crate::Error::Usage(
            "--predictions needs --items: the benchmark TSV the predictions answer".into(),
        ));
    }
    let mut items = Items::new();
    for f in items::expand_paths(&spec.items, "items")? {
        items::load_items_file(&f, &mut items)?;
    }
    let mut warnings = vec![];
    let files = predictions::discover(&spec.predictions)?;
    let sets = predictions::load_predictions(&files, &items, &mut warnings)?;
    Ok(Loaded {
        items,
        sets,
        warnings,
        demo: false,
        prediction_files: files.iter().map(|p| p.display().to_string()).collect(),
    })
}

/// The built-in demo benchmark, as loaded data.
pub fn demo_loaded() -> Loaded {
    let d = demo::demo();
    from_demo(d)
}

/// Turn generated demo data into loaded items and prediction sets, through
/// the same assembly as files take.
pub fn from_demo(d: demo::DemoData) -> Loaded {
    let mut items = Items::new();
    items.has_answers = true;
    for (line, it) in d.items.iter().enumerate() {
        let mut cells: Vec<Option<String>> = Vec::with_capacity(items::ITEM_COLUMNS.len());
        cells.push(Some(it.question.clone()));
        for l in 0..5 {
            cells.push(it.options.get(l).cloned());
        }
        cells.push(Some(it.answer.to_string()));
        cells.push(Some(it.category.clone()));
        cells.push(Some(it.task.clone()));
        cells.push(it.department.clone());
        cells.push(Some(it.granularity.clone()));
        cells.push(Some(it.modality.clone()));
        cells.push(Some(it.original_task.clone()));
        items
            .push(&d.dataset, it.index, cells, "<demo>", line as u64 + 2)
            .expect("demo indexes are unique");
    }
    items.files.push("<demo>".into());
    let tables = d
        .models
        .iter()
        .map(|m| table::RawTable {
            file: format!("<demo>/{}", m.name),
            headers: vec!["model".into(), "index".into(), "prediction".into()],
            rows: m
                .predictions
                .iter()
                .map(|(i, p)| vec![Some(m.name.clone()), Some(i.to_string()), p.clone()])
                .collect(),
            row_numbers: (2..m.predictions.len() as u64 + 2).collect(),
            row_unit: "row",
        })
        .collect();
    let mut warnings = vec![];
    let sets =
        predictions::assemble(tables, &items, &mut warnings).expect("demo predictions assemble");
    Loaded {
        items,
        sets,
        warnings,
        demo: true,
        prediction_files: vec![],
    }
}
