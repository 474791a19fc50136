//! SOQL: the one SOQL parser of the project, shared by the fake Salesforce org (query
//! evaluation) and by orgpool's selection filters. Text goes through [`parse`] to the
//! syntax tree in [`ast`]; `Display` prints a tree back as canonical SOQL.

pub mod ast;
mod dates;
mod display;
pub mod error;
mod lexer;
pub mod parser;

#[cfg(test)]
mod error_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use ast::{CompareOp, Expr, FieldPath, Literal, OrderItem, Query, SelectItem};
pub use error::{ParseError, caret_message};
pub use parser::{FieldSpans, parse, parse_with_spans};
