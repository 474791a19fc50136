//! Pushing computed Quotes to Salesforce: one Bulk 2.0 upsert of the Quotes keyed by
//! `Orgpool_Key__c`, then one of their lines keyed by their own `Orgpool_Key__c` and
//! pointing at their Quote through `Quote.Orgpool_Key__c` (no Id lookups). Upserts by
//! our own keys make a repeated push harmless. Per-record results are written back: a
//! saved record gets its Salesforce Id and state `pushed`, a refused one is kept with
//! Salesforce's code and message ([`crate::ledger::pushes`]); a line whose Quote failed
//! is not sent.

use sqlx::PgPool;

use crate::ledger::pushes::{self, Records, Refused};
use crate::ledger::{LedgerError, quotes};
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
    /// Of those, refusals another try may save (a locked row, a record the job never
    /// reached); the rest are permanent (a deleted Opportunity, a validation rule) and
    /// wait for a fix and `orgpool jobs retry --records`.
    pub retryable: usize,
}

/// Whether Salesforce's per-record code is worth another try as it is: contention and
/// records the job never processed. Anything else needs the data or the org fixed.
pub fn retryable(code: &str) -> bool {
    matches!(
        code,
        "UNABLE_TO_LOCK_ROW"
            | "UNPROCESSED"
            | "SERVER_UNAVAILABLE"
            | "REQUEST_RUNNING_TOO_LONG"
            | "QUERY_TIMEOUT"
            | "API_TEMPORARILY_UNAVAILABLE"
    )
}

/// A push failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// Salesforce failed (outage, limit, ...).
    #[error(transparent)]
    Salesforce(#[from] SfError),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
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
    let quotes = quotes::unpushed(pool, keys).await?;
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
        let rows = quotes.iter().map(|q| {
            vec![
                q.key.clone(),
                q.name.clone(),
                q.opportunity_sfid.clone(),
                q.status.clone(),
                q.expiration_date.map(|d| d.to_string()).unwrap_or_default(),
                q.pricebook2id.clone().unwrap_or_default(),
            ]
        });
        let outcome = client
            .bulk_ingest("Quote", &upsert(), &header, rows)
            .await?;
        let (ok, bad, again) = record(pool, run_id, chunk_id, Records::Quotes, &outcome).await?;
        out.quotes += ok;
        out.failed += bad;
        out.retryable += again;
    }
    let lines = quotes::lines_to_push(pool, keys).await?;
    if !lines.is_empty() {
        let header: Vec<String> = [
            KEY,
            "Quote.Orgpool_Key__c",
            // Names the line it was priced from, so the org links the two.
            "OpportunityLineItemId",
            "PricebookEntryId",
            "Quantity",
            "UnitPrice",
            "Discount",
        ]
        .map(String::from)
        .to_vec();
        let rows = lines.iter().map(|l| {
            vec![
                l.key.clone(),
                l.quote_key.clone(),
                l.opportunity_line_sfid.clone(),
                l.pricebookentryid.clone().unwrap_or_default(),
                l.quantity.to_string(),
                l.unit_price.to_string(),
                l.discount.to_string(),
            ]
        });
        let outcome = client
            .bulk_ingest("QuoteLineItem", &upsert(), &header, rows)
            .await?;
        let (ok, bad, again) = record(pool, run_id, chunk_id, Records::Lines, &outcome).await?;
        out.lines += ok;
        out.failed += bad;
        out.retryable += again;
    }
    let (bad, again) = delete_stale(pool, client, run_id, chunk_id, keys).await?;
    out.failed += bad;
    out.retryable += again;
    Ok(out)
}

/// Deletes the lines whose Opportunity line item is gone; returns how many failed and,
/// of those, how many may pass on another try.
pub async fn delete_stale(
    pool: &PgPool,
    client: &Client,
    run_id: i64,
    chunk_id: i64,
    keys: &[String],
) -> Result<(usize, usize), PushError> {
    let stale = pushes::take_stale_lines(pool, keys).await?;
    let ids: Vec<Vec<String>> = stale
        .iter()
        .filter_map(|s| s.sf_id.clone())
        .map(|id| vec![id])
        .collect();
    if ids.is_empty() {
        return Ok((0, 0));
    }
    let outcome = client
        .bulk_ingest(
            "QuoteLineItem",
            &Operation::Delete,
            &["Id".to_string()],
            ids,
        )
        .await?;
    let deleted: Vec<String> = outcome.saved.iter().map(|s| s.id.clone()).collect();
    pushes::drop_deleted_lines(pool, &deleted).await?;
    let (mut gone, mut refused) = (Vec::new(), Refused::default());
    for f in &outcome.failed {
        let id =
            f.id.clone()
                .or_else(|| f.values.first().cloned())
                .unwrap_or_default();
        let key = stale
            .iter()
            .find(|s| s.sf_id.as_deref() == Some(id.as_str()))
            .map(|s| s.key.clone())
            .unwrap_or(id);
        if f.code == "ENTITY_IS_DELETED" {
            // Already gone in Salesforce: what we wanted.
            gone.push(key);
        } else {
            refused.push(key, &f.code, &f.message);
        }
    }
    pushes::drop_lines(pool, &gone).await?;
    if !refused.keys.is_empty() {
        let mut conn = pool.acquire().await.map_err(LedgerError::from)?;
        pushes::record_failures(&mut conn, run_id, chunk_id, Records::Lines, &refused).await?;
    }
    let again = outcome.failed.iter().filter(|f| retryable(&f.code)).count();
    let again = again + outcome.unprocessed.len();
    Ok((outcome.failed.len() + outcome.unprocessed.len(), again))
}

/// Writes an ingest's per-record results back; returns (saved, refused, retryable).
async fn record(
    pool: &PgPool,
    run_id: i64,
    chunk_id: i64,
    records: Records,
    outcome: &IngestOutcome,
) -> Result<(usize, usize, usize), PushError> {
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
    let mut refused = Refused::default();
    for (code, message, values) in failed.chain(unprocessed) {
        refused.push(key_of(values), code, message);
    }
    pushes::record_results(
        pool,
        run_id,
        chunk_id,
        records,
        (&saved_keys, &saved_ids),
        &refused,
    )
    .await?;
    let again = refused.codes.iter().filter(|c| retryable(c)).count();
    Ok((outcome.saved.len(), refused.keys.len(), again))
}
