//! orgpool: a horizontally scaled batch worker pool for Salesforce. This crate holds the
//! library behind the `orgpool` binary: the Salesforce client, the mirror, jobs, queue,
//! scheduler, web process, migrations, telemetry and the command-line front end. The
//! SOQL parser (`orgpool-soql`) and, with the default cargo feature `fake-org`, the
//! Salesforce simulator (`orgpool-fake-org`) are crates of their own, re-exported here
//! as [`soql`] and `fake_org`.

pub mod app;
#[cfg(feature = "fake-org")]
pub mod bench;
pub mod classify;
pub mod cli;
pub mod dev;
pub mod jobs;
pub mod ledger;
pub mod migrate;
pub mod mirror;
pub mod org_session;
pub mod pg_conn;
pub mod pg_pool;
pub mod queue;
pub mod quotes;
pub mod redis_conn;
pub mod salesforce;
pub mod scheduler;
pub mod settings;
pub mod status;
pub mod telemetry;
pub mod web;

#[cfg(feature = "fake-org")]
pub use orgpool_fake_org as fake_org;
pub use orgpool_soql as soql;

/// The message of a command that needs the fake org in a build without it (cargo
/// feature `fake-org` off). `real_org` adds the other way out: pointing at a real org.
#[cfg(not(feature = "fake-org"))]
pub fn without_fake_org(command: &str, real_org: bool) -> String {
    format!(
        "{command} needs the fake org, and this orgpool was built without it (cargo feature `fake-org`); rebuild with default features{}",
        if real_org {
            ", or set SALESFORCE_LOGIN_URL to a real org"
        } else {
            ""
        }
    )
}
