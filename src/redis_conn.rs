//! One way to open Redis: a multiplexed, reconnecting connection manager with timeouts
//! fit for a fleet (the crate's 500 ms default response timeout drops healthy commands
//! under load). `REDIS_URL` may be `redis://` or `rediss://`.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// The URL from `REDIS_URL`, or the local default.
pub fn url_from_env() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Connects to `url`; the error names the URL without its password.
pub async fn connect(url: &str) -> anyhow::Result<ConnectionManager> {
    let shown = crate::migrate::redact(url);
    let client = redis::Client::open(url)
        .map_err(|e| anyhow::anyhow!("REDIS_URL {shown} is not usable: {e}"))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(10)))
        .set_number_of_retries(3);
    client
        .get_connection_manager_with_config(config)
        .await
        .map_err(|e| {
            anyhow::anyhow!("cannot reach Redis at {shown}: {e}; start it or set REDIS_URL")
        })
}
