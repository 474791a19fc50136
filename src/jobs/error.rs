//! Job errors, classified for what the runner does next: wait (no attempt spent),
//! retry (an attempt spent), or fail the chunk at once with the message kept.

use std::time::Duration;

use crate::ledger::LedgerError;
use crate::mirror::MirrorError;
use crate::queue::QueueError;
use crate::salesforce::{ErrorClass, SfError};

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

/// What the runner does with a failed chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Salesforce is down or the budget is spent: wait, spend no attempt.
    Wait(Option<Duration>),
    /// Something transient: retry with backoff, spending an attempt.
    Retry,
    /// It will never work as it is: fail now.
    Fail,
}

impl JobError {
    /// What to do next.
    pub fn next(&self) -> Next {
        match self {
            JobError::Salesforce(e) | JobError::Mirror(MirrorError::Salesforce(e)) => sf_next(e),
            JobError::Mirror(e) if e.is_retryable() => Next::Retry,
            JobError::Mirror(_) | JobError::Mapping { .. } => Next::Fail,
            JobError::Ledger(e) if e.is_retryable() => Next::Retry,
            JobError::Ledger(_) => Next::Fail,
            JobError::Queue(_) => Next::Retry,
            JobError::Db(e) if crate::ledger::error::is_transient(e) => Next::Retry,
            JobError::Db(_) => Next::Fail,
            JobError::Records { .. } => Next::Retry,
        }
    }

    /// A snake_case label for the ledger and logs.
    pub fn class(&self) -> &'static str {
        match self {
            JobError::Salesforce(e) | JobError::Mirror(MirrorError::Salesforce(e)) => {
                e.class().label()
            }
            JobError::Mirror(e) => e.class(),
            JobError::Ledger(_) | JobError::Db(_) => "database",
            JobError::Queue(_) => "queue",
            JobError::Mapping { .. } => "mapping",
            JobError::Records { .. } => "record",
        }
    }
}

fn sf_next(e: &SfError) -> Next {
    match e.class() {
        ErrorClass::Outage | ErrorClass::Limit => Next::Wait(e.retry_after()),
        // A failed login is a setting to fix, but it may also be a password being
        // rotated: retry a few times before failing.
        ErrorClass::Auth => Next::Retry,
        ErrorClass::Permanent | ErrorClass::Record => Next::Fail,
    }
}
