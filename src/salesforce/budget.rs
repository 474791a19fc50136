//! The fleet's shared view of Salesforce in Redis: one API budget and one outage flag
//! for every process.
//!
//! Budget: each request is counted in a rolling window (24 h by default) kept as 1,440
//! buckets in a hash, with the total beside them; one Lua script evicts expired buckets,
//! checks and reserves atomically, so no two processes can both take the last request.
//! A request is allowed while the fleet's own count stays under the deployment cap and
//! the org's reported usage (`Sforce-Limit-Info`, raised by our own reservations between
//! reports) stays under `share` of the org's allowance.
//!
//! While the budget is spent, one process at a time (a lock held for the re-check
//! period) probes the org's `/limits`; its answer replaces the stored org usage and
//! limit, so a raised allowance or a reset usage is seen within one period even though
//! no other request is sent. `orgpool budget clear` deletes the stored state.
//!
//! Outage flag: a process that sees an outage sets it; while it is set, processes do not
//! call Salesforce. One of them at a time (a short lock) probes the unauthenticated
//! versions URL; the first successful probe clears the flag for everyone.

use std::time::Duration;

use redis::aio::ConnectionManager;

use super::budget_pause::{BudgetPause, WindowView};
use super::config::BudgetConfig;
use super::error::SfError;
use crate::telemetry::salesforce as metrics;

const RESERVE: &str = r#"
-- KEYS[1] buckets hash, KEYS[2] meta hash
-- ARGV: now_ms, bucket_ms, buckets_per_window, cap (0 = none), share, n
local now_ms = tonumber(ARGV[1])
local bucket_ms = tonumber(ARGV[2])
local per_window = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
local share = tonumber(ARGV[5])
local n = tonumber(ARGV[6])
local now_b = math.floor(now_ms / bucket_ms)
local min_b = now_b - per_window + 1
local total = tonumber(redis.call('HGET', KEYS[2], 'total') or '0')
local oldest = tonumber(redis.call('HGET', KEYS[2], 'oldest') or tostring(min_b))
if min_b - oldest > per_window then
  redis.call('DEL', KEYS[1])
  total = 0
  oldest = min_b
else
  while oldest < min_b do
    local c = redis.call('HGET', KEYS[1], tostring(oldest))
    if c then
      total = total - tonumber(c)
      redis.call('HDEL', KEYS[1], tostring(oldest))
    end
    oldest = oldest + 1
  end
end
redis.call('HSET', KEYS[2], 'total', total, 'oldest', oldest)
local allowed = -1
if cap > 0 then allowed = cap end
local org_limit = tonumber(redis.call('HGET', KEYS[2], 'org_limit') or '0')
local org_used = tonumber(redis.call('HGET', KEYS[2], 'org_used') or '0')
local org_allowed = -1
if org_limit > 0 then
  org_allowed = math.floor(org_limit * share)
  if allowed < 0 or org_allowed < allowed then allowed = org_allowed end
end
if allowed >= 0 and total + n > allowed then
  -- wait until the oldest counted bucket leaves the window
  local b = oldest
  while b <= now_b do
    if redis.call('HEXISTS', KEYS[1], tostring(b)) == 1 then break end
    b = b + 1
  end
  return {0, total, allowed, (b + per_window) * bucket_ms - now_ms, 'fleet'}
end
if org_allowed >= 0 and org_used + n > org_allowed then
  return {0, total, allowed, 0, 'org'}
end
redis.call('HINCRBY', KEYS[1], tostring(now_b), n)
redis.call('HSET', KEYS[2], 'total', total + n)
if org_limit > 0 then redis.call('HSET', KEYS[2], 'org_used', org_used + n) end
redis.call('PEXPIRE', KEYS[1], per_window * bucket_ms * 2)
redis.call('PEXPIRE', KEYS[2], per_window * bucket_ms * 2)
return {1, total + n, allowed, 0, 'ok'}
"#;

const REPORT_USAGE: &str = r#"
-- KEYS[1] meta hash; ARGV: used, limit, now_ms
-- Reports arrive out of order from concurrent calls, so within a minute only a higher
-- figure replaces the stored one (our reservations already raised it); an older
-- figure is replaced outright so the count can fall as the org's window rolls.
local used = tonumber(ARGV[1])
local now = tonumber(ARGV[3])
local stored = tonumber(redis.call('HGET', KEYS[1], 'org_used') or '-1')
local at = tonumber(redis.call('HGET', KEYS[1], 'org_used_at') or '0')
if used > stored or now - at > 60000 then
  redis.call('HSET', KEYS[1], 'org_used', used, 'org_used_at', now)
end
redis.call('HSET', KEYS[1], 'org_limit', ARGV[2])
return 1
"#;

/// The outcome of asking for budget.
#[derive(Debug, Clone, PartialEq)]
pub enum Reservation {
    /// Go ahead; the fleet has now used `used` of `allowed` (`None`: no limit known).
    Granted {
        /// Counted in the window, this request included.
        used: u64,
        /// The ceiling, when known.
        allowed: Option<u64>,
    },
    /// Wait; `wait` is the expected time until a slot frees (zero: unknown).
    Denied {
        /// `fleet` (our own window is full) or `org` (the org's usage is at the share).
        reason: &'static str,
        /// Counted in the window.
        used: u64,
        /// The ceiling.
        allowed: u64,
        /// Expected wait.
        wait: Duration,
    },
}

/// The fleet budget and outage flag for one org.
#[derive(Clone)]
pub struct Fleet {
    redis: ConnectionManager,
    prefix: String,
    config: BudgetConfig,
    reserve: redis::Script,
    report: redis::Script,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("prefix", &self.prefix)
            .field("config", &self.config)
            .finish()
    }
}

fn redis_err(e: redis::RedisError) -> SfError {
    // Without Redis the fleet cannot coordinate its budget; waiting is the safe answer.
    SfError::Outage {
        detail: format!("Redis (API budget) is unreachable: {e}"),
        retry_after: None,
    }
}

impl Fleet {
    /// The fleet state under `{prefix}:sf:*` in Redis.
    pub fn new(redis: ConnectionManager, prefix: &str, config: BudgetConfig) -> Fleet {
        Fleet {
            redis,
            prefix: prefix.to_string(),
            config,
            reserve: redis::Script::new(RESERVE),
            report: redis::Script::new(REPORT_USAGE),
        }
    }

    fn key(&self, name: &str) -> String {
        format!("{}:sf:{name}", self.prefix)
    }

    /// The settings.
    pub fn config(&self) -> &BudgetConfig {
        &self.config
    }

    /// (window ms, bucket ms): 1,440 buckets a window.
    fn window_ms(&self) -> (u64, u64) {
        let window_ms = self.config.window.as_millis().max(1440) as u64;
        (window_ms, (window_ms / 1440).max(1))
    }

    /// Asks for `n` requests.
    pub async fn reserve(&self, n: u64) -> Result<Reservation, SfError> {
        let (window_ms, bucket_ms) = self.window_ms();
        let now = chrono::Utc::now().timestamp_millis();
        let mut conn = self.redis.clone();
        let (ok, used, allowed, wait, reason): (i64, i64, i64, i64, String) = self
            .reserve
            .key(self.key("budget:buckets"))
            .key(self.key("budget:meta"))
            .arg(now)
            .arg(bucket_ms)
            .arg(window_ms / bucket_ms)
            .arg(self.config.cap.unwrap_or(0))
            .arg(self.config.share)
            .arg(n)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_err)?;
        let used = used.max(0) as u64;
        if ok == 1 {
            let allowed = (allowed >= 0).then_some(allowed as u64);
            if let Some(a) = allowed {
                metrics::BudgetReserved { used, allowed: a }.emit();
            }
            return Ok(Reservation::Granted { used, allowed });
        }
        let reason = if reason == "org" { "org" } else { "fleet" };
        metrics::BudgetWaited { reason }.emit();
        Ok(Reservation::Denied {
            reason,
            used,
            allowed: allowed.max(0) as u64,
            wait: Duration::from_millis(wait.max(0) as u64),
        })
    }

    /// Records the org's usage from a `Sforce-Limit-Info` header.
    pub async fn report_usage(&self, used: u64, limit: u64) -> Result<(), SfError> {
        metrics::UsageReported { used, limit }.emit();
        let mut conn = self.redis.clone();
        let _: i64 = self
            .report
            .key(self.key("budget:meta"))
            .arg(used)
            .arg(limit)
            .arg(chrono::Utc::now().timestamp_millis())
            .invoke_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(())
    }

    /// Replaces the org's usage and limit outright (a `/limits` probe's answer, which
    /// is newer than anything stored, however high).
    pub async fn set_org_usage(&self, used: u64, limit: u64) -> Result<(), SfError> {
        metrics::UsageReported { used, limit }.emit();
        let mut conn = self.redis.clone();
        let _: () = redis::pipe()
            .cmd("HSET")
            .arg(self.key("budget:meta"))
            .arg("org_used")
            .arg(used)
            .arg("org_used_at")
            .arg(chrono::Utc::now().timestamp_millis())
            .arg("org_limit")
            .arg(limit)
            .ignore()
            .cmd("PEXPIRE")
            .arg(self.key("budget:meta"))
            .arg(self.window_ms().0 * 2)
            .ignore()
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(())
    }

    /// When the org last reported its usage.
    pub async fn org_reported_at(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>, SfError> {
        let mut conn = self.redis.clone();
        let at: Option<i64> = redis::cmd("HGET")
            .arg(self.key("budget:meta"))
            .arg("org_used_at")
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(at.and_then(chrono::DateTime::from_timestamp_millis))
    }

    /// The window's live buckets, as the reservation script would see them now.
    pub async fn window(&self) -> Result<WindowView, SfError> {
        let (window_ms, bucket_ms) = self.window_ms();
        let per_window = (window_ms / bucket_ms) as i64;
        let now_b = chrono::Utc::now().timestamp_millis() / bucket_ms as i64;
        let mut conn = self.redis.clone();
        let all: Vec<(i64, u64)> = redis::cmd("HGETALL")
            .arg(self.key("budget:buckets"))
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(WindowView {
            buckets: all
                .into_iter()
                .filter(|(b, _)| *b > now_b - per_window)
                .collect(),
            bucket_ms: bucket_ms as i64,
            per_window,
        })
    }

    /// Whether one more request would be refused now, why, and until when.
    pub async fn pause(&self) -> Result<Option<BudgetPause>, SfError> {
        let (_, org_used, org_limit) = self.usage().await?;
        let window = self.window().await?;
        let share = (org_limit > 0).then(|| (org_limit as f64 * self.config.share).floor() as u64);
        Ok(window.pause(
            self.config.allowed(org_limit),
            share.map(|s| (org_used, s)),
            self.config.recheck.as_secs(),
        ))
    }

    /// Takes the right to probe the org's `/limits` for `hold`; false when another
    /// process probed within it.
    pub async fn take_budget_probe(&self, hold: Duration) -> Result<bool, SfError> {
        self.take_lock("budget:probe", hold).await
    }

    /// Deletes the stored budget state (the window, the org's usage and limit, the
    /// probe lock): `orgpool budget clear`, when the stored figures are known wrong.
    /// The next response reports the org's usage again.
    pub async fn clear_budget(&self) -> Result<(), SfError> {
        self.delete_keys(&["budget:buckets", "budget:meta", "budget:probe"])
            .await
    }

    /// Marks the org's allowance as spent (it answered `REQUEST_LIMIT_EXCEEDED`).
    pub async fn org_exhausted(&self) -> Result<(), SfError> {
        let mut conn = self.redis.clone();
        let limit: Option<u64> = redis::cmd("HGET")
            .arg(self.key("budget:meta"))
            .arg("org_limit")
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        if let Some(limit) = limit {
            self.report_usage(limit, limit).await?;
        }
        Ok(())
    }

    /// Whether the org's allowance is known yet.
    pub async fn org_limit(&self) -> Result<Option<u64>, SfError> {
        let mut conn = self.redis.clone();
        redis::cmd("HGET")
            .arg(self.key("budget:meta"))
            .arg("org_limit")
            .query_async(&mut conn)
            .await
            .map_err(redis_err)
    }

    /// `(fleet count in the window, org used, org limit)` as Redis holds them.
    pub async fn usage(&self) -> Result<(u64, u64, u64), SfError> {
        let mut conn = self.redis.clone();
        let (total, used, limit): (Option<u64>, Option<u64>, Option<u64>) = redis::cmd("HMGET")
            .arg(self.key("budget:meta"))
            .arg("total")
            .arg("org_used")
            .arg("org_limit")
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok((total.unwrap_or(0), used.unwrap_or(0), limit.unwrap_or(0)))
    }

    /// The outage description, when the flag is set.
    pub async fn outage(&self) -> Result<Option<String>, SfError> {
        let mut conn = self.redis.clone();
        let v: Option<String> = redis::cmd("GET")
            .arg(self.key("outage"))
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        metrics::OutageSeen {
            active: v.is_some(),
        }
        .emit();
        Ok(v)
    }

    /// Sets the outage flag (it lapses after `ttl` unless renewed, so a crashed prober
    /// cannot leave the fleet paused forever).
    pub async fn set_outage(&self, detail: &str, ttl: Duration) -> Result<(), SfError> {
        let mut conn = self.redis.clone();
        let _: () = redis::cmd("SET")
            .arg(self.key("outage"))
            .arg(detail)
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64)
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        metrics::OutageSeen { active: true }.emit();
        Ok(())
    }

    /// Clears the outage flag.
    pub async fn clear_outage(&self) -> Result<(), SfError> {
        let mut conn = self.redis.clone();
        let _: i64 = redis::cmd("DEL")
            .arg(self.key("outage"))
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        metrics::OutageSeen { active: false }.emit();
        Ok(())
    }

    /// Deletes this fleet's keys (tests and benchmarks clean up after themselves).
    pub async fn clear(&self) -> Result<(), SfError> {
        self.delete_keys(&[
            "budget:buckets",
            "budget:meta",
            "outage",
            "outage:probe",
            "budget:probe",
        ])
        .await
    }

    /// Deletes the keys `names` under this fleet's prefix.
    async fn delete_keys(&self, names: &[&str]) -> Result<(), SfError> {
        let mut conn = self.redis.clone();
        let mut del = redis::cmd("DEL");
        for name in names {
            del.arg(self.key(name));
        }
        let _: i64 = del.query_async(&mut conn).await.map_err(redis_err)?;
        Ok(())
    }

    /// Takes the right to probe for `hold`; false when another process holds it.
    pub async fn take_probe(&self, hold: Duration) -> Result<bool, SfError> {
        self.take_lock("outage:probe", hold).await
    }

    /// `SET NX PX` on `{prefix}:sf:{name}`.
    async fn take_lock(&self, name: &str, hold: Duration) -> Result<bool, SfError> {
        let mut conn = self.redis.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(name))
            .arg(std::process::id())
            .arg("NX")
            .arg("PX")
            .arg(hold.as_millis().max(1) as u64)
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(set.is_some())
    }
}
