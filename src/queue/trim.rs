//! Trimming what apalis-redis leaves behind (it never deletes anything: its issue #10).
//! A finished task keeps its id in the queue's done or dead set, its payload in the
//! data hash and a metadata hash of its own (status, attempts, `done_at`); a stopped
//! worker keeps its entry in the workers sorted set and a metadata hash. The ledger
//! holds every outcome, so these are only a recent view: [`Queues::trim_finished`]
//! keeps at most a count of finished tasks per set, none older than an age, and drops
//! workers silent for that age, a bounded batch per call.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::keys;
use super::queues::{QueueError, Queues};

/// How many finished tasks Redis keeps, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskBound {
    /// Finished tasks kept per queue and set (done, dead), newest first.
    pub keep: usize,
    /// Finished tasks older than this go whatever their count; so do workers whose last
    /// heartbeat is older and that hold no task.
    pub max_age: Duration,
    /// Tasks (and workers) deleted per set and call at most.
    pub batch: usize,
}

/// What one [`Queues::trim_finished`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trimmed {
    /// Finished tasks (id, payload and metadata).
    pub tasks: u64,
    /// Stopped workers' entries.
    pub workers: u64,
}

const FORGET_TASKS: &str = r"
-- KEYS[1]: a finished set (done or dead); KEYS[2]: the task data hash
-- ARGV[1]: the metadata key prefix; ARGV[2..]: task ids
-- A task no longer in the set (trimmed by another scheduler) is left alone.
local n = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('SREM', KEYS[1], id) == 1 then
    redis.call('HDEL', KEYS[2], id)
    redis.call('DEL', ARGV[1] .. ':' .. id)
    n = n + 1
  end
end
return n
";

const FORGET_WORKERS: &str = r"
-- KEYS[1]: the workers sorted set (score: last heartbeat, unix seconds)
-- ARGV[1]: heartbeat cutoff; ARGV[2]: at most this many; ARGV[3]: in-flight set prefix
-- A worker that still holds tasks keeps its entry: its leases are apalis's to recover.
-- Its metadata hash is apalis's `{queue}:workers:metadata:{name}`.
local names = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local n = 0
for _, name in ipairs(names) do
  if redis.call('SCARD', ARGV[3] .. ':' .. name) == 0 then
    redis.call('ZREM', KEYS[1], name)
    redis.call('DEL', KEYS[1] .. ':metadata:' .. name)
    n = n + 1
  end
end
return n
";

impl Queues {
    /// Trims `kind`'s finished tasks and stopped workers to `bound`.
    pub async fn trim_finished(
        &self,
        kind: &str,
        bound: &TaskBound,
    ) -> Result<Trimmed, QueueError> {
        let cfg = self.apalis_config(kind);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let mut c = self.conn();
        let mut out = Trimmed::default();
        for set in [cfg.done_jobs_set(), cfg.dead_jobs_set()] {
            let ids = members(&mut c, &set).await?;
            if ids.is_empty() {
                continue;
            }
            let mut finished = Vec::with_capacity(ids.len());
            for part in ids.chunks(500) {
                let mut pipe = redis::pipe();
                for id in part {
                    pipe.hget(keys::meta(&cfg, id), "done_at");
                }
                let at: Vec<Option<String>> = pipe.query_async(&mut c).await?;
                finished.extend(
                    part.iter()
                        .zip(at)
                        .map(|(id, at)| (at.and_then(|a| a.parse().ok()), id.clone())),
                );
            }
            let gone = victims(finished, bound, now);
            if gone.is_empty() {
                continue;
            }
            let n: u64 = redis::Script::new(FORGET_TASKS)
                .key(&set)
                .key(cfg.job_data_hash())
                .arg(cfg.job_meta_hash())
                .arg(&gone)
                .invoke_async(&mut c)
                .await?;
            out.tasks += n;
        }
        out.workers = redis::Script::new(FORGET_WORKERS)
            .key(cfg.workers_set())
            .arg(now.saturating_sub(bound.max_age.as_secs()))
            .arg(bound.batch)
            .arg(cfg.inflight_jobs_set())
            .invoke_async(&mut c)
            .await?;
        Ok(out)
    }
}

/// Every id in `set`, read with SSCAN so a large set never blocks Redis.
async fn members(
    c: &mut redis::aio::ConnectionManager,
    set: &str,
) -> Result<Vec<String>, QueueError> {
    let mut out = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, page): (u64, Vec<String>) = redis::cmd("SSCAN")
            .arg(set)
            .arg(cursor)
            .arg("COUNT")
            .arg(1000)
            .query_async(c)
            .await?;
        out.extend(page);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Which of `finished` (when each finished, unix seconds, and its id) go: those past
/// `bound.keep` counted from the newest, and those older than `bound.max_age` (one
/// without a finish time is an orphan and goes too), the oldest `bound.batch` of them.
/// Ids are ULIDs, so they order ties by push time.
fn victims(mut finished: Vec<(Option<u64>, String)>, bound: &TaskBound, now: u64) -> Vec<String> {
    let cutoff = now.saturating_sub(bound.max_age.as_secs());
    finished.sort_by(|a, b| b.cmp(a));
    let mut gone: Vec<String> = finished
        .into_iter()
        .enumerate()
        .filter(|(i, (at, _))| *i >= bound.keep || at.is_none_or(|t| t < cutoff))
        .map(|(_, (_, id))| id)
        .collect();
    gone.reverse();
    gone.truncate(bound.batch);
    gone
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(keep: usize, hours: u64, batch: usize) -> TaskBound {
        TaskBound {
            keep,
            max_age: Duration::from_secs(hours * 3600),
            batch,
        }
    }

    fn entries(list: &[(Option<u64>, &str)]) -> Vec<(Option<u64>, String)> {
        list.iter().map(|(t, id)| (*t, id.to_string())).collect()
    }

    #[test]
    fn the_newest_are_kept_up_to_the_count() {
        let now = 100_000;
        let f = entries(&[
            (Some(now - 5), "c"),
            (Some(now - 9), "a"),
            (Some(now - 7), "b"),
        ]);
        assert_eq!(victims(f.clone(), &bound(2, 24, 100), now), vec!["a"]);
        assert_eq!(
            victims(f.clone(), &bound(0, 24, 100), now),
            vec!["a", "b", "c"]
        );
        assert!(victims(f, &bound(3, 24, 100), now).is_empty());
    }

    #[test]
    fn old_and_orphaned_entries_go_whatever_the_count() {
        let now = 100_000;
        let f = entries(&[
            (Some(now - 10), "new"),
            (Some(now - 7_200), "old"),
            (None, "orphan"),
        ]);
        assert_eq!(victims(f, &bound(10, 1, 100), now), vec!["orphan", "old"]);
    }

    #[test]
    fn a_batch_takes_the_oldest_first() {
        let now = 100_000;
        let f: Vec<(Option<u64>, String)> = (0..10)
            .map(|i| (Some(now - 100 + i), format!("t{i}")))
            .collect();
        assert_eq!(victims(f, &bound(2, 24, 3), now), vec!["t0", "t1", "t2"]);
    }

    #[test]
    fn ties_in_time_order_by_id() {
        let now = 100_000;
        let f = entries(&[(Some(now), "01B"), (Some(now), "01A"), (Some(now), "01C")]);
        assert_eq!(victims(f, &bound(1, 24, 100), now), vec!["01A", "01B"]);
    }
}
