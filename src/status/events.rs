//! The change-event part of the fleet status: each subscription's state, counts, the
//! events waiting in the inbox and how old the last applied one is. `orgpool status`,
//! the status page and `/metrics` read it here, so they agree.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::ledger::{self, LedgerError};

/// One mapping's event stream.
#[derive(Debug, Clone, Serialize)]
pub struct Subscription {
    /// The object.
    pub object: String,
    /// `/data/<Object>ChangeEvent`.
    pub topic: String,
    /// `starting`, `live`, `retrying`, `healing`, `stopped`.
    pub state: String,
    /// Why, when not live.
    pub detail: Option<String>,
    /// Since when it is in that state.
    pub since: DateTime<Utc>,
    /// Events stored so far.
    pub received: i64,
    /// Events applied so far.
    pub applied: i64,
    /// Gaps healed by a resync.
    pub gaps: i64,
    /// Events in the inbox, not yet applied.
    pub waiting: i64,
    /// Seconds since the oldest waiting event arrived.
    pub oldest_waiting_seconds: Option<f64>,
    /// Seconds since the commit of the last event applied (how far behind the mirror
    /// would be if nothing arrived since).
    pub replay_age_seconds: Option<f64>,
}

/// Every subscription.
pub async fn read(pool: &PgPool) -> Result<Vec<Subscription>, LedgerError> {
    let subs = ledger::events::subscriptions(pool).await?;
    let backlog = ledger::events::backlog(pool).await?;
    let now = Utc::now();
    let secs = |t: DateTime<Utc>| (now - t).num_milliseconds() as f64 / 1000.0;
    Ok(subs
        .into_iter()
        .map(|s| {
            let waiting = backlog.iter().find(|(o, _, _)| *o == s.object);
            Subscription {
                waiting: waiting.map_or(0, |w| w.1),
                oldest_waiting_seconds: waiting.map(|w| secs(w.2)),
                replay_age_seconds: s.replay_at.map(secs),
                object: s.object,
                topic: s.topic,
                state: s.state,
                detail: s.detail,
                since: s.changed_at,
                received: s.received,
                applied: s.applied,
                gaps: s.gaps,
            }
        })
        .collect())
}
