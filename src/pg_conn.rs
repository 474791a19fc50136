//! One way to open Postgres from `DATABASE_URL`, and one message per way it fails:
//! a value that is not a Postgres URL, a server that does not answer, a database that
//! does not exist, a refused login. Each names the cause, the address (never the
//! password) and the fix, once: the driver's own text is folded in, not chained after.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

/// How long a connection attempt may take before the server counts as not answering.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a statement waits for a free connection of its pool. Pools are sized to
/// what a process does at once ([`crate::pg_pool`]), so in a busy moment a chunk's
/// statement may queue behind another chunk's merge; waiting for it is better than
/// spending one of the chunk's attempts on a pool timeout.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(60);

/// Postgres cannot be used. Messages carry the host and port, never the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PgConnectError {
    /// `DATABASE_URL` does not parse as a Postgres URL.
    #[error(
        "DATABASE_URL is not a URL ({shown:?}); expected postgres://user:password@host:port/database"
    )]
    NotAUrl {
        /// The value, with anything before an `@` hidden.
        shown: String,
    },
    /// Nothing answers at the address (refused, unknown host, no answer in time).
    #[error("cannot connect to Postgres at {at} ({reason}); start the server or fix DATABASE_URL")]
    Unreachable {
        /// `host:port`.
        at: String,
        /// `connection refused`, `host not found`, ...
        reason: String,
    },
    /// The server answers but has no such database.
    #[error(
        "database \"{database}\" does not exist on {at}; create it (createdb {database}) or fix DATABASE_URL"
    )]
    NoDatabase {
        /// The database name.
        database: String,
        /// `host:port`.
        at: String,
    },
    /// The server refused the user or password.
    #[error(
        "Postgres at {at} refused user \"{user}\" (wrong password or no such role); fix the user and password in DATABASE_URL"
    )]
    Login {
        /// The user.
        user: String,
        /// `host:port`.
        at: String,
    },
    /// Anything else the server or the driver reported.
    #[error("Postgres at {at} cannot be used ({reason}); check the server and DATABASE_URL")]
    Other {
        /// `host:port`.
        at: String,
        /// The driver's reason (it never includes the password).
        reason: String,
    },
}

impl PgConnectError {
    /// Whether waiting and trying again may help (the server is down or restarting).
    pub fn is_retryable(&self) -> bool {
        matches!(self, PgConnectError::Unreachable { .. })
    }
}

/// `url` as shown in an error: a password (anything before the last `@`) hidden.
fn shown(url: &str) -> String {
    match url.rfind('@') {
        Some(i) => format!("****{}", &url[i..]),
        None => url.to_string(),
    }
}

/// Parses `url` as a Postgres URL.
pub fn options(url: &str) -> Result<PgConnectOptions, PgConnectError> {
    let not_a_url = || PgConnectError::NotAUrl { shown: shown(url) };
    let parsed = url::Url::parse(url).map_err(|_| not_a_url())?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Err(not_a_url());
    }
    // Heroku Connect column types keep datetimes as UTC without a zone; a session in
    // UTC makes every comparison with a zoned value (a bound timestamptz) mean the same
    // instant whatever the server's own TimeZone is.
    url.parse::<PgConnectOptions>()
        .map(|o| o.options([("TimeZone", "UTC")]))
        .map_err(|_| not_a_url())
}

/// Opens a pool of up to `size` connections on `url`. One connection is made first,
/// so a server that is down fails at once with its reason rather than as a pool
/// timeout.
pub async fn connect(url: &str, size: u32) -> Result<PgPool, PgConnectError> {
    let options = options(url)?;
    probe(&options).await?;
    // A chunk's COPY merge can take seconds by design; only much slower statements are
    // worth a warning in a batch system.
    let options = options.log_slow_statements(log::LevelFilter::Warn, Duration::from_secs(30));
    PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options.clone())
        .await
        .map_err(|e| classify(&options, &e))
}

/// Makes one connection on `url` and closes it: the same checks as [`connect`].
pub async fn check(url: &str) -> Result<(), PgConnectError> {
    probe(&options(url)?).await
}

/// The server's `max_connections`: how many connections it accepts from everyone
/// (a few of them reserved for superusers).
pub async fn max_connections(url: &str) -> Result<u32, PgConnectError> {
    let options = options(url)?;
    let mut conn = open(&options).await?;
    let shown: Result<(String,), _> = sqlx::query_as("SHOW max_connections")
        .fetch_one(&mut conn)
        .await;
    let _ = conn.close().await;
    let (text,) = shown.map_err(|e| classify(&options, &e))?;
    text.trim().parse().map_err(|_| PgConnectError::Other {
        at: address(&options),
        reason: format!("max_connections is {text:?}, not a number"),
    })
}

async fn probe(options: &PgConnectOptions) -> Result<(), PgConnectError> {
    let conn = open(options).await?;
    let _ = conn.close().await;
    Ok(())
}

/// One connection, or the reason there is none within [`CONNECT_TIMEOUT`].
async fn open(options: &PgConnectOptions) -> Result<PgConnection, PgConnectError> {
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(options)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(classify(options, &e)),
        Err(_) => Err(PgConnectError::Unreachable {
            at: address(options),
            reason: format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        }),
    }
}

fn address(options: &PgConnectOptions) -> String {
    format!("{}:{}", options.get_host(), options.get_port())
}

/// One error for a failed connection attempt.
pub fn classify(options: &PgConnectOptions, e: &sqlx::Error) -> PgConnectError {
    let at = address(options);
    match e {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // invalid_catalog_name
            Some("3D000") => PgConnectError::NoDatabase {
                database: options
                    .get_database()
                    .unwrap_or(options.get_username())
                    .to_string(),
                at,
            },
            // invalid_password, invalid_authorization_specification
            Some("28P01" | "28000") => PgConnectError::Login {
                user: options.get_username().to_string(),
                at,
            },
            // cannot_connect_now (starting up or shutting down), too_many_connections
            Some("57P03" | "53300") => PgConnectError::Unreachable {
                at,
                reason: db.message().to_string(),
            },
            _ => PgConnectError::Other {
                at,
                reason: db.message().to_string(),
            },
        },
        sqlx::Error::Io(io) => PgConnectError::Unreachable {
            at,
            reason: io_reason(io),
        },
        sqlx::Error::PoolTimedOut => PgConnectError::Unreachable {
            at,
            reason: format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        },
        sqlx::Error::Tls(t) => PgConnectError::Other {
            at,
            reason: format!("TLS failed: {t}"),
        },
        other => PgConnectError::Other {
            at,
            reason: other.to_string(),
        },
    }
}

fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connection refused".into(),
        TimedOut => "timed out".into(),
        ConnectionReset | ConnectionAborted | UnexpectedEof => {
            "the server closed the connection".into()
        }
        // A name that does not resolve comes back as an uncategorised error.
        _ if e.to_string().contains("failed to lookup address") => "host not found".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_that_is_not_a_url_is_named_once_without_a_password() {
        let e = options("notaurl").unwrap_err();
        assert_eq!(
            e.to_string(),
            "DATABASE_URL is not a URL (\"notaurl\"); expected postgres://user:password@host:port/database"
        );
        let e = options("mysql://u:secret@h/db").unwrap_err().to_string();
        assert!(e.contains("not a URL") && !e.contains("secret"), "{e}");
        let e = options("u:secret@h/db").unwrap_err().to_string();
        assert!(!e.contains("secret"), "{e}");
        assert!(options("postgres://u:p@h:5433/db").is_ok());
    }
}
