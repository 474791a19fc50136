//! One classification of errors at the boundaries (Salesforce, Postgres, Redis, the
//! mirror), used by the job runner to decide what happens to a chunk: wait (an outage
//! or a spent budget: no attempt is spent and the worker slot is freed), retry (a
//! transient failure: an attempt is spent), or fail now (it will never work as sent).
//! Each module's error type says which it is, once, here.

use std::time::Duration;

use crate::ledger::LedgerError;
use crate::mirror::MirrorError;
use crate::queue::QueueError;
use crate::quotes::TableError;
use crate::salesforce::{ErrorClass, SfError};

/// What to do with a failed piece of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Salesforce is down or the budget is spent: wait (the hint, when given), spending
    /// no attempt.
    Wait(Option<Duration>),
    /// Transient: retry with backoff, spending an attempt.
    Retry,
    /// It will never work as it is: fail now, keeping the message.
    Fail,
}

/// An error that knows what should happen next, and its stable label for the ledger,
/// logs and metrics.
pub trait Classify {
    /// Wait, retry or fail.
    fn disposition(&self) -> Disposition;
    /// A snake_case label (`outage`, `limit`, `database`, `schema`, ...).
    fn class(&self) -> &'static str;
}

impl Classify for SfError {
    fn disposition(&self) -> Disposition {
        match self.class() {
            ErrorClass::Outage | ErrorClass::Limit => Disposition::Wait(self.retry_after()),
            // A failed login is a setting to fix, but it may also be a password being
            // rotated: retry a few times before failing.
            ErrorClass::Auth => Disposition::Retry,
            ErrorClass::Permanent => Disposition::Fail,
        }
    }

    fn class(&self) -> &'static str {
        SfError::class(self).label()
    }
}

impl Classify for sqlx::Error {
    fn disposition(&self) -> Disposition {
        if crate::ledger::error::is_transient(self) {
            Disposition::Retry
        } else {
            Disposition::Fail
        }
    }

    fn class(&self) -> &'static str {
        "database"
    }
}

impl Classify for MirrorError {
    fn disposition(&self) -> Disposition {
        match self {
            MirrorError::Salesforce(e) => e.disposition(),
            MirrorError::Db(e) => e.disposition(),
            MirrorError::Incompatible { .. }
            | MirrorError::BadHeader { .. }
            | MirrorError::Incomplete { .. } => Disposition::Fail,
        }
    }

    fn class(&self) -> &'static str {
        match self {
            MirrorError::Salesforce(e) => Classify::class(e),
            MirrorError::Db(_) => "database",
            MirrorError::Incompatible { .. }
            | MirrorError::BadHeader { .. }
            | MirrorError::Incomplete { .. } => "schema",
        }
    }
}

impl Classify for LedgerError {
    fn disposition(&self) -> Disposition {
        match self {
            LedgerError::Db(e) => e.disposition(),
            // Another run holds the lane: it ends by itself.
            LedgerError::LaneBusy { .. } => Disposition::Retry,
            LedgerError::Decode { .. }
            | LedgerError::RunEnded { .. }
            | LedgerError::NotReopenable { .. }
            | LedgerError::NoSuchRun(_)
            | LedgerError::NoSuchMapping(_) => Disposition::Fail,
        }
    }

    fn class(&self) -> &'static str {
        match self {
            LedgerError::Decode { .. } => "decode",
            _ => "database",
        }
    }
}

impl Classify for TableError {
    fn disposition(&self) -> Disposition {
        match self {
            TableError::Ledger(e) => e.disposition(),
            TableError::Db(e) => e.disposition(),
            // A mapping to add or a table to load: nothing a retry changes.
            TableError::NotMapped { .. } | TableError::NotLoaded { .. } => Disposition::Fail,
        }
    }

    fn class(&self) -> &'static str {
        match self {
            TableError::Ledger(e) => e.class(),
            TableError::Db(_) => "database",
            TableError::NotMapped { .. } | TableError::NotLoaded { .. } => "mapping",
        }
    }
}

impl Classify for QueueError {
    fn disposition(&self) -> Disposition {
        // Every queue error is about reaching Redis.
        Disposition::Retry
    }

    fn class(&self) -> &'static str {
        "queue"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_and_limits_wait_logins_retry_bad_requests_fail() {
        let outage = SfError::Outage {
            detail: "503".into(),
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(
            outage.disposition(),
            Disposition::Wait(Some(Duration::from_secs(7)))
        );
        let limit = SfError::Limit {
            detail: "spent".into(),
            retry_after: None,
        };
        assert_eq!(limit.disposition(), Disposition::Wait(None));
        let bad = SfError::permanent("MALFORMED_QUERY", "no");
        assert_eq!(bad.disposition(), Disposition::Fail);
        assert_eq!(Classify::class(&bad), "permanent");
        let schema = MirrorError::BadHeader {
            object: "Account".into(),
            expected: vec![],
            got: vec![],
        };
        assert_eq!(schema.disposition(), Disposition::Fail);
        assert_eq!(schema.class(), "schema");
        assert_eq!(sqlx::Error::PoolTimedOut.disposition(), Disposition::Retry);
    }
}
