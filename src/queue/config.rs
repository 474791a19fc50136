//! Queue settings, from the environment; every field has a default.

use std::time::Duration;

/// Queue settings.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Prefix of every Redis key (`ORGPOOL_REDIS_PREFIX`, default `orgpool`); tests and
    /// several deployments sharing one Redis use different prefixes.
    pub prefix: String,
    /// Chunks one worker process runs at once per job kind (`WORKER_CONCURRENCY`,
    /// default 2: a chunk keeps about one core busy between Bulk paging and COPY).
    pub concurrency: usize,
    /// How often an idle worker asks Redis for work (`ORGPOOL_POLL_MS`, default 100 ms;
    /// apalis would otherwise wait a whole heartbeat). Each poll is three cheap Redis
    /// commands per queue, so even 50 workers add only a few thousand a second, while
    /// every hop of a run (plan, then its work chunks) waits half a poll on average.
    pub poll_interval: Duration,
    /// Worker heartbeat to Redis (default 10 s).
    pub heartbeat: Duration,
    /// Missed heartbeats before a worker's tasks go back on the queue (default 3, so a
    /// killed worker's chunks are picked up again within about 40 s).
    pub missed_heartbeats: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            prefix: "orgpool".into(),
            concurrency: 2,
            poll_interval: Duration::from_millis(100),
            heartbeat: Duration::from_secs(10),
            missed_heartbeats: 3,
        }
    }
}

impl QueueConfig {
    /// Reads the environment; a malformed number is an error naming the variable.
    pub fn from_env() -> Result<QueueConfig, String> {
        let mut c = QueueConfig::default();
        if let Ok(p) = std::env::var("ORGPOOL_REDIS_PREFIX")
            && !p.is_empty()
        {
            c.prefix = p;
        }
        if let Some(n) = number("WORKER_CONCURRENCY")? {
            if n == 0 || n > 64 {
                return Err(format!(
                    "WORKER_CONCURRENCY={n} is outside 1 to 64; set a small number such as 2"
                ));
            }
            c.concurrency = n as usize;
        }
        if let Some(ms) = number("ORGPOOL_POLL_MS")? {
            c.poll_interval = Duration::from_millis(ms.max(10));
        }
        Ok(c)
    }
}

fn number(var: &str) -> Result<Option<u64>, String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map(Some).map_err(|_| {
            format!("{var}={v:?} is not a whole number; unset it or give one such as 2")
        }),
        _ => Ok(None),
    }
}
