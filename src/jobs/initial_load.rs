//! `initial_load`: copies a mapped object into its table, and `reload`, the same load
//! into a shadow table beside it that is swapped in at the end (so the app never sees
//! an empty table). The plan step checks the mapping against the org, creates or
//! extends the table, and splits the object into Id ranges of balanced size by
//! `COUNT()`; each work chunk streams one range from a Bulk query into `COPY` and
//! replaces the range, marking itself done in the same transaction. Finalize (only once
//! every chunk is done) swaps a reload's shadow in and sets the watermark to the time
//! the load started, from which resync continues.

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::error::JobError;
use super::kind::{Job, JobKind, Outcome, Plan};
use super::mirror_sync::{MirrorChunk, mapped_chunk, noting_mapping_errors, resolve, table_of};
use crate::ledger::{self, Chunk};
use crate::mirror::capture::log;
use crate::mirror::{Access, MirrorTable, ensure, planner, swap};

/// The job kind.
pub struct InitialLoad;

/// Which table a load writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The mapping's table itself (an initial load).
    #[default]
    Live,
    /// A shadow table beside it, swapped in when the load completes (a reload).
    Shadow,
}

/// A load's arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadArgs {
    /// Which table it writes (default: the live table).
    #[serde(default)]
    pub into: Target,
}

impl LoadArgs {
    /// A reload's arguments.
    pub fn shadow() -> LoadArgs {
        LoadArgs {
            into: Target::Shadow,
        }
    }

    /// The table this load writes, given the live one.
    pub fn table(&self, live: MirrorTable) -> MirrorTable {
        match self.into {
            Target::Live => live,
            Target::Shadow => live.shadow(),
        }
    }
}

impl JobKind for InitialLoad {
    const QUEUE: &'static str = "initial_load";
    type Args = LoadArgs;
    type Chunk = MirrorChunk;

    fn plan<'a>(job: &'a Job<'a, LoadArgs>) -> BoxFuture<'a, Result<Plan<MirrorChunk>, JobError>> {
        Box::pin(
            async move { noting_mapping_errors(job.ctx, &job.run.object, plan(job).await).await },
        )
    }

    fn work<'a>(
        job: &'a Job<'a, LoadArgs>,
        _chunk: &'a Chunk,
        spec: &'a MirrorChunk,
    ) -> BoxFuture<'a, Result<Outcome, JobError>> {
        Box::pin(mapped_chunk(
            job.ctx,
            job.run,
            Self::QUEUE,
            spec,
            job.args.into == Target::Shadow,
        ))
    }

    fn finalize<'a>(
        job: &'a Job<'a, LoadArgs>,
        conn: &'a mut PgConnection,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let run = job.run;
            let row = ledger::mappings::get(conn, &run.object).await?;
            let live = table_of(&row)?;
            if job.args.into == Target::Shadow && live.access == Access::ReadWrite {
                // The new table's rows get new ids, which the log's rows would no longer
                // find: the app's unsent changes must go first.
                let unsent = log::unsent(conn, &live.schema, &live.table).await?;
                if unsent > 0 {
                    return Err(JobError::Mapping {
                        problem: format!(
                            "{} has {unsent} change(s) of the app not yet in Salesforce (waiting or FAILED log rows, or rows without an sfid); swapping the reloaded table in would lose them",
                            live.qualified()
                        ),
                        fix: format!(
                            "let write-back send them (`orgpool writes status`; fix and `orgpool writes retry` failed ones), then `orgpool jobs retry --run {}`",
                            run.id
                        ),
                    });
                }
            }
            if job.args.into == Target::Shadow {
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

async fn plan(job: &Job<'_, LoadArgs>) -> Result<Plan<MirrorChunk>, JobError> {
    let (ctx, run) = (job.ctx, job.run);
    let started = chrono::Utc::now();
    let (row, resolved) = resolve(ctx, &run.object).await?;
    let live = MirrorTable::new(&resolved);
    let mut conn = ctx.pool.acquire().await?;
    let drift = match job.args.into {
        Target::Shadow => {
            let shadow = live.shadow();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP TABLE IF EXISTS {}",
                shadow.qualified()
            )))
            .execute(&mut *conn)
            .await?;
            ensure(&mut conn, &shadow).await?
        }
        Target::Live => {
            let d = ensure(&mut conn, &live).await?;
            ledger::mappings::set_state(&mut conn, &run.object, "loading", None).await?;
            d
        }
    };
    let columns = serde_json::to_value(&live.columns).unwrap_or_default();
    ledger::mappings::set_columns(&mut conn, &run.object, columns, &drift.missing).await?;
    drop(conn);
    let target = row.mapping()?.chunk_size;
    let ranges = planner::plan_ranges(&ctx.client, &resolved.mapping.object, target).await?;
    let expected: u64 = ranges.iter().map(|r| r.count).sum();
    Ok(Plan {
        chunks: ranges.into_iter().map(MirrorChunk::range).collect(),
        window_to: Some(started),
        expected_rows: Some(expected as i64),
        ..Plan::default()
    })
}
