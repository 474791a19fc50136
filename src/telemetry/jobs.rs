//! Job telemetry as typed events (as vector's internal events): each event emits its
//! log line and its metrics together, so the two never disagree. Labels are the stable
//! snake_case kind, object and outcome names, never worker, run or chunk ids (those go
//! in the log line only).

use std::time::Duration;

/// Chunks finished by `job_kind` and `outcome` (`done`, `skipped`, `waiting`, `retry`,
/// `failed`, `cancelled`, `released`, `lost`).
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

/// A chunk ended. The runner logs its own line with the run, the chunk and the error;
/// this one, at debug level, carries the figures the metrics count.
#[derive(Debug, Clone, Copy)]
pub struct ChunkEnded {
    /// The job kind.
    pub kind: &'static str,
    /// `done`, `skipped`, `waiting`, `retry`, `failed`, `cancelled`, `released`, `lost`.
    pub outcome: &'static str,
    /// How long it ran.
    pub took: Duration,
}

impl ChunkEnded {
    /// Counts it and records its duration.
    pub fn emit(self) {
        tracing::debug!(
            job_kind = self.kind,
            outcome = self.outcome,
            secs = self.took.as_secs_f64(),
            "chunk ended"
        );
        metrics::counter!(CHUNKS_TOTAL, "job_kind" => self.kind, "outcome" => self.outcome)
            .increment(1);
        metrics::histogram!(CHUNK_DURATION_SECONDS, "job_kind" => self.kind, "outcome" => self.outcome)
            .record(self.took.as_secs_f64());
    }
}

/// Rows committed to the mirror.
#[derive(Debug, Clone, Copy)]
pub struct RowsWritten<'a> {
    /// The job kind.
    pub kind: &'static str,
    /// The object.
    pub object: &'a str,
    /// How many.
    pub rows: u64,
}

impl RowsWritten<'_> {
    /// Counts them; logs at debug level (the runner's `chunk done` line has the rows too).
    pub fn emit(self) {
        tracing::debug!(
            job_kind = self.kind,
            object = self.object,
            rows = self.rows,
            "mirror rows written"
        );
        metrics::counter!(ROWS_TOTAL, "job_kind" => self.kind, "object" => self.object.to_string())
            .increment(self.rows);
    }
}

/// A run was created.
#[derive(Debug, Clone, Copy)]
pub struct RunCreated<'a> {
    /// Its kind's stable name.
    pub kind: &'static str,
    /// Its id (log only).
    pub run_id: i64,
    /// Its object.
    pub object: &'a str,
    /// `cli`, `scheduler`, `api` ...
    pub requested_by: &'a str,
}

impl RunCreated<'_> {
    /// Logs and counts it.
    pub fn emit(self) {
        tracing::info!(
            run_id = self.run_id,
            kind = self.kind,
            object = self.object,
            requested_by = self.requested_by,
            "run created"
        );
        metrics::counter!(RUNS_TOTAL, "job_kind" => self.kind).increment(1);
    }
}

/// An undecodable payload was moved aside.
#[derive(Debug, Clone, Copy)]
pub struct PoisonMoved<'a> {
    /// The queue.
    pub kind: &'a str,
    /// The Redis task id (log only).
    pub task: &'a str,
    /// Why it could not be decoded.
    pub reason: &'a str,
}

impl PoisonMoved<'_> {
    /// Logs and counts it.
    pub fn emit(self) {
        tracing::error!(
            queue = self.kind,
            task_id = self.task,
            error = self.reason,
            "poison payload moved aside"
        );
        metrics::counter!(POISON, "job_kind" => self.kind.to_string()).increment(1);
    }
}
