//! `resync`: brings a loaded table up to date. The plan step re-checks the mapping
//! against the org (a field added to the mapping gets its column and a backfill of
//! every Id range; a field gone from the org is reported and its column kept; an
//! incompatible type change stops the mapping until a reload), then takes the window
//! from the watermark minus an overlap to now minus a lag, split by `COUNT()` when the
//! backlog is large. Each window chunk reads a Bulk queryAll (so deletions come too)
//! and upserts; the last chunk moves the watermark in the same transaction.

use chrono::{SubsecRound, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::error::JobError;
use super::kind::{Job, JobKind, Outcome, Plan, Planned};
use super::mirror_sync::{
    MirrorChunk, mapped_chunk, noting_mapping_errors, resolve, soql_datetime,
};
use crate::ledger::{self, Chunk};
use crate::mirror::{MirrorTable, ensure, planner};

/// The job kind.
pub struct Resync;

/// A resync takes no arguments: its window comes from the mapping's watermark.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResyncArgs {}

impl JobKind for Resync {
    const QUEUE: &'static str = "resync";
    type Args = ResyncArgs;
    type Chunk = MirrorChunk;

    fn plan<'a>(
        job: &'a Job<'a, ResyncArgs>,
    ) -> BoxFuture<'a, Result<Plan<MirrorChunk>, JobError>> {
        Box::pin(
            async move { noting_mapping_errors(job.ctx, &job.run.object, plan(job).await).await },
        )
    }

    fn work<'a>(
        job: &'a Job<'a, ResyncArgs>,
        _chunk: &'a Chunk,
        spec: &'a MirrorChunk,
    ) -> BoxFuture<'a, Result<Outcome, JobError>> {
        Box::pin(mapped_chunk(job.ctx, job.run, Self::QUEUE, spec, false))
    }

    fn finalize<'a>(
        job: &'a Job<'a, ResyncArgs>,
        conn: &'a mut PgConnection,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            // Only here, once every window chunk is done: a failed window keeps the
            // watermark where it was, so the next resync reads it again.
            if let Some(to) = job.run.window_to {
                ledger::mappings::advance(conn, &job.run.object, to).await?;
            }
            Ok(())
        })
    }
}

async fn plan(job: &Job<'_, ResyncArgs>) -> Result<Plan<MirrorChunk>, JobError> {
    let (ctx, run) = (job.ctx, job.run);
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
            chunks.push(MirrorChunk::range(r));
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
                chunks.push(Planned {
                    spec: MirrorChunk::Window {
                        since: w.since,
                        until: w.until,
                    },
                    expected_rows: Some(w.count as i64),
                });
            }
        } else {
            chunks.push(Planned {
                spec: MirrorChunk::Window { since, until },
                expected_rows: Some(count as i64),
            });
        }
    }
    Ok(Plan {
        chunks,
        window_from: Some(since),
        window_to: Some(until.max(watermark)),
        expected_rows: Some(expected as i64),
        ..Plan::default()
    })
}
