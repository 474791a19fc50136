//! Runs one apalis worker per job kind and keeps it running: a fresh worker name on
//! every start (apalis refuses or mis-recovers reused names), bounded concurrency, fast
//! idle polling, and after an error exit (a poison payload, a Redis flush) the dead
//! worker's leases are sorted out by [`quarantine`] before a new worker starts. Stops
//! when the shutdown signal fires, after the running chunks return (the runner bounds
//! that itself).

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use futures::future::BoxFuture;
use tokio::sync::watch;

use super::poison::quarantine;
use super::queues::{QueueError, Queues};
use super::task::ChunkTask;

/// What a chunk run told the queue.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// Failed for good (recorded in the ledger); apalis moves the task to its dead set.
    #[error("{0}")]
    Abort(String),
}

/// Runs chunks of one kind. Implementations record every outcome in the ledger; an
/// `Ok` covers done, skipped, snoozed and released chunks alike.
pub trait ChunkRunner: Send + Sync + 'static {
    /// Runs chunk `chunk_id` as worker `worker`.
    fn run(&self, chunk_id: i64, worker: String) -> BoxFuture<'static, Result<(), RunnerError>>;
}

#[derive(Clone)]
struct Runner(Arc<dyn ChunkRunner>);

async fn handle(
    task: ChunkTask,
    runner: Data<Runner>,
    worker: WorkerContext,
) -> Result<(), BoxDynError> {
    // Spawned so chunks use every core and a chunk finishes even if this worker's poll
    // loop is torn down under it (its ledger claim keeps others off meanwhile).
    let fut = runner.0.0.run(task.chunk_id, worker.name().to_string());
    match tokio::spawn(fut).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(RunnerError::Abort(msg))) => Err(AbortError::new(msg).into()),
        Err(join) => {
            Err(AbortError::new(format!("chunk {} panicked: {join}", task.chunk_id)).into())
        }
    }
}

/// Runs workers for `kind` until `shutdown` turns true. `identity` is unique per process
/// start (host, pid and a random part); each worker start adds a counter to it.
pub async fn run_queue(
    queues: Queues,
    kind: &'static str,
    identity: String,
    runner: Arc<dyn ChunkRunner>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), QueueError> {
    let mut restarts = 0u32;
    let mut backoff = Duration::from_millis(200);
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let name = format!("{identity}:{kind}:{restarts}");
        let backend = queues
            .storage(kind)
            .poll_with_interval(queues.config().poll_interval);
        let worker = WorkerBuilder::new(name.clone())
            .backend(backend)
            .data(Runner(runner.clone()))
            .concurrency(queues.config().concurrency)
            .build(handle);
        let mut stop = shutdown.clone();
        let signal = async move {
            let _ = stop.wait_for(|s| *s).await;
            Ok::<(), std::io::Error>(())
        };
        let result = worker.run_until(signal).await;
        match result {
            Ok(()) => return Ok(()),
            Err(e) => {
                tracing::warn!(queue = kind, worker = %name, error = %e, "worker stopped on an error; sorting out its tasks and starting a fresh one");
                match quarantine(&queues, kind, &name).await {
                    Ok(q) if q.poisoned > 0 || q.released > 0 => {
                        tracing::info!(
                            queue = kind,
                            poisoned = q.poisoned,
                            released = q.released,
                            "leases of the stopped worker sorted out"
                        );
                        backoff = Duration::from_millis(200);
                    }
                    Ok(_) => backoff = (backoff * 2).min(Duration::from_secs(10)),
                    Err(qe) => {
                        tracing::warn!(queue = kind, error = %qe, "could not clean up after the worker (Redis unreachable?)");
                        backoff = (backoff * 2).min(Duration::from_secs(10));
                    }
                }
                restarts += 1;
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.wait_for(|s| *s) => return Ok(()),
                }
            }
        }
    }
}
