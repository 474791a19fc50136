//! The reads behind the operations console (`/runs`, `/runs/{id}`, `/mappings/{object}`):
//! run history with filters and paging, a run's chunks with their timings, and the
//! per-record failures of a run. Actions (retry, cancel, pause) are not here: they are
//! [`super::lifecycle`]'s and [`super::mappings`]'s, shared with the CLI.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::LedgerError;
use super::pushes::Failure;

/// Which runs `/runs` lists; every field left `None` matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// The run kind (`initial_load`, `resync`, ...).
    pub kind: Option<String>,
    /// The object, without regard to case.
    pub object: Option<String>,
    /// The run state.
    pub state: Option<String>,
    /// Created at or after.
    pub since: Option<DateTime<Utc>>,
    /// Created before.
    pub until: Option<DateTime<Utc>>,
}

/// One line of the run history: the run with its chunk counts.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct RunLine {
    /// Run id.
    pub id: i64,
    /// Kind.
    pub kind: String,
    /// Object.
    pub object: String,
    /// State.
    pub state: String,
    /// Who asked for it (`cli`, `scheduler`, `api`, `console`).
    pub requested_by: String,
    /// Work chunks in all.
    pub chunks: i64,
    /// Done.
    pub done: i64,
    /// Failed for good.
    pub failed: i64,
    /// Rows written.
    pub rows: i64,
    /// Why it failed or was cancelled.
    pub error: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Runs matching `f`, newest first, `limit` from `offset`, and how many match in all.
pub async fn runs(
    pool: &PgPool,
    f: &RunFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<RunLine>, i64), LedgerError> {
    const WHERE: &str = "($1::text IS NULL OR r.kind = $1)
           AND ($2::text IS NULL OR lower(r.object) = lower($2))
           AND ($3::text IS NULL OR r.state = $3)
           AND ($4::timestamptz IS NULL OR r.created_at >= $4)
           AND ($5::timestamptz IS NULL OR r.created_at < $5)";
    let lines: Vec<RunLine> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT r.id, r.kind, r.object, r.state, r.requested_by, r.error, r.created_at, r.finished_at,
                count(c.id) AS chunks,
                count(c.id) FILTER (WHERE c.state = 'done') AS done,
                count(c.id) FILTER (WHERE c.state = 'failed') AS failed,
                coalesce(sum(c.rows), 0)::bigint AS rows
         FROM orgpool.runs r LEFT JOIN orgpool.chunks c ON c.run_id = r.id AND c.step = 'work'
         WHERE {WHERE}
         GROUP BY r.id ORDER BY r.id DESC LIMIT $6 OFFSET $7"
    )))
    .bind(&f.kind)
    .bind(&f.object)
    .bind(&f.state)
    .bind(f.since)
    .bind(f.until)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM orgpool.runs r WHERE {WHERE}"
    )))
    .bind(&f.kind)
    .bind(&f.object)
    .bind(&f.state)
    .bind(f.since)
    .bind(f.until)
    .fetch_one(pool)
    .await?;
    Ok((lines, total))
}

/// The run kinds that occur in the ledger, for the filter's choices.
pub async fn run_kinds(pool: &PgPool) -> Result<Vec<String>, LedgerError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT DISTINCT kind FROM orgpool.runs ORDER BY kind")
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// A chunk as the console shows it: state, attempts, timings and its last error.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ChunkLine {
    /// Chunk id.
    pub id: i64,
    /// Its run.
    pub run_id: i64,
    /// Order in the run (0 = the plan step).
    pub seq: i32,
    /// `plan` or `work`.
    pub step: String,
    /// State.
    pub state: String,
    /// Attempts spent.
    pub attempts: i32,
    /// Outage or limit waits.
    pub waits: i32,
    /// Rows written.
    pub rows: i64,
    /// Rows the planner counted.
    pub expected_rows: Option<i64>,
    /// Last error.
    pub error: Option<String>,
    /// Its class.
    pub error_class: Option<String>,
    /// Holder, while running.
    pub worker: Option<String>,
    /// Last pushed to Redis.
    pub pushed_at: Option<DateTime<Utc>>,
    /// First claimed.
    pub started_at: Option<DateTime<Utc>>,
    /// Ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Snoozed until.
    pub not_before: Option<DateTime<Utc>>,
}

const CHUNK_COLUMNS: &str = "c.id, c.run_id, c.seq, c.step, c.state, c.attempts, c.waits, c.rows,
    c.expected_rows, c.error, c.error_class, c.worker, c.pushed_at, c.started_at, c.finished_at,
    c.not_before";

/// A run's chunks in order, at most `limit`.
pub async fn chunks_of(
    pool: &PgPool,
    run_id: i64,
    limit: i64,
) -> Result<Vec<ChunkLine>, LedgerError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CHUNK_COLUMNS} FROM orgpool.chunks c WHERE c.run_id = $1 ORDER BY c.seq LIMIT $2"
    )))
    .bind(run_id)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// The failed chunks of `object`'s runs, newest first.
pub async fn failed_chunks_of(
    pool: &PgPool,
    object: &str,
    limit: i64,
) -> Result<Vec<ChunkLine>, LedgerError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CHUNK_COLUMNS} FROM orgpool.chunks c JOIN orgpool.runs r ON r.id = c.run_id
         WHERE lower(r.object) = lower($1) AND c.state = 'failed'
         ORDER BY c.updated_at DESC LIMIT $2"
    )))
    .bind(object)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// The per-record failures Salesforce reported in run `run_id` (open first).
pub async fn failures_of_run(
    pool: &PgPool,
    run_id: i64,
    limit: i64,
) -> Result<Vec<(Failure, bool)>, LedgerError> {
    let rows: Vec<FailureRow> = sqlx::query_as(
        "SELECT object, key, opportunity_sfid, code, message, attempts, at, resolved
         FROM orgpool.record_failures WHERE run_id = $1 ORDER BY resolved, at DESC LIMIT $2",
    )
    .bind(run_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                Failure {
                    object: r.object,
                    key: r.key,
                    opportunity_sfid: r.opportunity_sfid,
                    code: r.code,
                    message: r.message,
                    attempts: r.attempts,
                    at: r.at,
                },
                r.resolved,
            )
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct FailureRow {
    object: String,
    key: String,
    opportunity_sfid: Option<String>,
    code: String,
    message: String,
    attempts: i32,
    at: DateTime<Utc>,
    resolved: bool,
}

/// One sync's lag: when a load or resync of the object ended, and how far behind the
/// org its table was then (the run's end minus the watermark it left).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LagPoint {
    /// The run.
    pub run_id: i64,
    /// `initial_load`, `reload` or `resync`.
    pub kind: String,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// Seconds between its end and the watermark it set.
    pub lag_seconds: f64,
}

/// The lag each of the object's last `limit` succeeded syncs left, newest first.
pub async fn lag_history(
    pool: &PgPool,
    object: &str,
    limit: i64,
) -> Result<Vec<LagPoint>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT id AS run_id, kind, finished_at,
                extract(epoch FROM finished_at - window_to)::float8 AS lag_seconds
         FROM orgpool.runs
         WHERE lower(object) = lower($1) AND kind IN ('initial_load', 'reload', 'resync')
           AND state = 'succeeded' AND window_to IS NOT NULL AND finished_at IS NOT NULL
         ORDER BY finished_at DESC LIMIT $2",
    )
    .bind(object)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
