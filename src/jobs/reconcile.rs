//! `reconcile`: proves the copy is complete. The plan step counts records per Id range
//! in the org and rows in the mirror; each range whose counts differ becomes a chunk
//! that re-reads the range and replaces it, which also removes rows whose records are
//! gone from the org (hard deletes, an emptied recycle bin). Runs daily by default
//! (the scheduler) and on demand (`orgpool enqueue reconcile`).

use futures::future::BoxFuture;
use sqlx::PgConnection;

use super::context::JobContext;
use super::error::JobError;
use super::mirror_sync::{row_of, sync_chunk, table_of};
use super::runner::{JobKind, Plan};
use crate::ledger::{Chunk, NewChunk, Run};
use crate::mirror::{count_range, planner};

/// The job kind.
pub struct Reconcile;

impl JobKind for Reconcile {
    const KIND: &'static str = "reconcile";

    fn plan<'a>(ctx: &'a JobContext, run: &'a Run) -> BoxFuture<'a, Result<Plan, JobError>> {
        Box::pin(plan(ctx, run))
    }

    fn work<'a>(
        ctx: &'a JobContext,
        run: &'a Run,
        chunk: &'a Chunk,
        worker: &'a str,
    ) -> BoxFuture<'a, Result<u64, JobError>> {
        Box::pin(sync_chunk::<Reconcile>(ctx, run, chunk, worker))
    }

    fn finalize<'a>(
        _ctx: &'a JobContext,
        _conn: &'a mut PgConnection,
        _run: &'a Run,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async { Ok(()) })
    }
}

async fn plan(ctx: &JobContext, run: &Run) -> Result<Plan, JobError> {
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
    let ranges = planner::plan_ranges(&ctx.client, &mapping.object, mapping.chunk_size).await?;
    let mut chunks = Vec::new();
    let mut conn = ctx.pool.acquire().await?;
    for r in ranges {
        let mirror = count_range(&mut conn, &table, r.lo.as_deref(), r.hi.as_deref()).await?;
        if mirror != r.count {
            tracing::info!(object = %run.object, lo = ?r.lo, hi = ?r.hi, org = r.count, mirror, "range differs; it will be re-loaded");
            chunks.push(NewChunk {
                lo: r.lo,
                hi: r.hi,
                expected_rows: Some(r.count as i64),
                ..Default::default()
            });
        }
    }
    let expected = chunks.iter().filter_map(|c| c.expected_rows).sum();
    Ok(Plan {
        chunks,
        window_from: None,
        window_to: None,
        expected_rows: Some(expected),
    })
}
