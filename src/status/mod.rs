//! The fleet's state in one document, read from Postgres and Redis: per mapping its
//! state, rows, last sync, lag and errors; active runs with progress; queue depths;
//! dead chunks and poison payloads; API usage against the budget; write-back's log per
//! read_write table ([`write_back`]); change-event streams ([`events`]); the sizes of
//! the ledger's own tables. Used by `orgpool status` (text or JSON) and the web process.

pub mod events;
pub mod tables;
pub mod write_back;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::app::Services;
use crate::ledger;
use crate::ledger::LedgerError;
use crate::mirror::quote_ident;
use crate::queue::{Depth, QueueError};
use crate::salesforce::{BudgetConfig, BudgetPause, Fleet, SalesforceConfig, SfError};

/// The fleet state could not be read (each source says which).
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The ledger could not be read.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A mirror table could not be counted.
    #[error("cannot count the rows of mirror table {table}: {source}")]
    Mirror {
        /// `schema.table`.
        table: String,
        /// Why.
        source: sqlx::Error,
    },
    /// Redis (queue depths) could not be read.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The fleet's API counters in Redis could not be read.
    #[error("cannot read the fleet's API usage from Redis: {0}")]
    Usage(#[from] SfError),
    /// A read_write schema's `_trigger_log` could not be read.
    #[error("cannot read the write-back log: {0}")]
    WriteBack(#[from] crate::mirror::error::MirrorError),
}

/// The budget settings from the environment; the defaults when Salesforce is not
/// configured in this process.
fn budget_config() -> BudgetConfig {
    SalesforceConfig::from_env()
        .map(|c| c.budget)
        .unwrap_or_default()
}

/// One mapping.
#[derive(Debug, Clone, Serialize)]
pub struct MappingStatus {
    /// The object.
    pub object: String,
    /// `schema.table`.
    pub table: String,
    /// `new`, `loading`, `ready`, `error`.
    pub state: String,
    /// Rows in the mirror table (None before it exists).
    pub rows: Option<i64>,
    /// Last committed load or resync.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Seconds between now and the watermark.
    pub lag_seconds: Option<f64>,
    /// Failed chunks of this object's runs.
    pub failed_chunks: i64,
    /// What is wrong.
    pub error: Option<String>,
    /// What to do.
    pub fix: Option<String>,
    /// Columns kept for fields that left the org.
    pub missing_columns: serde_json::Value,
    /// Paused by an operator: the scheduler starts no run for it.
    pub paused: bool,
    /// Since when, while paused.
    pub paused_at: Option<DateTime<Utc>>,
}

/// One active run, or one that ended with refused records still open.
#[derive(Debug, Clone, Serialize)]
pub struct RunStatus {
    /// Run id.
    pub id: i64,
    /// Kind.
    pub kind: String,
    /// Object.
    pub object: String,
    /// State.
    pub state: String,
    /// Work chunks.
    pub chunks_total: i64,
    /// Done.
    pub chunks_done: i64,
    /// Failed.
    pub chunks_failed: i64,
    /// Rows so far.
    pub rows: i64,
    /// Records Salesforce refused that are still open (a run that ended
    /// `succeeded_with_failures` is listed while it has some).
    pub records_refused: i64,
    /// Started.
    pub created_at: DateTime<Utc>,
}

/// One queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueStatus {
    /// Job kind.
    pub kind: String,
    /// Depths.
    #[serde(flatten)]
    pub depth: Depth,
}

/// API usage.
#[derive(Debug, Clone, Serialize)]
pub struct ApiStatus {
    /// Requests the fleet counted in its window.
    pub fleet_used: u64,
    /// The org's reported usage (0 until a response reported it).
    pub org_used: u64,
    /// The org's daily limit (0 until known).
    pub org_limit: u64,
    /// The fleet's ceiling per window (the lower of the cap and the share of the org's
    /// limit), when known.
    pub allowed: Option<u64>,
    /// Whether the fleet's outage flag is up.
    pub outage: bool,
    /// When the org last reported `org_used` (a response header or a `/limits` probe).
    pub org_reported_at: Option<DateTime<Utc>>,
    /// Set while the budget is spent: why, and until about when.
    pub paused: Option<BudgetPause>,
}

/// The whole document.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Mappings.
    pub mappings: Vec<MappingStatus>,
    /// Active runs.
    pub runs: Vec<RunStatus>,
    /// Queues.
    pub queues: Vec<QueueStatus>,
    /// Failed chunks in all.
    pub dead_chunks: i64,
    /// API usage, as the fleet's counters in Redis hold it.
    pub api: ApiStatus,
    /// The app's changes on their way to Salesforce, per read_write table.
    pub write_back: write_back::WriteBackStatus,
    /// Change Data Capture streams, per mapping with `events = true`.
    pub events: Vec<events::Subscription>,
    /// The ledger's own tables (`orgpool` schema) with their estimated rows and bytes,
    /// largest first: what retention keeps bounded.
    pub ledger_tables: Vec<ledger::retention::TableSize>,
}

/// How many refused write-back changes the document lists (`orgpool jobs failures`
/// lists more).
pub const FAILED_WRITES_LISTED: i64 = 5;

/// Reads it.
pub async fn read(s: &Services) -> Result<Status, StatusError> {
    let rows = ledger::mappings::all(&s.pool).await?;
    let write_back = write_back::read(&s.pool, &rows, FAILED_WRITES_LISTED).await?;
    let mut mappings = Vec::new();
    for m in rows {
        let rows = mirror_rows(&s.pool, &m.schema_name, &m.table_name).await?;
        let failed = ledger::stats::failed_chunks_of(&s.pool, &m.object).await?;
        // A table that was loaded and is gone now is a state to show, not an error.
        let gone = (rows.is_none() && m.watermark.is_some()).then(|| {
            (
                format!("mirror table {}.{} is missing", m.schema_name, m.table_name),
                format!("run `orgpool enqueue reload {}`", m.object),
            )
        });
        mappings.push(MappingStatus {
            table: format!("{}.{}", m.schema_name, m.table_name),
            lag_seconds: m
                .watermark
                .map(|w| (Utc::now() - w).num_milliseconds() as f64 / 1000.0),
            object: m.object,
            state: m.state,
            rows,
            last_sync_at: m.last_sync_at,
            failed_chunks: failed,
            error: m.error.or_else(|| gone.clone().map(|g| g.0)),
            fix: m.fix.or_else(|| gone.map(|g| g.1)),
            missing_columns: m.missing,
            paused: m.paused,
            paused_at: m.paused_at,
        });
    }
    let mut runs = Vec::new();
    for r in ledger::runs::recent(&s.pool, 200).await? {
        let refused = if r.state == "succeeded_with_failures" {
            ledger::pushes::open_failures_of(&s.pool, r.id).await?
        } else {
            0
        };
        if r.is_finished() && refused == 0 {
            continue;
        }
        let p = ledger::runs::progress(&s.pool, r.id).await?;
        runs.push(RunStatus {
            id: r.id,
            kind: r.kind,
            object: r.object,
            state: r.state,
            chunks_total: p.total,
            chunks_done: p.done,
            chunks_failed: p.failed,
            rows: p.rows,
            records_refused: refused,
            created_at: r.created_at,
        });
    }
    let mut queues = Vec::new();
    for kind in crate::jobs::registry::queues() {
        queues.push(QueueStatus {
            kind: kind.to_string(),
            depth: s.queues.depth(kind).await?,
        });
    }
    let dead_chunks = ledger::stats::dead_chunks(&s.pool).await?;
    // The counters live in Redis, so a process without a Salesforce client (the web
    // process) reads them the same way.
    let fleet = match &s.client {
        Some(c) => c.fleet().clone(),
        None => Fleet::new(s.queues.conn(), &s.queues.config().prefix, budget_config()),
    };
    let (fleet_used, org_used, org_limit) = fleet.usage().await?;
    let api = ApiStatus {
        fleet_used,
        org_used,
        org_limit,
        allowed: budget_config().allowed(org_limit),
        outage: fleet.outage().await?.is_some(),
        org_reported_at: fleet.org_reported_at().await?,
        paused: fleet.pause().await?,
    };
    Ok(Status {
        mappings,
        runs,
        queues,
        dead_chunks,
        api,
        write_back,
        events: events::read(&s.pool).await?,
        ledger_tables: ledger::retention::table_sizes(&s.pool).await?,
    })
}

/// Rows in a mirror table, or None before it exists.
async fn mirror_rows(
    pool: &sqlx::PgPool,
    schema: &str,
    table: &str,
) -> Result<Option<i64>, StatusError> {
    let name = format!("{}.{}", quote_ident(schema), quote_ident(table));
    let failed = |source| StatusError::Mirror {
        table: format!("{schema}.{table}"),
        source,
    };
    let (exists,): (bool,) = sqlx::query_as("SELECT to_regclass($1) IS NOT NULL")
        .bind(&name)
        .fetch_one(pool)
        .await
        .map_err(failed)?;
    if !exists {
        return Ok(None);
    }
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {name}")))
        .fetch_one(pool)
        .await
        .map_err(failed)?;
    Ok(Some(n))
}
