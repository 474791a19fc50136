//! The life of a chunk, the same for every job kind: claim it in the ledger (a
//! duplicate delivery finds it done or held and does nothing), beat while it runs, run
//! the kind's plan or work step, then record the [`Outcome`] it returned: done (in the
//! data's own transaction, with finalize there when it was the run's last chunk),
//! waiting (outage or limit: no attempt spent, the slot freed), retrying, failed,
//! cancelled, or handed back on shutdown. Redis only ever learns "ok" or "abort".

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::BoxFuture;
use sqlx::{Postgres, Transaction};

use super::context::JobContext;
use super::error::JobError;
use super::kind::{Job, JobKind, Outcome, Plan};
use crate::ledger::{self, Chunk, Claim, Ended, NewChunk, PlanRecord};
use crate::queue::{ChunkRunner, RunnerError};
use crate::telemetry::jobs as event;

/// Runs chunks of kind `K`.
pub struct Runner<K> {
    ctx: JobContext,
    max_attempts: i32,
    kind: PhantomData<fn() -> K>,
}

impl<K: JobKind> Runner<K> {
    /// A runner over `ctx` whose chunks get `max_attempts` attempts for transient errors.
    pub fn new(ctx: JobContext, max_attempts: i32) -> Runner<K> {
        Runner {
            ctx,
            max_attempts,
            kind: PhantomData,
        }
    }

    /// [`Runner::new`], as the queue consumer takes it (the registry's constructor).
    pub fn boxed(ctx: JobContext, max_attempts: i32) -> Arc<dyn ChunkRunner> {
        Arc::new(Runner::<K>::new(ctx, max_attempts))
    }
}

impl<K: JobKind> ChunkRunner for Runner<K> {
    fn run(&self, chunk_id: i64, worker: String) -> BoxFuture<'static, Result<(), RunnerError>> {
        let ctx = self.ctx.clone();
        let attempts = self.max_attempts;
        Box::pin(async move { run_chunk::<K>(ctx, attempts, chunk_id, worker).await })
    }
}

async fn run_chunk<K: JobKind>(
    ctx: JobContext,
    max_attempts: i32,
    chunk_id: i64,
    worker: String,
) -> Result<(), RunnerError> {
    let started = Instant::now();
    let chunk = match ledger::chunks::claim(&ctx.pool, chunk_id, &worker).await {
        Ok(Claim::Claimed(c)) => *c,
        Ok(_) => {
            ended::<K>("skipped", started.elapsed());
            return Ok(());
        }
        Err(e) => {
            // The ledger is unreachable: leave the chunk as it is; the scheduler pushes
            // it again once its task is gone.
            tracing::warn!(job_kind = K::QUEUE, chunk_id, error = %e, "cannot claim chunk");
            return Ok(());
        }
    };
    // The heartbeat ends when the chunk stops being ours (taken over, or its run
    // cancelled): the work is then dropped, and its transaction with it.
    let mut beat = tokio::spawn(heartbeat(ctx.clone(), chunk_id, worker.clone()));
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
            _ = &mut beat => {
                tracing::warn!(job_kind = K::QUEUE, run_id = chunk.run_id, chunk_id, "chunk is no longer ours (taken over or cancelled); work dropped");
                ended::<K>("lost", started.elapsed());
                return Ok(());
            }
        }
    };
    beat.abort();
    let took = started.elapsed();
    match result {
        None => {
            tracing::info!(
                job_kind = K::QUEUE,
                run_id = chunk.run_id,
                chunk_id,
                "shutting down: chunk rolled back and handed back"
            );
            let _ = ledger::chunks::release(&ctx.pool, chunk.id, &worker).await;
            let _ = super::push::push_chunk(&ctx.pool, &ctx.queues, K::QUEUE, chunk.id, None, None)
                .await;
            ended::<K>("released", took);
            Ok(())
        }
        Some(Ok(Committed::Done { rows, planned })) => {
            tracing::info!(job_kind = K::QUEUE, run_id = chunk.run_id, chunk_id, step = %chunk.step, rows, secs = took.as_secs_f64(), "chunk done");
            ended::<K>("done", took);
            // After the select: the heartbeat, which sees the plan chunk done by now,
            // must not cut these pushes short.
            push_planned::<K>(&ctx, planned).await;
            Ok(())
        }
        Some(Ok(Committed::Lost)) => {
            tracing::warn!(
                job_kind = K::QUEUE,
                run_id = chunk.run_id,
                chunk_id,
                "chunk is no longer ours (taken over or cancelled); its writes were rolled back"
            );
            ended::<K>("lost", took);
            Ok(())
        }
        Some(Err(outcome)) => record::<K>(&ctx, &chunk, &worker, outcome, max_attempts, took).await,
    }
}

/// What a step's commit did.
enum Committed {
    /// The chunk is done; a plan step's new chunks are to be pushed.
    Done {
        /// Rows written.
        rows: u64,
        /// The work chunks a plan step created.
        planned: Vec<i64>,
    },
    /// The chunk was no longer ours at commit (taken over, or its run cancelled): its
    /// transaction was rolled back.
    Lost,
}

/// Runs the chunk's step and commits it, or returns the outcome to record.
async fn step<K: JobKind>(
    ctx: &JobContext,
    chunk: &Chunk,
    worker: &str,
) -> Result<Committed, Outcome> {
    let failed = |e: JobError| Outcome::from_error(&e);
    let run = ledger::runs::get(&ctx.pool, chunk.run_id)
        .await
        .map_err(|e| failed(e.into()))?;
    let args: K::Args = run.args().map_err(|e| failed(e.into()))?;
    let job = Job {
        ctx,
        run: &run,
        args: &args,
    };
    if chunk.step == "plan" {
        let plan = K::plan(&job).await.map_err(failed)?;
        return plan_done::<K>(&job, chunk, worker, plan)
            .await
            .map_err(failed);
    }
    let what = format!("chunk spec of chunk {}", chunk.id);
    let spec: K::Chunk =
        ledger::decode(run.id, &run.kind, &what, &chunk.spec).map_err(|e| failed(e.into()))?;
    match K::work(&job, chunk, &spec).await.map_err(failed)? {
        Outcome::Done { tx, rows } => {
            let ours = commit::<K>(&job, tx, chunk, worker, rows)
                .await
                .map_err(failed)?;
            Ok(if ours {
                Committed::Done {
                    rows,
                    planned: Vec::new(),
                }
            } else {
                Committed::Lost
            })
        }
        other => Err(other),
    }
}

/// Marks `chunk` done in `tx` (which holds its data); when it was the run's last, runs
/// the kind's finalize in the same transaction and closes the run. Then commits. False
/// when the chunk was no longer ours and `tx` was rolled back.
async fn commit<K: JobKind>(
    job: &Job<'_, K::Args>,
    mut tx: Transaction<'static, Postgres>,
    chunk: &Chunk,
    worker: &str,
    rows: u64,
) -> Result<bool, JobError> {
    match ledger::lifecycle::chunk_done(&mut tx, chunk, worker, rows).await? {
        Ended::NotOurs => {
            // Another worker took it over, or the run was cancelled: drop our copy.
            tx.rollback().await?;
            return Ok(false);
        }
        Ended::Open | Ended::Closed(_) => {}
        Ended::Complete(closing) => {
            let run = closing.run().clone();
            let last = Job {
                ctx: job.ctx,
                run: &run,
                args: job.args,
            };
            K::finalize(&last, &mut tx).await?;
            closing.succeed(&mut tx).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

/// Records a plan's chunks and ends the plan chunk, in one transaction.
async fn plan_done<K: JobKind>(
    job: &Job<'_, K::Args>,
    chunk: &Chunk,
    worker: &str,
    plan: Plan<K::Chunk>,
) -> Result<Committed, JobError> {
    let record = PlanRecord {
        chunks: plan
            .chunks
            .iter()
            .map(|c| NewChunk {
                spec: ledger::encode(&c.spec),
                expected_rows: c.expected_rows,
            })
            .collect(),
        expected_rows: plan.expected_rows,
        window_from: plan.window_from,
        window_to: plan.window_to,
        summary: plan.summary,
    };
    let mut tx = job.ctx.pool.begin().await?;
    let ids = ledger::lifecycle::record_plan(&mut tx, job.run, K::QUEUE, &record).await?;
    let run = ledger::runs::get_in(&mut tx, job.run.id).await?;
    let planned = Job {
        ctx: job.ctx,
        run: &run,
        args: job.args,
    };
    if !commit::<K>(&planned, tx, chunk, worker, 0).await? {
        return Ok(Committed::Lost);
    }
    Ok(Committed::Done {
        rows: 0,
        planned: ids,
    })
}

/// Pushes a new plan's chunks, several at a time: a large run has hundreds, and each
/// push is a Redis script plus a ledger update. A failed push is not lost: the
/// scheduler pushes the pending chunks it finds.
async fn push_planned<K: JobKind>(ctx: &JobContext, ids: Vec<i64>) {
    if ids.is_empty() {
        return;
    }
    let (started, n) = (Instant::now(), ids.len());
    futures::stream::iter(ids)
        .for_each_concurrent(16, |id| async move {
            if let Err(e) =
                super::push::push_chunk(&ctx.pool, &ctx.queues, K::QUEUE, id, None, None).await
            {
                tracing::warn!(job_kind = K::QUEUE, chunk_id = id, error = %e, "push failed; the scheduler will push it");
            }
        })
        .await;
    tracing::debug!(
        job_kind = K::QUEUE,
        chunks = n,
        push_ms = started.elapsed().as_millis() as u64,
        "planned chunks pushed"
    );
}

/// Records an outcome other than done.
async fn record<K: JobKind>(
    ctx: &JobContext,
    chunk: &Chunk,
    worker: &str,
    outcome: Outcome,
    max_attempts: i32,
    took: Duration,
) -> Result<(), RunnerError> {
    let (run_id, chunk_id) = (chunk.run_id, chunk.id);
    let outcome = match outcome {
        Outcome::Retry { class, reason, .. } if chunk.attempts + 1 >= max_attempts => {
            Outcome::Fail {
                class,
                reason: format!("{reason} (gave up after {max_attempts} attempts)"),
            }
        }
        o => o,
    };
    let label = outcome.label();
    let (delay, spent, class, reason) = match outcome {
        Outcome::Done { .. } => unreachable!("done is committed by the step"),
        Outcome::Wait {
            after,
            class,
            reason,
        } => (
            wait_for(
                class,
                after.unwrap_or(ctx.settings.wait_delay),
                ctx.client.config().budget.recheck,
            ),
            false,
            class,
            reason,
        ),
        Outcome::Retry {
            after,
            class,
            reason,
        } => (
            after.unwrap_or(backoff(chunk.attempts)),
            true,
            class,
            reason,
        ),
        Outcome::Fail { class, reason } => {
            tracing::error!(job_kind = K::QUEUE, run_id, chunk_id, class, error = %reason, "chunk failed");
            let _ = ledger::lifecycle::chunk_failed(&ctx.pool, chunk, worker, class, &reason).await;
            ended::<K>(label, took);
            return Err(RunnerError::Abort(reason));
        }
        Outcome::Cancel { reason } => {
            tracing::warn!(job_kind = K::QUEUE, run_id, chunk_id, reason = %reason, "the kind cancelled its run");
            let _ = ledger::lifecycle::cancel(&ctx.pool, run_id, &reason).await;
            ended::<K>(label, took);
            return Ok(());
        }
    };
    tracing::warn!(job_kind = K::QUEUE, run_id, chunk_id, class, error = %reason, delay_secs = delay.as_secs_f64(), outcome = label, "chunk will run again");
    if let Ok(true) =
        ledger::chunks::snooze(&ctx.pool, chunk.id, worker, delay, spent, class, &reason).await
    {
        let _ = super::push::push_chunk(
            &ctx.pool,
            &ctx.queues,
            K::QUEUE,
            chunk.id,
            None,
            Some(delay),
        )
        .await;
    }
    ended::<K>(label, took);
    Ok(())
}

/// Emits the chunk's end for its kind.
fn ended<K: JobKind>(outcome: &'static str, took: Duration) {
    event::ChunkEnded {
        kind: K::QUEUE,
        outcome,
        took,
    }
    .emit();
}

/// A limit wait is put back for at most the budget's re-check period, never for the
/// whole rolling window: the allowance may be raised or the usage reset meanwhile.
fn wait_for(class: &str, after: Duration, recheck: Duration) -> Duration {
    if class == "limit" {
        after.min(recheck)
    } else {
        after
    }
}

/// 2, 4, 8 ... seconds, at most a minute.
fn backoff(attempts: i32) -> Duration {
    Duration::from_secs(
        2u64.saturating_pow(attempts.clamp(0, 10) as u32 + 1)
            .min(60),
    )
}

/// Beats until the chunk is no longer ours; returns then.
async fn heartbeat(ctx: JobContext, chunk_id: i64, worker: String) {
    let mut tick = tokio::time::interval(ledger::chunks::HEARTBEAT);
    tick.tick().await;
    loop {
        tick.tick().await;
        match ledger::chunks::heartbeat(&ctx.pool, chunk_id, &worker).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => tracing::warn!(chunk_id, error = %e, "heartbeat failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{backoff, wait_for};
    use std::time::Duration;

    #[test]
    fn a_limit_wait_is_capped_at_the_recheck_period() {
        let day = Duration::from_secs(86_333);
        let minute = Duration::from_secs(60);
        assert_eq!(wait_for("limit", day, minute), minute);
        assert_eq!(
            wait_for("limit", Duration::from_secs(5), minute),
            Duration::from_secs(5)
        );
        assert_eq!(wait_for("outage", day, minute), day);
    }

    #[test]
    fn backoff_doubles_to_a_minute() {
        assert_eq!(backoff(0), Duration::from_secs(2));
        assert_eq!(backoff(2), Duration::from_secs(8));
        assert_eq!(backoff(9), Duration::from_secs(60));
    }
}
