//! Getting ledger chunks into Redis: pushing one (recording its task id with a
//! compare-and-set, so two pushers never both count), pushing a run's waiting chunks,
//! and the scheduler's sweep that re-pushes chunks whose task Redis lost (flushed or
//! restarted; this Redis keeps nothing on disk) or whose worker died.

use std::time::Duration;

use sqlx::PgPool;

use super::error::JobError;
use crate::ledger;
use crate::queue::Queues;

/// Pushes chunk `id` of `kind`, replacing task `previous`; returns the new task id, or
/// None when someone else moved the chunk on first (the extra task is harmless: its
/// claim will find the chunk taken).
pub async fn push_chunk(
    pool: &PgPool,
    queues: &Queues,
    kind: &str,
    id: i64,
    previous: Option<&str>,
    delay: Option<Duration>,
) -> Result<Option<String>, JobError> {
    let task = queues.push(kind, id, delay).await?;
    let won = ledger::chunks::set_task(pool, id, previous, &task).await?;
    Ok(won.then_some(task))
}

/// Pushes the waiting chunks of one run (after creating it).
pub async fn push_run(pool: &PgPool, queues: &Queues, run_id: i64) -> Result<usize, JobError> {
    let waiting = ledger::chunks::unpushed(pool, run_id).await?;
    for (id, kind) in &waiting {
        push_chunk(pool, queues, kind, *id, None, None).await?;
    }
    Ok(waiting.len())
}

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Chunks pushed because their task was missing.
    pub pushed: usize,
    /// Of those, chunks taken back from a worker that stopped beating.
    pub reclaimed: usize,
}

/// Re-pushes every chunk that should be in Redis but is not.
pub async fn sweep(pool: &PgPool, queues: &Queues) -> Result<Swept, JobError> {
    let mut out = Swept::default();
    for c in ledger::chunks::due(pool, 5_000).await? {
        let mut previous = c.task_id.clone();
        if c.state == "running" {
            if !ledger::chunks::reclaim_stale(pool, c.id).await? {
                continue;
            }
            tracing::warn!(chunk_id = c.id, worker = ?c.worker, "worker stopped beating; chunk taken back");
            out.reclaimed += 1;
            previous = None;
        } else if let Some(t) = &c.task_id
            && queues.task_alive(&c.kind, t).await?
        {
            continue;
        }
        let delay = c
            .not_before
            .and_then(|nb| (nb - chrono::Utc::now()).to_std().ok());
        if push_chunk(pool, queues, &c.kind, c.id, previous.as_deref(), delay)
            .await?
            .is_some()
        {
            out.pushed += 1;
        }
    }
    Ok(out)
}
