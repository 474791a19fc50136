//! `resync`: brings a loaded table up to date. The plan step re-checks the mapping
//! against the org (a field added to the mapping gets its column and a backfill of
//! every Id range; a field gone from the org is reported and its column kept; an
//! incompatible type change stops the mapping until a reload), then takes the window
//! from the watermark minus an overlap to now minus a lag, split by `COUNT()` when the
//! backlog is large. Each window chunk reads a Bulk queryAll (so deletions come too)
//! and upserts; the last chunk moves the watermark in the same transaction.

use chrono::{SubsecRound, Utc};
use futures::future::BoxFuture;
use sqlx::PgConnection;

use super::context::JobContext;
use super::error::JobError;
use super::mirror_sync::{noting_mapping_errors, resolve, soql_datetime, sync_chunk};
use super::runner::{JobKind, Plan};
use crate::ledger::{self, Chunk, NewChunk, Run};
use crate::mirror::{MirrorTable, ensure, planner};

/// The job kind.
pub struct Resync;

impl JobKind for Resync {
    const KIND: &'static str = "resync";

    fn plan<'a>(ctx: &'a JobContext, run: &'a Run) -> BoxFuture<'a, Result<Plan, JobError>> {
        Box::pin(async move { noting_mapping_errors(ctx, &run.object, plan(ctx, run).await).await })
    }

    fn work<'a>(
        ctx: &'a JobContext,
        run: &'a Run,
        chunk: &'a Chunk,
        worker: &'a str,
    ) -> BoxFuture<'a, Result<u64, JobError>> {
        Box::pin(sync_chunk::<Resync>(ctx, run, chunk, worker))
    }

    fn finalize<'a>(
        _ctx: &'a JobContext,
        conn: &'a mut PgConnection,
        run: &'a Run,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            if let Some(to) = run.window_to {
                ledger::mappings::advance(conn, &run.object, to).await?;
            }
            Ok(())
        })
    }
}

async fn plan(ctx: &JobContext, run: &Run) -> Result<Plan, JobError> {
    let (row, resolved) = resolve(ctx, &run.object).await?;
    let Some(watermark) = row.watermark else {
        return Err(JobError::Mapping {
            problem: format!(
                "{} has not been loaded yet, so there is nothing to resync",
                run.object
            ),
            fix: format!("run `orgpool enqueue initial-load {}` first", run.object),
        });
    };
    let live = MirrorTable::new(&resolved);
    let mut conn = ctx.pool.acquire().await?;
    let drift = ensure(&mut conn, &live).await?;
    let columns = serde_json::to_value(&live.columns).unwrap_or_default();
    ledger::mappings::set_columns(&mut conn, &run.object, columns, &drift.missing).await?;
    if !drift.missing.is_empty() {
        tracing::warn!(object = %run.object, columns = ?drift.missing, "fields no longer mapped or gone from the org; their columns are kept");
    }
    if row.state == "error" {
        ledger::mappings::set_state(&mut conn, &run.object, "ready", None).await?;
    }
    drop(conn);
    let mapping = row.mapping()?;
    let mut chunks = Vec::new();
    if !drift.added.is_empty() {
        let names: Vec<&str> = drift.added.iter().map(|c| c.field.as_str()).collect();
        tracing::info!(object = %run.object, fields = ?names, "new columns: backfilling every Id range");
        for r in planner::plan_ranges(&ctx.client, &mapping.object, mapping.chunk_size).await? {
            chunks.push(NewChunk {
                lo: r.lo,
                hi: r.hi,
                expected_rows: Some(r.count as i64),
                ..Default::default()
            });
        }
    }
    let overlap = chrono::Duration::from_std(ctx.settings.resync_overlap).unwrap_or_default();
    let lag = chrono::Duration::from_std(ctx.settings.resync_lag).unwrap_or_default();
    let since = (watermark - overlap).trunc_subsecs(0);
    let until = (Utc::now() - lag).trunc_subsecs(0);
    let mut expected = 0u64;
    if until > since {
        let count = ctx
            .client
            .count(&format!(
                "SELECT COUNT() FROM {} WHERE SystemModstamp >= {} AND SystemModstamp < {}",
                mapping.object,
                soql_datetime(since),
                soql_datetime(until)
            ))
            .await?;
        expected += count;
        if count > mapping.chunk_size * 2 {
            for w in planner::plan_windows(
                &ctx.client,
                &mapping.object,
                since,
                until,
                mapping.chunk_size,
            )
            .await?
            {
                chunks.push(NewChunk {
                    since: Some(w.since),
                    until: Some(w.until),
                    expected_rows: Some(w.count as i64),
                    ..Default::default()
                });
            }
        } else {
            chunks.push(NewChunk {
                since: Some(since),
                until: Some(until),
                expected_rows: Some(count as i64),
                ..Default::default()
            });
        }
    }
    Ok(Plan {
        chunks,
        window_from: Some(since),
        window_to: Some(until.max(watermark)),
        expected_rows: Some(expected as i64),
    })
}
