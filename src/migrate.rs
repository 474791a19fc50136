//! Database migrations of the control schema, embedded in the binary from
//! `migrations/` so `orgpool migrate` (the Procfile's release phase) needs no files.

use sqlx::migrate::Migrator;
use sqlx::{Connection, PgConnection};

/// The embedded migrations.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Why migrating failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// Could not connect.
    #[error(
        "cannot connect to Postgres at {url}: {source}; check DATABASE_URL and that the server runs"
    )]
    Connect {
        /// The URL with any password removed.
        url: String,
        /// The driver error.
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Connects to `url` and applies every pending migration; returns how many are applied
/// in total.
pub async fn run(url: &str) -> Result<usize, MigrateError> {
    // One connection, not a pool: a refused connection fails at once instead of after
    // the pool's acquire timeout.
    let mut conn = PgConnection::connect(url)
        .await
        .map_err(|source| MigrateError::Connect {
            url: redact(url),
            source,
        })?;
    MIGRATOR.run(&mut conn).await?;
    let _ = conn.close().await;
    Ok(MIGRATOR.iter().count())
}

/// A URL with its password replaced, safe to print.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("****"));
            }
            u.to_string()
        }
        Err(_) => "<unparseable URL>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h:5432/db"),
            "postgres://u:****@h:5432/db"
        );
        assert_eq!(super::redact("postgres://h/db"), "postgres://h/db");
        assert!(!super::redact("not a url secret").contains("secret"));
    }
}
