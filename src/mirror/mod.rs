//! The Postgres mirror: mappings, Salesforce-to-Postgres column types, and (as they land)
//! the table DDL, the COPY loader and the merge.

pub mod mapping;
pub mod types;

pub use mapping::{Access, Column, Deleted, Fields, Mapping, MappingError, MappingsFile, Resolved};
pub use types::{TypeError, column_type, compatible, pg_name, quote_ident};
