//! Pushing computed Quotes to Salesforce: one Bulk 2.0 upsert of the Quotes keyed by
//! `Orgpool_Key__c`, then one of their lines keyed by their own `Orgpool_Key__c` and
//! pointing at their Quote through `Quote.Orgpool_Key__c` (no Id lookups). Upserts by
//! our own keys make a repeated push harmless. Per-record results are written back: a
//! saved record gets its Salesforce Id and state `pushed`, a refused one is kept in
//! `orgpool.record_failures` with Salesforce's code and message; a line whose Quote
//! failed is not sent.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgPool;

use crate::salesforce::{Client, IngestOutcome, Operation, SfError};

/// What a push did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pushed {
    /// Quotes saved.
    pub quotes: usize,
    /// Lines saved.
    pub lines: usize,
    /// Records refused (Quotes and lines).
    pub failed: usize,
}

/// A push failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// Salesforce failed (outage, limit, ...).
    #[error(transparent)]
    Salesforce(#[from] SfError),
    /// Postgres failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

const KEY: &str = "Orgpool_Key__c";

fn upsert() -> Operation {
    Operation::Upsert {
        external_id: KEY.into(),
    }
}

/// Pushes the Quotes `keys` (and their lines) that are not pushed yet.
pub async fn push(
    pool: &PgPool,
    client: &Client,
    run_id: i64,
    chunk_id: i64,
    keys: &[String],
) -> Result<Pushed, PushError> {
    let mut out = Pushed::default();
    type QuoteRow = (
        String,
        String,
        String,
        String,
        Option<NaiveDate>,
        Option<String>,
    );
    let quotes: Vec<QuoteRow> = sqlx::query_as(
        "SELECT key, opportunity_sfid, name, status, expiration_date, pricebook2id FROM orgpool.quotes
         WHERE key = ANY($1) AND state <> 'pushed' ORDER BY key",
    )
    .bind(keys)
    .fetch_all(pool)
    .await?;
    if !quotes.is_empty() {
        let header: Vec<String> = [
            KEY,
            "Name",
            "OpportunityId",
            "Status",
            "ExpirationDate",
            "Pricebook2Id",
        ]
        .map(String::from)
        .to_vec();
        let rows = quotes.iter().map(|(k, o, n, s, e, p)| {
            vec![
                k.clone(),
                n.clone(),
                o.clone(),
                s.clone(),
                e.map(|d| d.to_string()).unwrap_or_default(),
                p.clone().unwrap_or_default(),
            ]
        });
        let outcome = client
            .bulk_ingest("Quote", &upsert(), &header, rows)
            .await?;
        let (ok, bad) = record(pool, run_id, chunk_id, "Quote", "quotes", &outcome).await?;
        out.quotes += ok;
        out.failed += bad;
    }
    type LineRow = (
        String,
        String,
        Option<String>,
        Decimal,
        Decimal,
        Decimal,
        String,
    );
    let lines: Vec<LineRow> = sqlx::query_as(
        "SELECT l.key, l.quote_key, l.pricebookentryid, l.quantity, l.unit_price, l.discount, q.opportunity_sfid
         FROM orgpool.quote_lines l JOIN orgpool.quotes q ON q.key = l.quote_key
         WHERE l.quote_key = ANY($1) AND q.state = 'pushed' AND l.state IN ('computed', 'failed') ORDER BY l.key",
    )
    .bind(keys)
    .fetch_all(pool)
    .await?;
    if !lines.is_empty() {
        let header: Vec<String> = [
            KEY,
            "Quote.Orgpool_Key__c",
            "PricebookEntryId",
            "Quantity",
            "UnitPrice",
            "Discount",
        ]
        .map(String::from)
        .to_vec();
        let rows = lines.iter().map(|(k, q, e, qty, price, disc, _)| {
            vec![
                k.clone(),
                q.clone(),
                e.clone().unwrap_or_default(),
                qty.to_string(),
                price.to_string(),
                disc.to_string(),
            ]
        });
        let outcome = client
            .bulk_ingest("QuoteLineItem", &upsert(), &header, rows)
            .await?;
        let (ok, bad) = record(
            pool,
            run_id,
            chunk_id,
            "QuoteLineItem",
            "quote_lines",
            &outcome,
        )
        .await?;
        out.lines += ok;
        out.failed += bad;
    }
    out.failed += delete_stale(pool, client, run_id, chunk_id, keys).await?;
    Ok(out)
}

/// Deletes the lines whose Opportunity line item is gone; returns how many failed.
async fn delete_stale(
    pool: &PgPool,
    client: &Client,
    run_id: i64,
    chunk_id: i64,
    keys: &[String],
) -> Result<usize, PushError> {
    let stale: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT key, sf_id FROM orgpool.quote_lines WHERE quote_key = ANY($1) AND state = 'stale'",
    )
    .bind(keys)
    .fetch_all(pool)
    .await?;
    // Never pushed: nothing to delete in Salesforce.
    sqlx::query("DELETE FROM orgpool.quote_lines WHERE quote_key = ANY($1) AND state = 'stale' AND sf_id IS NULL")
        .bind(keys)
        .execute(pool)
        .await?;
    let ids: Vec<Vec<String>> = stale
        .iter()
        .filter_map(|(_, id)| id.clone())
        .map(|id| vec![id])
        .collect();
    if ids.is_empty() {
        return Ok(0);
    }
    let outcome = client
        .bulk_ingest(
            "QuoteLineItem",
            &Operation::Delete,
            &["Id".to_string()],
            ids,
        )
        .await?;
    for s in &outcome.saved {
        sqlx::query("DELETE FROM orgpool.quote_lines WHERE sf_id = $1 AND state = 'stale'")
            .bind(&s.id)
            .execute(pool)
            .await?;
    }
    for f in &outcome.failed {
        let id =
            f.id.clone()
                .or_else(|| f.values.first().cloned())
                .unwrap_or_default();
        let key = stale
            .iter()
            .find(|(_, s)| s.as_deref() == Some(id.as_str()))
            .map(|(k, _)| k.clone())
            .unwrap_or(id);
        if f.code == "ENTITY_IS_DELETED" {
            // Already gone in Salesforce: what we wanted.
            sqlx::query("DELETE FROM orgpool.quote_lines WHERE key = $1")
                .bind(&key)
                .execute(pool)
                .await?;
            continue;
        }
        sqlx::query(
            "INSERT INTO orgpool.record_failures (run_id, chunk_id, opportunity_sfid, object, key, code, message)
             VALUES ($1, $2, split_part($3, ':', 1), 'QuoteLineItem', $3, $4, $5)
             ON CONFLICT (object, key) DO UPDATE SET attempts = orgpool.record_failures.attempts + 1,
                 code = EXCLUDED.code, message = EXCLUDED.message, resolved = false, at = now()",
        )
        .bind(run_id)
        .bind(chunk_id)
        .bind(&key)
        .bind(&f.code)
        .bind(&f.message)
        .execute(pool)
        .await?;
    }
    Ok(outcome.failed.len() + outcome.unprocessed.len())
}

/// Writes an ingest's per-record results back to `table`; returns (saved, refused).
async fn record(
    pool: &PgPool,
    run_id: i64,
    chunk_id: i64,
    object: &str,
    table: &str,
    outcome: &IngestOutcome,
) -> Result<(usize, usize), PushError> {
    let col = outcome.column(KEY).unwrap_or(0);
    let key_of = |values: &Vec<String>| values.get(col).cloned().unwrap_or_default();
    let saved_keys: Vec<String> = outcome.saved.iter().map(|s| key_of(&s.values)).collect();
    let saved_ids: Vec<String> = outcome.saved.iter().map(|s| s.id.clone()).collect();
    let unprocessed = outcome.unprocessed.iter().map(|v| {
        (
            "UNPROCESSED",
            "the job ended before this record was processed",
            v,
        )
    });
    let failed = outcome
        .failed
        .iter()
        .map(|f| (f.code.as_str(), f.message.as_str(), &f.values));
    let (mut bad_keys, mut codes, mut messages) = (Vec::new(), Vec::new(), Vec::new());
    for (code, message, values) in failed.chain(unprocessed) {
        bad_keys.push(key_of(values));
        codes.push(code.to_string());
        messages.push(message.to_string());
    }
    let refused = bad_keys.len();
    // One statement per kind of result, whatever the number of records.
    let mut tx = pool.begin().await?;
    // Losing this commit in a database crash costs only a recomputation or a repeated
    // upsert by our own key (both harmless), so it need not wait for the WAL flush; the
    // ledger's chunk commit that follows is durable as usual.
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE orgpool.{table} t SET sf_id = v.id, state = 'pushed', error = NULL{}
         FROM unnest($1::text[], $2::text[]) AS v(key, id) WHERE t.key = v.key",
        if table == "quotes" {
            ", pushed_at = now()"
        } else {
            ""
        }
    )))
    .bind(&saved_keys)
    .bind(&saved_ids)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE orgpool.record_failures SET resolved = true
         WHERE object = $1 AND key = ANY($2) AND NOT resolved",
    )
    .bind(object)
    .bind(&saved_keys)
    .execute(&mut *tx)
    .await?;
    if refused > 0 {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE orgpool.{table} t SET state = 'failed', error = v.code || ': ' || v.message
             FROM unnest($1::text[], $2::text[], $3::text[]) AS v(key, code, message) WHERE t.key = v.key"
        )))
        .bind(&bad_keys)
        .bind(&codes)
        .bind(&messages)
        .execute(&mut *tx)
        .await?;
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
        .bind(object)
        .bind(&bad_keys)
        .bind(&codes)
        .bind(&messages)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok((outcome.saved.len(), refused))
}
