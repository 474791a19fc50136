//! The scheduler's leader lock in Redis: one scheduler plans at a time; a second one
//! waits and takes over within the lock's lifetime if the first dies. Even without it,
//! runs cannot double (one active run per lane in the ledger) and pushes are
//! compare-and-set, so the lock only saves work.

use std::time::Duration;

use redis::aio::ConnectionManager;

const RENEW: &str = r"
-- KEYS[1]: the lock; ARGV[1]: our identity; ARGV[2]: lifetime in ms
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
";

/// A leader lock.
#[derive(Clone)]
pub struct Leader {
    conn: ConnectionManager,
    key: String,
    identity: String,
    ttl: Duration,
}

impl std::fmt::Debug for Leader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leader").field("key", &self.key).finish()
    }
}

impl Leader {
    /// A lock at `key` held as `identity` for `ttl` per renewal.
    pub fn new(conn: ConnectionManager, key: String, identity: String, ttl: Duration) -> Leader {
        Leader {
            conn,
            key,
            identity,
            ttl,
        }
    }

    /// Takes or renews the lock; true while we lead.
    pub async fn acquire(&self) -> Result<bool, redis::RedisError> {
        let mut c = self.conn.clone();
        let got: i32 = redis::Script::new(RENEW)
            .key(&self.key)
            .arg(&self.identity)
            .arg(self.ttl.as_millis() as u64)
            .invoke_async(&mut c)
            .await?;
        Ok(got == 1)
    }

    /// Lets go (on shutdown), only if we hold it.
    pub async fn release(&self) -> Result<(), redis::RedisError> {
        let mut c = self.conn.clone();
        let _: i32 = redis::Script::new(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
        )
        .key(&self.key)
        .arg(&self.identity)
        .invoke_async(&mut c)
        .await?;
        Ok(())
    }
}
