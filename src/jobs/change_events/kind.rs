//! `change_events`: applies the Change Data Capture events the subscriber stored for
//! one mapped object. A run holds the lane `change_events:<object>`, so one run at a
//! time takes an object's events, in arrival order: its plan claims the oldest
//! (at most `ORGPOOL_EVENTS_RUN_EVENTS`) into one chunk, and that chunk folds them,
//! writes the mirror and moves the subscription's replay id in one transaction, so a
//! crash anywhere leaves the events in the inbox for the next run and none is skipped.
//! The chunk then lingers, applying events that arrive meanwhile batch by batch (each
//! its own transaction with its replay id), so steady change does not pay two queue
//! hops per batch.
//! Runs are started by the scheduler's event subscriber as events arrive.

use std::time::{Duration, Instant};

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

/// After its claimed events, a chunk keeps applying events that arrive while it runs
/// (each batch in a transaction of its own, with its replay id), until none came for
/// this long: under steady change the next event waits milliseconds, not two queue hops.
const LINGER: Duration = Duration::from_millis(500);
/// ... or until it has run this long, so a run never holds its worker slot for long.
const MOST: Duration = Duration::from_secs(10);
/// How often a lingering chunk looks for new events.
const LOOK: Duration = Duration::from_millis(10);

async fn work(job: &Job<'_, ChangeEventsArgs>, spec: &EventsChunk) -> Result<Outcome, JobError> {
    let (ctx, run) = (job.ctx, job.run);
    let row = row_of(ctx, run).await?;
    let table = table_of(&row)?;
    let mapping = row.mapping()?;
    let started = Instant::now();
    let mut idle = Instant::now();
    let mut first = Some((spec.lo, spec.hi));
    let mut total = 0u64;
    loop {
        let mut tx = ctx.pool.begin().await?;
        let (lo, hi) = match first.take() {
            Some(r) => r,
            None => {
                let limit = ctx.settings.events.run_events;
                match ledger::events::claim(&mut tx, &run.object, run.id, limit).await? {
                    Some((lo, hi, _)) => (lo, hi),
                    None => (0, -1),
                }
            }
        };
        let stored = if lo <= hi {
            ledger::events::load(&mut tx, &run.object, run.id, lo, hi).await?
        } else {
            Vec::new()
        };
        let stopping = *ctx.shutdown.borrow();
        if stored.is_empty() {
            if stopping || idle.elapsed() >= LINGER || started.elapsed() >= MOST {
                return Ok(Outcome::done(tx, total));
            }
            drop(tx);
            tokio::time::sleep(LOOK).await;
            continue;
        }
        total += apply_batch(ctx, run, &table, &mapping, &mut tx, &stored).await?;
        if stopping || started.elapsed() >= MOST {
            return Ok(Outcome::done(tx, total));
        }
        tx.commit().await?;
        idle = Instant::now();
    }
}

/// Applies one batch of stored events in `tx`: fold, write, move the replay id.
async fn apply_batch(
    ctx: &crate::jobs::JobContext,
    run: &crate::ledger::Run,
    table: &crate::mirror::MirrorTable,
    mapping: &crate::mirror::Mapping,
    tx: &mut PgConnection,
    stored: &[ledger::events::Stored],
) -> Result<u64, JobError> {
    let Some(last) = stored.last() else {
        return Ok(0);
    };
    let mut events = Vec::with_capacity(stored.len());
    for s in stored {
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
    let written = write(tx, &ctx.client, table, mapping.deleted, folded).await?;
    let seqs: Vec<i64> = stored.iter().map(|s| s.seq).collect();
    ledger::events::applied(tx, &run.object, last, &seqs).await?;
    // An overflow names no records; a held record's event was not applied (a local
    // change was on its way): a resync after the lag reads what Salesforce has then.
    if resync || written.held > 0 {
        ledger::mappings::resync_due_by(
            &ctx.pool,
            &run.object,
            ctx.settings.resync_covering_now(),
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
    Ok(written.upserted + written.deleted)
}
