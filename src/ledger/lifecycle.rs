//! A run's life, owned here and nowhere else: planned → running → succeeded /
//! succeeded_with_failures / failed / cancelled, and re-opened by `jobs retry` (failed
//! chunks again) or `jobs retry --records` (new chunks for the records Salesforce
//! refused). Every way a chunk ends (done, failed for
//! good, cancelled) comes through this module, and a run is closed by one function
//! ([`close`]) after one count of its chunks. A run succeeds only when every chunk is
//! done, and only after its kind's finalize ran in the transaction of the last chunk:
//! [`chunk_done`] hands the caller a [`Closing`] for that, which is the only way to mark
//! a run succeeded.

use sqlx::{PgConnection, PgPool};

use super::LedgerError;
use super::chunks::{Chunk, NewChunk};
use super::runs::Run;

/// The states of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Its plan step has not committed yet.
    Planning,
    /// Its work chunks are being run.
    Running,
    /// Every chunk is done and finalize ran.
    Succeeded,
    /// Every chunk is done and finalize ran, but records Salesforce refused for good are
    /// still open (`orgpool jobs failures`; `jobs retry --records` re-opens the run).
    SucceededWithFailures,
    /// A chunk failed for good (`jobs retry` re-opens it).
    Failed,
    /// Stopped by `jobs cancel`; its open chunks were cancelled.
    Cancelled,
}

impl RunState {
    /// The stable name stored in `orgpool.runs.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Planning => "planning",
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::SucceededWithFailures => "succeeded_with_failures",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
        }
    }
}

/// What the end of a chunk did to its run.
#[derive(Debug)]
#[must_use = "a Closing must be finished with `succeed` in the same transaction"]
pub enum Ended {
    /// The chunk was no longer this worker's (taken over, or its run cancelled): the
    /// caller must roll its transaction back.
    NotOurs,
    /// Other chunks of the run are still open.
    Open,
    /// Every chunk has ended and one failed or was cancelled: the run is closed so.
    Closed(RunState),
    /// Every chunk is done: the caller runs the kind's finalize in this transaction and
    /// then [`Closing::succeed`].
    Complete(Closing),
}

/// A run whose chunks are all done, locked in the caller's transaction until it commits.
#[derive(Debug)]
pub struct Closing {
    run: Box<Run>,
}

impl Closing {
    /// The run, as locked.
    pub fn run(&self) -> &Run {
        &self.run
    }

    /// Marks the run succeeded (after its finalize ran in `conn`'s transaction), or
    /// succeeded with failures while records of it Salesforce refused are still open.
    pub async fn succeed(self, conn: &mut PgConnection) -> Result<(), LedgerError> {
        let open = super::pushes::open_failures_of(&mut *conn, self.run.id).await?;
        if open == 0 {
            return close(conn, self.run.id, RunState::Succeeded, None).await;
        }
        let note = format!(
            "{open} record(s) refused by Salesforce; see `orgpool jobs failures`, fix them, then `orgpool jobs retry --records --run {}`",
            self.run.id
        );
        close(
            conn,
            self.run.id,
            RunState::SucceededWithFailures,
            Some(&note),
        )
        .await
    }
}

/// What a plan step decided, as the ledger records it.
#[derive(Debug, Clone, Default)]
pub struct PlanRecord {
    /// The work chunks, in order.
    pub chunks: Vec<NewChunk>,
    /// Rows the planner counted.
    pub expected_rows: Option<i64>,
    /// A resync's window, or for loads the time the snapshot started (`window_to`).
    pub window_from: Option<chrono::DateTime<chrono::Utc>>,
    /// See `window_from`.
    pub window_to: Option<chrono::DateTime<chrono::Utc>>,
    /// What the plan found, for people (quote runs: how many were selected).
    pub summary: serde_json::Value,
}

/// Records the plan of `run` (its work chunks, counts, window) in the plan chunk's
/// transaction; returns the new chunk ids. The plan chunk itself ends with
/// [`chunk_done`] in the same transaction.
pub async fn record_plan(
    conn: &mut PgConnection,
    run: &Run,
    queue: &str,
    plan: &PlanRecord,
) -> Result<Vec<i64>, LedgerError> {
    let ids = super::chunks::insert_work(conn, run.id, queue, &plan.chunks).await?;
    let summary = if plan.summary.is_null() {
        serde_json::json!({})
    } else {
        plan.summary.clone()
    };
    sqlx::query(
        "UPDATE orgpool.runs SET state = 'running', chunks_total = $2, expected_rows = $3,
                window_from = $4, window_to = $5, summary = $6
         WHERE id = $1 AND state = 'planning'",
    )
    .bind(run.id)
    .bind(ids.len() as i32)
    .bind(plan.expected_rows)
    .bind(plan.window_from)
    .bind(plan.window_to)
    .bind(summary)
    .execute(&mut *conn)
    .await?;
    Ok(ids)
}

/// Marks `chunk` done inside the caller's transaction (the one that wrote its data) and
/// tells what that did to its run.
pub async fn chunk_done(
    conn: &mut PgConnection,
    chunk: &Chunk,
    worker: &str,
    rows: u64,
) -> Result<Ended, LedgerError> {
    let r = sqlx::query(
        "UPDATE orgpool.chunks SET state = 'done', rows = $3, error = NULL, error_class = NULL,
                finished_at = now(), updated_at = now()
         WHERE id = $1 AND worker = $2 AND state = 'running'",
    )
    .bind(chunk.id)
    .bind(worker)
    .bind(rows as i64)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(Ended::NotOurs);
    }
    settle(conn, chunk.run_id).await
}

/// Fails a chunk for good (its attempts are spent or the error is permanent) and closes
/// its run as failed if nothing else of it is open. False when it was no longer ours.
pub async fn chunk_failed(
    pool: &PgPool,
    chunk: &Chunk,
    worker: &str,
    class: &str,
    error: &str,
) -> Result<bool, LedgerError> {
    let mut tx = pool.begin().await?;
    let r = sqlx::query(
        "UPDATE orgpool.chunks SET state = 'failed', error_class = $3, error = $4,
                attempts = attempts + 1, finished_at = now(), updated_at = now()
         WHERE id = $1 AND worker = $2 AND state = 'running'",
    )
    .bind(chunk.id)
    .bind(worker)
    .bind(class)
    .bind(error)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    match settle(&mut tx, chunk.run_id).await? {
        Ended::Complete(_) => unreachable!("a run with a failed chunk never completes"),
        Ended::NotOurs | Ended::Open | Ended::Closed(_) => {}
    }
    tx.commit().await?;
    Ok(true)
}

/// Cancels an active run: its open chunks become `cancelled` (a worker holding one
/// finds it gone at commit and rolls back) and the run ends `cancelled`. Returns the
/// chunks cancelled; an ended run is an error naming its state.
pub async fn cancel(pool: &PgPool, run_id: i64, reason: &str) -> Result<u64, LedgerError> {
    let mut tx = pool.begin().await?;
    let run = super::runs::lock(&mut tx, run_id).await?;
    if run.is_finished() {
        return Err(LedgerError::RunEnded {
            run: run_id,
            state: run.state,
        });
    }
    let n = sqlx::query(
        "UPDATE orgpool.chunks SET state = 'cancelled', error = $2, worker = NULL, task_id = NULL,
                finished_at = now(), updated_at = now()
         WHERE run_id = $1 AND state NOT IN ('done', 'failed', 'cancelled')",
    )
    .bind(run_id)
    .bind(reason)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    close(&mut tx, run_id, RunState::Cancelled, Some(reason)).await?;
    tx.commit().await?;
    Ok(n)
}

/// Puts failed chunks back to pending with fresh attempts and re-opens their runs
/// (`orgpool jobs retry`); `only` limits it to one chunk, `run` to one run. Returns the
/// chunk ids. A run whose object has another run active stays failed (an error).
pub async fn retry(
    pool: &PgPool,
    only: Option<i64>,
    run: Option<i64>,
) -> Result<Vec<i64>, LedgerError> {
    let mut tx = pool.begin().await?;
    let ids: Vec<(i64, i64)> = sqlx::query_as(
        "UPDATE orgpool.chunks SET state = 'pending', attempts = 0, worker = NULL, task_id = NULL,
                not_before = NULL, finished_at = NULL, updated_at = now()
         WHERE state = 'failed' AND ($1::bigint IS NULL OR id = $1)
           AND ($2::bigint IS NULL OR run_id = $2) RETURNING id, run_id",
    )
    .bind(only)
    .bind(run)
    .fetch_all(&mut *tx)
    .await?;
    for (_, run_id) in &ids {
        let reopened = sqlx::query(
            "UPDATE orgpool.runs r SET state = CASE WHEN EXISTS (SELECT 1 FROM orgpool.chunks c
                        WHERE c.run_id = r.id AND c.step = 'plan' AND c.state <> 'done') THEN 'planning' ELSE 'running' END,
                    finished_at = NULL, error = NULL
             WHERE id = $1 AND state = 'failed'
               AND NOT EXISTS (SELECT 1 FROM orgpool.runs o WHERE o.lane = r.lane AND o.id <> r.id
                               AND o.state IN ('planning', 'running'))",
        )
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        let (state,): (String,) = sqlx::query_as("SELECT state FROM orgpool.runs WHERE id = $1")
            .bind(run_id)
            .fetch_one(&mut *tx)
            .await?;
        if reopened.rows_affected() == 0 && !matches!(state.as_str(), "planning" | "running") {
            return Err(LedgerError::LaneBusy {
                object: format!("run {run_id}"),
                run: *run_id,
                kind: "another run of the same object".into(),
            });
        }
    }
    tx.commit().await?;
    Ok(ids.into_iter().map(|(id, _)| id).collect())
}

/// Re-opens a run that succeeded with failures with new work `chunks` (the records it
/// left refused, `orgpool jobs retry --records`): they are added after its chunks, its
/// chunk count grows, and it runs (and ends) again. Returns the new chunk ids. A run in
/// another state, or whose lane has another run active, is an error naming it.
pub async fn reopen_with(
    pool: &PgPool,
    run_id: i64,
    queue: &str,
    chunks: &[NewChunk],
) -> Result<Vec<i64>, LedgerError> {
    let mut tx = pool.begin().await?;
    let run = super::runs::lock(&mut tx, run_id).await?;
    if run.state != RunState::SucceededWithFailures.as_str() {
        return Err(LedgerError::NotReopenable {
            run: run_id,
            state: run.state,
        });
    }
    let ids = super::chunks::insert_work(&mut tx, run_id, queue, chunks).await?;
    let reopened = sqlx::query(
        "UPDATE orgpool.runs r SET state = 'running', chunks_total = chunks_total + $2,
                finished_at = NULL, error = NULL
         WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM orgpool.runs o WHERE o.lane = r.lane
                                       AND o.id <> r.id AND o.state IN ('planning', 'running'))",
    )
    .bind(run_id)
    .bind(ids.len() as i32)
    .execute(&mut *tx)
    .await?;
    if reopened.rows_affected() == 0 {
        return Err(LedgerError::LaneBusy {
            object: run.object,
            run: run_id,
            kind: "another run of the same object".into(),
        });
    }
    tx.commit().await?;
    Ok(ids)
}

/// Counts the run's chunks (holding the run's lock, which serialises its last chunks)
/// and closes it when none is open: failed if one failed, cancelled if one was
/// cancelled, and otherwise hands back a [`Closing`] for the caller's finalize.
async fn settle(conn: &mut PgConnection, run_id: i64) -> Result<Ended, LedgerError> {
    let run = super::runs::lock(conn, run_id).await?;
    let (open, failed, cancelled, first_error): (i64, i64, i64, Option<String>) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE state NOT IN ('done', 'failed', 'cancelled')),
                count(*) FILTER (WHERE state = 'failed'),
                count(*) FILTER (WHERE state = 'cancelled'),
                (SELECT error FROM orgpool.chunks WHERE run_id = $1 AND state = 'failed' ORDER BY seq LIMIT 1)
         FROM orgpool.chunks WHERE run_id = $1",
    )
    .bind(run_id)
    .fetch_one(&mut *conn)
    .await?;
    if open > 0 || run.is_finished() {
        return Ok(Ended::Open);
    }
    if failed > 0 {
        close(conn, run_id, RunState::Failed, first_error.as_deref()).await?;
        return Ok(Ended::Closed(RunState::Failed));
    }
    if cancelled > 0 {
        close(conn, run_id, RunState::Cancelled, None).await?;
        return Ok(Ended::Closed(RunState::Cancelled));
    }
    Ok(Ended::Complete(Closing { run: Box::new(run) }))
}

/// Ends a run (only if it is still active): the one place a run is closed.
async fn close(
    conn: &mut PgConnection,
    id: i64,
    state: RunState,
    error: Option<&str>,
) -> Result<(), LedgerError> {
    sqlx::query(
        "UPDATE orgpool.runs SET state = $2, error = $3, finished_at = now()
         WHERE id = $1 AND state IN ('planning', 'running')",
    )
    .bind(id)
    .bind(state.as_str())
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}
