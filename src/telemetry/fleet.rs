//! The fleet's figures as the web process's `/metrics` reports them: queue depths, live
//! workers, runs and chunks from the ledger, mirror tables, Quotes, record failures,
//! API usage, write-back's log backlog and the ledger's table sizes, one typed figure per group whose `emit()` records its series. They are
//! read afresh for every scrape into a recorder made for that scrape, so they log
//! nothing: the scrape is the record, and a log line per scrape would be noise.

use metrics::{counter, describe_counter, describe_gauge, gauge};

use crate::queue::Depth;

/// Tasks in Redis by `job_kind` and `state` (`ready`, `scheduled`, `running`, `dead`,
/// `poison`).
pub const QUEUE_TASKS: &str = "orgpool_queue_tasks";
/// Worker processes that heartbeated in the last 30 s.
pub const WORKERS: &str = "orgpool_fleet_workers";
/// Runs by `job_kind` (the run's kind) and `state`.
pub const RUNS: &str = "orgpool_runs";
/// Work chunks by `job_kind`, `object` and `state`, summed over the active runs and the
/// runs that ended in the last hour (no `run_id` label: a new series per run).
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
/// `_trigger_log` rows of each read_write table by `object` (the table name) and
/// `state` (`NEW`, `PENDING`, `FAILED`; FAILED includes archived rows).
pub const WRITE_BACK_BACKLOG: &str = "orgpool_write_back_backlog";
/// Seconds since the app wrote the oldest change of each read_write table still waiting
/// (`NEW` or `PENDING`), by `object`; 0 when nothing waits.
pub const WRITE_BACK_OLDEST: &str = "orgpool_write_back_oldest_seconds";

/// Change events waiting in the inbox, by `object`.
pub const EVENTS_BACKLOG: &str = "orgpool_events_backlog";
/// Seconds since the commit of the last change event applied, by `object` (grows
/// while nothing arrives, so alert on it only with the object's expected change rate).
pub const EVENTS_REPLAY_AGE: &str = "orgpool_events_replay_age_seconds";
/// 1 while the object's subscription is live, 0 otherwise, from the ledger.
pub const EVENTS_LIVE: &str = "orgpool_events_live";

/// Bytes on disk of each ledger table (`orgpool` schema) with its indexes, by `table`.
pub const LEDGER_TABLE_BYTES: &str = "orgpool_ledger_table_bytes";
/// Estimated live rows of each ledger table, by `table`.
pub const LEDGER_TABLE_ROWS: &str = "orgpool_ledger_table_rows";

/// Describes every fleet series (once per scrape recorder).
pub fn describe() {
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
    describe_gauge!(
        WRITE_BACK_BACKLOG,
        "Write-back log rows of each read_write table by state."
    );
    describe_gauge!(
        WRITE_BACK_OLDEST,
        "Age of the oldest change waiting to be written back, per table."
    );
    describe_gauge!(
        EVENTS_BACKLOG,
        "Change events waiting to be applied, per object."
    );
    describe_gauge!(
        EVENTS_REPLAY_AGE,
        "Seconds since the commit of the last change event applied, per object."
    );
    describe_gauge!(
        EVENTS_LIVE,
        "1 while the object's change-event subscription is live."
    );
    describe_gauge!(
        LEDGER_TABLE_BYTES,
        "Bytes of each ledger table with its indexes."
    );
    describe_gauge!(
        LEDGER_TABLE_ROWS,
        "Estimated live rows of each ledger table."
    );
}

/// One queue's tasks, by state.
#[derive(Debug, Clone, Copy)]
pub struct QueueTasks<'a> {
    /// The queue (job kind).
    pub kind: &'a str,
    /// Its depths.
    pub depth: Depth,
}

impl QueueTasks<'_> {
    /// Records it.
    pub fn emit(self) {
        let d = self.depth;
        for (state, n) in [
            ("ready", d.active),
            ("scheduled", d.scheduled),
            ("running", d.inflight),
            ("dead", d.dead),
            ("poison", d.poison),
        ] {
            gauge!(QUEUE_TASKS, "job_kind" => self.kind.to_string(), "state" => state)
                .set(n as f64);
        }
    }
}

/// The ledger's runs and chunks: runs by kind and state, chunks by run, chunks done by
/// kind, and dead chunks.
#[derive(Debug, Clone, Copy)]
pub enum LedgerFigure<'a> {
    /// Runs of `kind` in `state`.
    Runs {
        /// The run kind.
        kind: &'a str,
        /// The state.
        state: &'a str,
        /// How many.
        count: i64,
    },
    /// Work chunks of the active runs of one kind and object in one state (no run id:
    /// a label per run would make a new series per run).
    RunChunks {
        /// The chunks' job kind.
        job_kind: &'a str,
        /// The run's object.
        object: &'a str,
        /// The state.
        state: &'a str,
        /// How many.
        count: i64,
    },
    /// Work chunks ever done by a job kind.
    ChunksDone {
        /// The job kind.
        kind: &'a str,
        /// How many.
        count: i64,
    },
    /// Chunks that failed for good.
    DeadChunks(i64),
}

impl LedgerFigure<'_> {
    /// Records it.
    pub fn emit(self) {
        match self {
            LedgerFigure::Runs { kind, state, count } => {
                gauge!(RUNS, "job_kind" => kind.to_string(), "state" => state.to_string())
                    .set(count as f64);
            }
            LedgerFigure::RunChunks {
                job_kind,
                object,
                state,
                count,
            } => {
                gauge!(RUN_CHUNKS,
                    "job_kind" => job_kind.to_string(),
                    "object" => object.to_string(),
                    "state" => state.to_string())
                .set(count as f64);
            }
            LedgerFigure::ChunksDone { kind, count } => {
                counter!(CHUNKS_DONE, "job_kind" => kind.to_string()).absolute(count as u64);
            }
            LedgerFigure::DeadChunks(n) => gauge!(DEAD_CHUNKS).set(n as f64),
        }
    }
}

/// One mapping's mirror table.
#[derive(Debug, Clone, Copy)]
pub struct MirrorTable<'a> {
    /// The object.
    pub object: &'a str,
    /// The mapping's state.
    pub state: &'a str,
    /// Rows, once the table exists.
    pub rows: Option<i64>,
    /// Seconds behind, once it has a watermark.
    pub lag_seconds: Option<f64>,
}

impl MirrorTable<'_> {
    /// Records it.
    pub fn emit(self) {
        if let Some(rows) = self.rows {
            gauge!(TABLE_ROWS, "object" => self.object.to_string()).set(rows as f64);
        }
        if let Some(lag) = self.lag_seconds {
            gauge!(SYNC_LAG, "object" => self.object.to_string()).set(lag.max(0.0));
        }
        gauge!(MAPPINGS, "object" => self.object.to_string(), "state" => self.state.to_string())
            .set(1.0);
    }
}

/// Quote bookkeeping: Quotes in one state, or open failures of one object.
#[derive(Debug, Clone, Copy)]
pub enum QuoteFigure {
    /// Computed Quotes in `state`.
    Quotes {
        /// `computed`, `pushed` or `failed`.
        state: &'static str,
        /// How many.
        count: i64,
    },
    /// Open per-record failures of `object`.
    RecordFailures {
        /// `Quote` or `QuoteLineItem`.
        object: &'static str,
        /// How many.
        count: i64,
    },
}

impl QuoteFigure {
    /// Records it.
    pub fn emit(self) {
        match self {
            QuoteFigure::Quotes { state, count } => {
                gauge!(QUOTES, "state" => state).set(count as f64)
            }
            QuoteFigure::RecordFailures { object, count } => {
                gauge!(RECORD_FAILURES, "object" => object).set(count as f64)
            }
        }
    }
}

/// The fleet's API usage, as its counters in Redis hold it.
#[derive(Debug, Clone, Copy)]
pub struct ApiUsage {
    /// Requests the fleet counted in its window.
    pub fleet_used: u64,
    /// The fleet's ceiling, when known.
    pub allowed: Option<u64>,
    /// The org's reported usage.
    pub org_used: u64,
    /// The org's daily limit (0 until known).
    pub org_limit: u64,
    /// Whether the outage flag is up.
    pub outage: bool,
}

impl ApiUsage {
    /// Records it.
    pub fn emit(self) {
        gauge!(API_USED).set(self.fleet_used as f64);
        if let Some(n) = self.allowed {
            gauge!(API_ALLOWED).set(n as f64);
        }
        gauge!(ORG_USED).set(self.org_used as f64);
        if self.org_limit > 0 {
            gauge!(ORG_LIMIT).set(self.org_limit as f64);
        }
        gauge!(OUTAGE).set(if self.outage { 1.0 } else { 0.0 });
    }
}

/// Worker processes that heartbeated in the last 30 s.
pub fn workers(n: usize) {
    gauge!(WORKERS).set(n as f64);
}

/// One read_write table's write-back log.
#[derive(Debug, Clone, Copy)]
pub struct WriteBackBacklog<'a> {
    /// The table name (the object lowercased, as the write-back counters spell it).
    pub object: &'a str,
    /// Rows `NEW`.
    pub new: i64,
    /// Rows `PENDING`.
    pub pending: i64,
    /// Rows `FAILED`, live and archived.
    pub failed: i64,
    /// Age of the oldest waiting change, if any.
    pub oldest_seconds: Option<f64>,
}

impl WriteBackBacklog<'_> {
    /// Records it; every state is present (0 when empty) so a dashboard shows 0
    /// rather than "no data".
    pub fn emit(self) {
        for (state, n) in [
            ("NEW", self.new),
            ("PENDING", self.pending),
            ("FAILED", self.failed),
        ] {
            gauge!(WRITE_BACK_BACKLOG, "object" => self.object.to_string(), "state" => state)
                .set(n as f64);
        }
        gauge!(WRITE_BACK_OLDEST, "object" => self.object.to_string())
            .set(self.oldest_seconds.unwrap_or(0.0).max(0.0));
    }
}

/// One change-event subscription's fleet figures.
#[derive(Debug, Clone, Copy)]
pub struct EventsFigure<'a> {
    /// The object.
    pub object: &'a str,
    /// Whether its stream is live.
    pub live: bool,
    /// Events waiting in the inbox.
    pub waiting: i64,
    /// Seconds since the last applied change's commit.
    pub replay_age_seconds: Option<f64>,
}

impl EventsFigure<'_> {
    /// Records it.
    pub fn emit(self) {
        let object = self.object.to_string();
        gauge!(EVENTS_BACKLOG, "object" => object.clone()).set(self.waiting as f64);
        gauge!(EVENTS_LIVE, "object" => object.clone()).set(if self.live { 1.0 } else { 0.0 });
        if let Some(a) = self.replay_age_seconds {
            gauge!(EVENTS_REPLAY_AGE, "object" => object).set(a.max(0.0));
        }
    }
}

/// One ledger table's size (retention keeps it bounded).
#[derive(Debug, Clone, Copy)]
pub struct LedgerTable<'a> {
    /// The table's name in the `orgpool` schema.
    pub table: &'a str,
    /// Estimated live rows.
    pub rows: i64,
    /// Bytes with indexes and TOAST.
    pub bytes: i64,
}

impl LedgerTable<'_> {
    /// Records it.
    pub fn emit(self) {
        gauge!(LEDGER_TABLE_BYTES, "table" => self.table.to_string()).set(self.bytes as f64);
        gauge!(LEDGER_TABLE_ROWS, "table" => self.table.to_string()).set(self.rows as f64);
    }
}
