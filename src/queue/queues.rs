//! Pushing chunk tasks, checking that a task still exists (the scheduler re-pushes the
//! ones Redis lost) and queue depths. Trimming finished tasks is [`super::trim`]'s.

use std::time::Duration;

use apalis::prelude::{TaskBuilder, TaskId, TaskSink};
use apalis_redis::{Config, RedisStorage};
use redis::aio::ConnectionManager;

use super::config::QueueConfig;
use super::keys;
use super::task::ChunkTask;

/// A queue operation failed (Redis unreachable or refusing).
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Redis failed.
    #[error("Redis queue error: {0}; check REDIS_URL and that Redis is running")]
    Redis(#[from] redis::RedisError),
    /// apalis refused a push.
    #[error("could not push to the {kind} queue: {detail}")]
    Push {
        /// The job kind.
        kind: String,
        /// apalis's message.
        detail: String,
    },
}

/// How much work a queue holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Depth {
    /// Ready to run (`ready`, as metrics, the CLI and the page name it).
    #[serde(rename = "ready")]
    pub active: u64,
    /// Waiting for their time (snoozed or retried).
    pub scheduled: u64,
    /// Held by workers (`running`).
    #[serde(rename = "running")]
    pub inflight: u64,
    /// apalis's dead set.
    pub dead: u64,
    /// Payloads that could not be decoded, moved aside.
    pub poison: u64,
}

/// The queues of one deployment (one Redis key prefix).
#[derive(Clone)]
pub struct Queues {
    conn: ConnectionManager,
    cfg: QueueConfig,
}

impl std::fmt::Debug for Queues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queues")
            .field("prefix", &self.cfg.prefix)
            .finish()
    }
}

impl Queues {
    /// Queues on `conn` with `cfg`.
    pub fn new(conn: ConnectionManager, cfg: QueueConfig) -> Queues {
        Queues { conn, cfg }
    }

    /// The settings.
    pub fn config(&self) -> &QueueConfig {
        &self.cfg
    }

    /// A Redis connection (shared, multiplexed).
    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// apalis's settings for a kind: the queue named explicitly (never the Rust type
    /// path), results persisted (else nothing is ever acked), explicit heartbeats.
    pub fn apalis_config(&self, kind: &str) -> Config {
        Config::default()
            .queue(keys::queue_name(&self.cfg.prefix, kind))
            .batch_size(self.cfg.concurrency)
            .heartbeat_interval(self.cfg.heartbeat)
            .missed_heartbeats(self.cfg.missed_heartbeats)
            .persist_results(true)
    }

    /// apalis storage for a kind.
    pub fn storage(&self, kind: &str) -> RedisStorage<ChunkTask> {
        RedisStorage::new(self.conn.clone()).with_config(self.apalis_config(kind))
    }

    /// Pushes a chunk; returns the task id (kept in the ledger).
    pub async fn push(
        &self,
        kind: &str,
        chunk_id: i64,
        delay: Option<Duration>,
    ) -> Result<String, QueueError> {
        let id = ulid::Ulid::generate();
        let mut b = TaskBuilder::new(ChunkTask { chunk_id }).task_id(TaskId::from(id));
        if let Some(d) = delay {
            b = b.run_after(whole_seconds(std::time::SystemTime::now(), d));
        }
        self.storage(kind)
            .push_task(b.build())
            .await
            .map_err(|e| QueueError::Push {
                kind: kind.to_string(),
                detail: e.to_string(),
            })?;
        Ok(id.to_string())
    }

    /// Whether a task is still waiting or running in Redis (false after a flush, or once
    /// apalis recorded it done or dead).
    pub async fn task_alive(&self, kind: &str, task_id: &str) -> Result<bool, QueueError> {
        let cfg = self.apalis_config(kind);
        let mut c = self.conn.clone();
        let (exists, status): (bool, Option<String>) = redis::pipe()
            .hexists(cfg.job_data_hash(), task_id)
            .hget(keys::meta(&cfg, task_id), "status")
            .query_async(&mut c)
            .await?;
        Ok(exists && !matches!(status.as_deref(), Some("Done") | Some("Killed")))
    }

    /// The depths of a kind's queue.
    pub async fn depth(&self, kind: &str) -> Result<Depth, QueueError> {
        let cfg = self.apalis_config(kind);
        let mut c = self.conn.clone();
        let (active, scheduled, dead, poison, workers): (u64, u64, u64, u64, Vec<String>) =
            redis::pipe()
                .llen(cfg.active_jobs_list())
                .zcard(cfg.scheduled_jobs_set())
                .scard(cfg.dead_jobs_set())
                .hlen(keys::poison(&self.cfg.prefix, kind))
                .zrange(cfg.workers_set(), 0, -1)
                .query_async(&mut c)
                .await?;
        let mut inflight = 0;
        for w in workers {
            let n: u64 = redis::cmd("SCARD")
                .arg(keys::inflight(&cfg, &w))
                .query_async(&mut c)
                .await?;
            inflight += n;
        }
        Ok(Depth {
            active,
            scheduled,
            inflight,
            dead,
            poison,
        })
    }

    /// Poison payloads moved aside: (task id, report JSON).
    pub async fn poison(&self, kind: &str) -> Result<Vec<(String, String)>, QueueError> {
        let mut c = self.conn.clone();
        let all: Vec<(String, String)> = redis::cmd("HGETALL")
            .arg(keys::poison(&self.cfg.prefix, kind))
            .query_async(&mut c)
            .await?;
        Ok(all)
    }

    /// Forgets poison payloads (after they were read and dealt with).
    pub async fn clear_poison(&self, kind: &str) -> Result<u64, QueueError> {
        let mut c = self.conn.clone();
        let n: u64 = redis::cmd("DEL")
            .arg(keys::poison(&self.cfg.prefix, kind))
            .query_async(&mut c)
            .await?;
        Ok(n)
    }

    /// The worker processes (their identities) that heartbeated on any queue within
    /// `within`. apalis-redis keeps a stopped worker's entry, so the age is what counts.
    pub async fn live_workers(
        &self,
        kinds: &[&str],
        within: Duration,
    ) -> Result<std::collections::BTreeSet<String>, QueueError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let since = now.saturating_sub(within).as_secs();
        let mut c = self.conn.clone();
        let mut out = std::collections::BTreeSet::new();
        for kind in kinds {
            let names: Vec<String> = redis::cmd("ZRANGEBYSCORE")
                .arg(self.apalis_config(kind).workers_set())
                .arg(since)
                .arg("+inf")
                .query_async(&mut c)
                .await?;
            let tail = format!(":{kind}:");
            out.extend(
                names
                    .into_iter()
                    .map(|n| n.split(&tail).next().unwrap_or(&n).to_string()),
            );
        }
        Ok(out)
    }

    /// Deletes every key under this deployment's prefix: how the demo and the
    /// benchmarks, which run under a prefix of their own, clean up. Returns how many.
    pub async fn delete_all(&self) -> Result<u64, QueueError> {
        let mut c = self.conn.clone();
        let keys: Vec<String> = {
            let mut iter: redis::AsyncIter<String> = redis::cmd("SCAN")
                .cursor_arg(0)
                .arg("MATCH")
                .arg(format!("{}:*", self.cfg.prefix))
                .arg("COUNT")
                .arg(1000)
                .clone()
                .iter_async(&mut c)
                .await?;
            let mut keys = Vec::new();
            while let Some(k) = iter.next_item().await {
                keys.push(k?);
            }
            keys
        };
        let mut deleted = 0;
        for batch in keys.chunks(1000) {
            let n: u64 = redis::cmd("DEL").arg(batch).query_async(&mut c).await?;
            deleted += n;
        }
        Ok(deleted)
    }
}

/// A delay that apalis, which schedules in whole seconds (it truncates the run time),
/// never starts early: the run time is rounded up to the next second. Truncated, a
/// chunk waiting 0.2 s out of an outage ran again at once, over and over.
fn whole_seconds(now: std::time::SystemTime, delay: Duration) -> Duration {
    let at = (now + delay)
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let up = Duration::from_secs(at.as_secs() + u64::from(at.subsec_nanos() > 0));
    let now = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    up.saturating_sub(now)
}

#[cfg(test)]
mod delay_tests {
    use super::*;

    #[test]
    fn delays_round_up_to_the_next_whole_second() {
        let now = std::time::UNIX_EPOCH + Duration::from_millis(1_000_900);
        assert_eq!(
            whole_seconds(now, Duration::from_millis(200)),
            Duration::from_millis(1_100)
        );
        assert_eq!(
            whole_seconds(now, Duration::from_millis(100)),
            Duration::from_millis(100)
        );
        let whole = std::time::UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(
            whole_seconds(whole, Duration::from_secs(15)),
            Duration::from_secs(15)
        );
        assert_eq!(whole_seconds(whole, Duration::ZERO), Duration::ZERO);
    }
}
