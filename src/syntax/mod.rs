//! The language's syntax: statement splitting, the pest grammar and the AST.
pub mod ast;
pub mod parse;
pub mod split;

pub use parse::{parse_source, parse_statement, Parsed};
