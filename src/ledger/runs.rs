//! Runs in the ledger: creating one (at most one active run per lane, so two schedulers
//! or an impatient user never start the same work twice), reading progress, closing.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::LedgerError;

/// What a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// Copy a mapped object into its table, chunk by chunk.
    InitialLoad,
    /// Bring a table up to date since its watermark.
    Resync,
    /// Load an object beside its table, then swap.
    Reload,
    /// Compare counts per Id range and re-load ranges that differ.
    Reconcile,
    /// Price selected Opportunities and push Quotes.
    QuoteGeneration,
}

impl RunKind {
    /// The stable name (also the CLI word with `-` for `_`).
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::InitialLoad => "initial_load",
            RunKind::Resync => "resync",
            RunKind::Reload => "reload",
            RunKind::Reconcile => "reconcile",
            RunKind::QuoteGeneration => "quote_generation",
        }
    }

    /// The lane: one active run per mirrored object, one quote run at a time.
    pub fn lane(self, object: &str) -> String {
        match self {
            RunKind::QuoteGeneration => "quotes".into(),
            _ => mirror_lane(object),
        }
    }

    /// Parses a stable name.
    pub fn parse(s: &str) -> Option<RunKind> {
        Some(match s {
            "initial_load" => RunKind::InitialLoad,
            "resync" => RunKind::Resync,
            "reload" => RunKind::Reload,
            "reconcile" => RunKind::Reconcile,
            "quote_generation" => RunKind::QuoteGeneration,
            _ => return None,
        })
    }

    /// The job kind (and queue) whose workers run its chunks: a reload is an initial
    /// load into a shadow table.
    pub fn job_kind(self) -> &'static str {
        match self {
            RunKind::InitialLoad | RunKind::Reload => "initial_load",
            RunKind::Resync => "resync",
            RunKind::Reconcile => "reconcile",
            RunKind::QuoteGeneration => "quote_generation",
        }
    }
}

/// A run row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Run {
    /// Its id.
    pub id: i64,
    /// `initial_load`, `resync`, `reload` or `reconcile`.
    pub kind: String,
    /// The object.
    pub object: String,
    /// `planning`, `running`, `succeeded`, `failed` or `cancelled`.
    pub state: String,
    /// Resync window start.
    pub window_from: Option<DateTime<Utc>>,
    /// Resync window end.
    pub window_to: Option<DateTime<Utc>>,
    /// Work chunks planned.
    pub chunks_total: i32,
    /// Rows the planner counted.
    pub expected_rows: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// Kind-specific parameters (quote runs: rules version, selection).
    pub params: serde_json::Value,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

impl Run {
    /// The parsed kind.
    pub fn run_kind(&self) -> RunKind {
        RunKind::parse(&self.kind).unwrap_or(RunKind::InitialLoad)
    }

    /// Whether it has ended.
    pub fn is_finished(&self) -> bool {
        matches!(self.state.as_str(), "succeeded" | "failed" | "cancelled")
    }
}

/// Progress of a run, for `enqueue --wait`, `status` and the web page.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Progress {
    /// Work chunks in total.
    pub total: i64,
    /// Done.
    pub done: i64,
    /// Failed for good.
    pub failed: i64,
    /// Rows written so far.
    pub rows: i64,
}

/// The lane of a mirror run: one active run per object at a time.
pub fn mirror_lane(object: &str) -> String {
    format!("mirror:{}", object.to_ascii_lowercase())
}

/// Outcome of asking for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// A new run with its plan chunk.
    New(i64),
    /// A run of the same kind was already active in the lane.
    Existing(i64),
}

impl Created {
    /// The run id either way.
    pub fn id(&self) -> i64 {
        match self {
            Created::New(id) | Created::Existing(id) => *id,
        }
    }
}

/// Creates a run and its plan chunk (seq 0) in one transaction. When the lane is busy:
/// the same kind returns [`Created::Existing`]; another kind is an error naming it.
pub async fn create(
    pool: &PgPool,
    kind: RunKind,
    object: &str,
    requested_by: &str,
) -> Result<Created, LedgerError> {
    create_with(pool, kind, object, serde_json::json!({}), requested_by).await
}

/// [`create`] with kind-specific parameters.
pub async fn create_with(
    pool: &PgPool,
    kind: RunKind,
    object: &str,
    params: serde_json::Value,
    requested_by: &str,
) -> Result<Created, LedgerError> {
    let lane = kind.lane(object);
    let mut tx = pool.begin().await?;
    let inserted: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO orgpool.runs (kind, object, lane, requested_by, params) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (lane) WHERE state IN ('planning', 'running') DO NOTHING RETURNING id",
    )
    .bind(kind.as_str())
    .bind(object)
    .bind(&lane)
    .bind(requested_by)
    .bind(params)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id,)) = inserted else {
        tx.rollback().await?;
        let (id, other): (i64, String) = sqlx::query_as(
            "SELECT id, kind FROM orgpool.runs WHERE lane = $1 AND state IN ('planning', 'running')",
        )
        .bind(&lane)
        .fetch_one(pool)
        .await?;
        if other == kind.as_str() {
            return Ok(Created::Existing(id));
        }
        return Err(LedgerError::LaneBusy {
            object: object.to_string(),
            run: id,
            kind: other,
        });
    };
    sqlx::query("INSERT INTO orgpool.chunks (run_id, kind, seq, step) VALUES ($1, $2, 0, 'plan')")
        .bind(id)
        .bind(kind.job_kind())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Created::New(id))
}

/// Reads a run.
pub async fn get(pool: &PgPool, id: i64) -> Result<Run, LedgerError> {
    sqlx::query_as("SELECT * FROM orgpool.runs WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(LedgerError::NoSuchRun(id))
}

/// Reads a run inside a transaction.
pub async fn get_in(conn: &mut PgConnection, id: i64) -> Result<Run, LedgerError> {
    sqlx::query_as("SELECT * FROM orgpool.runs WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(LedgerError::NoSuchRun(id))
}

/// Reads a run and locks it until the transaction ends (serialises the last chunks).
pub async fn lock(conn: &mut PgConnection, id: i64) -> Result<Run, LedgerError> {
    sqlx::query_as("SELECT * FROM orgpool.runs WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(LedgerError::NoSuchRun(id))
}

/// Progress over the run's work chunks.
pub async fn progress(pool: &PgPool, id: i64) -> Result<Progress, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT count(*) AS total,
                count(*) FILTER (WHERE state = 'done') AS done,
                count(*) FILTER (WHERE state = 'failed') AS failed,
                coalesce(sum(rows), 0)::bigint AS rows
         FROM orgpool.chunks WHERE run_id = $1 AND step = 'work'",
    )
    .bind(id)
    .fetch_one(pool)
    .await?)
}

/// Ends a run (only if it is still active).
pub async fn finish(
    conn: &mut PgConnection,
    id: i64,
    state: &str,
    error: Option<&str>,
) -> Result<(), LedgerError> {
    sqlx::query(
        "UPDATE orgpool.runs SET state = $2, error = $3, finished_at = now()
         WHERE id = $1 AND state IN ('planning', 'running')",
    )
    .bind(id)
    .bind(state)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}

/// Closes active runs whose chunks have all ended (a fallback: the last chunk normally
/// closes its run in its own transaction). Returns how many were closed.
pub async fn close_finished(pool: &PgPool) -> Result<u64, LedgerError> {
    let r = sqlx::query(
        "UPDATE orgpool.runs r SET
            state = CASE WHEN EXISTS (SELECT 1 FROM orgpool.chunks c WHERE c.run_id = r.id AND c.state = 'failed')
                         THEN 'failed' ELSE 'succeeded' END,
            error = (SELECT c.error FROM orgpool.chunks c WHERE c.run_id = r.id AND c.state = 'failed' ORDER BY c.seq LIMIT 1),
            finished_at = now()
         WHERE r.state = 'running'
           AND NOT EXISTS (SELECT 1 FROM orgpool.chunks c WHERE c.run_id = r.id AND c.state NOT IN ('done', 'failed'))",
    )
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

/// Recent runs, newest first.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<Run>, LedgerError> {
    Ok(
        sqlx::query_as("SELECT * FROM orgpool.runs ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(pool)
            .await?,
    )
}
