//! Starting `change_events` runs: when a stream stored events (woken at once) or every
//! second (events left by a failed run or a restart), a run per object whose inbox has
//! events no active run holds. The lane keeps one active run per object, so events of
//! one object are applied in order; a busy lane means its run takes them next.

use crate::app::Services;
use crate::jobs::dispatch::start_run;
use crate::jobs::registry::CHANGE_EVENTS;
use crate::ledger::{self, Created, LedgerError};

/// Starts a run for every object with waiting events; true when one is under way.
pub async fn dispatch(s: &Services) -> bool {
    let objects = match ledger::events::waiting_objects(&s.pool).await {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(error = %e, "change-event inbox not readable");
            return false;
        }
    };
    let mut busy = false;
    for object in objects {
        match start_run(&s.pool, &s.queues, &CHANGE_EVENTS, &object, "events").await {
            Ok(Created::New(id)) => {
                tracing::debug!(run_id = id, object, "change_events run started");
                busy = true;
            }
            Ok(Created::Existing(_)) => busy = true,
            Err(crate::jobs::JobError::Ledger(LedgerError::LaneBusy { .. })) => busy = true,
            Err(e) => tracing::warn!(object, error = %e, "change_events run not started"),
        }
    }
    busy
}
