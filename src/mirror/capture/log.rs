//! The write path's SQL on a schema's `_trigger_log`: which tables have changes
//! waiting, claiming waiting rows for a `write_back` run (`NEW` to `PENDING`, Heroku
//! Connect's states), reading a chunk's rows with the table row each belongs to, and
//! `orgpool writes retry` (failed rows back to `NEW`). Recording what Salesforce said is
//! in [`super::settle`].
//!
//! A row waits while it is `NEW` and its `updated_at` has come (a per-record retry sets
//! it ahead: a snooze). A `PENDING` row belongs to the active run of the schema's lane;
//! with none active it was left by a run that failed or was cancelled, and is taken
//! again.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::mirror::error::MirrorError;
use crate::mirror::types::quote_ident;

/// A claimed log row: which record of which table.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Claimed {
    /// `_trigger_log.id`.
    pub id: i32,
    /// The table.
    pub table_name: String,
    /// The table row's `id`.
    pub record_id: i32,
}

/// A log row as a chunk reads it, with its table row now (null when deleted).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoggedRow {
    /// `_trigger_log.id`.
    pub id: i32,
    /// `INSERT`, `UPDATE`, `DELETE`.
    pub action: String,
    /// The table row's `id`.
    pub record_id: i32,
    /// `sfid` at capture.
    pub sfid: Option<String>,
    /// hstore text of the row before.
    pub old: Option<String>,
    /// hstore text of the values written.
    pub values: Option<String>,
    /// When the app wrote it.
    pub created_at: DateTime<Utc>,
    /// Sends tried so far.
    pub sf_result: Option<i32>,
    /// `sfid` of the table row now.
    pub current_sfid: Option<String>,
    /// Whether the table row still exists.
    pub row_exists: bool,
}

/// The smallest waiting (`NEW` or `PENDING`) log id per table of `tables`.
pub async fn first_waiting(
    conn: &mut PgConnection,
    schema: &str,
    tables: &[String],
) -> Result<Vec<(String, i32)>, MirrorError> {
    let s = quote_ident(schema);
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT table_name::text, min(id) FROM {s}._trigger_log
         WHERE state IN ('NEW', 'PENDING') AND table_name = ANY($1) GROUP BY table_name"
    )))
    .bind(tables)
    .fetch_all(&mut *conn)
    .await?)
}

/// Of `sfids`, those with a change to `table` not yet sent (`NEW` or `PENDING`): a
/// change event must not overwrite a local edit still on its way to Salesforce.
pub async fn waiting_sfids(
    conn: &mut PgConnection,
    schema: &str,
    table: &str,
    sfids: &[String],
) -> Result<Vec<String>, MirrorError> {
    let s = quote_ident(schema);
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT sfid::text FROM {s}._trigger_log
         WHERE state IN ('NEW', 'PENDING') AND table_name = $1 AND sfid = ANY($2)"
    )))
    .bind(table)
    .bind(sfids)
    .fetch_all(&mut *conn)
    .await?)
}

/// Whether `schema` has a log row of one of `tables` ready to send now.
pub async fn has_ready(
    pool: &PgPool,
    schema: &str,
    tables: &[String],
) -> Result<bool, MirrorError> {
    let mut conn = pool.acquire().await?;
    if !super::triggers::has_log(&mut conn, schema).await? {
        return Ok(false);
    }
    let s = quote_ident(schema);
    let (ready,): (bool,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT EXISTS (SELECT 1 FROM {s}._trigger_log
         WHERE ((state = 'NEW' AND updated_at <= now()) OR state = 'PENDING')
           AND table_name = ANY($1))"
    )))
    .bind(tables)
    .fetch_one(&mut *conn)
    .await?;
    Ok(ready)
}

/// Claims up to `limit` waiting rows of the tables in `bounds`, each table's rows below
/// its bound (the first waiting row of a parent table: children wait for their
/// parents), in log order, and marks them `PENDING`. A record with a snoozed row keeps
/// its later rows back too, so one record's changes are always sent in order.
pub async fn claim(
    conn: &mut PgConnection,
    schema: &str,
    bounds: &[(String, i32)],
    limit: i64,
) -> Result<Vec<Claimed>, MirrorError> {
    let s = quote_ident(schema);
    let (tables, limits): (Vec<String>, Vec<i32>) = bounds.iter().cloned().unzip();
    let mut rows: Vec<Claimed> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH snoozed AS (
           SELECT table_name, record_id, min(id) AS first FROM {s}._trigger_log
           WHERE state = 'NEW' AND updated_at > now() GROUP BY table_name, record_id),
         picked AS (
           SELECT l.id FROM {s}._trigger_log l
           JOIN unnest($1::text[], $2::int[]) AS b(t, bound) ON l.table_name = b.t
           LEFT JOIN snoozed z ON z.table_name = l.table_name AND z.record_id = l.record_id
           WHERE ((l.state = 'NEW' AND l.updated_at <= now()) OR l.state = 'PENDING')
             AND l.id < b.bound AND (z.first IS NULL OR l.id < z.first)
           ORDER BY l.id LIMIT $3 FOR UPDATE OF l SKIP LOCKED)
         UPDATE {s}._trigger_log l SET state = 'PENDING', updated_at = now(),
           processed_tx = txid_current()
         FROM picked WHERE l.id = picked.id
         RETURNING l.id, l.table_name::text, l.record_id"
    )))
    .bind(&tables)
    .bind(&limits)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// A chunk's log rows still `PENDING`, in log order, each with its table row's `sfid`.
pub async fn load(
    conn: &mut PgConnection,
    schema: &str,
    table: &str,
    ids: &[i32],
) -> Result<Vec<LoggedRow>, MirrorError> {
    let s = quote_ident(schema);
    let t = format!("{s}.{}", quote_ident(table));
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT l.id, l.action::text, l.record_id, l.sfid::text, l.old, l.\"values\",
                l.created_at, l.sf_result, r.sfid::text AS current_sfid,
                (r.id IS NOT NULL) AS row_exists
         FROM {s}._trigger_log l LEFT JOIN {t} r ON r.id = l.record_id
         WHERE l.id = ANY($1) AND l.state = 'PENDING' ORDER BY l.id"
    )))
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?)
}

/// The Salesforce Id an earlier, successful write-back of each record got (a row
/// deleted before its `sfid` was written back still names its record this way).
pub async fn sent_ids(
    conn: &mut PgConnection,
    schema: &str,
    table: &str,
    record_ids: &[i32],
) -> Result<Vec<(i32, String)>, MirrorError> {
    let s = quote_ident(schema);
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT ON (record_id) record_id, sfid::text FROM (
           SELECT id, record_id, sfid FROM {s}._trigger_log
           WHERE table_name = $1 AND record_id = ANY($2) AND state = 'SUCCESS' AND sfid IS NOT NULL
           UNION ALL
           SELECT id, record_id, sfid FROM {s}._trigger_log_archive
           WHERE table_name = $1 AND record_id = ANY($2) AND state = 'SUCCESS' AND sfid IS NOT NULL) x
         ORDER BY record_id, id DESC"
    )))
    .bind(table)
    .bind(record_ids)
    .fetch_all(&mut *conn)
    .await?)
}

/// When each record's last successful write-back was recorded: Salesforce's
/// `SystemModstamp` up to then may be our own write, not a conflicting one.
pub async fn last_sent(
    conn: &mut PgConnection,
    schema: &str,
    table: &str,
    record_ids: &[i32],
) -> Result<Vec<(i32, DateTime<Utc>)>, MirrorError> {
    let s = quote_ident(schema);
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT record_id, max(processed_at) FROM (
           SELECT record_id, processed_at FROM {s}._trigger_log
           WHERE table_name = $1 AND record_id = ANY($2) AND state = 'SUCCESS'
           UNION ALL
           SELECT record_id, processed_at FROM {s}._trigger_log_archive
           WHERE table_name = $1 AND record_id = ANY($2) AND state = 'SUCCESS') x
         WHERE processed_at IS NOT NULL GROUP BY record_id"
    )))
    .bind(table)
    .bind(record_ids)
    .fetch_all(&mut *conn)
    .await?)
}

/// Failed rows (live and archived) of `schema`, optionally of one table or one log id,
/// back to `NEW` with their attempts reset, so the next run sends them; archived ones
/// return to the live log under their own id. Returns how many.
pub async fn requeue(
    pool: &PgPool,
    schema: &str,
    table: Option<&str>,
    id: Option<i32>,
) -> Result<u64, MirrorError> {
    let mut tx = pool.begin().await?;
    if !super::triggers::has_log(&mut tx, schema).await? {
        return Ok(0);
    }
    let s = quote_ident(schema);
    let cols = super::sql::LOG_COLUMNS;
    let filter = "state = 'FAILED' AND ($1::text IS NULL OR table_name = $1)
                  AND ($2::int IS NULL OR id = $2)";
    let back = sqlx::query(sqlx::AssertSqlSafe(format!(
        "WITH moved AS (DELETE FROM {s}._trigger_log_archive WHERE {filter} RETURNING {cols})
         INSERT INTO {s}._trigger_log ({cols}) SELECT {cols} FROM moved"
    )))
    .bind(table)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let n = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {s}._trigger_log SET state = 'NEW', updated_at = now(), processed_at = NULL,
           sf_result = 0, sf_message = NULL WHERE {filter}"
    )))
    .bind(table)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    tracing::debug!(
        schema,
        back_from_archive = back,
        requeued = n,
        "failed writes requeued"
    );
    Ok(n)
}

/// Rows of `schema`'s log by state, and the age in seconds of the oldest waiting one.
pub async fn backlog(
    pool: &PgPool,
    schema: &str,
) -> Result<(Vec<(String, String, i64)>, Option<f64>), MirrorError> {
    let mut conn = pool.acquire().await?;
    if !super::triggers::has_log(&mut conn, schema).await? {
        return Ok((Vec::new(), None));
    }
    let s = quote_ident(schema);
    let counts: Vec<(String, String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT table_name::text, state::text, count(*) FROM {s}._trigger_log
         GROUP BY table_name, state ORDER BY 1, 2"
    )))
    .fetch_all(&mut *conn)
    .await?;
    let (age,): (Option<f64>,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT extract(epoch FROM now() - min(created_at))::float8 FROM {s}._trigger_log
         WHERE state IN ('NEW', 'PENDING')"
    )))
    .fetch_one(&mut *conn)
    .await?;
    Ok((counts, age))
}

/// Log rows of `table` not yet settled for good (`NEW`, `PENDING`, `FAILED`), and the
/// table's rows without an Id (the app's inserts not in Salesforce yet): what a reload's
/// swap would lose, since the new table's rows get new `id`s.
pub async fn unsent(
    conn: &mut PgConnection,
    schema: &str,
    table: &str,
) -> Result<i64, MirrorError> {
    if !super::triggers::has_log(conn, schema).await? {
        return Ok(0);
    }
    let s = quote_ident(schema);
    let t = format!("{s}.{}", quote_ident(table));
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT (SELECT count(*) FROM {s}._trigger_log
                 WHERE table_name = $1 AND state IN ('NEW', 'PENDING', 'FAILED'))
              + (SELECT count(*) FROM {t} WHERE sfid IS NULL)"
    )))
    .bind(table)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n)
}
