//! Salesforce client telemetry as typed events, each emitting its metrics and its log
//! line together: every request by API and outcome, its latency, the org's reported API
//! usage, the fleet budget, and Bulk jobs by operation and final state. These are
//! frequent, so their log lines are at debug level.

use std::time::Duration;

/// Requests by `api` (`rest`, `bulk_query`, `bulk_ingest`, `auth`) and `outcome` (`ok`,
/// `not_modified`, `expired_session`, `outage`, `limit`, `auth`, `permanent`).
pub const REQUESTS_TOTAL: &str = "orgpool_salesforce_requests_total";
/// Request latency by `api`.
pub const REQUEST_DURATION_SECONDS: &str = "orgpool_salesforce_request_duration_seconds";
/// API requests used in the org's rolling 24 hours, as `Sforce-Limit-Info` reports.
pub const API_USED: &str = "orgpool_salesforce_api_used";
/// The org's daily API allowance, as `Sforce-Limit-Info` reports.
pub const API_LIMIT: &str = "orgpool_salesforce_api_limit";
/// Requests the fleet counted in its own rolling window.
pub const BUDGET_USED: &str = "orgpool_salesforce_budget_used";
/// Requests the fleet may make in its window.
pub const BUDGET_ALLOWED: &str = "orgpool_salesforce_budget_allowed";
/// Calls that waited for the budget, by `reason` (`fleet`, `org`).
pub const BUDGET_WAITS_TOTAL: &str = "orgpool_salesforce_budget_waits_total";
/// Bulk jobs that reached a final state, by `operation` and `state`.
pub const BULK_JOBS_TOTAL: &str = "orgpool_salesforce_bulk_jobs_total";
/// 1 while this process sees the fleet's outage flag, else 0.
pub const OUTAGE: &str = "orgpool_salesforce_outage";

/// Histogram buckets for request latency (seconds).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// One request finished.
#[derive(Debug, Clone, Copy)]
pub struct RequestFinished {
    /// `rest`, `bulk_query`, `bulk_ingest` or `auth`.
    pub api: &'static str,
    /// `ok`, `not_modified`, `expired_session`, `outage`, `limit`, `auth`, `permanent`.
    pub outcome: &'static str,
    /// How long it took.
    pub took: Duration,
}

impl RequestFinished {
    /// Counts it, records its latency, and logs it at debug level (there are many).
    pub fn emit(self) {
        tracing::debug!(
            api = self.api,
            outcome = self.outcome,
            secs = self.took.as_secs_f64(),
            "salesforce request"
        );
        metrics::counter!(REQUESTS_TOTAL, "api" => self.api, "outcome" => self.outcome)
            .increment(1);
        metrics::histogram!(REQUEST_DURATION_SECONDS, "api" => self.api)
            .record(self.took.as_secs_f64());
    }
}

/// The org reported its usage (`Sforce-Limit-Info`).
#[derive(Debug, Clone, Copy)]
pub struct UsageReported {
    /// Requests used in the org's rolling 24 hours.
    pub used: u64,
    /// The org's daily allowance.
    pub limit: u64,
}

impl UsageReported {
    /// Records it; logs at debug level (every response reports it).
    pub fn emit(self) {
        tracing::debug!(used = self.used, limit = self.limit, "org API usage");
        metrics::gauge!(API_USED).set(self.used as f64);
        metrics::gauge!(API_LIMIT).set(self.limit as f64);
    }
}

/// The fleet budget after a granted reservation.
#[derive(Debug, Clone, Copy)]
pub struct BudgetReserved {
    /// Requests counted in the window.
    pub used: u64,
    /// Requests allowed in it.
    pub allowed: u64,
}

impl BudgetReserved {
    /// Records it; logs at debug level (every call reserves).
    pub fn emit(self) {
        tracing::debug!(
            used = self.used,
            allowed = self.allowed,
            "API budget reserved"
        );
        metrics::gauge!(BUDGET_USED).set(self.used as f64);
        metrics::gauge!(BUDGET_ALLOWED).set(self.allowed as f64);
    }
}

/// A call had to wait for the budget.
#[derive(Debug, Clone, Copy)]
pub struct BudgetWaited {
    /// `fleet` (our share is spent) or `org` (the org's allowance is).
    pub reason: &'static str,
}

impl BudgetWaited {
    /// Counts it; logs at debug level (while the budget is spent every call is denied;
    /// a chunk that ends up waiting for it logs that).
    pub fn emit(self) {
        tracing::debug!(reason = self.reason, "API budget denied a call");
        metrics::counter!(BUDGET_WAITS_TOTAL, "reason" => self.reason).increment(1);
    }
}

/// A Bulk job reached a final state.
#[derive(Debug, Clone, Copy)]
pub struct BulkJobEnded<'a> {
    /// Its operation (`query`, `upsert`, ...).
    pub operation: &'a str,
    /// Its final state's label.
    pub state: &'a str,
}

impl BulkJobEnded<'_> {
    /// Counts it and logs it at debug level (one per chunk and object).
    pub fn emit(self) {
        tracing::debug!(
            operation = self.operation,
            state = self.state,
            "bulk job ended"
        );
        metrics::counter!(
            BULK_JOBS_TOTAL,
            "operation" => self.operation.to_ascii_lowercase(),
            "state" => self.state.to_string()
        )
        .increment(1);
    }
}

/// Whether this process currently sees the fleet's outage flag.
#[derive(Debug, Clone, Copy)]
pub struct OutageSeen {
    /// Up or not.
    pub active: bool,
}

impl OutageSeen {
    /// Records it; logs at debug level (the flag is read before many calls; setting and
    /// clearing it are logged where that is decided).
    pub fn emit(self) {
        tracing::debug!(active = self.active, "salesforce outage flag");
        metrics::gauge!(OUTAGE).set(if self.active { 1.0 } else { 0.0 });
    }
}
