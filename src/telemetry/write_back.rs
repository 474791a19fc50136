//! Write-back telemetry: changes captured and sent, by object and outcome, and the
//! write lag (the app's commit to Salesforce's answer). The log backlog is a fleet
//! figure the web process reads from Postgres (`orgpool_write_back_backlog`, in
//! [`super::fleet`]).

use std::time::Duration;

/// Changes settled by `object` and `outcome` (`success`, `failed`, `ignored`, `retry`).
pub const CHANGES_TOTAL: &str = "orgpool_write_back_changes_total";
/// Seconds from the app's write to Salesforce's answer, by `object`.
pub const LAG_SECONDS: &str = "orgpool_write_back_lag_seconds";
/// Conflicts the rule settled, by `object` and `winner` (`salesforce`, `app`).
pub const CONFLICTS_TOTAL: &str = "orgpool_write_back_conflicts_total";

/// Buckets of the write lag (seconds): the target is 2 s at the 95th percentile.
pub const LAG_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0,
];

/// A chunk's changes to one object were settled.
#[derive(Debug, Clone)]
pub struct ChangesSettled<'a> {
    /// The object.
    pub object: &'a str,
    /// Records accepted by Salesforce.
    pub success: u64,
    /// Records refused for good.
    pub failed: u64,
    /// Changes not sent (a conflict Salesforce won, an insert deleted before it went).
    pub ignored: u64,
    /// Records refused for now, to be sent again.
    pub retry: u64,
    /// Lag of each accepted record.
    pub lags: Vec<Duration>,
}

impl ChangesSettled<'_> {
    /// Counts them, records the lags, logs one line.
    pub fn emit(self) {
        let object = self.object.to_string();
        let p_max = self.lags.iter().max().copied().unwrap_or_default();
        tracing::info!(
            object = self.object,
            success = self.success,
            failed = self.failed,
            ignored = self.ignored,
            retry = self.retry,
            max_lag_ms = p_max.as_millis() as u64,
            "write-back settled"
        );
        for (outcome, n) in [
            ("success", self.success),
            ("failed", self.failed),
            ("ignored", self.ignored),
            ("retry", self.retry),
        ] {
            if n > 0 {
                metrics::counter!(CHANGES_TOTAL, "object" => object.clone(), "outcome" => outcome)
                    .increment(n);
            }
        }
        let h = metrics::histogram!(LAG_SECONDS, "object" => object);
        for lag in self.lags {
            h.record(lag.as_secs_f64());
        }
    }
}

/// A change met a newer one in Salesforce.
#[derive(Debug, Clone, Copy)]
pub struct Conflict<'a> {
    /// The object.
    pub object: &'a str,
    /// The record.
    pub sfid: &'a str,
    /// `salesforce` (the app's change is dropped) or `app` (it is sent).
    pub winner: &'static str,
}

impl Conflict<'_> {
    /// Counts it and logs it.
    pub fn emit(self) {
        tracing::info!(
            object = self.object,
            sfid = self.sfid,
            winner = self.winner,
            "write-back conflict: the later write wins"
        );
        metrics::counter!(CONFLICTS_TOTAL, "object" => self.object.to_string(), "winner" => self.winner)
            .increment(1);
    }
}
