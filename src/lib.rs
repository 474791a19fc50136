//! orgpool: a horizontally scaled batch worker pool for Salesforce. This crate holds the
//! library behind the `orgpool` binary: the Salesforce client, the mirror, jobs, queue,
//! scheduler, web process, migrations, telemetry and the command-line front end. The
//! SOQL parser (`orgpool-soql`) and the Salesforce simulator (`orgpool-fake-org`) are
//! crates of their own, re-exported here as [`soql`] and [`fake_org`].

pub mod app;
pub mod bench;
pub mod cli;
pub mod dev;
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
pub mod status;
pub mod telemetry;
pub mod web;

pub use orgpool_fake_org as fake_org;
pub use orgpool_soql as soql;
