//! Ledger errors.

/// A ledger operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Postgres failed (connection errors are transient; see [`is_transient`]).
    #[error("ledger database error: {0}")]
    Db(#[from] sqlx::Error),
    /// Another run of the object is active.
    #[error(
        "{object} already has run {run} ({kind}) in progress; wait for it (orgpool enqueue ... --wait, orgpool status) or let it finish before starting another"
    )]
    LaneBusy {
        /// The object.
        object: String,
        /// The active run.
        run: i64,
        /// Its kind.
        kind: String,
    },
    /// A run id that does not exist.
    #[error("run {0} does not exist; `orgpool status` lists recent runs")]
    NoSuchRun(i64),
    /// A stored run argument or chunk spec does not fit its kind's type.
    #[error(
        "run {run} ({kind}): its stored {what} cannot be read ({detail}); the run was made by another version of orgpool: cancel it (orgpool jobs cancel {run}) and start it again"
    )]
    Decode {
        /// The run.
        run: i64,
        /// Its kind.
        kind: String,
        /// Which value.
        what: String,
        /// What did not fit.
        detail: String,
    },
    /// The run has already ended.
    #[error(
        "run {run} has already ended ({state}); only a planning or running run can be cancelled"
    )]
    RunEnded {
        /// The run.
        run: i64,
        /// Its state.
        state: String,
    },
    /// `jobs retry --records` on a run that did not end with refused records.
    #[error(
        "run {run} is {state}; only a run that succeeded with failures can retry its refused records (`orgpool jobs retry` re-runs failed chunks)"
    )]
    NotReopenable {
        /// The run.
        run: i64,
        /// Its state.
        state: String,
    },
    /// A mapping the ledger does not know.
    #[error("no mapping for {0} has been enqueued yet; add it to jobs/mappings.toml")]
    NoSuchMapping(String),
}

/// Whether a database error is about reaching the server rather than the statement.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(d) => d
            .code()
            .map(|c| c.starts_with("08") || c.starts_with("57P") || c == "40001" || c == "40P01")
            .unwrap_or(false),
        _ => false,
    }
}
