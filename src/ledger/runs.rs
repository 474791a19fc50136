//! Runs in the ledger: creating one (at most one active run per lane, so two schedulers
//! or an impatient user never start the same work twice), reading one with its typed
//! arguments, and progress. How a run ends is [`super::lifecycle`]'s.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::LedgerError;

/// A run row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Run {
    /// Its id.
    pub id: i64,
    /// The run kind's stable name (`initial_load`, `resync`, `reload`, ...).
    pub kind: String,
    /// The object.
    pub object: String,
    /// `planning`, `running`, `succeeded`, `succeeded_with_failures`, `failed` or
    /// `cancelled`.
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
    /// The kind's typed arguments, encoded (decode with [`Run::args`]).
    pub params: serde_json::Value,
    /// What the plan found, for people (quote runs: how many were selected).
    pub summary: serde_json::Value,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

impl Run {
    /// The run's arguments as its kind's type; an error names the run and the field.
    pub fn args<T: serde::de::DeserializeOwned>(&self) -> Result<T, LedgerError> {
        super::decode::decode(self.id, &self.kind, "arguments", &self.params)
    }

    /// Whether it has ended.
    pub fn is_finished(&self) -> bool {
        matches!(
            self.state.as_str(),
            "succeeded" | "succeeded_with_failures" | "failed" | "cancelled"
        )
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

/// A run to create.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    /// The run kind's stable name.
    pub kind: &'a str,
    /// The queue (job kind) whose workers run its chunks.
    pub queue: &'a str,
    /// At most one active run per lane.
    pub lane: String,
    /// The object it works on.
    pub object: &'a str,
    /// The kind's arguments, encoded.
    pub params: serde_json::Value,
    /// `cli`, `scheduler`, `api` ...
    pub requested_by: &'a str,
}

/// Creates a run and its plan chunk (seq 0) in one transaction. When the lane is busy:
/// the same kind returns [`Created::Existing`]; another kind is an error naming it.
pub async fn create(pool: &PgPool, new: &NewRun<'_>) -> Result<Created, LedgerError> {
    let mut tx = pool.begin().await?;
    let inserted: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO orgpool.runs (kind, object, lane, requested_by, params) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (lane) WHERE state IN ('planning', 'running') DO NOTHING RETURNING id",
    )
    .bind(new.kind)
    .bind(new.object)
    .bind(&new.lane)
    .bind(new.requested_by)
    .bind(&new.params)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id,)) = inserted else {
        tx.rollback().await?;
        let (id, other): (i64, String) = sqlx::query_as(
            "SELECT id, kind FROM orgpool.runs WHERE lane = $1 AND state IN ('planning', 'running')",
        )
        .bind(&new.lane)
        .fetch_one(pool)
        .await?;
        if other == new.kind {
            return Ok(Created::Existing(id));
        }
        return Err(LedgerError::LaneBusy {
            object: new.object.to_string(),
            run: id,
            kind: other,
        });
    };
    sqlx::query("INSERT INTO orgpool.chunks (run_id, kind, seq, step) VALUES ($1, $2, 0, 'plan')")
        .bind(id)
        .bind(new.queue)
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

/// Recent runs, newest first.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<Run>, LedgerError> {
    Ok(
        sqlx::query_as("SELECT * FROM orgpool.runs ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(pool)
            .await?,
    )
}

/// When the latest run of `kind` requested by `requested_by` was created (the quote
/// schedule's clock).
pub async fn last_created(
    pool: &PgPool,
    kind: &str,
    requested_by: &str,
) -> Result<Option<DateTime<Utc>>, LedgerError> {
    let (last,): (Option<DateTime<Utc>>,) = sqlx::query_as(
        "SELECT max(created_at) FROM orgpool.runs WHERE kind = $1 AND requested_by = $2",
    )
    .bind(kind)
    .bind(requested_by)
    .fetch_one(pool)
    .await?;
    Ok(last)
}

/// The ids of every run of `kind`, oldest first (benchmarks and tests count them).
pub async fn ids_of_kind(pool: &PgPool, kind: &str) -> Result<Vec<i64>, LedgerError> {
    let ids: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM orgpool.runs WHERE kind = $1 ORDER BY id")
            .bind(kind)
            .fetch_all(pool)
            .await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}
