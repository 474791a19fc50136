//! Injected faults and the API usage counter, shared by every request handler and
//! changeable at run time (admin endpoint, or the in-process handle).

use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// How an outage shows itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutageMode {
    /// Every request gets 503 `SERVER_UNAVAILABLE`.
    Unavailable,
    /// The listening socket is closed and every open connection is cut: connections
    /// are refused (the admin listener stays up, so the outage can be ended early).
    Refuse,
}

/// The current fault settings.
#[derive(Debug, Clone)]
pub struct FaultState {
    /// An outage until this instant.
    pub outage_until: Option<(Instant, OutageMode)>,
    /// Added to every request.
    pub latency: Duration,
    /// Bulk job processing delay.
    pub bulk_delay: Duration,
    /// Share of ingest records failing with `UNABLE_TO_LOCK_ROW`.
    pub ingest_failure_rate: f64,
    /// Daily API allowance.
    pub api_limit: u64,
    /// API requests counted so far.
    pub api_used: u64,
}

/// Shared fault settings.
#[derive(Debug)]
pub struct Faults {
    state: Mutex<FaultState>,
    /// Bumped on every change, so the accept loop sees an outage start or end even if it
    /// was busy when it happened (a `Notify` would lose that wake-up).
    changes: tokio::sync::watch::Sender<u64>,
}

impl Faults {
    /// Faults from start-up settings.
    pub fn new(
        latency: Duration,
        bulk_delay: Duration,
        failure_rate: f64,
        api_limit: u64,
    ) -> Faults {
        Faults {
            state: Mutex::new(FaultState {
                outage_until: None,
                latency,
                bulk_delay,
                ingest_failure_rate: failure_rate,
                api_limit,
                api_used: 0,
            }),
            changes: tokio::sync::watch::Sender::new(0),
        }
    }

    /// A copy of the current settings.
    pub fn snapshot(&self) -> FaultState {
        self.state.lock().clone()
    }

    /// Changes settings.
    pub fn update(&self, f: impl FnOnce(&mut FaultState)) {
        f(&mut self.state.lock());
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that wakes on every change.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// The outage in force now, if any.
    pub fn outage(&self) -> Option<(OutageMode, Instant)> {
        let mut s = self.state.lock();
        match s.outage_until {
            Some((until, mode)) if until > Instant::now() => Some((mode, until)),
            Some(_) => {
                s.outage_until = None;
                None
            }
            None => None,
        }
    }

    /// Counts one API request. Returns `(used, limit)` after counting, or `Err` with the
    /// figures when the allowance is already spent (the request is refused and not counted).
    pub fn count_request(&self) -> Result<(u64, u64), (u64, u64)> {
        let mut s = self.state.lock();
        if s.api_used >= s.api_limit {
            return Err((s.api_used, s.api_limit));
        }
        s.api_used += 1;
        Ok((s.api_used, s.api_limit))
    }

    /// `(used, limit)` without counting.
    pub fn usage(&self) -> (u64, u64) {
        let s = self.state.lock();
        (s.api_used, s.api_limit)
    }
}
