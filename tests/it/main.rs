//! The integration tests: one module per area, all in one test binary. Each
//! test binary links DataFusion, so a change to the library relinks one
//! binary here instead of one per file. Run one area with a filter on its
//! module: `cargo test --locked --test it golden::`.

mod common;

mod bind;
mod cache;
mod cli;
mod corpus;
mod datasets;
mod day_one;
mod docs;
mod eras;
mod expressions;
mod fuzz;
mod gen;
mod golden;
mod images;
mod item_stats;
mod language_real;
mod limits;
mod loaders;
mod pivot;
mod progress;
mod real_data;
mod repl;
mod report;
mod stats;
mod tree;
mod workspace;
