//! One read of everything the web process shows: the fleet status document
//! ([`crate::status`]) plus the figures only the web process reports (runs by state,
//! per-run chunk counts, chunks done per kind, Quotes by state, open per-record
//! failures, live worker processes). `/metrics` and the status page render the same
//! snapshot, so they never disagree.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::app::Services;
use crate::ledger::chunks::Chunk;
use crate::status::Status;

/// Chunks of one run in one state.
#[derive(Debug, Clone, Serialize)]
pub struct RunChunks {
    /// Run id.
    pub run_id: i64,
    /// The chunks' job kind.
    pub job_kind: String,
    /// The run's object.
    pub object: String,
    /// Chunk state.
    pub state: String,
    /// How many.
    pub count: i64,
}

/// One open per-record failure.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Failure {
    /// `Quote` or `QuoteLineItem`.
    pub object: String,
    /// Our key of the record.
    pub key: String,
    /// The Opportunity it belongs to.
    pub opportunity_sfid: Option<String>,
    /// Salesforce's status code.
    pub code: String,
    /// Salesforce's message.
    pub message: String,
    /// Attempts so far.
    pub attempts: i32,
    /// Last seen.
    pub at: DateTime<Utc>,
}

/// Everything at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// Mappings, active runs, queues, dead chunks, API usage.
    pub status: Status,
    /// Runs by (kind, state).
    pub runs: Vec<(String, String, i64)>,
    /// Chunks by run and state, for active runs and runs that ended in the last hour.
    pub run_chunks: Vec<RunChunks>,
    /// Chunks ever done, by job kind (a counter: only grows while runs are kept).
    pub chunks_done: Vec<(String, i64)>,
    /// Quotes by state.
    pub quotes: Vec<(String, i64)>,
    /// Open per-record failures by object.
    pub failures_by_object: Vec<(String, i64)>,
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
pub async fn read(s: &Services) -> anyhow::Result<Snapshot> {
    let status = crate::status::read(s).await?;
    let runs: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT kind, state, count(*) FROM orgpool.runs GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .fetch_all(&s.pool)
    .await?;
    let run_chunks: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
        "SELECT r.id, c.kind, r.object, c.state, count(*)
         FROM orgpool.runs r JOIN orgpool.chunks c ON c.run_id = r.id AND c.step = 'work'
         WHERE r.finished_at IS NULL OR r.finished_at > now() - interval '1 hour'
         GROUP BY 1, 2, 3, 4 ORDER BY 1, 4",
    )
    .fetch_all(&s.pool)
    .await?;
    let chunks_done: Vec<(String, i64)> = sqlx::query_as(
        "SELECT kind, count(*) FROM orgpool.chunks WHERE state = 'done' AND step = 'work'
         GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&s.pool)
    .await?;
    let quotes: Vec<(String, i64)> =
        sqlx::query_as("SELECT state, count(*) FROM orgpool.quotes GROUP BY 1 ORDER BY 1")
            .fetch_all(&s.pool)
            .await?;
    let failures_by_object: Vec<(String, i64)> = sqlx::query_as(
        "SELECT object, count(*) FROM orgpool.record_failures WHERE NOT resolved
         GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&s.pool)
    .await?;
    let failures: Vec<Failure> = sqlx::query_as(
        "SELECT object, key, opportunity_sfid, code, message, attempts, at
         FROM orgpool.record_failures WHERE NOT resolved ORDER BY at DESC LIMIT $1",
    )
    .bind(LISTED)
    .fetch_all(&s.pool)
    .await?;
    let dead = crate::ledger::chunks::failed(&s.pool, LISTED).await?;
    let workers = s
        .queues
        .live_workers(&crate::jobs::registry::queues(), Duration::from_secs(30))
        .await?
        .len();
    Ok(Snapshot {
        status,
        runs,
        run_chunks: run_chunks
            .into_iter()
            .map(|(run_id, job_kind, object, state, count)| RunChunks {
                run_id,
                job_kind,
                object,
                state,
                count,
            })
            .collect(),
        chunks_done,
        quotes,
        failures_by_object,
        failures,
        dead,
        workers,
        at: Utc::now(),
    })
}
