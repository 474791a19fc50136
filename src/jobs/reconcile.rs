//! `reconcile`: proves the copy is complete. The plan step counts records per Id range
//! in the org and rows in the mirror; each range whose counts differ becomes a chunk
//! that re-reads the range and replaces it, which also removes rows whose records are
//! gone from the org (hard deletes, an emptied recycle bin). With `deleted = "keep"`
//! both counts and the re-read include deleted records (queryAll, and the rows kept
//! with `isdeleted = true`), so kept rows stay until their record is gone for good.
//! Runs daily by default (the scheduler) and on demand (`orgpool enqueue reconcile`).

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::error::JobError;
use super::kind::{Job, JobKind, Outcome, Plan};
use super::mirror_sync::{MirrorChunk, mapped_chunk, row_of, table_of};
use crate::ledger::Chunk;
use crate::mirror::{Deleted, count_range, planner};

/// The job kind.
pub struct Reconcile;

/// A reconcile takes no arguments.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileArgs {}

impl JobKind for Reconcile {
    const QUEUE: &'static str = "reconcile";
    type Args = ReconcileArgs;
    type Chunk = MirrorChunk;

    fn plan<'a>(
        job: &'a Job<'a, ReconcileArgs>,
    ) -> BoxFuture<'a, Result<Plan<MirrorChunk>, JobError>> {
        Box::pin(plan(job))
    }

    fn work<'a>(
        job: &'a Job<'a, ReconcileArgs>,
        _chunk: &'a Chunk,
        spec: &'a MirrorChunk,
    ) -> BoxFuture<'a, Result<Outcome, JobError>> {
        Box::pin(mapped_chunk(job.ctx, job.run, Self::QUEUE, spec, false))
    }

    fn finalize<'a>(
        _job: &'a Job<'a, ReconcileArgs>,
        _conn: &'a mut PgConnection,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async { Ok(()) })
    }
}

async fn plan(job: &Job<'_, ReconcileArgs>) -> Result<Plan<MirrorChunk>, JobError> {
    let (ctx, run) = (job.ctx, job.run);
    let row = row_of(ctx, run).await?;
    if row.watermark.is_none() {
        return Err(JobError::Mapping {
            problem: format!(
                "{} has not been loaded yet, so there is nothing to reconcile",
                run.object
            ),
            fix: format!("run `orgpool enqueue initial-load {}` first", run.object),
        });
    }
    let table = table_of(&row)?;
    let mapping = row.mapping()?;
    let scope = mapping.deleted.scope();
    let with_deleted = mapping.deleted == Deleted::Keep;
    let ranges =
        planner::plan_ranges_in(&ctx.client, &mapping.object, mapping.chunk_size, scope).await?;
    let mut chunks = Vec::new();
    let mut conn = ctx.pool.acquire().await?;
    for r in ranges {
        let (lo, hi) = (r.lo.as_deref(), r.hi.as_deref());
        let mirror = count_range(&mut conn, &table, lo, hi, with_deleted).await?;
        if mirror != r.count {
            tracing::info!(object = %run.object, lo = ?r.lo, hi = ?r.hi, org = r.count, mirror, "range differs; it will be re-loaded");
            chunks.push(MirrorChunk::range(r));
        }
    }
    let expected = chunks.iter().filter_map(|c| c.expected_rows).sum();
    Ok(Plan {
        chunks,
        expected_rows: Some(expected),
        ..Plan::default()
    })
}
