//! The Postgres mirror: mappings and their check against describe, Salesforce-to-Postgres
//! column types (two modes), the tables and their indexes in the Heroku Connect layout,
//! the one write seam ([`apply`] of a [`ChangeSet`]), the streaming COPY loader that
//! produces change sets, the chunk planner, and the capture of the app's own writes.

pub mod capture;
pub mod change_set;
pub mod check;
pub mod error;
pub mod hc_import;
pub mod indexes;
pub mod loader;
pub mod mapping;
pub mod planner;
pub mod table;
pub mod types;

pub use change_set::{Applied, ChangeSet, Rows, apply};
pub use check::check_against;
pub use error::MirrorError;
pub use loader::{LoadMode, LoadStats, load};
pub use mapping::{
    Access, Column, Deleted, Fields, Mapping, MappingError, MappingsFile, Relationship, Resolved,
    parse_duration,
};
pub use table::{Drift, MirrorTable, count_range, ensure, swap};
pub use types::{ColumnTypes, TypeError, column_type, compatible, pg_name, quote_ident};
