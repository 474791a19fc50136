//! `initial_load`: copies a mapped object into its table (and `reload`, which loads a
//! shadow table beside it and swaps them at the end, so the app never sees an empty
//! table). The plan step checks the mapping against the org, creates or extends the
//! table, and splits the object into Id ranges of balanced size by `COUNT()`; each work
//! chunk streams one range from a Bulk query into `COPY` and replaces the range, marking
//! itself done in the same transaction. The last chunk sets the watermark to the time
//! the load started, from which resync continues.

use futures::future::BoxFuture;
use sqlx::PgConnection;

use super::context::JobContext;
use super::error::JobError;
use super::mirror_sync::{noting_mapping_errors, resolve, sync_chunk, table_of};
use super::runner::{JobKind, Plan};
use crate::ledger::{self, Chunk, NewChunk, Run, RunKind};
use crate::mirror::{MirrorTable, ensure, planner, swap};

/// The job kind.
pub struct InitialLoad;

impl JobKind for InitialLoad {
    const KIND: &'static str = "initial_load";

    fn plan<'a>(ctx: &'a JobContext, run: &'a Run) -> BoxFuture<'a, Result<Plan, JobError>> {
        Box::pin(async move { noting_mapping_errors(ctx, &run.object, plan(ctx, run).await).await })
    }

    fn work<'a>(
        ctx: &'a JobContext,
        run: &'a Run,
        chunk: &'a Chunk,
        worker: &'a str,
    ) -> BoxFuture<'a, Result<u64, JobError>> {
        Box::pin(sync_chunk::<InitialLoad>(ctx, run, chunk, worker))
    }

    fn finalize<'a>(
        _ctx: &'a JobContext,
        conn: &'a mut PgConnection,
        run: &'a Run,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let row = ledger::mappings::get(conn, &run.object).await?;
            let live = table_of(&row)?;
            if run.run_kind() == RunKind::Reload {
                swap(conn, &live, &live.shadow()).await?;
            }
            // Fresh statistics: the planner would otherwise treat a table just filled
            // by COPY as nearly empty until autovacuum gets to it, and pick plans (for
            // the quote job's joins, say) that are slow at this size.
            sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {}", live.qualified())))
                .execute(&mut *conn)
                .await?;
            if let Some(start) = run.window_to {
                ledger::mappings::advance(conn, &run.object, start).await?;
            }
            ledger::mappings::set_state(conn, &run.object, "ready", None).await?;
            Ok(())
        })
    }
}

async fn plan(ctx: &JobContext, run: &Run) -> Result<Plan, JobError> {
    let started = chrono::Utc::now();
    let (row, resolved) = resolve(ctx, &run.object).await?;
    let live = MirrorTable::new(&resolved);
    let mut conn = ctx.pool.acquire().await?;
    let drift = if run.run_kind() == RunKind::Reload {
        let shadow = live.shadow();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP TABLE IF EXISTS {}",
            shadow.qualified()
        )))
        .execute(&mut *conn)
        .await?;
        ensure(&mut conn, &shadow).await?
    } else {
        let d = ensure(&mut conn, &live).await?;
        ledger::mappings::set_state(&mut conn, &run.object, "loading", None).await?;
        d
    };
    let columns = serde_json::to_value(&live.columns).unwrap_or_default();
    ledger::mappings::set_columns(&mut conn, &run.object, columns, &drift.missing).await?;
    drop(conn);
    let target = row.mapping()?.chunk_size;
    let ranges = planner::plan_ranges(&ctx.client, &resolved.mapping.object, target).await?;
    let expected: u64 = ranges.iter().map(|r| r.count).sum();
    Ok(Plan {
        chunks: ranges
            .into_iter()
            .map(|r| NewChunk {
                lo: r.lo,
                hi: r.hi,
                expected_rows: Some(r.count as i64),
                ..Default::default()
            })
            .collect(),
        window_from: None,
        window_to: Some(started),
        expected_rows: Some(expected as i64),
    })
}
