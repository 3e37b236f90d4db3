//! The language's syntax: the keyword table, the lexer, statement
//! splitting, the pest grammar and the AST.
pub mod ast;
pub mod keywords;
pub mod lex;
pub mod parse;
pub mod split;

pub use parse::{parse_source, parse_statement, Parsed};
