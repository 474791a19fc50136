//! Job errors: what a kind's plan, work or finalize step can fail with. Each is
//! classified ([`Classify`]) for what the runner does next: wait (no attempt spent),
//! retry (an attempt spent), or fail the chunk at once with the message kept.

use crate::classify::{Classify, Disposition};
use crate::ledger::LedgerError;
use crate::mirror::MirrorError;
use crate::queue::QueueError;
use crate::quotes::TableError;
use crate::salesforce::SfError;

/// A chunk failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Salesforce failed.
    #[error(transparent)]
    Salesforce(#[from] SfError),
    /// Writing the mirror failed.
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Redis failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// A mirror table the quote run reads is not mapped or not loaded.
    #[error(transparent)]
    Tables(#[from] TableError),
    /// Postgres failed outside the ledger and the loader.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// Some records were refused by Salesforce (kept in `orgpool.record_failures`).
    #[error("{failed} record(s) refused by Salesforce; see `orgpool jobs failures`")]
    Records {
        /// How many.
        failed: usize,
    },
    /// The mapping cannot be synced as configured.
    #[error("{problem}. Fix: {fix}")]
    Mapping {
        /// What is wrong.
        problem: String,
        /// What to do.
        fix: String,
    },
}

impl Classify for JobError {
    fn disposition(&self) -> Disposition {
        match self {
            JobError::Salesforce(e) => e.disposition(),
            JobError::Mirror(e) => e.disposition(),
            JobError::Ledger(e) => e.disposition(),
            JobError::Queue(e) => e.disposition(),
            JobError::Tables(e) => e.disposition(),
            JobError::Db(e) => e.disposition(),
            JobError::Records { .. } => Disposition::Retry,
            JobError::Mapping { .. } => Disposition::Fail,
        }
    }

    fn class(&self) -> &'static str {
        match self {
            JobError::Salesforce(e) => Classify::class(e),
            JobError::Mirror(e) => e.class(),
            JobError::Ledger(e) => e.class(),
            JobError::Queue(e) => e.class(),
            JobError::Tables(e) => e.class(),
            JobError::Db(e) => e.class(),
            JobError::Mapping { .. } => "mapping",
            JobError::Records { .. } => "record",
        }
    }
}
