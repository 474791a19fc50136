//! Quote bookkeeping in the ledger: the rules text by version (so every worker of a run
//! prices with the same rules), the Quote and line rows a chunk computes, the rows a
//! push sends, and which Opportunities are quoted and unchanged under a version. What a
//! push did to these rows (Salesforce Ids, refusals, deleted lines) is [`super::pushes`].

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use super::LedgerError;

/// Records the rules text under its version; recording the same version again is a
/// no-op.
pub async fn record_rules(pool: &PgPool, version: &str, text: &str) -> Result<(), LedgerError> {
    sqlx::query(
        "INSERT INTO orgpool.quote_rules (version, rules) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING",
    )
    .bind(version)
    .bind(text)
    .execute(pool)
    .await?;
    Ok(())
}

/// The rules text recorded under `version`, if any.
pub async fn rules(pool: &PgPool, version: &str) -> Result<Option<String>, LedgerError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT rules FROM orgpool.quote_rules WHERE version = $1")
            .bind(version)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|r| r.0))
}

/// A transaction for quote bookkeeping. Losing its commit in a database crash costs only
/// a recomputation or a repeated upsert by our own key (both harmless), so it need not
/// wait for the WAL flush; the ledger's chunk commit that follows is durable as usual.
pub async fn begin_relaxed(pool: &PgPool) -> Result<Transaction<'static, Postgres>, LedgerError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Of the Quote `keys`, those run `run_id` already pushed (a retried chunk leaves them).
pub async fn pushed_by_run(
    conn: &mut PgConnection,
    keys: &[String],
    run_id: i64,
) -> Result<HashSet<String>, LedgerError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT key FROM orgpool.quotes WHERE key = ANY($1) AND state = 'pushed' AND run_id = $2",
    )
    .bind(keys)
    .bind(run_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Of the Opportunities `ids` (with their mirror `stamps`, in the same order), those
/// with a pushed Quote under `version` priced at or after that stamp: unchanged since.
pub async fn unchanged_since_quote(
    pool: &PgPool,
    version: &str,
    ids: &[String],
    stamps: &[Option<DateTime<Utc>>],
) -> Result<HashSet<String>, LedgerError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT v.sfid FROM unnest($1::text[], $2::timestamptz[]) AS v(sfid, stamp)
         WHERE EXISTS (SELECT 1 FROM orgpool.quotes q WHERE q.opportunity_sfid = v.sfid
                       AND q.rules_version = $3 AND q.state = 'pushed' AND q.opportunity_modstamp >= v.stamp)",
    )
    .bind(ids)
    .bind(stamps)
    .bind(version)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// What every Quote of a chunk shares.
#[derive(Debug, Clone, Copy)]
pub struct QuoteRun<'a> {
    /// The rules version.
    pub version: &'a str,
    /// The Quote status the rules set.
    pub status: &'a str,
    /// The price book's Salesforce Id.
    pub price_book: &'a str,
    /// The run.
    pub run_id: i64,
}

/// The Quotes of a chunk, column by column (saved with one statement).
#[derive(Debug, Default)]
pub struct QuoteRows {
    /// `Orgpool_Key__c`.
    pub key: Vec<String>,
    /// The Opportunity.
    pub opportunity: Vec<String>,
    /// The Quote name.
    pub name: Vec<String>,
    /// Its expiration date.
    pub expiration: Vec<Option<NaiveDate>>,
    /// Lines priced.
    pub line_count: Vec<i32>,
    /// Its total.
    pub total: Vec<Decimal>,
    /// The Opportunity's `SystemModstamp` when priced.
    pub stamp: Vec<Option<DateTime<Utc>>>,
}

/// The Quote lines of a chunk, column by column (saved with one statement).
#[derive(Debug, Default)]
pub struct LineRows {
    /// `Orgpool_Key__c` of the line.
    pub key: Vec<String>,
    /// Its Quote's key.
    pub quote_key: Vec<String>,
    /// The Opportunity line item it prices.
    pub line: Vec<String>,
    /// Product2 Id.
    pub product: Vec<Option<String>>,
    /// PricebookEntry Id.
    pub entry: Vec<Option<String>>,
    /// Quantity.
    pub quantity: Vec<Decimal>,
    /// List price.
    pub unit_price: Vec<Decimal>,
    /// Discount in percent.
    pub discount: Vec<Decimal>,
    /// Line total.
    pub total: Vec<Decimal>,
}

/// Saves freshly computed Quotes and their lines. Every existing line of these Quotes is
/// marked stale first, and the upsert of the lines just priced marks those computed
/// again: what stays stale belongs to an Opportunity line item that is gone, and the
/// push deletes it from Salesforce, so a replaced Quote keeps no orphan lines.
pub async fn save_computed(
    conn: &mut PgConnection,
    run: QuoteRun<'_>,
    quotes: &QuoteRows,
    lines: &LineRows,
) -> Result<(), LedgerError> {
    sqlx::query(
        "INSERT INTO orgpool.quotes (key, opportunity_sfid, rules_version, name, status, expiration_date,
             pricebook2id, line_count, total, state, error, run_id, computed_at, opportunity_modstamp)
         SELECT v.key, v.opp, $8, v.name, $9, v.exp, $10, v.n, v.total, 'computed', NULL, $11, now(), v.stamp
         FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::int4[], $6::numeric[], $7::timestamptz[])
              AS v(key, opp, name, exp, n, total, stamp)
         ON CONFLICT (key) DO UPDATE SET rules_version = EXCLUDED.rules_version, name = EXCLUDED.name,
             opportunity_modstamp = EXCLUDED.opportunity_modstamp,
             status = EXCLUDED.status, expiration_date = EXCLUDED.expiration_date,
             pricebook2id = EXCLUDED.pricebook2id, line_count = EXCLUDED.line_count, total = EXCLUDED.total,
             state = 'computed', error = NULL, run_id = EXCLUDED.run_id, computed_at = now()",
    )
    .bind(&quotes.key)
    .bind(&quotes.opportunity)
    .bind(&quotes.name)
    .bind(&quotes.expiration)
    .bind(&quotes.line_count)
    .bind(&quotes.total)
    .bind(&quotes.stamp)
    .bind(run.version)
    .bind(run.status)
    .bind(run.price_book)
    .bind(run.run_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE orgpool.quote_lines SET state = 'stale' WHERE quote_key = ANY($1)")
        .bind(&quotes.key)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO orgpool.quote_lines (key, quote_key, opportunity_line_sfid, product2id, pricebookentryid,
             quantity, unit_price, discount, total, state)
         SELECT v.*, 'computed'
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[],
                     $7::numeric[], $8::numeric[], $9::numeric[])
              AS v(key, quote_key, line, product, entry, quantity, unit_price, discount, total)
         ON CONFLICT (key) DO UPDATE SET product2id = EXCLUDED.product2id, pricebookentryid = EXCLUDED.pricebookentryid,
             quantity = EXCLUDED.quantity, unit_price = EXCLUDED.unit_price, discount = EXCLUDED.discount,
             total = EXCLUDED.total, state = 'computed', error = NULL",
    )
    .bind(&lines.key)
    .bind(&lines.quote_key)
    .bind(&lines.line)
    .bind(&lines.product)
    .bind(&lines.entry)
    .bind(&lines.quantity)
    .bind(&lines.unit_price)
    .bind(&lines.discount)
    .bind(&lines.total)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A Quote to send.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuoteToPush {
    /// `Orgpool_Key__c`.
    pub key: String,
    /// The Opportunity.
    pub opportunity_sfid: String,
    /// Name.
    pub name: String,
    /// Status.
    pub status: String,
    /// Expiration date.
    pub expiration_date: Option<NaiveDate>,
    /// Price book Id.
    pub pricebook2id: Option<String>,
}

/// Of the Quote `keys`, those not pushed yet, by key.
pub async fn unpushed(pool: &PgPool, keys: &[String]) -> Result<Vec<QuoteToPush>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT key, opportunity_sfid, name, status, expiration_date, pricebook2id FROM orgpool.quotes
         WHERE key = ANY($1) AND state <> 'pushed' ORDER BY key",
    )
    .bind(keys)
    .fetch_all(pool)
    .await?)
}

/// A Quote line to send.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LineToPush {
    /// `Orgpool_Key__c` of the line.
    pub key: String,
    /// Its Quote's key.
    pub quote_key: String,
    /// The Opportunity line item it was priced from (`OpportunityLineItemId`).
    pub opportunity_line_sfid: String,
    /// PricebookEntry Id.
    pub pricebookentryid: Option<String>,
    /// Quantity.
    pub quantity: Decimal,
    /// List price.
    pub unit_price: Decimal,
    /// Discount in percent.
    pub discount: Decimal,
}

/// The unsaved lines (computed, or refused before) of those Quotes in `keys` that are
/// pushed: a line whose Quote is not in Salesforce is not sent.
pub async fn lines_to_push(pool: &PgPool, keys: &[String]) -> Result<Vec<LineToPush>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT l.key, l.quote_key, l.opportunity_line_sfid, l.pricebookentryid, l.quantity, l.unit_price, l.discount
         FROM orgpool.quote_lines l JOIN orgpool.quotes q ON q.key = l.quote_key
         WHERE l.quote_key = ANY($1) AND q.state = 'pushed' AND l.state IN ('computed', 'failed') ORDER BY l.key",
    )
    .bind(keys)
    .fetch_all(pool)
    .await?)
}

/// Marks every Quote and line computed again and returns the Quote keys: the quote
/// benchmark's baseline pushes them all once more with nothing around the push.
pub async fn mark_all_computed(pool: &PgPool) -> Result<Vec<String>, LedgerError> {
    sqlx::query("UPDATE orgpool.quote_lines SET state = 'computed'")
        .execute(pool)
        .await?;
    let keys: Vec<(String,)> =
        sqlx::query_as("UPDATE orgpool.quotes SET state = 'computed' RETURNING key")
            .fetch_all(pool)
            .await?;
    Ok(keys.into_iter().map(|k| k.0).collect())
}

/// Of the Quotes in Salesforce, the keys of those whose Opportunity is not in `quoted`
/// (the Opportunities the selection matched with line items): left the selection, or
/// lost all their lines. A Quote already retired (`stale`) is not picked again.
pub async fn stale_quotes(pool: &PgPool, quoted: &[String]) -> Result<Vec<String>, LedgerError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT key FROM orgpool.quotes WHERE state = 'pushed' AND NOT (opportunity_sfid = ANY($1))
         ORDER BY key",
    )
    .bind(quoted)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// A Quote to retire.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Retiring {
    /// `Orgpool_Key__c`.
    pub key: String,
    /// The Opportunity.
    pub opportunity_sfid: String,
    /// Its Salesforce Id.
    pub sf_id: Option<String>,
}

/// The Quotes `keys` still in Salesforce (state `pushed`).
pub async fn retiring(pool: &PgPool, keys: &[String]) -> Result<Vec<Retiring>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT key, opportunity_sfid, sf_id FROM orgpool.quotes
         WHERE key = ANY($1) AND state = 'pushed' ORDER BY key",
    )
    .bind(keys)
    .fetch_all(pool)
    .await?)
}

/// The (line key, Opportunity line item) of every line of the Quotes `keys`.
pub async fn lines_of(
    pool: &PgPool,
    keys: &[String],
) -> Result<Vec<(String, String)>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT key, opportunity_line_sfid::text FROM orgpool.quote_lines WHERE quote_key = ANY($1)",
    )
    .bind(keys)
    .fetch_all(pool)
    .await?)
}

/// Marks lines `stale` (their Opportunity line item is gone): the next push of their
/// Quote deletes them from Salesforce.
pub async fn mark_lines_stale(pool: &PgPool, keys: &[String]) -> Result<(), LedgerError> {
    sqlx::query("UPDATE orgpool.quote_lines SET state = 'stale' WHERE key = ANY($1)")
        .bind(keys)
        .execute(pool)
        .await?;
    Ok(())
}

/// Records Quotes as retired (`stale`), with the `status` they were marked with when
/// marked; a refusal kept for them is resolved.
pub async fn set_stale(
    pool: &PgPool,
    keys: &[String],
    status: Option<&str>,
) -> Result<(), LedgerError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE orgpool.quotes SET state = 'stale', status = coalesce($2, status), error = NULL
         WHERE key = ANY($1)",
    )
    .bind(keys)
    .bind(status)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE orgpool.record_failures SET resolved = true
         WHERE object = 'Quote' AND key = ANY($1) AND NOT resolved",
    )
    .bind(keys)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Forgets Quotes (and their lines) that are gone from Salesforce, resolving their
/// refusals.
pub async fn drop_quotes(pool: &PgPool, keys: &[String]) -> Result<(), LedgerError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE orgpool.record_failures SET resolved = true
         WHERE NOT resolved AND (key = ANY($1)
                                 OR key LIKE ANY (SELECT k || ':%' FROM unnest($1::text[]) AS k))",
    )
    .bind(keys)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM orgpool.quotes WHERE key = ANY($1)")
        .bind(keys)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
