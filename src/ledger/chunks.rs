//! Chunks in the ledger: claiming one for a worker (exactly one live holder, found by a
//! heartbeat), snoozing it (outage or limit: no attempt spent), handing it back, and
//! finding the ones Redis lost. How a chunk *ends* (done, failed, cancelled) belongs to
//! the run's life, in [`super::lifecycle`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::LedgerError;

/// A holder whose heartbeat is older than this is presumed dead and its chunk can be
/// claimed again (heartbeats are every [`HEARTBEAT`]).
pub const STALE_AFTER: Duration = Duration::from_secs(20);

/// How often a running chunk's holder proves it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// A chunk row.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Chunk {
    /// Its id (what Redis carries).
    pub id: i64,
    /// Its run.
    pub run_id: i64,
    /// Job kind (= queue).
    pub kind: String,
    /// Order in the run; 0 is the plan step.
    pub seq: i32,
    /// `plan` or `work`.
    pub step: String,
    /// The kind's chunk spec (an Id range, a window, record Ids ...), decoded by
    /// [`super::decode`].
    pub spec: serde_json::Value,
    /// Rows the planner counted.
    pub expected_rows: Option<i64>,
    /// `pending`, `queued`, `running`, `done`, `failed`, `cancelled`.
    pub state: String,
    /// Attempts spent.
    pub attempts: i32,
    /// Outage or limit waits.
    pub waits: i32,
    /// Rows written.
    pub rows: i64,
    /// Last error.
    pub error: Option<String>,
    /// Class of the last error.
    pub error_class: Option<String>,
    /// The Redis task carrying it.
    pub task_id: Option<String>,
    /// Not to run before.
    pub not_before: Option<DateTime<Utc>>,
    /// Its holder.
    pub worker: Option<String>,
}

/// A new work chunk, as the planner describes it.
#[derive(Debug, Clone, Default)]
pub struct NewChunk {
    /// The kind's chunk spec, encoded.
    pub spec: serde_json::Value,
    /// Planner's count.
    pub expected_rows: Option<i64>,
}

/// Why a claim did not succeed.
#[derive(Debug, Clone)]
pub enum Claim {
    /// Ours now.
    Claimed(Box<Chunk>),
    /// Already done or failed: nothing to do (a duplicate delivery).
    Finished,
    /// A live worker holds it.
    Held,
    /// No such chunk (its run was deleted).
    Missing,
}

/// Takes a chunk for `worker` unless it is finished or a live holder has it.
pub async fn claim(pool: &PgPool, id: i64, worker: &str) -> Result<Claim, LedgerError> {
    let stale = STALE_AFTER.as_secs_f64();
    let got: Option<Chunk> = sqlx::query_as(
        "UPDATE orgpool.chunks SET state = 'running', worker = $2, heartbeat_at = now(),
                started_at = coalesce(started_at, now()), updated_at = now()
         WHERE id = $1 AND (state IN ('pending', 'queued')
               OR (state = 'running' AND heartbeat_at < now() - make_interval(secs => $3)))
         RETURNING *",
    )
    .bind(id)
    .bind(worker)
    .bind(stale)
    .fetch_optional(pool)
    .await?;
    if let Some(c) = got {
        return Ok(Claim::Claimed(Box::new(c)));
    }
    let state: Option<(String,)> = sqlx::query_as("SELECT state FROM orgpool.chunks WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(match state.as_ref().map(|s| s.0.as_str()) {
        None => Claim::Missing,
        Some("running") => Claim::Held,
        Some(_) => Claim::Finished,
    })
}

/// Proves the holder is alive; false when the chunk is no longer ours.
pub async fn heartbeat(pool: &PgPool, id: i64, worker: &str) -> Result<bool, LedgerError> {
    let r = sqlx::query(
        "UPDATE orgpool.chunks SET heartbeat_at = now()
         WHERE id = $1 AND worker = $2 AND state = 'running'",
    )
    .bind(id)
    .bind(worker)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Adds the planned work chunks (seq 1..) inside the plan step's transaction.
pub(super) async fn insert_work(
    conn: &mut PgConnection,
    run_id: i64,
    kind: &str,
    chunks: &[NewChunk],
) -> Result<Vec<i64>, LedgerError> {
    // After the run's last chunk: a re-opened run adds chunks to those it has.
    let (last,): (i32,) =
        sqlx::query_as("SELECT coalesce(max(seq), 0) FROM orgpool.chunks WHERE run_id = $1")
            .bind(run_id)
            .fetch_one(&mut *conn)
            .await?;
    let mut ids = Vec::with_capacity(chunks.len());
    for (i, c) in chunks.iter().enumerate() {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO orgpool.chunks (run_id, kind, seq, step, spec, expected_rows)
             VALUES ($1, $2, $3, 'work', $4, $5) RETURNING id",
        )
        .bind(run_id)
        .bind(kind)
        .bind(last + i as i32 + 1)
        .bind(&c.spec)
        .bind(c.expected_rows)
        .fetch_one(&mut *conn)
        .await?;
        ids.push(id);
    }
    Ok(ids)
}

/// Puts a chunk back to wait (an outage or limit: `spent` false), or to retry after a
/// transient failure (`spent` true), until `after` from now; records the error.
pub async fn snooze(
    pool: &PgPool,
    id: i64,
    worker: &str,
    after: Duration,
    spent: bool,
    class: &str,
    error: &str,
) -> Result<bool, LedgerError> {
    let r = sqlx::query(
        "UPDATE orgpool.chunks SET state = 'pending', worker = NULL, task_id = NULL,
                not_before = now() + make_interval(secs => $3),
                attempts = attempts + CASE WHEN $4 THEN 1 ELSE 0 END,
                waits = waits + CASE WHEN $4 THEN 0 ELSE 1 END,
                error_class = $5, error = $6, updated_at = now()
         WHERE id = $1 AND worker = $2 AND state = 'running'",
    )
    .bind(id)
    .bind(worker)
    .bind(after.as_secs_f64())
    .bind(spent)
    .bind(class)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Hands a chunk back untouched (the worker is shutting down).
pub async fn release(pool: &PgPool, id: i64, worker: &str) -> Result<bool, LedgerError> {
    let r = sqlx::query(
        "UPDATE orgpool.chunks SET state = 'pending', worker = NULL, task_id = NULL, updated_at = now()
         WHERE id = $1 AND worker = $2 AND state = 'running'",
    )
    .bind(id)
    .bind(worker)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records the Redis task now carrying a chunk; only if the chunk is still waiting
/// and still points at `previous` (compare-and-set: two pushers never both win).
pub async fn set_task(
    pool: &PgPool,
    id: i64,
    previous: Option<&str>,
    task: &str,
) -> Result<bool, LedgerError> {
    let r = sqlx::query(
        "UPDATE orgpool.chunks SET task_id = $3, state = 'queued', pushed_at = now(), updated_at = now()
         WHERE id = $1 AND state IN ('pending', 'queued') AND task_id IS NOT DISTINCT FROM $2",
    )
    .bind(id)
    .bind(previous)
    .bind(task)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Chunks that should be in Redis: waiting ones (pending or queued) that are due, and
/// running ones whose holder stopped beating.
pub async fn due(pool: &PgPool, limit: i64) -> Result<Vec<Chunk>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT * FROM orgpool.chunks
         WHERE (state IN ('pending', 'queued') AND (not_before IS NULL OR not_before <= now() + interval '1 second'))
            OR (state = 'running' AND heartbeat_at < now() - make_interval(secs => $2))
         ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .bind(STALE_AFTER.as_secs_f64())
    .fetch_all(pool)
    .await?)
}

/// Makes the pending chunks put back for `class` (`limit`: `orgpool budget clear`)
/// due now; returns their (id, kind, task id) to push again.
pub async fn wake_waiting(
    pool: &PgPool,
    class: &str,
) -> Result<Vec<(i64, String, Option<String>)>, LedgerError> {
    Ok(sqlx::query_as(
        "UPDATE orgpool.chunks SET not_before = now(), updated_at = now()
         WHERE state IN ('pending', 'queued') AND error_class = $1 AND not_before > now()
         RETURNING id, kind, task_id",
    )
    .bind(class)
    .fetch_all(pool)
    .await?)
}

/// Takes a stale running chunk back to `pending` so it can be pushed again.
pub async fn reclaim_stale(pool: &PgPool, id: i64) -> Result<bool, LedgerError> {
    let r = sqlx::query(
        "UPDATE orgpool.chunks SET state = 'pending', worker = NULL, task_id = NULL, updated_at = now()
         WHERE id = $1 AND state = 'running' AND heartbeat_at < now() - make_interval(secs => $2)",
    )
    .bind(id)
    .bind(STALE_AFTER.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Failed chunks, newest first (`orgpool jobs dead`).
pub async fn failed(pool: &PgPool, limit: i64) -> Result<Vec<Chunk>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT * FROM orgpool.chunks WHERE state = 'failed' ORDER BY updated_at DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// The waiting chunks of a run that no task carries yet, in order, as (id, queue): what
/// a new run pushes.
pub async fn unpushed(pool: &PgPool, run_id: i64) -> Result<Vec<(i64, String)>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT id, kind FROM orgpool.chunks
         WHERE run_id = $1 AND state = 'pending' AND task_id IS NULL ORDER BY seq",
    )
    .bind(run_id)
    .fetch_all(pool)
    .await?)
}

/// The run a chunk belongs to, if the chunk exists.
pub async fn run_of(pool: &PgPool, id: i64) -> Result<Option<i64>, LedgerError> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT run_id FROM orgpool.chunks WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| r.0))
}
