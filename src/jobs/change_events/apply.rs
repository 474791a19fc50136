//! Writing a chunk's folded events into the mirror, in the chunk's transaction and
//! through the mirror's one write seam (`mirror::apply`): whole rows upserted, changed
//! fields updated on rows the table has, deletions per the mapping's `deleted`, and
//! by-Id reads for what the events cannot give (a gap's records, a record the table
//! does not have yet, a mapping with formula or relationship columns). Each row
//! written carries a `systemmodstamp` (the event's `LastModifiedDate`, or the read's
//! own), so the guard in `mirror::apply` never lets an older change overwrite a newer
//! one that a resync already wrote. Rows with a local change still on its way to
//! Salesforce are left alone (write-back sends the newer value).

use std::collections::{BTreeMap, BTreeSet};

use sqlx::PgConnection;

use super::fetch::fetch_by_id;
use super::fold::{Folded, RecordChange};
use crate::jobs::error::JobError;
use crate::mirror::capture::log;
use crate::mirror::{Access, ChangeSet, Deleted, MirrorTable, Rows, apply};
use crate::salesforce::Client;
use crate::salesforce::pubsub::millis_text;

/// What applying did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Rows upserted or updated.
    pub upserted: u64,
    /// Rows deleted or flagged deleted.
    pub deleted: u64,
    /// Records read by Id.
    pub fetched: u64,
    /// Records left alone for a local change waiting to be sent.
    pub held: u64,
}

/// Applies `f` to `table` in `conn`'s transaction.
pub async fn write(
    conn: &mut PgConnection,
    client: &Client,
    table: &MirrorTable,
    deleted: Deleted,
    mut f: Folded,
) -> Result<Written, JobError> {
    let mut out = Written::default();
    let touched: Vec<String> = f
        .upserts
        .keys()
        .chain(f.deletes.keys())
        .chain(f.fetch.iter())
        .cloned()
        .collect();
    if table.access == Access::ReadWrite && !touched.is_empty() {
        let held: BTreeSet<String> =
            log::waiting_sfids(conn, &table.schema, &table.table, &touched)
                .await?
                .into_iter()
                .collect();
        out.held = held.len() as u64;
        f.upserts.retain(|id, _| !held.contains(id));
        f.deletes.retain(|id, _| !held.contains(id));
        f.fetch.retain(|id| !held.contains(id));
    }
    // What the events cannot give is read by Id.
    let read_all = table
        .columns
        .iter()
        .any(|c| c.calculated || c.relationship.is_some());
    let partial: Vec<String> = f
        .upserts
        .iter()
        .filter(|(_, c)| !c.whole)
        .map(|(id, _)| id.clone())
        .collect();
    let present = existing(conn, table, &partial).await?;
    let moved: Vec<String> = f
        .upserts
        .iter()
        .filter(|(id, c)| read_all || (!c.whole && !present.contains(*id)))
        .map(|(id, _)| id.clone())
        .collect();
    for id in moved {
        f.upserts.remove(&id);
        f.fetch.insert(id);
    }
    // Whole rows, and field updates grouped by the columns they set.
    let mut whole: Vec<Vec<Option<String>>> = Vec::new();
    let mut partial: BTreeMap<Vec<usize>, Vec<Vec<Option<String>>>> = BTreeMap::new();
    for (id, c) in &f.upserts {
        if c.whole {
            whole.push(whole_row(table, id, c));
        } else {
            let (cols, row) = partial_row(table, id, c);
            partial.entry(cols).or_default().push(row);
        }
    }
    if !whole.is_empty() {
        let cs = ChangeSet::full(table, Rows::Values(whole), deleted);
        out.upserted += apply(conn, &cs).await?.upserted;
    }
    for (cols, rows) in partial {
        let cs = ChangeSet {
            columns: cols.iter().map(|&i| &table.columns[i]).collect(),
            ..ChangeSet::full(table, Rows::Values(rows), deleted)
        };
        out.upserted += apply(conn, &cs).await?.upserted;
    }
    if !f.deletes.is_empty() {
        out.deleted += delete(conn, table, deleted, &f.deletes).await?;
    }
    if !f.fetch.is_empty() {
        let ids: Vec<String> = f.fetch.into_iter().collect();
        out.fetched = ids.len() as u64;
        let (rows, gone) = fetch_by_id(client, table, &ids).await?;
        if !rows.is_empty() {
            let cs = ChangeSet::full(table, Rows::Values(rows), deleted);
            let a = apply(conn, &cs).await?;
            out.upserted += a.upserted;
            out.deleted += a.deleted;
        }
        if !gone.is_empty() {
            // Not even in the recycle bin: gone for good, whatever `deleted` says.
            let cs = ChangeSet {
                deletes: gone,
                ..ChangeSet::full(table, Rows::Values(Vec::new()), deleted)
            };
            out.deleted += apply(conn, &cs).await?.deleted;
        }
    }
    Ok(out)
}

/// Of `ids`, those with a row in `table`.
async fn existing(
    conn: &mut PgConnection,
    table: &MirrorTable,
    ids: &[String],
) -> Result<BTreeSet<String>, JobError> {
    if ids.is_empty() {
        return Ok(BTreeSet::new());
    }
    let found: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT sfid::text FROM {} WHERE sfid = ANY($1)",
        table.qualified()
    )))
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    Ok(found.into_iter().collect())
}

/// The row's stamp: the change's `LastModifiedDate`, else its commit time.
fn stamp(c: &RecordChange) -> Option<String> {
    c.values
        .get("LastModifiedDate")
        .cloned()
        .flatten()
        .map(|v| cell_text("timestamptz", &v))
        .or_else(|| millis_text(c.commit_ms))
}

fn whole_row(table: &MirrorTable, id: &str, c: &RecordChange) -> Vec<Option<String>> {
    table
        .columns
        .iter()
        .map(|col| match col.field.as_str() {
            "Id" => Some(id.to_string()),
            "IsDeleted" => Some("false".into()),
            "SystemModstamp" => stamp(c),
            f => c
                .values
                .get(f)
                .cloned()
                .flatten()
                .map(|v| cell_text(&col.pg_type, &v)),
        })
        .collect()
}

/// The columns (indexes into the table's) an update sets, and its values.
fn partial_row(
    table: &MirrorTable,
    id: &str,
    c: &RecordChange,
) -> (Vec<usize>, Vec<Option<String>>) {
    let mut cols = Vec::new();
    let mut row = Vec::new();
    for (i, col) in table.columns.iter().enumerate() {
        let v = match col.field.as_str() {
            "Id" => Some(id.to_string()),
            "SystemModstamp" => stamp(c),
            f => match c.values.get(f) {
                Some(v) => v.as_deref().map(|v| cell_text(&col.pg_type, v)),
                None => continue,
            },
        };
        cols.push(i);
        row.push(v);
    }
    (cols, row)
}

/// A value as the column's cast expects: a datetime sent as epoch milliseconds (an
/// Avro `long` without a logical type) becomes a UTC timestamp.
pub fn cell_text(pg_type: &str, v: &str) -> String {
    if pg_type.starts_with("timestamp")
        && !v.is_empty()
        && v.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        && let Ok(ms) = v.parse::<i64>()
        && let Some(t) = millis_text(ms)
    {
        return t;
    }
    v.to_string()
}

/// Deletes per the mapping: rows removed, or kept flagged `isdeleted` (only rows not
/// already newer than the delete).
async fn delete(
    conn: &mut PgConnection,
    table: &MirrorTable,
    deleted: Deleted,
    ids: &BTreeMap<String, i64>,
) -> Result<u64, JobError> {
    let sfids: Vec<String> = ids.keys().cloned().collect();
    let stamps: Vec<String> = ids
        .values()
        .map(|ms| millis_text(*ms).unwrap_or_default())
        .collect();
    let has = |n: &str| table.columns.iter().any(|c| c.name == n);
    // Cast as the column is typed: `timestamp` (UTC) in heroku_connect mode.
    let ty = table
        .columns
        .iter()
        .find(|c| c.name == "systemmodstamp")
        .map_or("timestamptz", |c| c.pg_type.as_str());
    let sql = match deleted {
        Deleted::Keep if has("isdeleted") => format!(
            "UPDATE {t} AS t SET isdeleted = true, systemmodstamp = d.at::{ty}, _hc_lastop = 'SYNCED'
             FROM unnest($1::text[], $2::text[]) AS d(id, at)
             WHERE t.sfid = d.id AND (t.systemmodstamp IS NULL OR t.systemmodstamp <= d.at::{ty})",
            t = table.qualified()
        ),
        _ => format!(
            "DELETE FROM {t} AS t USING unnest($1::text[], $2::text[]) AS d(id, at)
             WHERE t.sfid = d.id AND (t.systemmodstamp IS NULL OR t.systemmodstamp <= d.at::{ty})",
            t = table.qualified()
        ),
    };
    crate::mirror::capture::mark_own_writes(conn).await?;
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&sfids)
        .bind(&stamps)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}
