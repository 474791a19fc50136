//! A write-back run's plan step: find the schema's `read_write` tables, claim their
//! waiting log rows (a child table's rows only below the first waiting row of its
//! parents' tables, so a Contact inserted with its new Account goes in the next run,
//! after the Account has its Id), and cut them into chunks: per table, whole records,
//! Collections chunks below the Bulk threshold and Bulk chunks from it, Bulk chunks
//! sorted by parent so two parallel ingest jobs rarely lock the same parent.

use std::collections::BTreeMap;

use super::kind::{Via, WriteBackArgs, WriteBackChunk};
use crate::jobs::error::JobError;
use crate::jobs::kind::{Job, Plan, Planned};
use crate::jobs::mirror_sync::table_of;
use crate::ledger;
use crate::mirror::capture::log;
use crate::mirror::{Access, Mapping, MirrorTable, quote_ident};

/// A read_write table of the schema: its mapping and its table.
#[derive(Debug, Clone)]
pub struct Target {
    /// The mapping as stored.
    pub mapping: Mapping,
    /// The table with its columns as last applied.
    pub table: MirrorTable,
}

/// The `read_write` tables of `schema`, from the ledger's mappings.
pub async fn targets(pool: &sqlx::PgPool, schema: &str) -> Result<Vec<Target>, JobError> {
    let mut out = Vec::new();
    for row in ledger::mappings::all(pool).await? {
        if row.schema_name != schema {
            continue;
        }
        let mapping = row.mapping()?;
        if mapping.access != Access::ReadWrite {
            continue;
        }
        let table = table_of(&row)?;
        out.push(Target { mapping, table });
    }
    Ok(out)
}

/// The other targets `t` refers to by a lookup: its parents.
fn parents<'a>(t: &Target, all: &'a [Target]) -> Vec<&'a Target> {
    let mut objects: Vec<&str> = Vec::new();
    for c in &t.table.columns {
        objects.extend(c.references.iter().map(String::as_str));
        if let Some(r) = &c.relationship {
            let lookup = t
                .table
                .columns
                .iter()
                .find(|l| l.field.eq_ignore_ascii_case(&r.lookup));
            objects.extend(
                lookup
                    .into_iter()
                    .flat_map(|l| l.references.iter().map(String::as_str)),
            );
        }
    }
    all.iter()
        .filter(|p| p.table.table != t.table.table)
        .filter(|p| {
            objects
                .iter()
                .any(|o| o.eq_ignore_ascii_case(&p.mapping.object))
        })
        .collect()
}

pub(super) async fn plan(job: &Job<'_, WriteBackArgs>) -> Result<Plan<WriteBackChunk>, JobError> {
    let (ctx, schema) = (job.ctx, job.run.object.as_str());
    let settings = &ctx.settings.write_back;
    let all = targets(&ctx.pool, schema).await?;
    if all.is_empty() {
        return Ok(Plan::default());
    }
    let names: Vec<String> = all.iter().map(|t| t.table.table.clone()).collect();
    let mut tx = ctx.pool.begin().await?;
    let first = log::first_waiting(&mut tx, schema, &names).await?;
    let first_of = |table: &str| first.iter().find(|(t, _)| t == table).map(|(_, id)| *id);
    let bounds: Vec<(String, i32)> = all
        .iter()
        .map(|t| {
            let bound = parents(t, &all)
                .iter()
                .filter_map(|p| first_of(&p.table.table))
                .min()
                .unwrap_or(i32::MAX);
            (t.table.table.clone(), bound)
        })
        .collect();
    let mut claimed = log::claim(&mut tx, schema, &bounds, settings.run_rows).await?;
    if claimed.is_empty() {
        // Tables that refer to each other (an Account's primary Contact, a Contact's
        // Account) would hold each other back for ever: then the oldest go regardless.
        let open: Vec<(String, i32)> = names.iter().map(|n| (n.clone(), i32::MAX)).collect();
        claimed = log::claim(&mut tx, schema, &open, settings.run_rows).await?;
    }
    // Records per table in log order, each with all its rows of this run.
    let mut per_table: BTreeMap<String, Vec<(i32, Vec<i32>)>> = BTreeMap::new();
    // Where each (table, record) sits in its table's list: a run may hold a million rows.
    let mut at: std::collections::HashMap<(&str, i32), usize> = std::collections::HashMap::new();
    for c in &claimed {
        let records = per_table.entry(c.table_name.clone()).or_default();
        match at.get(&(c.table_name.as_str(), c.record_id)) {
            Some(&i) => records[i].1.push(c.id),
            None => {
                at.insert((c.table_name.as_str(), c.record_id), records.len());
                records.push((c.record_id, vec![c.id]));
            }
        }
    }
    let mut chunks = Vec::new();
    let mut summary = serde_json::Map::new();
    for (table, mut records) in per_table {
        let via = if records.len() >= settings.bulk_threshold {
            Via::Bulk
        } else {
            Via::Collections
        };
        let size = match via {
            Via::Bulk => {
                if let Some(t) = all.iter().find(|t| t.table.table == table) {
                    by_parent(&mut tx, &t.table, &mut records).await?;
                }
                settings.bulk_chunk
            }
            Via::Collections => settings.collections_chunk,
        };
        summary.insert(
            table.clone(),
            serde_json::json!({"records": records.len(), "via": via}),
        );
        for part in records.chunks(size.max(1)) {
            let mut log_ids: Vec<i32> = part.iter().flat_map(|(_, ids)| ids.clone()).collect();
            log_ids.sort_unstable();
            chunks.push(Planned {
                expected_rows: Some(part.len() as i64),
                spec: WriteBackChunk {
                    table: table.clone(),
                    via,
                    log_ids,
                },
            });
        }
    }
    tx.commit().await?;
    let records = chunks.iter().filter_map(|c| c.expected_rows).sum();
    Ok(Plan {
        chunks,
        expected_rows: Some(records),
        summary: serde_json::json!({"log_rows": claimed.len(), "tables": summary}),
        ..Plan::default()
    })
}

/// Sorts `records` by their first lookup's value, so one parent's children share a
/// chunk (Salesforce locks the parent while it saves a child).
async fn by_parent(
    conn: &mut sqlx::PgConnection,
    table: &MirrorTable,
    records: &mut [(i32, Vec<i32>)],
) -> Result<(), JobError> {
    let Some(lookup) = table
        .columns
        .iter()
        .find(|c| !c.references.is_empty() && c.relationship.is_none() && c.name != "sfid")
    else {
        return Ok(());
    };
    let ids: Vec<i32> = records.iter().map(|(r, _)| *r).collect();
    let keys: Vec<(i32, Option<String>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, {}::text FROM {} WHERE id = ANY($1)",
        quote_ident(&lookup.name),
        table.qualified()
    )))
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(crate::mirror::MirrorError::from)?;
    let keys: BTreeMap<i32, Option<String>> = keys.into_iter().collect();
    // Stable: one record's rows keep their order, and so do records of one parent.
    records.sort_by(|a, b| keys.get(&a.0).cmp(&keys.get(&b.0)));
    Ok(())
}
