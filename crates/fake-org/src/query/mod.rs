//! SOQL evaluation in the fake org: resolving a parsed query against the schema,
//! running it over the store, and rendering rows as REST JSON or Bulk CSV.

mod compile;
mod dates;
mod error;
mod eval;
mod render;

pub use compile::{Column, Compiled, Hop, Pred, compile, direct_columns, resolve_path};
pub use error::QueryError;
pub use eval::{column_value, count, execute};
pub use render::{CsvWriter, compound_json, quote_into, record_json};
