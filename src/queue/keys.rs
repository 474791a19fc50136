//! Every Redis key orgpool's queue uses, in one place (apalis's own bugs were key-name
//! drift). apalis's keys come from its `Config` so they cannot drift from it.

use apalis_redis::Config;

/// The apalis queue name of a job kind: `{prefix}:queue:{kind}`.
pub fn queue_name(prefix: &str, kind: &str) -> String {
    format!("{prefix}:queue:{kind}")
}

/// Where undecodable payloads of a kind are kept (hash: task id -> JSON report).
pub fn poison(prefix: &str, kind: &str) -> String {
    format!("{prefix}:queue:{kind}:poison")
}

/// The scheduler's leader lock.
pub fn leader(prefix: &str) -> String {
    format!("{prefix}:scheduler:leader")
}

/// The change-event subscriber's leader lock (one subscriber per org).
pub fn events_leader(prefix: &str) -> String {
    format!("{prefix}:events:leader")
}

/// A task's metadata hash.
pub fn meta(cfg: &Config, task_id: &str) -> String {
    format!("{}:{task_id}", cfg.job_meta_hash())
}

/// A worker's in-flight set.
pub fn inflight(cfg: &Config, worker: &str) -> String {
    format!("{}:{worker}", cfg.inflight_jobs_set())
}
