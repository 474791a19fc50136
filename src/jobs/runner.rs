//! The life of a chunk, the same for every job kind: claim it in the ledger (a
//! duplicate delivery finds it done or held and does nothing), beat while it runs, run
//! the kind's plan or work step, then record the outcome: done (in the data's own
//! transaction), waiting (outage or limit: no attempt spent), retrying, failed, or
//! handed back on shutdown. Redis only ever learns "ok" or "abort".

use futures::StreamExt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use sqlx::{PgConnection, Postgres, Transaction};

use super::context::JobContext;
use super::error::{JobError, Next};
use crate::ledger::{self, Chunk, Claim, NewChunk, Run};
use crate::queue::{ChunkRunner, RunnerError};
use crate::telemetry::jobs as metric;

/// What a plan step decided.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The work chunks, in order.
    pub chunks: Vec<NewChunk>,
    /// Resync window, or for loads the time the snapshot started (window_to).
    pub window_from: Option<chrono::DateTime<chrono::Utc>>,
    /// See `window_from`.
    pub window_to: Option<chrono::DateTime<chrono::Utc>>,
    /// Rows the planner counted.
    pub expected_rows: Option<i64>,
}

/// A job kind: a stable name (also its queue), a plan step and a work step.
pub trait JobKind: Send + Sync + 'static {
    /// Stable snake_case name.
    const KIND: &'static str;

    /// Decides a run's work chunks.
    fn plan<'a>(ctx: &'a JobContext, run: &'a Run) -> BoxFuture<'a, Result<Plan, JobError>>;

    /// Runs one work chunk and commits it with [`commit_chunk`]; returns rows written.
    fn work<'a>(
        ctx: &'a JobContext,
        run: &'a Run,
        chunk: &'a Chunk,
        worker: &'a str,
    ) -> BoxFuture<'a, Result<u64, JobError>>;

    /// Runs once, in the transaction of the run's last chunk (or of an empty plan).
    fn finalize<'a>(
        ctx: &'a JobContext,
        conn: &'a mut PgConnection,
        run: &'a Run,
    ) -> BoxFuture<'a, Result<(), JobError>>;
}

/// Marks `chunk` done in `tx` (which holds its data), closes the run if it was the last
/// open chunk (running the kind's finalize in the same transaction), and commits.
pub async fn commit_chunk<K: JobKind>(
    ctx: &JobContext,
    mut tx: Transaction<'static, Postgres>,
    run: &Run,
    chunk: &Chunk,
    worker: &str,
    rows: u64,
) -> Result<(), JobError> {
    if !ledger::chunks::finish_in(&mut tx, chunk.id, worker, rows).await? {
        // Another worker took it over (we were presumed dead): drop our copy.
        tx.rollback().await?;
        return Ok(());
    }
    let run = ledger::runs::lock(&mut tx, run.id).await?;
    if ledger::chunks::open_in_run(&mut tx, run.id).await? == 0 {
        K::finalize(ctx, &mut tx, &run).await?;
        let failed: (i64,) = sqlx::query_as(
            "SELECT count(*) FROM orgpool.chunks WHERE run_id = $1 AND state = 'failed'",
        )
        .bind(run.id)
        .fetch_one(&mut *tx)
        .await?;
        let state = if failed.0 > 0 { "failed" } else { "succeeded" };
        ledger::runs::finish(&mut tx, run.id, state, None).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Runs chunks of kind `K`.
pub struct Runner<K> {
    ctx: JobContext,
    kind: PhantomData<fn() -> K>,
}

impl<K: JobKind> Runner<K> {
    /// A runner over `ctx`.
    pub fn new(ctx: JobContext) -> Runner<K> {
        Runner {
            ctx,
            kind: PhantomData,
        }
    }
}

impl<K: JobKind> ChunkRunner for Runner<K> {
    fn run(&self, chunk_id: i64, worker: String) -> BoxFuture<'static, Result<(), RunnerError>> {
        let ctx = self.ctx.clone();
        Box::pin(async move { run_chunk::<K>(ctx, chunk_id, worker).await })
    }
}

async fn run_chunk<K: JobKind>(
    ctx: JobContext,
    chunk_id: i64,
    worker: String,
) -> Result<(), RunnerError> {
    let started = Instant::now();
    let chunk = match ledger::chunks::claim(&ctx.pool, chunk_id, &worker).await {
        Ok(Claim::Claimed(c)) => *c,
        Ok(_) => {
            metric::chunk(K::KIND, "skipped", started.elapsed());
            return Ok(());
        }
        Err(e) => {
            // The ledger is unreachable: leave the chunk as it is; the scheduler pushes
            // it again once its task is gone.
            tracing::warn!(job_kind = K::KIND, chunk_id, error = %e, "cannot claim chunk");
            return Ok(());
        }
    };
    let beat = tokio::spawn(heartbeat(ctx.clone(), chunk_id, worker.clone()));
    let result = {
        let work = step::<K>(&ctx, &chunk, &worker);
        let mut stop = ctx.shutdown.clone();
        let grace = ctx.settings.shutdown_grace;
        let deadline = async move {
            let _ = stop.wait_for(|s| *s).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            r = work => Some(r),
            _ = deadline => None,
        }
    };
    beat.abort();
    let took = started.elapsed();
    let span = (K::KIND, chunk.run_id, chunk.id);
    match result {
        None => {
            tracing::info!(
                job_kind = span.0,
                run_id = span.1,
                chunk_id = span.2,
                "shutting down: chunk rolled back and handed back"
            );
            let _ = ledger::chunks::release(&ctx.pool, chunk.id, &worker).await;
            let _ =
                super::dispatch::push_chunk(&ctx.pool, &ctx.queues, K::KIND, chunk.id, None, None)
                    .await;
            metric::chunk(K::KIND, "released", took);
            Ok(())
        }
        Some(Ok(rows)) => {
            tracing::info!(job_kind = span.0, run_id = span.1, chunk_id = span.2, step = %chunk.step, rows, secs = took.as_secs_f64(), "chunk done");
            metric::chunk(K::KIND, "done", took);
            Ok(())
        }
        Some(Err(e)) => settle::<K>(&ctx, &chunk, &worker, e, took).await,
    }
}

async fn step<K: JobKind>(ctx: &JobContext, chunk: &Chunk, worker: &str) -> Result<u64, JobError> {
    let run = ledger::runs::get(&ctx.pool, chunk.run_id).await?;
    if chunk.step == "plan" {
        plan_step::<K>(ctx, &run, chunk, worker).await
    } else {
        K::work(ctx, &run, chunk, worker).await
    }
}

async fn plan_step<K: JobKind>(
    ctx: &JobContext,
    run: &Run,
    chunk: &Chunk,
    worker: &str,
) -> Result<u64, JobError> {
    let started = std::time::Instant::now();
    let plan = K::plan(ctx, run).await?;
    let planned = started.elapsed();
    let mut tx = ctx.pool.begin().await?;
    let ids = ledger::chunks::insert_work(&mut tx, run.id, K::KIND, &plan.chunks).await?;
    sqlx::query(
        "UPDATE orgpool.runs SET state = 'running', chunks_total = $2, expected_rows = $3,
                window_from = $4, window_to = $5 WHERE id = $1",
    )
    .bind(run.id)
    .bind(ids.len() as i32)
    .bind(plan.expected_rows)
    .bind(plan.window_from)
    .bind(plan.window_to)
    .execute(&mut *tx)
    .await?;
    let run = ledger::runs::get_in(&mut tx, run.id).await?;
    commit_chunk::<K>(ctx, tx, &run, chunk, worker, 0).await?;
    let committed = started.elapsed();
    let pushed = ids.len();
    // Pushed several at a time: a large run has hundreds of chunks, and each push is a
    // Redis script plus a ledger update. A failed push is not lost: the scheduler
    // pushes the pending chunks it finds.
    futures::stream::iter(ids)
        .for_each_concurrent(16, |id| async move {
            if let Err(e) =
                super::dispatch::push_chunk(&ctx.pool, &ctx.queues, K::KIND, id, None, None).await
            {
                tracing::warn!(job_kind = K::KIND, chunk_id = id, error = %e, "push failed; the scheduler will push it");
            }
        })
        .await;
    tracing::debug!(
        job_kind = K::KIND,
        run_id = run.id,
        chunks = pushed,
        plan_ms = planned.as_millis() as u64,
        commit_ms = (committed - planned).as_millis() as u64,
        push_ms = (started.elapsed() - committed).as_millis() as u64,
        "run planned"
    );
    Ok(0)
}

async fn settle<K: JobKind>(
    ctx: &JobContext,
    chunk: &Chunk,
    worker: &str,
    e: JobError,
    took: Duration,
) -> Result<(), RunnerError> {
    let class = e.class();
    let message = e.to_string();
    let (run_id, chunk_id) = (chunk.run_id, chunk.id);
    let next = match e.next() {
        Next::Retry if chunk.attempts + 1 >= ctx.settings.max_attempts => Next::Fail,
        n => n,
    };
    let (outcome, delay, spent) = match next {
        Next::Wait(after) => ("waiting", after.unwrap_or(ctx.settings.wait_delay), false),
        Next::Retry => ("retry", backoff(chunk.attempts), true),
        Next::Fail => {
            tracing::error!(job_kind = K::KIND, run_id, chunk_id, class, error = %message, "chunk failed");
            let _ = ledger::chunks::fail(&ctx.pool, chunk.id, worker, class, &message).await;
            metric::chunk(K::KIND, "failed", took);
            return Err(RunnerError::Abort(message));
        }
    };
    tracing::warn!(job_kind = K::KIND, run_id, chunk_id, class, error = %message, delay_secs = delay.as_secs_f64(), outcome, "chunk will run again");
    if let Ok(true) =
        ledger::chunks::snooze(&ctx.pool, chunk.id, worker, delay, spent, class, &message).await
    {
        let _ = super::dispatch::push_chunk(
            &ctx.pool,
            &ctx.queues,
            K::KIND,
            chunk.id,
            None,
            Some(delay),
        )
        .await;
    }
    metric::chunk(K::KIND, outcome, took);
    Ok(())
}

/// 2, 4, 8 ... seconds, at most a minute.
fn backoff(attempts: i32) -> Duration {
    Duration::from_secs(
        2u64.saturating_pow(attempts.clamp(0, 10) as u32 + 1)
            .min(60),
    )
}

async fn heartbeat(ctx: JobContext, chunk_id: i64, worker: String) {
    let mut tick = tokio::time::interval(ledger::chunks::HEARTBEAT);
    tick.tick().await;
    loop {
        tick.tick().await;
        match ledger::chunks::heartbeat(&ctx.pool, chunk_id, &worker).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(chunk_id, "chunk was taken over by another worker");
                return;
            }
            Err(e) => tracing::warn!(chunk_id, error = %e, "heartbeat failed"),
        }
    }
}
