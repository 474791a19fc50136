//! Scheduler errors: a mappings file that is missing, malformed or does not match the
//! org (every problem in one message, each with its fix), and the services a pass or
//! the quote schedule could not reach. None of them reaches the job runner: a failed
//! pass is logged and tried again on the next tick.

use crate::jobs::JobError;
use crate::ledger::LedgerError;
use crate::mirror::MappingError;
use crate::queue::QueueError;
use crate::quotes::RulesError;
use crate::salesforce::SfError;

/// A scheduler step failed.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// There is no mappings file.
    #[error(
        "no mappings file at {path}; create it (see jobs/README.md), set ORGPOOL_MAPPINGS, or import a Heroku Connect export with `orgpool mappings import FILE.json`"
    )]
    NoMappingsFile {
        /// Where it was looked for.
        path: String,
    },
    /// The mappings file is malformed (the message names the key or mapping).
    #[error(transparent)]
    Mappings(#[from] MappingError),
    /// An object that the file does not map.
    #[error("{object} is not mapped in {path} (mapped: {known}); add a [[mapping]] entry for it")]
    NotMapped {
        /// The object asked for.
        object: String,
        /// The mappings file.
        path: String,
        /// The objects it maps, or `none`.
        known: String,
    },
    /// Mappings that do not match the org, one problem a line.
    #[error("jobs/mappings.toml does not match the org:\n  {}", .0.join("\n  "))]
    Mismatch(Vec<String>),
    /// Salesforce could not be asked (an outage, the budget, a login).
    #[error(transparent)]
    Salesforce(#[from] SfError),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Redis failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// `jobs/quotes.toml` is not valid (the message names the key).
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// A run could not be started or its chunks pushed.
    #[error(transparent)]
    Job(#[from] JobError),
}
