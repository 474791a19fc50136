//! The write-back part of the fleet status: for each read_write table its
//! `_trigger_log` rows by Heroku Connect state and the age of its oldest waiting change,
//! and the latest `FAILED` rows with Salesforce's message. `orgpool status`, the status
//! page, `/metrics` and `orgpool jobs failures` all read it here, so they agree.
//!
//! Counts come from the live log ([`crate::mirror::capture::log::backlog`]); `FAILED`
//! rows also count from the archive, because a refused change moved there after an
//! hour is still waiting for a fix and `orgpool writes retry`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::ledger::mappings::MappingRow;
use crate::mirror::capture::{log, triggers};
use crate::mirror::error::MirrorError;
use crate::mirror::{Access, quote_ident};

/// One read_write table's changes on their way to Salesforce.
#[derive(Debug, Clone, Serialize)]
pub struct WriteBackTable {
    /// The object.
    pub object: String,
    /// The mirror schema.
    pub schema: String,
    /// The table (`_trigger_log.table_name`).
    pub table: String,
    /// Log rows by state (`NEW`, `PENDING`, `SUCCESS`, `FAILED`, `IGNORED`, ...);
    /// `FAILED` includes archived ones.
    pub states: BTreeMap<String, i64>,
    /// Seconds since the app wrote the oldest change still `NEW` or `PENDING`.
    pub oldest_waiting_seconds: Option<f64>,
}

impl WriteBackTable {
    /// Rows in `state` (0 when none).
    pub fn count(&self, state: &str) -> i64 {
        self.states.get(state).copied().unwrap_or(0)
    }
}

/// A change Salesforce refused for good.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FailedWrite {
    /// The mirror schema.
    #[sqlx(default)]
    pub schema: String,
    /// The table.
    pub table_name: String,
    /// `_trigger_log.id` (what `orgpool writes retry --id` takes).
    pub log_id: i32,
    /// `INSERT`, `UPDATE` or `DELETE`.
    pub action: Option<String>,
    /// The table row's `id`.
    pub record_id: Option<i32>,
    /// The Salesforce Id, when the record has one.
    pub sfid: Option<String>,
    /// What Salesforce said.
    pub sf_message: Option<String>,
    /// When it was refused.
    pub at: Option<DateTime<Utc>>,
}

/// Write-back at one moment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WriteBackStatus {
    /// Read_write tables, in mapping order.
    pub tables: Vec<WriteBackTable>,
    /// The latest refused changes, newest first.
    pub failed: Vec<FailedWrite>,
}

/// Reads it from the mappings' rows; `failed_limit` bounds the refused changes listed.
pub async fn read(
    pool: &PgPool,
    mappings: &[MappingRow],
    failed_limit: i64,
) -> Result<WriteBackStatus, MirrorError> {
    let mut out = WriteBackStatus::default();
    let mut per_schema = BTreeMap::new();
    for schema in schemas(mappings) {
        out.failed
            .extend(failed(pool, &schema, failed_limit).await?);
        let figures = schema_figures(pool, &schema).await?;
        per_schema.insert(schema, figures);
    }
    out.failed
        .sort_by(|a, b| b.at.cmp(&a.at).then(b.log_id.cmp(&a.log_id)));
    out.failed.truncate(failed_limit.max(0) as usize);
    for m in mappings.iter().filter(|m| is_read_write(m)) {
        let f = &per_schema[&m.schema_name];
        let mut states: BTreeMap<String, i64> = f
            .counts
            .iter()
            .filter(|(t, _, _)| *t == m.table_name)
            .map(|(_, s, n)| (s.clone(), *n))
            .collect();
        if let Some((_, n)) = f.archived_failed.iter().find(|(t, _)| *t == m.table_name) {
            *states.entry("FAILED".into()).or_default() += n;
        }
        out.tables.push(WriteBackTable {
            object: m.object.clone(),
            schema: m.schema_name.clone(),
            table: m.table_name.clone(),
            states,
            oldest_waiting_seconds: f
                .oldest
                .iter()
                .find(|(t, _)| *t == m.table_name)
                .and_then(|(_, a)| *a),
        });
    }
    Ok(out)
}

/// One schema's log figures.
struct SchemaFigures {
    counts: Vec<(String, String, i64)>,
    archived_failed: Vec<(String, i64)>,
    oldest: Vec<(String, Option<f64>)>,
}

async fn schema_figures(pool: &PgPool, schema: &str) -> Result<SchemaFigures, MirrorError> {
    let (counts, _) = log::backlog(pool, schema).await?;
    let mut conn = pool.acquire().await?;
    if !triggers::has_log(&mut conn, schema).await? {
        return Ok(SchemaFigures {
            counts,
            archived_failed: Vec::new(),
            oldest: Vec::new(),
        });
    }
    let s = quote_ident(schema);
    let archived_failed = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT table_name::text, count(*) FROM {s}._trigger_log_archive
         WHERE state = 'FAILED' GROUP BY 1"
    )))
    .fetch_all(&mut *conn)
    .await?;
    let oldest = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT table_name::text, extract(epoch FROM now() - min(created_at))::float8
         FROM {s}._trigger_log WHERE state IN ('NEW', 'PENDING') GROUP BY 1"
    )))
    .fetch_all(&mut *conn)
    .await?;
    Ok(SchemaFigures {
        counts,
        archived_failed,
        oldest,
    })
}

/// The latest `limit` refused changes of `schema`, live or archived, newest first.
pub async fn failed(
    pool: &PgPool,
    schema: &str,
    limit: i64,
) -> Result<Vec<FailedWrite>, MirrorError> {
    let mut conn = pool.acquire().await?;
    if !triggers::has_log(&mut conn, schema).await? {
        return Ok(Vec::new());
    }
    let s = quote_ident(schema);
    let pick = "SELECT id, table_name, action, record_id, sfid, sf_message,
                       coalesce(processed_at, updated_at) AS at";
    let mut rows: Vec<FailedWrite> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT table_name::text AS table_name, id AS log_id, action::text AS action,
                record_id, sfid::text AS sfid, sf_message, at FROM (
           {pick} FROM {s}._trigger_log WHERE state = 'FAILED'
           UNION ALL
           {pick} FROM {s}._trigger_log_archive WHERE state = 'FAILED') x
         ORDER BY at DESC NULLS LAST, id DESC LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    for r in &mut rows {
        r.schema = schema.to_string();
    }
    Ok(rows)
}

/// Schemas among `mappings` with a read_write mapping, each once.
pub fn schemas(mappings: &[MappingRow]) -> Vec<String> {
    crate::ledger::mappings::read_write_tables(mappings)
        .into_iter()
        .map(|(schema, _)| schema)
        .collect()
}

fn is_read_write(m: &MappingRow) -> bool {
    m.mapping().is_ok_and(|m| m.access == Access::ReadWrite)
}
