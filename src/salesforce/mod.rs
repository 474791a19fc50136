//! The Salesforce client: login, REST, Bulk API 2.0 query and ingest, errors classified
//! for retries, and the fleet-wide API budget and outage flag in Redis.

mod auth;
mod auth_flow;
mod backoff;
mod budget;
mod budget_pause;
mod bulk_ingest;
mod bulk_query;
mod client;
mod client_waits;
mod collections;
mod config;
mod csv_rows;
mod error;
pub mod pubsub;
mod request;
mod rest;
mod secret;

pub use backoff::Backoff;
pub use budget::{Fleet, Reservation};
pub use budget_pause::{BudgetPause, WindowView};
pub use bulk_ingest::{
    CsvParts, FailedRecord, IngestOutcome, Operation, SavedRecord, parse_error_cell,
};
pub use bulk_query::{BulkResults, JobInfo};
pub use client::Client;
pub use client_waits::parse_limit_info;
pub use collections::{RecordError, SaveResult};
pub use config::{AuthFlow, BudgetConfig, ConfigError, SalesforceConfig};
pub use error::{ErrorClass, SfError};
pub use request::{Api, Body, Request};
pub use rest::{Describe, FieldDescribe, QueryPage, QueryStart, Scope};
pub use secret::Secret;
