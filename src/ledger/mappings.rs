//! Per-object mirror state in the ledger: the mapping as last enqueued (so every worker
//! uses the same one for a run), its table, columns, state, error and resync watermark.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::LedgerError;
use crate::mirror::Mapping;

/// A mapping's row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MappingRow {
    /// The object.
    pub object: String,
    /// Mirror schema.
    pub schema_name: String,
    /// Mirror table.
    pub table_name: String,
    /// `new`, `loading`, `ready`, `error`.
    pub state: String,
    /// What is wrong.
    pub error: Option<String>,
    /// What to do about it.
    pub fix: Option<String>,
    /// The mappings.toml entry.
    pub config: serde_json::Value,
    /// Columns as last applied.
    pub columns: serde_json::Value,
    /// Columns whose field left the org.
    pub missing: serde_json::Value,
    /// Resync has everything modified before this.
    pub watermark: Option<DateTime<Utc>>,
    /// Last committed load or resync.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Last resync run created.
    pub last_resync_at: Option<DateTime<Utc>>,
    /// Last reconcile run created.
    pub last_reconcile_at: Option<DateTime<Utc>>,
    /// Paused: the scheduler starts no run for it and it gets no change-event stream.
    pub paused: bool,
    /// Since when, while paused.
    pub paused_at: Option<DateTime<Utc>>,
}

impl MappingRow {
    /// The mapping as stored.
    pub fn mapping(&self) -> Result<Mapping, LedgerError> {
        serde_json::from_value(self.config.clone())
            .map_err(|_| LedgerError::NoSuchMapping(self.object.clone()))
    }
}

/// Records the mapping from the file (new objects start in state `new`). The table's
/// schema and name follow the mapping.
pub async fn upsert_config(pool: &PgPool, m: &Mapping) -> Result<(), LedgerError> {
    let config = serde_json::to_value(m).unwrap_or_default();
    sqlx::query(
        "INSERT INTO orgpool.mappings (object, schema_name, table_name, config) VALUES ($1, $2, $3, $4)
         ON CONFLICT (object) DO UPDATE SET config = EXCLUDED.config, schema_name = EXCLUDED.schema_name,
             table_name = EXCLUDED.table_name, updated_at = now()",
    )
    .bind(&m.object)
    .bind(&m.schema)
    .bind(m.table())
    .bind(config)
    .execute(pool)
    .await?;
    Ok(())
}

/// One mapping's row.
pub async fn get(conn: &mut PgConnection, object: &str) -> Result<MappingRow, LedgerError> {
    sqlx::query_as("SELECT * FROM orgpool.mappings WHERE lower(object) = lower($1)")
        .bind(object)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| LedgerError::NoSuchMapping(object.to_string()))
}

/// Every mapping, by object.
pub async fn all(pool: &PgPool) -> Result<Vec<MappingRow>, LedgerError> {
    Ok(
        sqlx::query_as("SELECT * FROM orgpool.mappings ORDER BY object")
            .fetch_all(pool)
            .await?,
    )
}

/// Pauses (`paused` true) or resumes a mapping; returns the object as the ledger spells
/// it and whether that changed anything (pausing a paused mapping is no error). The
/// object is matched without regard to case, as everywhere else.
pub async fn set_paused(
    pool: &PgPool,
    object: &str,
    paused: bool,
) -> Result<(String, bool), LedgerError> {
    let changed: Option<(String,)> = sqlx::query_as(
        "UPDATE orgpool.mappings SET paused = $2,
                paused_at = CASE WHEN $2 THEN now() ELSE NULL END, updated_at = now()
         WHERE lower(object) = lower($1) AND paused <> $2 RETURNING object",
    )
    .bind(object)
    .bind(paused)
    .fetch_optional(pool)
    .await?;
    if let Some((name,)) = changed {
        return Ok((name, true));
    }
    let found: Option<(String,)> =
        sqlx::query_as("SELECT object FROM orgpool.mappings WHERE lower(object) = lower($1)")
            .bind(object)
            .fetch_optional(pool)
            .await?;
    match found {
        Some((name,)) => Ok((name, false)),
        None => Err(LedgerError::NoSuchMapping(object.to_string())),
    }
}

/// Where a mapped object's mirror table is.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TableName {
    /// The object.
    pub object: String,
    /// Mirror schema.
    pub schema_name: String,
    /// Mirror table.
    pub table_name: String,
}

/// The mirror table of every mapping, by object.
pub async fn tables(pool: &PgPool) -> Result<Vec<TableName>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT object, schema_name, table_name FROM orgpool.mappings ORDER BY object",
    )
    .fetch_all(pool)
    .await?)
}

/// Sets the state, clearing or recording the error and its fix.
pub async fn set_state(
    conn: &mut PgConnection,
    object: &str,
    state: &str,
    error: Option<(&str, &str)>,
) -> Result<(), LedgerError> {
    sqlx::query(
        "UPDATE orgpool.mappings SET state = $2, error = $3, fix = $4, updated_at = now() WHERE object = $1",
    )
    .bind(object)
    .bind(state)
    .bind(error.map(|e| e.0))
    .bind(error.map(|e| e.1))
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the applied columns and those kept for fields that left the org.
pub async fn set_columns(
    conn: &mut PgConnection,
    object: &str,
    columns: serde_json::Value,
    missing: &[String],
) -> Result<(), LedgerError> {
    sqlx::query(
        "UPDATE orgpool.mappings SET columns = $2, missing = $3, updated_at = now() WHERE object = $1",
    )
    .bind(object)
    .bind(columns)
    .bind(serde_json::json!(missing))
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the watermark (never backwards) and the last sync time, in the data's
/// transaction.
pub async fn advance(
    conn: &mut PgConnection,
    object: &str,
    watermark: DateTime<Utc>,
) -> Result<(), LedgerError> {
    sqlx::query(
        "UPDATE orgpool.mappings SET watermark = greatest(watermark, $2), last_sync_at = now(),
                updated_at = now() WHERE object = $1",
    )
    .bind(object)
    .bind(watermark)
    .execute(conn)
    .await?;
    Ok(())
}

/// Resets the mapping's schedule clock `clock` (`resync` or `reconcile`) to now.
pub async fn touch_schedule(pool: &PgPool, object: &str, clock: &str) -> Result<(), LedgerError> {
    let column = match clock {
        "reconcile" => "last_reconcile_at",
        _ => "last_resync_at",
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE orgpool.mappings SET {column} = now() WHERE object = $1"
    )))
    .bind(object)
    .execute(pool)
    .await?;
    Ok(())
}

/// Makes the mapping's next resync due at `at` at the latest (a gap in its change
/// events: a resync reads up to now minus its lag, so the one that heals a gap starts
/// once the lag has passed). An earlier due time stays.
pub async fn resync_due_by(
    pool: &PgPool,
    object: &str,
    at: DateTime<Utc>,
    interval: std::time::Duration,
) -> Result<(), LedgerError> {
    let last = at - chrono::Duration::from_std(interval).unwrap_or_default();
    sqlx::query(
        "UPDATE orgpool.mappings SET last_resync_at = LEAST(COALESCE(last_resync_at, $2), $2)
         WHERE object = $1",
    )
    .bind(object)
    .bind(last)
    .execute(pool)
    .await?;
    Ok(())
}

/// The `read_write` tables of `rows`, grouped by schema in the order first seen (the
/// write-back listener, `orgpool writes` and status read them alike).
pub fn read_write_tables(rows: &[MappingRow]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for row in rows {
        if !row
            .mapping()
            .is_ok_and(|m| m.access == crate::mirror::Access::ReadWrite)
        {
            continue;
        }
        match out.iter_mut().find(|(s, _)| *s == row.schema_name) {
            Some((_, tables)) => tables.push(row.table_name.clone()),
            None => out.push((row.schema_name.clone(), vec![row.table_name.clone()])),
        }
    }
    out
}
