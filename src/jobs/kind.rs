//! What a job kind is: a stable queue name, typed run arguments, a typed chunk spec, and
//! three steps (plan, work, finalize). A step returns what happened ([`Outcome`], as in
//! River: done, retry, wait, fail, cancel) and the runner records it; a kind never
//! touches the run's life itself.

use std::time::Duration;

use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{PgConnection, Postgres, Transaction};

use super::context::JobContext;
use super::error::JobError;
use crate::classify::{Classify, Disposition};
use crate::ledger::{Chunk, Run};

/// A run as a step sees it: its row and its decoded arguments.
#[derive(Debug)]
pub struct Job<'a, A> {
    /// Postgres, Salesforce, the queues, settings.
    pub ctx: &'a JobContext,
    /// The run's row.
    pub run: &'a Run,
    /// The run's arguments.
    pub args: &'a A,
}

/// One planned work chunk.
#[derive(Debug, Clone)]
pub struct Planned<C> {
    /// The kind's chunk spec.
    pub spec: C,
    /// Rows the planner counted, for progress.
    pub expected_rows: Option<i64>,
}

/// What a plan step decided.
#[derive(Debug, Clone)]
pub struct Plan<C> {
    /// The work chunks, in order.
    pub chunks: Vec<Planned<C>>,
    /// A resync's window, or for loads the time the snapshot started (`window_to`).
    pub window_from: Option<chrono::DateTime<chrono::Utc>>,
    /// See `window_from`.
    pub window_to: Option<chrono::DateTime<chrono::Utc>>,
    /// Rows the planner counted.
    pub expected_rows: Option<i64>,
    /// What the plan found, for people (stored on the run).
    pub summary: serde_json::Value,
}

impl<C> Default for Plan<C> {
    fn default() -> Self {
        Plan {
            chunks: Vec::new(),
            window_from: None,
            window_to: None,
            expected_rows: None,
            summary: serde_json::Value::Null,
        }
    }
}

/// What a work step ended with; the runner records it.
#[derive(Debug)]
pub enum Outcome {
    /// The chunk's data is written in `tx`; the runner marks the chunk done in the same
    /// transaction (running finalize there if it was the run's last) and commits.
    Done {
        /// The transaction holding the chunk's writes.
        tx: Transaction<'static, Postgres>,
        /// Rows written, for progress and metrics.
        rows: u64,
    },
    /// Something transient: run again after `after` (or the backoff), spending an attempt.
    Retry {
        /// When, if the kind knows.
        after: Option<Duration>,
        /// Stable label of the cause.
        class: &'static str,
        /// What happened.
        reason: String,
    },
    /// Salesforce is down or the budget is spent: run again later, spending no attempt.
    /// The worker slot is freed meanwhile.
    Wait {
        /// When, if known (`Retry-After`, the budget's next free slot).
        after: Option<Duration>,
        /// Stable label of the cause.
        class: &'static str,
        /// What happened.
        reason: String,
    },
    /// It will never work as it is: fail the chunk (and with it the run) now.
    Fail {
        /// Stable label of the cause.
        class: &'static str,
        /// What happened, and the fix.
        reason: String,
    },
    /// Stop the whole run: its open chunks are cancelled.
    Cancel {
        /// Why.
        reason: String,
    },
}

impl Outcome {
    /// Done, with the chunk's writes in `tx`.
    pub fn done(tx: Transaction<'static, Postgres>, rows: u64) -> Outcome {
        Outcome::Done { tx, rows }
    }

    /// What an error means for the chunk, by its classification.
    pub fn from_error(e: &JobError) -> Outcome {
        let (class, reason) = (e.class(), e.to_string());
        match e.disposition() {
            Disposition::Wait(after) => Outcome::Wait {
                after,
                class,
                reason,
            },
            Disposition::Retry => Outcome::Retry {
                after: None,
                class,
                reason,
            },
            Disposition::Fail => Outcome::Fail { class, reason },
        }
    }

    /// A stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Done { .. } => "done",
            Outcome::Retry { .. } => "retry",
            Outcome::Wait { .. } => "waiting",
            Outcome::Fail { .. } => "failed",
            Outcome::Cancel { .. } => "cancelled",
        }
    }
}

/// A job kind: a stable queue name, typed arguments and chunk spec, and its steps.
pub trait JobKind: Send + Sync + 'static {
    /// Stable snake_case name of its queue (also the `kind` of its chunks).
    const QUEUE: &'static str;
    /// The run's arguments (stored as jsonb in `orgpool.runs.params`).
    type Args: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// One work chunk's spec (stored as jsonb in `orgpool.chunks.spec`).
    type Chunk: Serialize + DeserializeOwned + Send + Sync + 'static;

    /// Decides a run's work chunks.
    fn plan<'a>(job: &'a Job<'a, Self::Args>)
    -> BoxFuture<'a, Result<Plan<Self::Chunk>, JobError>>;

    /// Runs one work chunk. Its writes go in a transaction returned with
    /// [`Outcome::Done`]; the runner commits it together with the chunk's end.
    fn work<'a>(
        job: &'a Job<'a, Self::Args>,
        chunk: &'a Chunk,
        spec: &'a Self::Chunk,
    ) -> BoxFuture<'a, Result<Outcome, JobError>>;

    /// Runs once, when every chunk of the run is done, in the last chunk's transaction
    /// (a failed or cancelled run never finalizes).
    fn finalize<'a>(
        job: &'a Job<'a, Self::Args>,
        conn: &'a mut PgConnection,
    ) -> BoxFuture<'a, Result<(), JobError>>;
}
