//! Computing a chunk's Quotes from the mirror alone (no Salesforce reads): its
//! Opportunities, their accounts' billing countries, line items, product families and
//! the rules' price book entries, read from the mapped tables; priced, then saved
//! through the ledger ([`crate::ledger::quotes`]; a Quote this run already pushed is
//! left as it is, so a retried chunk only sends what is missing).

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;

use super::pricing::{LineInput, PricingError, price_line};
use super::rules::{Expiration, QuotesFile, Versioning};
use super::tables::QuoteTables;
use crate::ledger::LedgerError;
use crate::ledger::quotes::{LineRows, QuoteRows, QuoteRun};

/// A problem computing Quotes.
#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    /// Postgres failed reading the mirror.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// The ledger failed saving the Quotes.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The price book named by the rules is not in the mirror.
    #[error(
        "price book {name:?} is not in the mirror ({table}); fix pricing.price_book in jobs/quotes.toml or map Pricebook2"
    )]
    NoPriceBook {
        /// The name in the rules.
        name: String,
        /// The mapped Pricebook2 table.
        table: String,
    },
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

/// An Opportunity to price.
#[derive(Debug, sqlx::FromRow)]
struct Opportunity {
    sfid: String,
    name: String,
    closedate: Option<NaiveDate>,
    billingcountry: Option<String>,
    systemmodstamp: Option<chrono::DateTime<Utc>>,
}

/// One of its line items, with its product's family and the price book's entry.
#[derive(Debug, sqlx::FromRow)]
struct Item {
    sfid: String,
    opportunityid: String,
    product2id: Option<String>,
    quantity: Decimal,
    family: Option<String>,
    unitprice: Option<Decimal>,
    entry: Option<String>,
}

/// Computes and saves the Quotes of `opportunities`; returns how many were (re)computed.
pub async fn compute(
    pool: &PgPool,
    tables: &QuoteTables,
    rules: &QuotesFile,
    version: &str,
    run_id: i64,
    opportunities: &[String],
) -> Result<usize, ComputeError> {
    let book: Option<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT sfid FROM {} WHERE lower(name) = lower($1) AND isdeleted IS NOT TRUE LIMIT 1",
        tables.price_book.sql()
    )))
    .bind(&rules.pricing.price_book)
    .fetch_optional(pool)
    .await?;
    let book = book
        .ok_or_else(|| ComputeError::NoPriceBook {
            name: rules.pricing.price_book.clone(),
            table: tables.price_book.to_string(),
        })?
        .0;
    let opps: Vec<Opportunity> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        // The casts read both column-type modes (exact, heroku_connect) alike.
        "SELECT o.sfid, o.name, o.closedate, a.billingcountry, o.systemmodstamp::timestamptz AS systemmodstamp FROM {} o
         LEFT JOIN {} a ON a.sfid = o.accountid WHERE o.sfid = ANY($1)",
        tables.opportunity.sql(),
        tables.account.sql()
    )))
    .bind(opportunities)
    .fetch_all(pool)
    .await?;
    let items: Vec<Item> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT l.sfid, l.opportunityid, l.product2id, l.quantity::numeric AS quantity, p.family,
                e.unitprice::numeric AS unitprice, e.sfid AS entry
         FROM {} l
         LEFT JOIN {} p ON p.sfid = l.product2id
         LEFT JOIN {} e ON e.product2id = l.product2id AND e.pricebook2id = $2
         WHERE l.opportunityid = ANY($1) ORDER BY l.sfid",
        tables.line_item.sql(),
        tables.product.sql(),
        tables.entry.sql()
    )))
    .bind(opportunities)
    .bind(&book)
    .fetch_all(pool)
    .await?;
    let mut by_opp: HashMap<&str, Vec<&Item>> = HashMap::new();
    for i in &items {
        by_opp.entry(i.opportunityid.as_str()).or_default().push(i);
    }
    let today = Utc::now().date_naive();
    let short = &version[..version.len().min(8)];
    let keys: Vec<String> = opps
        .iter()
        .map(|o| quote_key(rules, &o.sfid, version))
        .collect();
    let mut tx = crate::ledger::quotes::begin_relaxed(pool).await?;
    // Already pushed by this run (a retried chunk): leave those; anything else (a new
    // run, new rules, a changed Opportunity) is computed afresh.
    let done = crate::ledger::quotes::pushed_by_run(&mut tx, &keys, run_id).await?;
    let mut q = QuoteRows::default();
    let mut l = LineRows::default();
    for (o, key) in opps.iter().zip(keys) {
        if done.contains(&key) {
            continue;
        }
        let Some(items) = by_opp.get(o.sfid.as_str()) else {
            continue;
        };
        let mut total = Decimal::ZERO;
        for i in items {
            let p = price_line(
                &rules.pricing,
                o.billingcountry.as_deref(),
                &LineInput {
                    family: i.family.clone(),
                    quantity: i.quantity,
                    list_price: i.unitprice.unwrap_or(Decimal::ZERO),
                },
            )
            .map_err(|source| ComputeError::Pricing {
                opportunity: o.sfid.clone(),
                line: i.sfid.clone(),
                source,
            })?;
            total += p.total;
            l.key.push(format!("{key}:{}", i.sfid));
            l.quote_key.push(key.clone());
            l.line.push(i.sfid.clone());
            l.product.push(i.product2id.clone());
            l.entry.push(i.entry.clone());
            l.quantity.push(p.quantity);
            l.unit_price.push(p.list_price);
            l.discount.push(p.discount);
            l.total.push(p.total);
        }
        q.expiration.push(match rules.quote.expiration {
            Expiration::CloseDate => o.closedate,
            Expiration::Days(n) => Some(today + chrono::Duration::days(n as i64)),
        });
        q.name.push(
            rules
                .quote
                .name
                .replace("{opportunity}", &o.name)
                .replace("{version}", short),
        );
        q.opportunity.push(o.sfid.clone());
        q.line_count.push(items.len() as i32);
        q.total.push(total);
        q.stamp.push(o.systemmodstamp);
        q.key.push(key);
    }
    let computed = q.key.len();
    if computed > 0 {
        let run = QuoteRun {
            version,
            status: &rules.quote.status,
            price_book: &book,
            run_id,
        };
        crate::ledger::quotes::save_computed(&mut tx, run, &q, &l).await?;
    }
    tx.commit().await?;
    Ok(computed)
}
