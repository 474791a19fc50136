//! orgpool: a horizontally scaled batch worker pool for Salesforce. This crate holds the
//! library behind the `orgpool` binary: the Salesforce client, the fake org, the SOQL
//! parser, migrations, telemetry and the command-line front end.

// Describe bodies are large `json!` literals.
#![recursion_limit = "256"]

pub mod app;
pub mod bench;
pub mod cli;
pub mod dev;
pub mod fake_org;
pub mod jobs;
pub mod ledger;
pub mod migrate;
pub mod mirror;
pub mod org_session;
pub mod queue;
pub mod quotes;
pub mod redis_conn;
pub mod salesforce;
pub mod scheduler;
pub mod settings;
pub mod soql;
pub mod status;
pub mod telemetry;
pub mod web;
