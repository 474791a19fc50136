//! Counts over the ledger as a whole, read by `orgpool status`, the status page and the
//! fleet's `/metrics` (runs and chunks by state, Quotes by state, open record failures),
//! by the demo and the benchmarks; and whether the ledger exists at all.

use rust_decimal::Decimal;
use sqlx::PgPool;

use super::LedgerError;

/// Whether the control schema is migrated (its chunks table exists).
pub async fn is_migrated(pool: &PgPool) -> Result<bool, LedgerError> {
    let (exists,): (bool,) = sqlx::query_as("SELECT to_regclass('orgpool.chunks') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    Ok(exists)
}

/// Failed chunks of the runs of `object`.
pub async fn failed_chunks_of(pool: &PgPool, object: &str) -> Result<i64, LedgerError> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM orgpool.chunks c JOIN orgpool.runs r ON r.id = c.run_id
         WHERE r.object = $1 AND c.state = 'failed'",
    )
    .bind(object)
    .fetch_one(pool)
    .await?;
    Ok(n)
}

/// Chunks that failed for good, in all.
pub async fn dead_chunks(pool: &PgPool) -> Result<i64, LedgerError> {
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM orgpool.chunks WHERE state = 'failed'")
        .fetch_one(pool)
        .await?;
    Ok(n)
}

/// Runs of one kind in one state.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct RunsInState {
    /// The run kind.
    pub kind: String,
    /// The state.
    pub state: String,
    /// How many.
    pub count: i64,
}

/// Runs by (kind, state).
pub async fn runs_by_state(pool: &PgPool) -> Result<Vec<RunsInState>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT kind, state, count(*) AS count FROM orgpool.runs GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await?)
}

/// Work chunks of one run in one state.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
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

/// Work chunks by run and state, for active runs and runs that ended in the last hour.
pub async fn run_chunks(pool: &PgPool) -> Result<Vec<RunChunks>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT r.id AS run_id, c.kind AS job_kind, r.object, c.state, count(*) AS count
         FROM orgpool.runs r JOIN orgpool.chunks c ON c.run_id = r.id AND c.step = 'work'
         WHERE r.finished_at IS NULL OR r.finished_at > now() - interval '1 hour'
         GROUP BY 1, 2, 3, 4 ORDER BY 1, 4",
    )
    .fetch_all(pool)
    .await?)
}

/// A count under one label (a job kind, a state, an object).
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Count {
    /// The label.
    pub label: String,
    /// How many.
    pub count: i64,
}

/// Work chunks ever done, by job kind (only grows while runs are kept).
pub async fn chunks_done(pool: &PgPool) -> Result<Vec<Count>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT kind AS label, count(*) AS count FROM orgpool.chunks
         WHERE state = 'done' AND step = 'work' GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(pool)
    .await?)
}

/// Computed Quotes by state.
pub async fn quotes_by_state(pool: &PgPool) -> Result<Vec<Count>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT state AS label, count(*) AS count FROM orgpool.quotes GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(pool)
    .await?)
}

/// Open per-record failures by object.
pub async fn failures_by_object(pool: &PgPool) -> Result<Vec<Count>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT object AS label, count(*) AS count FROM orgpool.record_failures
         WHERE NOT resolved GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(pool)
    .await?)
}

/// What the quote runs have saved in Salesforce so far.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuoteTotals {
    /// Quotes pushed.
    pub quotes: i64,
    /// Lines pushed.
    pub lines: i64,
    /// The sum of the pushed Quotes' totals.
    pub total: Option<Decimal>,
    /// Open per-record failures.
    pub open_failures: i64,
}

/// Pushed Quotes and lines, their total, and open failures (the demo's and the quote
/// benchmark's summary).
pub async fn quote_totals(pool: &PgPool) -> Result<QuoteTotals, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT (SELECT count(*) FROM orgpool.quotes WHERE state = 'pushed') AS quotes,
                (SELECT count(*) FROM orgpool.quote_lines WHERE state = 'pushed') AS lines,
                (SELECT sum(total) FROM orgpool.quotes WHERE state = 'pushed') AS total,
                (SELECT count(*) FROM orgpool.record_failures WHERE NOT resolved) AS open_failures",
    )
    .fetch_one(pool)
    .await?)
}

/// When one chunk of a run was pushed, started and finished, in seconds after the run
/// was created.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChunkTimes {
    /// The chunk.
    pub id: i64,
    /// `plan` or `work`.
    pub step: String,
    /// Pushed to Redis.
    pub pushed: Option<f64>,
    /// First claimed.
    pub started: Option<f64>,
    /// Ended.
    pub finished: Option<f64>,
    /// Attempts spent.
    pub attempts: i32,
}

/// Where a run's time went, chunk by chunk (the benchmarks print it).
pub async fn timeline(pool: &PgPool, run_id: i64) -> Result<Vec<ChunkTimes>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT c.id, c.step,
                extract(epoch FROM c.pushed_at - r.created_at)::float8 AS pushed,
                extract(epoch FROM c.started_at - r.created_at)::float8 AS started,
                extract(epoch FROM c.finished_at - r.created_at)::float8 AS finished,
                c.attempts
         FROM orgpool.chunks c JOIN orgpool.runs r ON r.id = c.run_id
         WHERE c.run_id = $1 ORDER BY c.id",
    )
    .bind(run_id)
    .fetch_all(pool)
    .await?)
}
