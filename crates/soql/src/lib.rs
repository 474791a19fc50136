//! `orgpool-soql`: the one SOQL parser of orgpool, shared by the fake Salesforce org
//! (`orgpool-fake-org`, query evaluation) and by orgpool's quote selection filters. It
//! owns the SOQL subset both need: the lexer, the parser, the syntax tree in [`ast`],
//! canonical printing (`Display` prints a tree back as SOQL) and parse errors worded
//! as Salesforce words them ([`caret_message`]). Text goes through [`parse`]; nothing
//! here knows a schema or evaluates a query.

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
