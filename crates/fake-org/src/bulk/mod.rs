//! Bulk API 2.0: query jobs (results streamed page by page as CSV) and ingest jobs (one
//! CSV upload, background processing, per-record result CSVs).

mod common;
mod ingest;
mod query;

pub use ingest::{
    IngestJob, create_ingest, delete_ingest, get_ingest, ingest_results, list_ingest, patch_ingest,
    upload,
};
pub use query::{
    QueryJob, create_query, delete_query, get_query, list_query, patch_query, results,
};
