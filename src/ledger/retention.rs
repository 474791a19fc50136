//! Retention in the ledger: deleting finished runs (with their chunks) and resolved
//! per-record failures once they are past their keep time, a bounded batch per call so
//! a large backlog is worked off over many scheduler passes without long locks, and the
//! sizes of the ledger's own tables (for `orgpool status` and `/metrics`).
//!
//! What is never deleted, whatever its age: an active run (`planning`, `running`); a
//! run with open record failures (`orgpool jobs retry --records` needs it); a run with
//! chunks still pending, queued or running; a run whose change events are still in the
//! inbox; and the newest run of each (kind, object, requested_by), which the status
//! page shows as "last run" and the quote schedule reads as its clock.

use std::time::Duration;

use sqlx::PgPool;

use super::LedgerError;

/// How long finished runs are kept, by state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRules {
    /// `succeeded` and `cancelled` runs.
    pub finished: Duration,
    /// `failed` and `succeeded_with_failures` runs.
    pub failed: Duration,
    /// Kinds whose `succeeded` runs are many (one per burst of changes) and go after
    /// [`RunRules::frequent`] instead.
    pub frequent_kinds: Vec<String>,
    /// Keep time of the frequent kinds' `succeeded` runs.
    pub frequent: Duration,
}

/// What one [`prune_runs`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrunedRuns {
    /// Runs deleted.
    pub runs: u64,
    /// Chunks deleted (of those runs, or of runs whose chunks take several passes).
    pub chunks: u64,
}

/// The runs past their keep time that nothing still needs, oldest first, locked
/// (`SKIP LOCKED`: a run the lifecycle is closing right now waits for the next pass).
const PRUNABLE_RUNS: &str = "
SELECT r.id FROM orgpool.runs r
 WHERE r.state IN ('succeeded', 'cancelled', 'failed', 'succeeded_with_failures')
   AND coalesce(r.finished_at, r.created_at) < now() - make_interval(secs => CASE
         WHEN r.state = 'succeeded' AND r.kind = ANY($1) THEN $2
         WHEN r.state IN ('succeeded', 'cancelled') THEN $3
         ELSE $4 END)
   AND NOT EXISTS (SELECT 1 FROM orgpool.record_failures f
                    WHERE f.run_id = r.id AND NOT f.resolved)
   AND NOT EXISTS (SELECT 1 FROM orgpool.chunks c
                    WHERE c.run_id = r.id AND c.state IN ('pending', 'queued', 'running'))
   AND NOT EXISTS (SELECT 1 FROM orgpool.change_events e WHERE e.run_id = r.id)
   AND EXISTS (SELECT 1 FROM orgpool.runs n
                WHERE n.object = r.object AND n.kind = r.kind
                  AND n.requested_by = r.requested_by AND n.id > r.id)
 ORDER BY r.id LIMIT $5
 FOR UPDATE OF r SKIP LOCKED";

/// Deletes at most `batch` chunks and at most `batch` runs past `rules`, in one short
/// transaction. A run's chunks go first (the foreign key would otherwise cascade an
/// unbounded number of them in one statement); the run itself goes in the pass that
/// finds it without chunks. Chunks go run by run, so each pass finishes whole runs.
pub async fn prune_runs(
    pool: &PgPool,
    rules: &RunRules,
    batch: i64,
) -> Result<PrunedRuns, LedgerError> {
    let mut tx = pool.begin().await?;
    let ids: Vec<(i64,)> = sqlx::query_as(PRUNABLE_RUNS)
        .bind(&rules.frequent_kinds)
        .bind(rules.frequent.as_secs_f64())
        .bind(rules.finished.as_secs_f64())
        .bind(rules.failed.as_secs_f64())
        .bind(batch)
        .fetch_all(&mut *tx)
        .await?;
    if ids.is_empty() {
        tx.rollback().await?;
        return Ok(PrunedRuns::default());
    }
    let ids: Vec<i64> = ids.into_iter().map(|(id,)| id).collect();
    let chunks = sqlx::query(
        "DELETE FROM orgpool.chunks WHERE id IN (
           SELECT id FROM orgpool.chunks WHERE run_id = ANY($1) ORDER BY run_id, id LIMIT $2)",
    )
    .bind(&ids)
    .bind(batch)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let runs = sqlx::query(
        "DELETE FROM orgpool.runs r WHERE r.id = ANY($1)
           AND NOT EXISTS (SELECT 1 FROM orgpool.chunks c WHERE c.run_id = r.id)",
    )
    .bind(&ids)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(PrunedRuns { runs, chunks })
}

/// Deletes at most `batch` resolved record failures whose last refusal is more than
/// `keep` old (the table records when a record was last refused, not when it was
/// resolved). Open failures are never deleted. Returns how many went.
pub async fn prune_resolved_failures(
    pool: &PgPool,
    keep: Duration,
    batch: i64,
) -> Result<u64, LedgerError> {
    Ok(sqlx::query(
        "DELETE FROM orgpool.record_failures WHERE id IN (
           SELECT id FROM orgpool.record_failures
            WHERE resolved AND at < now() - make_interval(secs => $1)
            ORDER BY id LIMIT $2)",
    )
    .bind(keep.as_secs_f64())
    .bind(batch)
    .execute(pool)
    .await?
    .rows_affected())
}

/// One table of the control schema.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct TableSize {
    /// The table's name in the `orgpool` schema.
    pub table: String,
    /// Live rows as Postgres's statistics estimate them (exact counts would scan the
    /// largest tables on every status read and scrape).
    pub rows_estimate: i64,
    /// Bytes on disk with its indexes and TOAST (`pg_total_relation_size`).
    pub bytes: i64,
}

/// Every table of the control schema with its size, largest first.
pub async fn table_sizes(pool: &PgPool) -> Result<Vec<TableSize>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT c.relname::text AS table,
                coalesce(s.n_live_tup, greatest(c.reltuples, 0))::bigint AS rows_estimate,
                pg_total_relation_size(c.oid)::bigint AS bytes
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
          WHERE n.nspname = 'orgpool' AND c.relkind IN ('r', 'p')
          ORDER BY bytes DESC, c.relname",
    )
    .fetch_all(pool)
    .await?)
}
