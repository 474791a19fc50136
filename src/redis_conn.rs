//! One way to open Redis: a multiplexed, reconnecting connection manager with timeouts
//! fit for a fleet (the crate's 500 ms default response timeout drops healthy commands
//! under load). `REDIS_URL` may be `redis://` or `rediss://`; with
//! `REDIS_TLS_INSECURE=true` a `rediss://` server's certificate is not verified (Heroku
//! Redis serves a self-signed one; the connection is still encrypted).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::settings::{SettingsError, Vars};

/// The URL from `REDIS_URL`, or the local default.
pub fn url_from_env() -> String {
    Vars::from_env()
        .text("REDIS_URL")
        .unwrap_or_else(|| DEFAULT_URL.into())
}

/// Where Redis is when `REDIS_URL` is unset.
pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379";

/// `url` as the redis crate takes it: `#insecure` added to a `rediss://` URL when
/// `insecure` is set and the URL has no fragment of its own.
pub fn effective_url(url: &str, insecure: bool) -> String {
    if insecure && url.starts_with("rediss://") && !url.contains('#') {
        format!("{url}#insecure")
    } else {
        url.to_string()
    }
}

/// Opening Redis failed. URLs are shown without their password.
#[derive(Debug, thiserror::Error)]
pub enum RedisConnError {
    /// `REDIS_TLS_INSECURE` is neither true nor false (the message says so).
    #[error(transparent)]
    Insecure(#[from] SettingsError),
    /// The URL cannot be used.
    #[error(
        "REDIS_URL {url} is not usable: {source}; set it to redis://HOST:PORT or rediss://HOST:PORT"
    )]
    Url {
        /// The URL, redacted.
        url: String,
        /// The client's reason.
        source: redis::RedisError,
    },
    /// The server does not answer.
    #[error("cannot reach Redis at {url}: {source}; start it or set REDIS_URL")]
    Unreachable {
        /// The URL, redacted.
        url: String,
        /// The client's reason.
        source: redis::RedisError,
    },
}

fn insecure_from_env() -> Result<bool, RedisConnError> {
    Ok(Vars::from_env()
        .flag("REDIS_TLS_INSECURE")?
        .unwrap_or(false))
}

/// Connects to `url`; the error names the URL without its password.
pub async fn connect(url: &str) -> Result<ConnectionManager, RedisConnError> {
    let shown = crate::migrate::redact(url);
    let url = effective_url(url, insecure_from_env()?);
    let client = redis::Client::open(url.as_str()).map_err(|source| RedisConnError::Url {
        url: shown.clone(),
        source,
    })?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(10)))
        .set_number_of_retries(3);
    client
        .get_connection_manager_with_config(config)
        .await
        .map_err(|source| RedisConnError::Unreachable { url: shown, source })
}

#[cfg(test)]
mod tests {
    use super::effective_url;

    #[test]
    fn insecure_only_for_tls_urls_without_a_fragment() {
        assert_eq!(effective_url("rediss://h:1", true), "rediss://h:1#insecure");
        assert_eq!(effective_url("rediss://h:1", false), "rediss://h:1");
        assert_eq!(effective_url("redis://h:1", true), "redis://h:1");
        assert_eq!(
            effective_url("rediss://h:1/#insecure", true),
            "rediss://h:1/#insecure"
        );
    }
}
