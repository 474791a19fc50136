//! Keeping the capture log small: processed rows (`SUCCESS`, `FAILED`, `IGNORED`,
//! `READONLY` and Connect's other final states) move from `_trigger_log` to
//! `_trigger_log_archive` an hour after their last update (time to look at or retry a
//! row where Connect users expect it), and archived rows older than the retention
//! (`ORGPOOL_TRIGGER_LOG_RETENTION_DAYS`, default 30, Connect's paid-plan figure) are
//! deleted. Small batches, so one scheduler pass never holds long locks.

use std::collections::BTreeSet;

use sqlx::{PgConnection, PgPool};

use super::sql::LOG_COLUMNS;
use crate::mirror::error::MirrorError;
use crate::mirror::mapping::Mapping;
use crate::mirror::types::quote_ident;
use crate::settings::Vars;

/// States after which a log row is never looked at by write-back again.
pub const FINAL_STATES: &[&str] = &[
    "SUCCESS", "FAILED", "IGNORED", "IGNORE", "READONLY", "MERGED", "REQUEUED",
];

/// How long a processed row stays in the live log before it is archived.
pub const ARCHIVE_AFTER: &str = "1 hour";

/// Rows archived or pruned per schema and pass.
pub const BATCH: i64 = 1_000;

/// The setting with the archive's retention in days.
pub const RETENTION_SETTING: &str = "ORGPOOL_TRIGGER_LOG_RETENTION_DAYS";

/// What one [`archive`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Archived {
    /// Rows moved from the log to the archive.
    pub moved: u64,
    /// Archive rows deleted past the retention.
    pub pruned: u64,
}

/// Moves up to `batch` processed rows of `schema`'s log into its archive and deletes up
/// to `batch` archive rows created more than `retention_days` ago, in one transaction.
/// A schema without a log (no mirror table yet) is skipped.
pub async fn archive(
    conn: &mut PgConnection,
    schema: &str,
    retention_days: u64,
    batch: i64,
) -> Result<Archived, MirrorError> {
    let s = quote_ident(schema);
    if !super::triggers::has_log(conn, schema).await? {
        return Ok(Archived::default());
    }
    let states: Vec<String> = FINAL_STATES.iter().map(|s| s.to_string()).collect();
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    // SKIP LOCKED: a row write-back is updating right now stays for the next pass.
    let moved = sqlx::query(sqlx::AssertSqlSafe(format!(
        "WITH moved AS (
           DELETE FROM {s}._trigger_log WHERE id IN (
             SELECT id FROM {s}._trigger_log
             WHERE state = ANY($1) AND updated_at < now() - interval '{ARCHIVE_AFTER}'
             ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
           RETURNING {LOG_COLUMNS})
         INSERT INTO {s}._trigger_log_archive ({LOG_COLUMNS}) SELECT {LOG_COLUMNS} FROM moved"
    )))
    .bind(&states)
    .bind(batch)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let pruned = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {s}._trigger_log_archive WHERE ctid = ANY(ARRAY(
           SELECT ctid FROM {s}._trigger_log_archive
           WHERE created_at < now() - make_interval(days => $1)
           ORDER BY created_at LIMIT $2))"
    )))
    .bind(i32::try_from(retention_days).unwrap_or(i32::MAX))
    .bind(batch)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(Archived { moved, pruned })
}

/// The archive's retention in days from the environment (1 to 3650, default 30).
pub fn retention_days(vars: &Vars) -> Result<u64, crate::settings::SettingsError> {
    Ok(vars.whole(RETENTION_SETTING, 1..=3650)?.unwrap_or(30))
}

/// One scheduler pass of [`archive`] over every schema `mappings` use, a batch each.
/// Failures are logged, not returned: the log is tidied again next pass.
pub async fn archive_all(pool: &PgPool, mappings: &[Mapping]) {
    let days = match retention_days(&Vars::from_env()) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "trigger log not archived");
            return;
        }
    };
    let schemas: BTreeSet<&str> = mappings.iter().map(|m| m.schema.as_str()).collect();
    for schema in schemas {
        let done = match pool.acquire().await {
            Ok(mut conn) => archive(&mut conn, schema, days, BATCH).await,
            Err(e) => Err(e.into()),
        };
        match done {
            Ok(a) if a.moved + a.pruned > 0 => {
                tracing::info!(
                    schema,
                    moved = a.moved,
                    pruned = a.pruned,
                    "trigger log archived"
                )
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(schema, error = %e, "trigger log not archived; trying again next pass")
            }
        }
    }
}
