//! One read of everything the web process shows: the fleet status document
//! ([`crate::status`]) plus the figures only the web process reports (runs by state,
//! per-run chunk counts, chunks done per kind, Quotes by state, open per-record
//! failures, live worker processes). `/metrics` and the status page render the same
//! snapshot, so they never disagree.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::error::WebError;
use crate::app::Services;
use crate::ledger::chunks::Chunk;
use crate::ledger::pushes::Failure;
use crate::ledger::stats::{self, Count, RunChunks, RunsInState};
use crate::status::Status;

/// Everything at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// Mappings, active runs, queues, dead chunks, API usage.
    pub status: Status,
    /// Runs by kind and state.
    pub runs: Vec<RunsInState>,
    /// Chunks by run and state, for active runs and runs that ended in the last hour.
    pub run_chunks: Vec<RunChunks>,
    /// Chunks ever done, by job kind (a counter: only grows while runs are kept).
    pub chunks_done: Vec<Count>,
    /// Quotes by state.
    pub quotes: Vec<Count>,
    /// Open per-record failures by object.
    pub failures_by_object: Vec<Count>,
    /// The latest open per-record failures.
    pub failures: Vec<Failure>,
    /// The latest failed chunks.
    pub dead: Vec<Chunk>,
    /// Worker processes that heartbeated in the last 30 s.
    pub workers: usize,
    /// When it was read.
    pub at: DateTime<Utc>,
}

/// How many failures and dead chunks the page lists.
const LISTED: i64 = 20;

/// Reads a snapshot.
pub async fn read(s: &Services) -> Result<Snapshot, WebError> {
    let status = crate::status::read(s).await?;
    let pool = &s.pool;
    let runs = stats::runs_by_state(pool).await?;
    let run_chunks = stats::run_chunks(pool).await?;
    let chunks_done = stats::chunks_done(pool).await?;
    let quotes = stats::quotes_by_state(pool).await?;
    let failures_by_object = stats::failures_by_object(pool).await?;
    let failures = crate::ledger::pushes::open_failures(pool, LISTED).await?;
    let dead = crate::ledger::chunks::failed(&s.pool, LISTED).await?;
    let workers = s
        .queues
        .live_workers(&crate::jobs::registry::queues(), Duration::from_secs(30))
        .await?
        .len();
    Ok(Snapshot {
        status,
        runs,
        run_chunks,
        chunks_done,
        quotes,
        failures_by_object,
        failures,
        dead,
        workers,
        at: Utc::now(),
    })
}
