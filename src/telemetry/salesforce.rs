//! Salesforce client metrics: every request by API and outcome, its latency, the org's
//! reported API usage, the fleet budget, and Bulk jobs by operation and final state.

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
pub fn request(api: &'static str, outcome: &'static str, took: Duration) {
    metrics::counter!(REQUESTS_TOTAL, "api" => api, "outcome" => outcome).increment(1);
    metrics::histogram!(REQUEST_DURATION_SECONDS, "api" => api).record(took.as_secs_f64());
}

/// The org reported its usage.
pub fn api_usage(used: u64, limit: u64) {
    metrics::gauge!(API_USED).set(used as f64);
    metrics::gauge!(API_LIMIT).set(limit as f64);
}

/// The fleet budget after a reservation.
pub fn budget(used: u64, allowed: u64) {
    metrics::gauge!(BUDGET_USED).set(used as f64);
    metrics::gauge!(BUDGET_ALLOWED).set(allowed as f64);
}

/// A call had to wait for the budget.
pub fn budget_wait(reason: &'static str) {
    metrics::counter!(BUDGET_WAITS_TOTAL, "reason" => reason).increment(1);
}

/// A Bulk job reached a final state.
pub fn bulk_job(operation: &str, state: &str) {
    metrics::counter!(
        BULK_JOBS_TOTAL,
        "operation" => operation.to_ascii_lowercase(),
        "state" => state.to_string()
    )
    .increment(1);
}

/// Whether this process currently sees a fleet outage.
pub fn outage(active: bool) {
    metrics::gauge!(OUTAGE).set(if active { 1.0 } else { 0.0 });
}
