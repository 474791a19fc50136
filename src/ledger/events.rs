//! Change Data Capture in the ledger: each subscription's position and state
//! (`orgpool.subscriptions`) and the inbox of received events
//! (`orgpool.change_events`). The subscriber stores what it receives (an event is in
//! the inbox, durably, before more are asked for); a `change_events` run claims a
//! prefix of one object's inbox, and its chunk applies the events, deletes them and
//! moves the subscription's replay id in the mirror's transaction.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::LedgerError;

/// One subscription's row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubscriptionRow {
    /// The mapping's object.
    pub object: String,
    /// `/data/<Object>ChangeEvent`.
    pub topic: String,
    /// The last event applied to the mirror.
    pub replay_id: Option<Vec<u8>>,
    /// Its commit time.
    pub replay_at: Option<DateTime<Utc>>,
    /// `starting`, `live`, `retrying`, `healing`, `stopped`.
    pub state: String,
    /// Why, when not live.
    pub detail: Option<String>,
    /// Events stored in the inbox so far.
    pub received: i64,
    /// Events applied so far.
    pub applied: i64,
    /// Gaps healed by a resync.
    pub gaps: i64,
    /// When the state last changed.
    pub changed_at: DateTime<Utc>,
}

/// One received event, to store.
#[derive(Debug, Clone)]
pub struct Received {
    /// The replay id.
    pub replay_id: Vec<u8>,
    /// `commitTimestamp`.
    pub commit_at: DateTime<Utc>,
    /// The decoded event.
    pub event: serde_json::Value,
}

/// One stored event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    /// Inbox order.
    pub seq: i64,
    /// The replay id.
    pub replay_id: Vec<u8>,
    /// `commitTimestamp`.
    pub commit_at: DateTime<Utc>,
    /// The decoded event.
    pub event: serde_json::Value,
}

/// Every subscription, by object.
pub async fn subscriptions(pool: &PgPool) -> Result<Vec<SubscriptionRow>, LedgerError> {
    Ok(
        sqlx::query_as("SELECT * FROM orgpool.subscriptions ORDER BY object")
            .fetch_all(pool)
            .await?,
    )
}

/// Records the subscription's state (creating its row on first use).
pub async fn set_state(
    pool: &PgPool,
    object: &str,
    topic: &str,
    state: &str,
    detail: Option<&str>,
) -> Result<(), LedgerError> {
    sqlx::query(
        "INSERT INTO orgpool.subscriptions (object, topic, state, detail) VALUES ($1, $2, $3, $4)
         ON CONFLICT (object) DO UPDATE SET topic = EXCLUDED.topic, state = EXCLUDED.state,
             detail = EXCLUDED.detail,
             changed_at = CASE WHEN orgpool.subscriptions.state = EXCLUDED.state
                               THEN orgpool.subscriptions.changed_at ELSE now() END",
    )
    .bind(object)
    .bind(topic)
    .bind(state)
    .bind(detail)
    .execute(pool)
    .await?;
    Ok(())
}

/// Where to resume `object`'s stream: the newest event in the inbox (received, not yet
/// applied, but durable), else the last one applied. None: never subscribed.
pub async fn resume_point(pool: &PgPool, object: &str) -> Result<Option<Vec<u8>>, LedgerError> {
    let inbox: Option<Vec<u8>> = sqlx::query_scalar(
        "SELECT replay_id FROM orgpool.change_events WHERE object = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(object)
    .fetch_optional(pool)
    .await?;
    if inbox.is_some() {
        return Ok(inbox);
    }
    Ok(sqlx::query_scalar::<_, Option<Vec<u8>>>(
        "SELECT replay_id FROM orgpool.subscriptions WHERE object = $1",
    )
    .bind(object)
    .fetch_optional(pool)
    .await?
    .flatten())
}

/// Forgets `object`'s position (its replay id is gone from the org): the stream starts
/// again from the latest event, and a resync covers what was missed. Events still in
/// the inbox stay and are applied.
pub async fn forget_position(pool: &PgPool, object: &str) -> Result<(), LedgerError> {
    sqlx::query("UPDATE orgpool.subscriptions SET replay_id = NULL WHERE object = $1")
        .bind(object)
        .execute(pool)
        .await?;
    Ok(())
}

/// Counts a gap healed by a resync.
pub async fn count_gap(pool: &PgPool, object: &str) -> Result<(), LedgerError> {
    sqlx::query("UPDATE orgpool.subscriptions SET gaps = gaps + 1 WHERE object = $1")
        .bind(object)
        .execute(pool)
        .await?;
    Ok(())
}

/// Stores received events in arrival order; one already stored (a replay after a
/// reconnect) is skipped. Returns how many were new.
pub async fn store(pool: &PgPool, object: &str, events: &[Received]) -> Result<u64, LedgerError> {
    if events.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Vec<u8>> = events.iter().map(|e| e.replay_id.clone()).collect();
    let at: Vec<DateTime<Utc>> = events.iter().map(|e| e.commit_at).collect();
    let bodies: Vec<serde_json::Value> = events.iter().map(|e| e.event.clone()).collect();
    let mut tx = pool.begin().await?;
    let new = sqlx::query(
        "INSERT INTO orgpool.change_events (object, replay_id, commit_at, event)
         SELECT $1, r, a, e FROM unnest($2::bytea[], $3::timestamptz[], $4::jsonb[]) WITH ORDINALITY AS u(r, a, e, n)
         ORDER BY n
         ON CONFLICT (object, replay_id) DO NOTHING",
    )
    .bind(object)
    .bind(&ids)
    .bind(&at)
    .bind(&bodies)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("UPDATE orgpool.subscriptions SET received = received + $2 WHERE object = $1")
        .bind(object)
        .bind(new as i64)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(new)
}

/// Objects with events no active run has taken.
pub async fn waiting_objects(pool: &PgPool) -> Result<Vec<String>, LedgerError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT e.object FROM orgpool.change_events e
         WHERE e.run_id IS NULL OR NOT EXISTS (
             SELECT 1 FROM orgpool.runs r WHERE r.id = e.run_id AND r.state IN ('planning', 'running'))",
    )
    .fetch_all(pool)
    .await?)
}

/// Claims for `run_id` the oldest `limit` events of `object` that no active run holds
/// (a failed run's events are taken again). Returns the claimed seq range.
pub async fn claim(
    conn: &mut PgConnection,
    object: &str,
    run_id: i64,
    limit: i64,
) -> Result<Option<(i64, i64, i64)>, LedgerError> {
    let (lo, hi, n): (Option<i64>, Option<i64>, i64) = sqlx::query_as(
        "WITH taken AS (
             UPDATE orgpool.change_events SET run_id = $2
             WHERE seq IN (
                 SELECT e.seq FROM orgpool.change_events e
                 WHERE e.object = $1 AND (e.run_id IS NULL OR NOT EXISTS (
                     SELECT 1 FROM orgpool.runs r
                     WHERE r.id = e.run_id AND r.id <> $2 AND r.state IN ('planning', 'running')))
                 ORDER BY e.seq LIMIT $3)
             RETURNING seq)
         SELECT min(seq), max(seq), count(*) FROM taken",
    )
    .bind(object)
    .bind(run_id)
    .bind(limit)
    .fetch_one(&mut *conn)
    .await?;
    Ok(lo.zip(hi).map(|(lo, hi)| (lo, hi, n)))
}

/// The run's claimed events of `object` in `[lo, hi]`, in order.
pub async fn load(
    conn: &mut PgConnection,
    object: &str,
    run_id: i64,
    lo: i64,
    hi: i64,
) -> Result<Vec<Stored>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT seq, replay_id, commit_at, event FROM orgpool.change_events
         WHERE object = $1 AND run_id = $2 AND seq BETWEEN $3 AND $4 ORDER BY seq",
    )
    .bind(object)
    .bind(run_id)
    .bind(lo)
    .bind(hi)
    .fetch_all(conn)
    .await?)
}

/// In the chunk's transaction: the events are applied; they leave the inbox and the
/// subscription's position becomes the last of them.
pub async fn applied(
    conn: &mut PgConnection,
    object: &str,
    last: &Stored,
    seqs: &[i64],
) -> Result<(), LedgerError> {
    sqlx::query("DELETE FROM orgpool.change_events WHERE seq = ANY($1)")
        .bind(seqs)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE orgpool.subscriptions SET replay_id = $2, replay_at = $3, applied = applied + $4
         WHERE object = $1",
    )
    .bind(object)
    .bind(&last.replay_id)
    .bind(last.commit_at)
    .bind(seqs.len() as i64)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Per object: events waiting in the inbox and the oldest one's receipt time.
pub async fn backlog(pool: &PgPool) -> Result<Vec<(String, i64, DateTime<Utc>)>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT object, count(*), min(received_at) FROM orgpool.change_events GROUP BY object ORDER BY object",
    )
    .fetch_all(pool)
    .await?)
}

/// Removes the subscription of a mapping whose events were turned off (its inbox too).
pub async fn remove(pool: &PgPool, object: &str) -> Result<(), LedgerError> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM orgpool.change_events WHERE object = $1")
        .bind(object)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE orgpool.subscriptions SET state = 'stopped', detail = 'events are off for this mapping' WHERE object = $1")
        .bind(object)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
