//! Change Data Capture telemetry: events received and applied by object and change
//! type, the event lag (the change's commit in Salesforce to its row in the mirror),
//! rows written, records read by Id, and each subscription's state. The inbox backlog
//! and the age of the last applied replay id are fleet figures read from Postgres
//! ([`super::fleet`]).

use std::time::Duration;

use crate::salesforce::pubsub::Event;

/// Events stored in the inbox, by `object` and `change_type`.
pub const RECEIVED_TOTAL: &str = "orgpool_events_received_total";
/// Events applied to the mirror, by `object` and `change_type`.
pub const APPLIED_TOTAL: &str = "orgpool_events_applied_total";
/// Seconds from a change's commit in Salesforce to its row in the mirror, by `object`.
pub const LAG_SECONDS: &str = "orgpool_events_lag_seconds";
/// What applying did, by `object` and `action` (`upserted`, `deleted`, `fetched`,
/// `held`, `own_create`).
pub const ROWS_TOTAL: &str = "orgpool_events_rows_total";
/// Subscriptions by `object` and `state`: 1 for the state it is in, 0 otherwise.
pub const SUBSCRIPTION_STATE: &str = "orgpool_events_subscription_state";
/// Gaps (gap events, a replay id past retention, a lost stream) by `object` and `cause`.
pub const GAPS_TOTAL: &str = "orgpool_events_gaps_total";

/// Buckets of the event lag (seconds): the target is 1 s at the 95th percentile.
pub const LAG_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// The states a subscription can be in.
pub const STATES: [&str; 5] = ["starting", "live", "retrying", "healing", "stopped"];

/// The subscriber stored events.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// The object.
    pub object: &'a str,
    /// The events.
    pub events: &'a [Event],
    /// How many were new (the rest were already stored: a replay after a reconnect).
    pub new: u64,
}

impl Received<'_> {
    /// Counts them and logs at debug level.
    pub fn emit(self) {
        let object = self.object.to_string();
        for e in self.events {
            metrics::counter!(RECEIVED_TOTAL, "object" => object.clone(), "change_type" => e.change_type.label())
                .increment(1);
        }
        tracing::debug!(
            object = self.object,
            events = self.events.len(),
            new = self.new,
            "change events stored"
        );
    }
}

/// A chunk applied events.
#[derive(Debug, Clone, Copy)]
pub struct Applied<'a> {
    /// The object.
    pub object: &'a str,
    /// The events.
    pub events: &'a [Event],
    /// Rows upserted.
    pub upserted: u64,
    /// Rows deleted or flagged.
    pub deleted: u64,
    /// Records read by Id.
    pub fetched: u64,
    /// Records left for a local change waiting to be sent.
    pub held: u64,
    /// Records orgpool created itself, left to write-back.
    pub own_creates: u64,
}

impl Applied<'_> {
    /// Counts them, records each event's lag, logs one line.
    pub fn emit(self) {
        let object = self.object.to_string();
        let now = chrono::Utc::now().timestamp_millis();
        let h = metrics::histogram!(LAG_SECONDS, "object" => object.clone());
        let mut max_lag = Duration::ZERO;
        for e in self.events {
            metrics::counter!(APPLIED_TOTAL, "object" => object.clone(), "change_type" => e.change_type.label())
                .increment(1);
            let lag = Duration::from_millis(now.saturating_sub(e.commit_ms).max(0) as u64);
            max_lag = max_lag.max(lag);
            h.record(lag.as_secs_f64());
        }
        for (action, n) in [
            ("upserted", self.upserted),
            ("deleted", self.deleted),
            ("fetched", self.fetched),
            ("held", self.held),
            ("own_create", self.own_creates),
        ] {
            if n > 0 {
                metrics::counter!(ROWS_TOTAL, "object" => object.clone(), "action" => action)
                    .increment(n);
            }
        }
        tracing::debug!(
            object = self.object,
            events = self.events.len(),
            upserted = self.upserted,
            deleted = self.deleted,
            fetched = self.fetched,
            held = self.held,
            max_lag_ms = max_lag.as_millis() as u64,
            "change events applied"
        );
    }
}

/// A subscription changed state.
#[derive(Debug, Clone, Copy)]
pub struct SubscriptionState<'a> {
    /// The object.
    pub object: &'a str,
    /// One of [`STATES`].
    pub state: &'static str,
    /// Why, when not live.
    pub detail: Option<&'a str>,
}

impl SubscriptionState<'_> {
    /// Sets the gauge and logs the change.
    pub fn emit(self) {
        let object = self.object.to_string();
        for s in STATES {
            metrics::gauge!(SUBSCRIPTION_STATE, "object" => object.clone(), "state" => s)
                .set(if s == self.state { 1.0 } else { 0.0 });
        }
        match (self.state, self.detail) {
            ("live", _) => tracing::info!(object = self.object, "change events: subscribed"),
            (state, Some(d)) => tracing::warn!(
                object = self.object,
                state,
                detail = d,
                "change events: subscription not live"
            ),
            (state, None) => {
                tracing::info!(object = self.object, state, "change events: subscription")
            }
        }
    }
}

/// A gap: changes the stream cannot deliver, healed by a resync.
#[derive(Debug, Clone, Copy)]
pub struct Gap<'a> {
    /// The object.
    pub object: &'a str,
    /// `gap_event`, `overflow`, `replay_expired`, `stream_lost`.
    pub cause: &'static str,
}

impl Gap<'_> {
    /// Counts it and logs it.
    pub fn emit(self) {
        metrics::counter!(GAPS_TOTAL, "object" => self.object.to_string(), "cause" => self.cause)
            .increment(1);
        tracing::warn!(
            object = self.object,
            cause = self.cause,
            "change events: gap; a resync of the window since the watermark heals it"
        );
    }
}
