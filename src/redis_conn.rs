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
    /// `REDIS_URL` is not a Redis URL.
    #[error(
        "REDIS_URL is not a URL ({shown:?}); expected redis://[:password@]host:port or rediss://[:password@]host:port"
    )]
    Url {
        /// The value, with anything before an `@` hidden.
        shown: String,
    },
    /// The server does not answer.
    #[error("cannot connect to Redis at {at} ({reason}); start the server or fix REDIS_URL")]
    Unreachable {
        /// `host:port`.
        at: String,
        /// `connection refused`, `timed out`, ...
        reason: String,
    },
    /// The server refused the password (or needs one).
    #[error("Redis at {at} refused the login ({reason}); fix the password in REDIS_URL")]
    Login {
        /// `host:port`.
        at: String,
        /// The server's reason.
        reason: String,
    },
}

/// `url` as shown in an error: a password (anything before the last `@`) hidden.
fn shown(url: &str) -> String {
    match url.rfind('@') {
        Some(i) => format!("****{}", &url[i..]),
        None => url.to_string(),
    }
}

/// `host:port` of a parsed Redis URL.
fn address(url: &url::Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(6379)
    )
}

fn insecure_from_env() -> Result<bool, RedisConnError> {
    Ok(Vars::from_env()
        .flag("REDIS_TLS_INSECURE")?
        .unwrap_or(false))
}

/// Connects to `url`; the error names the URL without its password.
pub async fn connect(url: &str) -> Result<ConnectionManager, RedisConnError> {
    let not_a_url = || RedisConnError::Url { shown: shown(url) };
    let parsed = url::Url::parse(url).map_err(|_| not_a_url())?;
    if !matches!(parsed.scheme(), "redis" | "rediss" | "redis+unix" | "unix") {
        return Err(not_a_url());
    }
    let at = address(&parsed);
    let url = effective_url(url, insecure_from_env()?);
    let client = redis::Client::open(url.as_str()).map_err(|_| not_a_url())?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(10)))
        .set_number_of_retries(3);
    client
        .get_connection_manager_with_config(config)
        .await
        .map_err(|e| classify(at, &e))
}

fn classify(at: String, e: &redis::RedisError) -> RedisConnError {
    if e.kind() == redis::ErrorKind::AuthenticationFailed
        || e.code().is_some_and(|c| c == "NOAUTH" || c == "WRONGPASS")
    {
        return RedisConnError::Login {
            at,
            reason: e.to_string(),
        };
    }
    let reason = if e.is_connection_refusal() {
        "connection refused".to_string()
    } else if e.is_timeout() {
        "no answer within 5 s".to_string()
    } else {
        e.to_string()
    };
    RedisConnError::Unreachable { at, reason }
}

#[cfg(test)]
mod tests {
    use super::{effective_url, shown};

    #[test]
    fn shown_urls_hide_the_password() {
        assert_eq!(shown("redis://:secret@h:1"), "****@h:1");
        assert_eq!(shown("notaurl"), "notaurl");
    }

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
