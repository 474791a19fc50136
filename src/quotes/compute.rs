//! Computing a chunk's Quotes from the mirror alone (no Salesforce reads): its
//! Opportunities, their accounts' billing countries, line items, product families and
//! the rules' price book entries; priced, then saved in `orgpool.quotes` and
//! `orgpool.quote_lines` (a Quote this run already pushed is left as it is, so a
//! retried chunk only sends what is missing).

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;

use super::pricing::{LineInput, PricingError, price_line};
use super::rules::{Expiration, QuotesFile, Versioning};

/// A problem computing Quotes.
#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    /// Postgres failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// The price book named by the rules is not in the mirror.
    #[error(
        "price book {0:?} is not in the mirror (salesforce.pricebook2); fix pricing.price_book in jobs/quotes.toml or map Pricebook2"
    )]
    NoPriceBook(String),
    /// A line cannot be priced.
    #[error("Opportunity {opportunity}, line {line}: {source}")]
    Pricing {
        /// The Opportunity.
        opportunity: String,
        /// The line item.
        line: String,
        /// Why.
        source: PricingError,
    },
}

/// The Quote key (`Orgpool_Key__c`) of an Opportunity under a rules version.
pub fn quote_key(rules: &QuotesFile, opportunity: &str, version: &str) -> String {
    match rules.quote.versioning {
        Versioning::Replace => opportunity.to_string(),
        Versioning::NewVersion => format!("{opportunity}:{version}"),
    }
}

/// Computes and saves the Quotes of `opportunities`; returns how many were (re)computed.
pub async fn compute(
    pool: &PgPool,
    rules: &QuotesFile,
    version: &str,
    run_id: i64,
    opportunities: &[String],
) -> Result<usize, ComputeError> {
    let book: Option<(String,)> =
        sqlx::query_as("SELECT sfid FROM salesforce.pricebook2 WHERE lower(name) = lower($1) AND isdeleted IS NOT TRUE LIMIT 1")
            .bind(&rules.pricing.price_book)
            .fetch_optional(pool)
            .await?;
    let book = book
        .ok_or_else(|| ComputeError::NoPriceBook(rules.pricing.price_book.clone()))?
        .0;
    type OppRow = (
        String,
        String,
        Option<NaiveDate>,
        Option<String>,
        Option<chrono::DateTime<Utc>>,
    );
    let opps: Vec<OppRow> = sqlx::query_as(
        "SELECT o.sfid, o.name, o.closedate, a.billingcountry, o.systemmodstamp FROM salesforce.opportunity o
         LEFT JOIN salesforce.account a ON a.sfid = o.accountid WHERE o.sfid = ANY($1)",
    )
    .bind(opportunities)
    .fetch_all(pool)
    .await?;
    type LineRow = (
        String,
        String,
        Option<String>,
        Decimal,
        Option<String>,
        Option<Decimal>,
        Option<String>,
    );
    let lines: Vec<LineRow> = sqlx::query_as(
        "SELECT l.sfid, l.opportunityid, l.product2id, l.quantity, p.family, e.unitprice, e.sfid
         FROM salesforce.opportunitylineitem l
         LEFT JOIN salesforce.product2 p ON p.sfid = l.product2id
         LEFT JOIN salesforce.pricebookentry e ON e.product2id = l.product2id AND e.pricebook2id = $2
         WHERE l.opportunityid = ANY($1) ORDER BY l.sfid",
    )
    .bind(opportunities)
    .bind(&book)
    .fetch_all(pool)
    .await?;
    let mut by_opp: HashMap<&str, Vec<&LineRow>> = HashMap::new();
    for l in &lines {
        by_opp.entry(l.1.as_str()).or_default().push(l);
    }
    let today = Utc::now().date_naive();
    let short = &version[..version.len().min(8)];
    let mut tx = pool.begin().await?;
    let mut computed = 0;
    for (opp, name, close, country, stamp) in &opps {
        let key = quote_key(rules, opp, version);
        // Already pushed by this run (a retried chunk): leave it; anything else
        // (a new run, new rules, a changed Opportunity) is computed afresh.
        let done: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT state, run_id FROM orgpool.quotes WHERE key = $1")
                .bind(&key)
                .fetch_optional(&mut *tx)
                .await?;
        if matches!(&done, Some((s, r)) if s == "pushed" && *r == Some(run_id)) {
            continue;
        }
        let Some(items) = by_opp.get(opp.as_str()) else {
            continue;
        };
        let mut priced = Vec::new();
        for (sfid, _, product, qty, family, list, entry) in items {
            let list = list.unwrap_or(Decimal::ZERO);
            let p = price_line(
                &rules.pricing,
                country.as_deref(),
                &LineInput {
                    family: family.clone(),
                    quantity: *qty,
                    list_price: list,
                },
            )
            .map_err(|source| ComputeError::Pricing {
                opportunity: opp.clone(),
                line: sfid.clone(),
                source,
            })?;
            priced.push((sfid, product, entry, p));
        }
        let total: Decimal = priced.iter().map(|p| p.3.total).sum();
        let expiration = match rules.quote.expiration {
            Expiration::CloseDate => *close,
            Expiration::Days(n) => Some(today + chrono::Duration::days(n as i64)),
        };
        let qname = rules
            .quote
            .name
            .replace("{opportunity}", name)
            .replace("{version}", short);
        sqlx::query(
            "INSERT INTO orgpool.quotes (key, opportunity_sfid, rules_version, name, status, expiration_date,
                 pricebook2id, line_count, total, state, error, run_id, computed_at, opportunity_modstamp)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'computed', NULL, $10, now(), $11)
             ON CONFLICT (key) DO UPDATE SET rules_version = EXCLUDED.rules_version, name = EXCLUDED.name,
                 opportunity_modstamp = EXCLUDED.opportunity_modstamp,
                 status = EXCLUDED.status, expiration_date = EXCLUDED.expiration_date,
                 pricebook2id = EXCLUDED.pricebook2id, line_count = EXCLUDED.line_count, total = EXCLUDED.total,
                 state = 'computed', error = NULL, run_id = EXCLUDED.run_id, computed_at = now()",
        )
        .bind(&key)
        .bind(opp)
        .bind(version)
        .bind(&qname)
        .bind(&rules.quote.status)
        .bind(expiration)
        .bind(&book)
        .bind(priced.len() as i32)
        .bind(total)
        .bind(run_id)
        .bind(stamp)
        .execute(&mut *tx)
        .await?;
        // Lines of Opportunity line items that are gone: deleted from Salesforce by the
        // push, so a replaced Quote keeps no orphan lines.
        let keep: Vec<String> = priced.iter().map(|p| format!("{key}:{}", p.0)).collect();
        sqlx::query("UPDATE orgpool.quote_lines SET state = 'stale' WHERE quote_key = $1 AND NOT (key = ANY($2))")
            .bind(&key)
            .bind(&keep)
            .execute(&mut *tx)
            .await?;
        for (sfid, product, entry, p) in &priced {
            sqlx::query(
                "INSERT INTO orgpool.quote_lines (key, quote_key, opportunity_line_sfid, product2id, pricebookentryid,
                     quantity, unit_price, discount, total, state)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'computed')
                 ON CONFLICT (key) DO UPDATE SET product2id = EXCLUDED.product2id, pricebookentryid = EXCLUDED.pricebookentryid,
                     quantity = EXCLUDED.quantity, unit_price = EXCLUDED.unit_price, discount = EXCLUDED.discount,
                     total = EXCLUDED.total, state = 'computed', error = NULL",
            )
            .bind(format!("{key}:{sfid}"))
            .bind(&key)
            .bind(sfid)
            .bind(product)
            .bind(entry)
            .bind(p.quantity)
            .bind(p.list_price)
            .bind(p.discount)
            .bind(p.total)
            .execute(&mut *tx)
            .await?;
        }
        computed += 1;
    }
    tx.commit().await?;
    Ok(computed)
}
