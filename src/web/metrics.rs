//! `/metrics` of the web process: the fleet's figures from one [`Snapshot`], rendered
//! through a recorder made for this scrape alone, so a run that ended or a mapping that
//! was removed disappears instead of lingering as a stale series. Names follow
//! Prometheus conventions (`_total` counters, `_seconds` units, snake_case labels).

use metrics::{counter, describe_counter, describe_gauge, gauge};
use metrics_exporter_prometheus::PrometheusBuilder;

use super::snapshot::Snapshot;

/// Tasks in Redis by `job_kind` and `state` (`ready`, `scheduled`, `running`, `dead`,
/// `poison`).
pub const QUEUE_TASKS: &str = "orgpool_queue_tasks";
/// Worker processes that heartbeated in the last 30 s.
pub const WORKERS: &str = "orgpool_fleet_workers";
/// Runs by `job_kind` (the run's kind) and `state`.
pub const RUNS: &str = "orgpool_runs";
/// Work chunks by `run_id`, `job_kind`, `object` and `state`, for active runs and runs
/// that ended in the last hour.
pub const RUN_CHUNKS: &str = "orgpool_run_chunks";
/// Work chunks done, by `job_kind`, as the ledger holds them.
pub const CHUNKS_DONE: &str = "orgpool_ledger_chunks_done_total";
/// Chunks that failed for good (see `orgpool jobs dead`).
pub const DEAD_CHUNKS: &str = "orgpool_ledger_dead_chunks";
/// Rows in each mirror table, by `object`.
pub const TABLE_ROWS: &str = "orgpool_mirror_table_rows";
/// Now minus each mapping's watermark, by `object`.
pub const SYNC_LAG: &str = "orgpool_mirror_sync_lag_seconds";
/// 1 for each mapping's current `state` (`new`, `loading`, `ready`, `error`).
pub const MAPPINGS: &str = "orgpool_mirror_mappings";
/// Computed Quotes by `state`.
pub const QUOTES: &str = "orgpool_quotes";
/// Open per-record failures by `object`.
pub const RECORD_FAILURES: &str = "orgpool_record_failures";
/// Requests the fleet counted in its budget window.
pub const API_USED: &str = "orgpool_fleet_api_requests_used";
/// Requests the fleet may make in its window (absent until known).
pub const API_ALLOWED: &str = "orgpool_fleet_api_requests_allowed";
/// The org's own usage, as its last response reported it.
pub const ORG_USED: &str = "orgpool_fleet_org_api_used";
/// The org's daily allowance (absent until known).
pub const ORG_LIMIT: &str = "orgpool_fleet_org_api_limit";
/// 1 while the fleet's Salesforce outage flag is up.
pub const OUTAGE: &str = "orgpool_fleet_salesforce_outage";

/// Renders `snap` in the Prometheus text format.
pub fn render(snap: &Snapshot) -> String {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || record(snap));
    handle.render()
}

fn record(snap: &Snapshot) {
    describe();
    let st = &snap.status;
    for q in &st.queues {
        let d = q.depth;
        for (state, n) in [
            ("ready", d.active),
            ("scheduled", d.scheduled),
            ("running", d.inflight),
            ("dead", d.dead),
            ("poison", d.poison),
        ] {
            gauge!(QUEUE_TASKS, "job_kind" => q.kind.clone(), "state" => state).set(n as f64);
        }
    }
    gauge!(WORKERS).set(snap.workers as f64);
    for r in &snap.runs {
        gauge!(RUNS, "job_kind" => r.kind.clone(), "state" => r.state.clone()).set(r.count as f64);
    }
    for c in &snap.run_chunks {
        gauge!(RUN_CHUNKS,
            "run_id" => c.run_id.to_string(),
            "job_kind" => c.job_kind.clone(),
            "object" => c.object.clone(),
            "state" => c.state.clone())
        .set(c.count as f64);
    }
    for c in &snap.chunks_done {
        counter!(CHUNKS_DONE, "job_kind" => c.label.clone()).absolute(c.count as u64);
    }
    gauge!(DEAD_CHUNKS).set(st.dead_chunks as f64);
    for m in &st.mappings {
        if let Some(rows) = m.rows {
            gauge!(TABLE_ROWS, "object" => m.object.clone()).set(rows as f64);
        }
        if let Some(lag) = m.lag_seconds {
            gauge!(SYNC_LAG, "object" => m.object.clone()).set(lag.max(0.0));
        }
        gauge!(MAPPINGS, "object" => m.object.clone(), "state" => m.state.clone()).set(1.0);
    }
    // Every state always present, so a dashboard shows 0 rather than "no data".
    for state in ["computed", "pushed", "failed"] {
        let n = snap
            .quotes
            .iter()
            .find(|c| c.label == state)
            .map_or(0, |c| c.count);
        gauge!(QUOTES, "state" => state).set(n as f64);
    }
    for object in ["Quote", "QuoteLineItem"] {
        let n = snap
            .failures_by_object
            .iter()
            .find(|c| c.label == object)
            .map_or(0, |c| c.count);
        gauge!(RECORD_FAILURES, "object" => object).set(n as f64);
    }
    let a = &st.api;
    gauge!(API_USED).set(a.fleet_used as f64);
    if let Some(n) = a.allowed {
        gauge!(API_ALLOWED).set(n as f64);
    }
    gauge!(ORG_USED).set(a.org_used as f64);
    if a.org_limit > 0 {
        gauge!(ORG_LIMIT).set(a.org_limit as f64);
    }
    gauge!(OUTAGE).set(if a.outage { 1.0 } else { 0.0 });
}

fn describe() {
    describe_gauge!(QUEUE_TASKS, "Tasks in Redis by job kind and state.");
    describe_gauge!(
        WORKERS,
        "Worker processes that heartbeated in the last 30 s."
    );
    describe_gauge!(RUNS, "Runs by kind and state.");
    describe_gauge!(
        RUN_CHUNKS,
        "Work chunks of active and recently ended runs, by state."
    );
    describe_counter!(
        CHUNKS_DONE,
        "Work chunks done, by job kind, from the ledger."
    );
    describe_gauge!(DEAD_CHUNKS, "Chunks that failed for good.");
    describe_gauge!(TABLE_ROWS, "Rows in each mirror table.");
    describe_gauge!(
        SYNC_LAG,
        "Seconds between now and each mapping's watermark."
    );
    describe_gauge!(MAPPINGS, "1 for each mapping's current state.");
    describe_gauge!(QUOTES, "Computed Quotes by state.");
    describe_gauge!(RECORD_FAILURES, "Open per-record failures by object.");
    describe_gauge!(API_USED, "Requests the fleet counted in its budget window.");
    describe_gauge!(API_ALLOWED, "Requests the fleet may make in its window.");
    describe_gauge!(ORG_USED, "The org's API usage as last reported.");
    describe_gauge!(ORG_LIMIT, "The org's daily API allowance.");
    describe_gauge!(OUTAGE, "1 while the fleet's Salesforce outage flag is up.");
}
