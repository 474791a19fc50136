//! What the mirror job kinds share: resolving a mapping against the org's describe (the
//! plan steps), rebuilding its table description from the ledger (the work steps, so
//! every chunk of a run uses the columns its plan chose), and the two chunk shapes
//! ([`MirrorChunk`]): an Id range replaced from a Bulk query, and a `SystemModstamp`
//! window upserted from a Bulk queryAll.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::context::JobContext;
use super::error::JobError;
use super::kind::{Outcome, Planned};
use crate::ledger::{self, MappingRow, Run};
use crate::mirror::planner::range_where;
use crate::mirror::{Column, Deleted, LoadMode, Mapping, MirrorTable, Resolved, load};
use crate::salesforce::{ErrorClass, Scope, SfError};

/// A mirror run's work chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MirrorChunk {
    /// Replace the Id range `[lo, hi)` (None: unbounded) with what the org has now.
    Range {
        /// Range start, inclusive.
        lo: Option<String>,
        /// Range end, exclusive.
        hi: Option<String>,
    },
    /// Upsert the records whose `SystemModstamp` is in `[since, until)`, deletions too.
    Window {
        /// Window start.
        since: DateTime<Utc>,
        /// Window end.
        until: DateTime<Utc>,
    },
}

impl MirrorChunk {
    /// A planned range chunk of the planner's counted range.
    pub fn range(r: crate::mirror::planner::IdRange) -> Planned<MirrorChunk> {
        Planned {
            spec: MirrorChunk::Range { lo: r.lo, hi: r.hi },
            expected_rows: Some(r.count as i64),
        }
    }
}

/// A mapping as the ledger has it, checked against the org now.
pub async fn resolve(ctx: &JobContext, object: &str) -> Result<(MappingRow, Resolved), JobError> {
    let mut conn = ctx.pool.acquire().await?;
    let row = ledger::mappings::get(&mut conn, object).await?;
    drop(conn);
    let mapping = row.mapping()?;
    let describe = match ctx.client.describe(&mapping.object).await {
        Ok(d) => d,
        Err(e @ SfError::Permanent { .. }) if e.class() == ErrorClass::Permanent => {
            return Err(JobError::Mapping {
                problem: format!("mapping {}: the org has no object {} that this user can read ({e})", mapping.object, mapping.object),
                fix: "correct the object name in jobs/mappings.toml, or give the integration user read access to it".into(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    // A listed field that was synced before but is gone from the org now: keep syncing
    // the rest; its column stays and `status` reports it (ensure lists it as missing).
    let mut mapping = mapping;
    if let crate::mirror::Fields::List(names) = &mapping.fields {
        let applied: Vec<Column> = serde_json::from_value(row.columns.clone()).unwrap_or_default();
        let (kept, gone): (Vec<String>, Vec<String>) = names
            .iter()
            .cloned()
            .partition(|n| crate::mirror::mapping::relationship::exists(n, &describe));
        let tolerated = |n: &String| {
            applied
                .iter()
                .any(|c| c.field.eq_ignore_ascii_case(n) || c.name.eq_ignore_ascii_case(n))
        };
        if !gone.is_empty() && gone.iter().all(tolerated) {
            tracing::warn!(object = %mapping.object, fields = ?gone, "fields gone from the org; their columns are kept and no longer synced");
            mapping.fields = crate::mirror::Fields::List(kept);
        }
    }
    // Every problem at once, so one edit fixes the mapping.
    let resolved =
        crate::mirror::check_against(&mapping, &describe).map_err(|all| JobError::Mapping {
            problem: all
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            fix: "edit the mapping in jobs/mappings.toml (`orgpool mappings check` lists every problem) and enqueue again".into(),
        })?;
    Ok((row, resolved))
}

/// The table a run writes, from the columns its plan recorded.
pub fn table_of(row: &MappingRow) -> Result<MirrorTable, JobError> {
    let columns: Vec<Column> =
        serde_json::from_value(row.columns.clone()).map_err(|e| JobError::Mapping {
            problem: format!(
                "mapping {}: its recorded columns cannot be read ({e})",
                row.object
            ),
            fix: format!("run `orgpool enqueue reload {}`", row.object),
        })?;
    let mapping: Mapping = row.mapping()?;
    Ok(MirrorTable {
        object: mapping.object.clone(),
        schema: row.schema_name.clone(),
        table: row.table_name.clone(),
        columns,
        access: mapping.access,
    })
}

/// The ledger row of a run's object.
pub async fn row_of(ctx: &JobContext, run: &Run) -> Result<MappingRow, JobError> {
    let mut conn = ctx.pool.acquire().await?;
    Ok(ledger::mappings::get(&mut conn, &run.object).await?)
}

/// The Bulk query that reads `table`'s columns.
pub fn select(table: &MirrorTable) -> String {
    let fields: Vec<&str> = table.columns.iter().map(|c| c.field.as_str()).collect();
    format!("SELECT {} FROM {}", fields.join(", "), table.object)
}

/// A SOQL datetime literal (whole seconds; windows are floored to seconds).
pub fn soql_datetime(t: DateTime<Utc>) -> String {
    t.trunc_subsecs(0).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Runs a mirror work chunk of the run's mapping into its table, or with `shadow`
/// into the reload's shadow table beside it.
pub async fn mapped_chunk(
    ctx: &JobContext,
    run: &Run,
    queue: &'static str,
    spec: &MirrorChunk,
    shadow: bool,
) -> Result<Outcome, JobError> {
    let row = row_of(ctx, run).await?;
    let live = table_of(&row)?;
    let table = if shadow { live.shadow() } else { live };
    sync_chunk(ctx, queue, &table, row.mapping()?.deleted, spec).await
}

/// Runs a mirror work chunk of any kind into `table` (the live table, or a reload's
/// shadow): the chunk's writes, uncommitted, in the returned outcome.
pub async fn sync_chunk(
    ctx: &JobContext,
    queue: &'static str,
    table: &MirrorTable,
    deleted: Deleted,
    spec: &MirrorChunk,
) -> Result<Outcome, JobError> {
    let (soql, scope, mode) = match spec {
        MirrorChunk::Range { lo, hi } => {
            let mut soql = select(table);
            if let Some(w) = range_where(lo.as_deref(), hi.as_deref()) {
                soql = format!("{soql} WHERE {w}");
            }
            let mode = LoadMode::ReplaceRange {
                lo: lo.clone(),
                hi: hi.clone(),
            };
            // With `deleted = "keep"` the range is what the org has including its
            // recycle bin, so replacing it removes only records gone for good.
            (soql, deleted.scope(), mode)
        }
        MirrorChunk::Window { since, until } => {
            let soql = format!(
                "{} WHERE SystemModstamp >= {} AND SystemModstamp < {}",
                select(table),
                soql_datetime(*since),
                soql_datetime(*until)
            );
            (soql, Scope::All, LoadMode::Upsert)
        }
    };
    let results = ctx.client.bulk_query(&soql, scope).await?;
    let mut tx = ctx.pool.begin().await?;
    let stats = load(&mut tx, table, deleted, results.into_stream(), &mode).await?;
    crate::telemetry::jobs::RowsWritten {
        kind: queue,
        object: &table.object,
        rows: stats.rows,
    }
    .emit();
    Ok(Outcome::done(tx, stats.rows))
}

/// A plan step's result, with a mapping error recorded for `status` on the way.
pub async fn noting_mapping_errors<T>(
    ctx: &JobContext,
    object: &str,
    result: Result<T, JobError>,
) -> Result<T, JobError> {
    match result {
        Ok(v) => Ok(v),
        Err(e) => Err(mapping_error(ctx, object, e).await),
    }
}

/// Records a mapping error (shown by `status`) and returns it as the job's error.
pub async fn mapping_error(ctx: &JobContext, object: &str, e: JobError) -> JobError {
    if let JobError::Mapping { problem, fix } = &e
        && let Ok(mut conn) = ctx.pool.acquire().await
    {
        let _ = ledger::mappings::set_state(&mut conn, object, "error", Some((problem, fix))).await;
    }
    if let JobError::Mirror(m @ crate::mirror::MirrorError::Incompatible { .. }) = &e
        && let Ok(mut conn) = ctx.pool.acquire().await
    {
        let fix = format!("run `orgpool enqueue reload {object}`");
        let _ =
            ledger::mappings::set_state(&mut conn, object, "error", Some((&m.to_string(), &fix)))
                .await;
    }
    e
}
