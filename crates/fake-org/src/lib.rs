//! `orgpool-fake-org`: a Salesforce org simulator that follows the real wire contract
//! (OAuth and the SOAP login, REST, sObject Collections, Bulk API 2.0 query and ingest,
//! limits, error bodies) so orgpool's demo, its tests and standard Salesforce client
//! libraries can run against it. It owns everything the simulated org is: the standard
//! objects and schema files, seeded data, Ids, record semantics, query evaluation (on
//! the `orgpool-soql` parser), churn, fault injection and the admin endpoints. The
//! `orgpool fake-org` subcommand serves it; [`start`] runs one in-process.

// Describe bodies are large `json!` literals.
#![recursion_limit = "256"]

mod accept;
mod admin;
mod api_error;
mod auth;
mod bulk;
mod bulk1;
mod churn;
mod config;
mod faults;
mod field_builder;
mod handle;
mod header_case;
pub mod ids;
mod input;
mod middleware;
pub mod model;
mod origin;
pub mod pubsub;
pub mod query;
mod record_error;
mod rest;
mod rules;
pub mod schema;
mod schema_file;
pub mod seed;
mod server;
mod soap;
mod standard;
mod state;
pub mod store;
mod tls;
mod undelete;
mod userinfo;
mod validation;
pub mod value;

pub use config::{ChurnSpec, FakeOrgConfig, SeedConfig};
pub use faults::OutageMode;
pub use handle::FakeOrg;
pub use record_error::RecordError;
pub use schema_file::SchemaError;
pub use server::{StartError, build_store, serve, start};
pub use validation::{RuleValue, ValidationRule};
