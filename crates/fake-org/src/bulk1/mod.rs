//! Bulk API 1.0 (`/services/async/{version}`): jobs with XML or JSON `jobInfo`, batches
//! of SOQL (query) or CSV / JSON records (ingest), batch states and results, PK
//! chunking, and `X-SFDC-Session` auth. Queries run on the fake org's query engine and
//! every write goes through the store's write path, as REST and Bulk 2.0 writes do.

mod batch;
mod dml;
mod error;
mod job;
mod process;
mod results;
mod routes;
mod wire;

pub use routes::routes;
