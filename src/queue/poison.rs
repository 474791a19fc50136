//! Moving poison payloads aside. apalis 1.0 decodes a payload while fetching, so one
//! that does not decode ends the whole worker with its batch still leased (apalis's
//! poison-pill bug). After such an exit the supervisor calls [`quarantine`]: every task
//! the dead worker held is checked with the same decoder; bad ones go to the kind's
//! poison hash with the decoder's message, good ones go back to the front of the queue,
//! and the worker's name is deregistered. The supervisor then starts a fresh worker.

use redis::aio::ConnectionManager;

use super::keys;
use super::queues::{QueueError, Queues};
use super::task::check_payload;

const MOVE_ASIDE: &str = r"
-- KEYS[1]: the worker's in-flight set; KEYS[2]: the task data hash;
-- KEYS[3]: the poison hash; KEYS[4]: the task's metadata hash
-- ARGV[1]: task id; ARGV[2]: the report
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[4])
return 1
";

const PUT_BACK: &str = r"
-- KEYS[1]: the worker's in-flight set; KEYS[2]: the active list; ARGV[1]: task id
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[2], ARGV[1])
return 1
";

/// What [`quarantine`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quarantined {
    /// Payloads moved to the poison hash.
    pub poisoned: u64,
    /// Good tasks put back on the queue.
    pub released: u64,
}

/// Cleans up after a worker of `kind` named `worker` that stopped on an error.
pub async fn quarantine(
    queues: &Queues,
    kind: &str,
    worker: &str,
) -> Result<Quarantined, QueueError> {
    let cfg = queues.apalis_config(kind);
    let mut c: ConnectionManager = queues.conn();
    let inflight = keys::inflight(&cfg, worker);
    let ids: Vec<String> = redis::cmd("SMEMBERS")
        .arg(&inflight)
        .query_async(&mut c)
        .await?;
    let mut out = Quarantined::default();
    for id in ids {
        let raw: Option<Vec<u8>> = redis::cmd("HGET")
            .arg(cfg.job_data_hash())
            .arg(&id)
            .query_async(&mut c)
            .await?;
        let verdict = match &raw {
            None => Err("the task's payload is missing from Redis".to_string()),
            Some(bytes) => check_payload(bytes).map(|_| ()),
        };
        match verdict {
            Ok(()) => {
                let n: u64 = redis::Script::new(PUT_BACK)
                    .key(&inflight)
                    .key(cfg.active_jobs_list())
                    .arg(&id)
                    .invoke_async(&mut c)
                    .await?;
                out.released += n;
            }
            Err(reason) => {
                let report = serde_json::json!({
                    "task_id": id,
                    "queue": kind,
                    "error": format!("payload is not a chunk task ({reason}); it was moved aside and never ran. Inspect it with `orgpool jobs dead`, then clear it with `orgpool jobs dead --clear-poison`"),
                    "payload": raw.as_deref().map(String::from_utf8_lossy),
                    "at": chrono::Utc::now().to_rfc3339(),
                });
                let n: u64 = redis::Script::new(MOVE_ASIDE)
                    .key(&inflight)
                    .key(cfg.job_data_hash())
                    .key(keys::poison(&queues.config().prefix, kind))
                    .key(keys::meta(&cfg, &id))
                    .arg(&id)
                    .arg(report.to_string())
                    .invoke_async(&mut c)
                    .await?;
                if n == 1 {
                    crate::telemetry::jobs::PoisonMoved {
                        kind,
                        task: &id.to_string(),
                        reason: &reason,
                    }
                    .emit();
                }
                out.poisoned += n;
            }
        }
    }
    let _: () = redis::pipe()
        .zrem(cfg.workers_set(), worker)
        .del(&inflight)
        .query_async(&mut c)
        .await?;
    Ok(out)
}
