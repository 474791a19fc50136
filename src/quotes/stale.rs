//! Quotes that no longer match the org: a Quote whose Opportunity left the selection, or
//! lost every line item, is retired by a chunk of its run. Its lines whose Opportunity
//! line item is gone are deleted from Salesforce (a Quote never keeps lines pointing at
//! deleted records); then the Quote is marked with `[stale] status` (default), deleted,
//! or kept, as `[stale] action` says. A Quote whose Opportunity is gone from the mirror
//! was deleted by Salesforce with it and is only forgotten here.

use std::collections::HashSet;

use sqlx::PgPool;

use super::push::{PushError, Pushed, delete_stale, retryable};
use super::rules::{StaleAction, StaleRules};
use super::tables::{QuoteTables, Table};
use crate::ledger::pushes::{self, Records, Refused};
use crate::ledger::{LedgerError, quotes};
use crate::salesforce::{Client, Operation};

/// The live rows of `ids` in a mirror table.
async fn live(
    pool: &PgPool,
    table: &Table,
    ids: &[String],
) -> Result<HashSet<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT sfid::text FROM {} WHERE sfid = ANY($1) AND isdeleted IS NOT TRUE",
        table.sql()
    )))
    .bind(ids)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// A retire step failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum StaleError {
    /// The push failed (Salesforce or the ledger).
    #[error(transparent)]
    Push(#[from] PushError),
    /// Reading the mirror failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

impl From<LedgerError> for StaleError {
    fn from(e: LedgerError) -> Self {
        StaleError::Push(PushError::Ledger(e))
    }
}

/// Retires the Quotes `keys` as `rules` say; returns what was refused (in `failed` and
/// `retryable`) and, in `quotes`, how many Quotes were retired.
pub async fn retire(
    pool: &PgPool,
    client: &Client,
    tables: &QuoteTables,
    rules: &StaleRules,
    (run_id, chunk_id): (i64, i64),
    keys: &[String],
) -> Result<Pushed, StaleError> {
    let mut out = Pushed::default();
    let quotes = quotes::retiring(pool, keys).await?;
    let opps: Vec<String> = quotes.iter().map(|q| q.opportunity_sfid.clone()).collect();
    let alive = live(pool, &tables.opportunity, &opps).await?;
    let (here, gone): (Vec<_>, Vec<_>) = quotes
        .into_iter()
        .partition(|q| alive.contains(&q.opportunity_sfid));
    // Deleting an Opportunity deletes its Quotes in Salesforce: nothing to send.
    let gone: Vec<String> = gone.into_iter().map(|q| q.key).collect();
    quotes::drop_quotes(pool, &gone).await?;
    let here_keys: Vec<String> = here.iter().map(|q| q.key.clone()).collect();
    let lines = quotes::lines_of(pool, &here_keys).await?;
    let items: Vec<String> = lines.iter().map(|l| l.1.clone()).collect();
    let kept = live(pool, &tables.line_item, &items).await?;
    let orphans: Vec<String> = lines
        .into_iter()
        .filter(|l| !kept.contains(&l.1))
        .map(|l| l.0)
        .collect();
    quotes::mark_lines_stale(pool, &orphans).await?;
    let (bad, again) = delete_stale(pool, client, run_id, chunk_id, &here_keys).await?;
    out.failed += bad;
    out.retryable += again;
    if here.is_empty() {
        return Ok(out);
    }
    let (op, header, rows): (Operation, Vec<String>, Vec<Vec<String>>) = match rules.action {
        StaleAction::Keep => {
            quotes::set_stale(pool, &here_keys, None).await?;
            out.quotes = here.len();
            return Ok(out);
        }
        StaleAction::Mark => (
            Operation::Upsert {
                external_id: "Orgpool_Key__c".into(),
            },
            vec!["Orgpool_Key__c".into(), "Status".into()],
            here.iter()
                .map(|q| vec![q.key.clone(), rules.status.clone()])
                .collect(),
        ),
        StaleAction::Delete => (
            Operation::Delete,
            vec!["Id".into()],
            here.iter()
                .filter_map(|q| q.sf_id.clone())
                .map(|id| vec![id])
                .collect(),
        ),
    };
    let outcome = client
        .bulk_ingest("Quote", &op, &header, rows)
        .await
        .map_err(PushError::from)?;
    // Which Quote a result row is: by our key (mark) or by its Salesforce Id (delete).
    let key_of = |values: &[String], id: Option<&str>| -> String {
        let cell = values.first().map(String::as_str).or(id).unwrap_or("");
        here.iter()
            .find(|q| q.key == cell || q.sf_id.as_deref() == Some(cell))
            .map(|q| q.key.clone())
            .unwrap_or_else(|| cell.to_string())
    };
    let mut done: Vec<String> = outcome
        .saved
        .iter()
        .map(|s| key_of(&s.values, Some(&s.id)))
        .collect();
    let mut refused = Refused::default();
    for f in &outcome.failed {
        let key = key_of(&f.values, f.id.as_deref());
        if rules.action == StaleAction::Delete && f.code == "ENTITY_IS_DELETED" {
            done.push(key); // already gone: what we wanted
        } else {
            refused.push(key, &f.code, &f.message);
        }
    }
    for v in &outcome.unprocessed {
        refused.push(
            key_of(v, None),
            "UNPROCESSED",
            "the job ended before this record was processed",
        );
    }
    match rules.action {
        StaleAction::Delete => quotes::drop_quotes(pool, &done).await?,
        _ => quotes::set_stale(pool, &done, Some(&rules.status)).await?,
    }
    out.quotes = done.len();
    if !refused.keys.is_empty() {
        out.failed += refused.keys.len();
        out.retryable += refused.codes.iter().filter(|c| retryable(c)).count();
        let mut conn = pool.acquire().await.map_err(LedgerError::from)?;
        pushes::record_failures(&mut conn, run_id, chunk_id, Records::Quotes, &refused).await?;
    }
    Ok(out)
}
