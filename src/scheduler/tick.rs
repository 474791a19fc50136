//! One scheduler pass: start the runs that are due (an initial load for a new mapping,
//! a resync when its interval has passed, a reconcile when its period has; none for a
//! paused mapping), re-push chunks Redis lost, and prune what is past retention
//! ([`super::retention`]). Runs close themselves, with
//! their last chunk (`ledger::lifecycle`).

use std::time::Duration;

use chrono::Utc;

use super::SchedulerError;
use crate::app::Services;
use crate::jobs::dispatch::start_run;
use crate::jobs::push::sweep;
use crate::jobs::registry::{INITIAL_LOAD, RECONCILE, RESYNC};
use crate::ledger::{self, LedgerError};
use crate::mirror::Mapping;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tick {
    /// Runs started, as (kind, object).
    pub started: Vec<(String, String)>,
    /// Chunks pushed again.
    pub repushed: usize,
}

/// Runs one pass over `mappings`.
pub async fn tick(
    s: &Services,
    mappings: &[Mapping],
    reconcile_every: Duration,
) -> Result<Tick, SchedulerError> {
    let mut out = Tick::default();
    let rows = ledger::mappings::all(&s.pool).await?;
    let now = Utc::now();
    for m in mappings {
        let Some(row) = rows.iter().find(|r| r.object == m.object) else {
            continue;
        };
        // Paused by an operator (`orgpool mappings pause`, the console): no run starts,
        // not even the initial load, until it is resumed.
        if row.paused {
            continue;
        }
        let due = |last: Option<chrono::DateTime<Utc>>, every: Duration| {
            last.is_none_or(|t| now - t >= chrono::Duration::from_std(every).unwrap_or_default())
        };
        // A failed run of another configuration (an enqueue with its own mappings file)
        // leaves the mapping in `error` under that configuration. The scheduler's own,
        // checked against the org at start, takes over again, so its schedule goes on.
        let mut state = row.state.as_str();
        if state == "error" && row.config != serde_json::to_value(m).unwrap_or_default() {
            ledger::mappings::upsert_config(&s.pool, m).await?;
            state = if row.watermark.is_some() {
                "ready"
            } else {
                "new"
            };
            // Stored too: the next pass compares against the config just written, so a
            // state left at `error` would hold the mapping until someone enqueued by hand.
            let mut conn = s.pool.acquire().await.map_err(LedgerError::from)?;
            ledger::mappings::set_state(&mut conn, &m.object, state, None).await?;
            tracing::info!(object = %m.object, "a run of another configuration failed; the scheduler's configuration is in force again");
        }
        let kind = match state {
            "new" => Some(&INITIAL_LOAD),
            "ready"
                if row.watermark.is_some()
                    && due(row.last_reconcile_at, reconcile_every)
                    && row.last_reconcile_at.is_some() =>
            {
                Some(&RECONCILE)
            }
            "ready" if row.watermark.is_some() && due(row.last_resync_at, m.interval()) => {
                Some(&RESYNC)
            }
            _ => None,
        };
        if state == "ready" && row.last_reconcile_at.is_none() {
            // The first reconcile comes one period after the first load, not at once.
            ledger::mappings::touch_schedule(&s.pool, &m.object, "reconcile").await?;
        }
        let Some(kind) = kind else { continue };
        match start_run(&s.pool, &s.queues, kind, &m.object, "scheduler").await {
            Ok(ledger::Created::New(_)) => out.started.push((kind.name.into(), m.object.clone())),
            Ok(ledger::Created::Existing(_)) => {}
            Err(crate::jobs::JobError::Ledger(LedgerError::LaneBusy { .. })) => {}
            Err(e) => {
                tracing::warn!(object = %m.object, kind = kind.name, error = %e, "could not start run")
            }
        }
    }
    out.repushed = sweep(&s.pool, &s.queues).await?.pushed;
    // Processed capture-log rows move to the archive, a small batch a pass.
    crate::mirror::capture::archive_all(&s.pool, mappings).await;
    // Old runs, resolved failures and finished Redis tasks, a small batch a pass.
    super::retention::run(s).await;
    Ok(out)
}
