//! What a push to Salesforce did to the Quote rows: a saved record gets its Salesforce
//! Id and state `pushed`, a refused one keeps Salesforce's code and message, and is
//! kept in `record_failures` (per Opportunity) until a later push saves it; lines whose
//! Opportunity line item is gone are dropped once Salesforce deleted them.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::LedgerError;

/// Which records a push sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Records {
    /// Quotes (`orgpool.quotes`).
    Quotes,
    /// Quote lines (`orgpool.quote_lines`).
    Lines,
}

impl Records {
    /// The Salesforce object.
    pub fn object(self) -> &'static str {
        match self {
            Records::Quotes => "Quote",
            Records::Lines => "QuoteLineItem",
        }
    }
}

/// Records Salesforce refused, column by column.
#[derive(Debug, Default)]
pub struct Refused {
    /// Our keys.
    pub keys: Vec<String>,
    /// Salesforce's status codes.
    pub codes: Vec<String>,
    /// Salesforce's messages.
    pub messages: Vec<String>,
}

impl Refused {
    /// Adds one.
    pub fn push(&mut self, key: String, code: &str, message: &str) {
        self.keys.push(key);
        self.codes.push(code.to_string());
        self.messages.push(message.to_string());
    }
}

/// Writes an ingest's results back, one statement per kind of result whatever the
/// number of records: `saved` as (keys, Salesforce Ids), and the refused records.
pub async fn record_results(
    pool: &PgPool,
    run_id: i64,
    chunk_id: i64,
    records: Records,
    saved: (&[String], &[String]),
    refused: &Refused,
) -> Result<(), LedgerError> {
    let mut tx = super::quotes::begin_relaxed(pool).await?;
    let mark_saved = match records {
        Records::Quotes => {
            "UPDATE orgpool.quotes t SET sf_id = v.id, state = 'pushed', error = NULL, pushed_at = now()
             FROM unnest($1::text[], $2::text[]) AS v(key, id) WHERE t.key = v.key"
        }
        Records::Lines => {
            "UPDATE orgpool.quote_lines t SET sf_id = v.id, state = 'pushed', error = NULL
             FROM unnest($1::text[], $2::text[]) AS v(key, id) WHERE t.key = v.key"
        }
    };
    sqlx::query(mark_saved)
        .bind(saved.0)
        .bind(saved.1)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE orgpool.record_failures SET resolved = true
         WHERE object = $1 AND key = ANY($2) AND NOT resolved",
    )
    .bind(records.object())
    .bind(saved.0)
    .execute(&mut *tx)
    .await?;
    if !refused.keys.is_empty() {
        let mark_failed = match records {
            Records::Quotes => {
                "UPDATE orgpool.quotes t SET state = 'failed', error = v.code || ': ' || v.message
                 FROM unnest($1::text[], $2::text[], $3::text[]) AS v(key, code, message) WHERE t.key = v.key"
            }
            Records::Lines => {
                "UPDATE orgpool.quote_lines t SET state = 'failed', error = v.code || ': ' || v.message
                 FROM unnest($1::text[], $2::text[], $3::text[]) AS v(key, code, message) WHERE t.key = v.key"
            }
        };
        sqlx::query(mark_failed)
            .bind(&refused.keys)
            .bind(&refused.codes)
            .bind(&refused.messages)
            .execute(&mut *tx)
            .await?;
        record_failures(&mut tx, run_id, chunk_id, records, refused).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Keeps refused records in `record_failures`, counting attempts per (object, key).
pub async fn record_failures(
    conn: &mut PgConnection,
    run_id: i64,
    chunk_id: i64,
    records: Records,
    refused: &Refused,
) -> Result<(), LedgerError> {
    sqlx::query(
        "INSERT INTO orgpool.record_failures (run_id, chunk_id, opportunity_sfid, object, key, code, message)
         SELECT $1, $2, split_part(v.key, ':', 1), $3, v.key, v.code, v.message
         FROM unnest($4::text[], $5::text[], $6::text[]) AS v(key, code, message)
         ON CONFLICT (object, key) DO UPDATE SET run_id = EXCLUDED.run_id, chunk_id = EXCLUDED.chunk_id,
             code = EXCLUDED.code, message = EXCLUDED.message, attempts = orgpool.record_failures.attempts + 1,
             resolved = false, at = now()",
    )
    .bind(run_id)
    .bind(chunk_id)
    .bind(records.object())
    .bind(&refused.keys)
    .bind(&refused.codes)
    .bind(&refused.messages)
    .execute(conn)
    .await?;
    Ok(())
}

/// A line whose Opportunity line item is gone.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaleLine {
    /// Our key.
    pub key: String,
    /// Its Salesforce Id, when it was ever pushed.
    pub sf_id: Option<String>,
}

/// The stale lines of the Quotes `keys`. Those never pushed are dropped at once (there
/// is nothing to delete in Salesforce) and only the pushed ones are returned.
pub async fn take_stale_lines(
    pool: &PgPool,
    keys: &[String],
) -> Result<Vec<StaleLine>, LedgerError> {
    sqlx::query(
        "DELETE FROM orgpool.quote_lines WHERE quote_key = ANY($1) AND state = 'stale' AND sf_id IS NULL",
    )
    .bind(keys)
    .execute(pool)
    .await?;
    Ok(sqlx::query_as(
        "SELECT key, sf_id FROM orgpool.quote_lines WHERE quote_key = ANY($1) AND state = 'stale'",
    )
    .bind(keys)
    .fetch_all(pool)
    .await?)
}

/// Drops the stale lines Salesforce deleted, by their Salesforce Ids (an earlier refusal
/// to delete one is resolved with it).
pub async fn drop_deleted_lines(pool: &PgPool, sf_ids: &[String]) -> Result<(), LedgerError> {
    sqlx::query(
        "WITH gone AS (DELETE FROM orgpool.quote_lines WHERE sf_id = ANY($1) AND state = 'stale' RETURNING key)
         UPDATE orgpool.record_failures SET resolved = true
         WHERE object = 'QuoteLineItem' AND key IN (SELECT key FROM gone) AND NOT resolved",
    )
    .bind(sf_ids)
    .execute(pool)
    .await?;
    Ok(())
}

/// Drops lines by key (Salesforce had deleted them already), resolving any refusal.
pub async fn drop_lines(pool: &PgPool, keys: &[String]) -> Result<(), LedgerError> {
    sqlx::query(
        "WITH gone AS (DELETE FROM orgpool.quote_lines WHERE key = ANY($1) RETURNING key)
         UPDATE orgpool.record_failures SET resolved = true
         WHERE object = 'QuoteLineItem' AND key IN (SELECT key FROM gone) AND NOT resolved",
    )
    .bind(keys)
    .execute(pool)
    .await?;
    Ok(())
}

/// One open per-record failure.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Failure {
    /// `Quote` or `QuoteLineItem`.
    pub object: String,
    /// Our key of the record.
    pub key: String,
    /// The Opportunity it belongs to.
    pub opportunity_sfid: Option<String>,
    /// Salesforce's status code.
    pub code: String,
    /// Salesforce's message.
    pub message: String,
    /// Attempts so far.
    pub attempts: i32,
    /// Last seen.
    pub at: DateTime<Utc>,
}

/// The latest open per-record failures (`orgpool jobs failures`, the status page).
pub async fn open_failures(pool: &PgPool, limit: i64) -> Result<Vec<Failure>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT object, key, opportunity_sfid, code, message, attempts, at
         FROM orgpool.record_failures WHERE NOT resolved ORDER BY at DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Open per-record failures last seen in run `run_id` (whether it ends succeeded or
/// succeeded with failures).
pub async fn open_failures_of<'e>(
    conn: impl sqlx::PgExecutor<'e>,
    run_id: i64,
) -> Result<i64, LedgerError> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM orgpool.record_failures WHERE run_id = $1 AND NOT resolved",
    )
    .bind(run_id)
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// The Opportunities with open refused records, per run that succeeded with failures
/// (`run`: only that one), runs in id order: what `jobs retry --records` prices again.
pub async fn refused_opportunities(
    pool: &PgPool,
    run: Option<i64>,
) -> Result<Vec<(i64, Vec<String>)>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT f.run_id, array_agg(DISTINCT f.opportunity_sfid::text ORDER BY f.opportunity_sfid::text)
         FROM orgpool.record_failures f JOIN orgpool.runs r ON r.id = f.run_id
         WHERE NOT f.resolved AND f.opportunity_sfid IS NOT NULL
           AND r.state = 'succeeded_with_failures' AND ($1::bigint IS NULL OR r.id = $1)
         GROUP BY f.run_id ORDER BY f.run_id",
    )
    .bind(run)
    .fetch_all(pool)
    .await?)
}
