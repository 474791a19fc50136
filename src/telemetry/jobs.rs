//! Job metrics: chunks by job kind and outcome, their duration, rows written per
//! object, and poison payloads moved aside. Labels are the stable snake_case kind,
//! object and outcome names, never worker or chunk ids.

use std::time::Duration;

/// Chunks finished by `job_kind` and `outcome` (`done`, `skipped`, `waiting`, `retry`,
/// `failed`, `released`).
pub const CHUNKS_TOTAL: &str = "orgpool_job_chunks_total";
/// Chunk run time by `job_kind` and `outcome`.
pub const CHUNK_DURATION_SECONDS: &str = "orgpool_job_chunk_duration_seconds";
/// Rows written to the mirror by `job_kind` and `object`.
pub const ROWS_TOTAL: &str = "orgpool_mirror_rows_total";
/// Undecodable payloads moved aside, by `job_kind`.
pub const POISON: &str = "orgpool_job_poison_payloads_total";
/// Runs created, by `job_kind`.
pub const RUNS_TOTAL: &str = "orgpool_runs_created_total";

/// Histogram buckets for chunk durations (seconds).
pub const DURATION_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

/// A chunk ended.
pub fn chunk(kind: &'static str, outcome: &'static str, took: Duration) {
    metrics::counter!(CHUNKS_TOTAL, "job_kind" => kind, "outcome" => outcome).increment(1);
    metrics::histogram!(CHUNK_DURATION_SECONDS, "job_kind" => kind, "outcome" => outcome)
        .record(took.as_secs_f64());
}

/// Rows committed.
pub fn rows(kind: &'static str, object: &str, n: u64) {
    metrics::counter!(ROWS_TOTAL, "job_kind" => kind, "object" => object.to_ascii_lowercase())
        .increment(n);
}
