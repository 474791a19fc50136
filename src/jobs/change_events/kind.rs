//! `change_events`: applies the Change Data Capture events the subscriber stored for
//! one mapped object. A run holds the lane `change_events:<object>`, so one run at a
//! time takes an object's events, in arrival order: its plan claims the oldest
//! (at most `ORGPOOL_EVENTS_RUN_EVENTS`) into one chunk, and that chunk folds them,
//! writes the mirror and moves the subscription's replay id in one transaction, so a
//! crash anywhere leaves the events in the inbox for the next run and none is skipped.
//! Runs are started by the scheduler's event subscriber as events arrive.

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::apply::write;
use super::fold::fold;
use crate::jobs::error::JobError;
use crate::jobs::kind::{Job, JobKind, Outcome, Plan, Planned};
use crate::jobs::mirror_sync::{row_of, table_of};
use crate::ledger::{self, Chunk};
use crate::salesforce::pubsub::Event;

/// The job kind.
pub struct ChangeEvents;

/// A run takes no arguments: the run's object is the mapping's.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeEventsArgs {}

/// One chunk: the claimed inbox rows `[lo, hi]` of the run's object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsChunk {
    /// First inbox seq.
    pub lo: i64,
    /// Last inbox seq.
    pub hi: i64,
}

impl JobKind for ChangeEvents {
    const QUEUE: &'static str = "change_events";
    type Args = ChangeEventsArgs;
    type Chunk = EventsChunk;

    fn plan<'a>(
        job: &'a Job<'a, ChangeEventsArgs>,
    ) -> BoxFuture<'a, Result<Plan<EventsChunk>, JobError>> {
        Box::pin(async move {
            let mut conn = job.ctx.pool.acquire().await?;
            let limit = job.ctx.settings.events.run_events;
            let Some((lo, hi, n)) =
                ledger::events::claim(&mut conn, &job.run.object, job.run.id, limit).await?
            else {
                return Ok(Plan::default());
            };
            Ok(Plan {
                chunks: vec![Planned {
                    spec: EventsChunk { lo, hi },
                    expected_rows: Some(n),
                }],
                expected_rows: Some(n),
                ..Plan::default()
            })
        })
    }

    fn work<'a>(
        job: &'a Job<'a, ChangeEventsArgs>,
        _chunk: &'a Chunk,
        spec: &'a EventsChunk,
    ) -> BoxFuture<'a, Result<Outcome, JobError>> {
        Box::pin(work(job, spec))
    }

    fn finalize<'a>(
        _job: &'a Job<'a, ChangeEventsArgs>,
        _conn: &'a mut PgConnection,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async { Ok(()) })
    }
}

async fn work(job: &Job<'_, ChangeEventsArgs>, spec: &EventsChunk) -> Result<Outcome, JobError> {
    let (ctx, run) = (job.ctx, job.run);
    let row = row_of(ctx, run).await?;
    let table = table_of(&row)?;
    let mapping = row.mapping()?;
    let mut tx = ctx.pool.begin().await?;
    let stored = ledger::events::load(&mut tx, &run.object, run.id, spec.lo, spec.hi).await?;
    let Some(last) = stored.last().cloned() else {
        return Ok(Outcome::done(tx, 0));
    };
    let mut events = Vec::with_capacity(stored.len());
    for s in &stored {
        match serde_json::from_value::<Event>(s.event.clone()) {
            Ok(e) => events.push(e),
            // Written by this program, so unreadable only after a downgrade: say so and
            // let the polling resync cover the record.
            Err(e) => {
                tracing::warn!(object = %run.object, seq = s.seq, error = %e, "stored change event not readable; skipped (the next resync covers it)")
            }
        }
    }
    let folded = fold(&events);
    let resync = folded.resync;
    let own = folded.own_creates;
    let written = write(&mut tx, &ctx.client, &table, mapping.deleted, folded).await?;
    let seqs: Vec<i64> = stored.iter().map(|s| s.seq).collect();
    ledger::events::applied(&mut tx, &run.object, &last, &seqs).await?;
    if resync {
        ledger::mappings::resync_due_by(
            &ctx.pool,
            &run.object,
            chrono::Utc::now()
                + chrono::Duration::from_std(ctx.settings.resync_lag).unwrap_or_default(),
            mapping.interval(),
        )
        .await?;
    }
    crate::telemetry::events::Applied {
        object: &run.object,
        events: &events,
        upserted: written.upserted,
        deleted: written.deleted,
        fetched: written.fetched,
        held: written.held,
        own_creates: own as u64,
    }
    .emit();
    Ok(Outcome::done(tx, written.upserted + written.deleted))
}
