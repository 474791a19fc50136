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
    let keys: Vec<String> = opps
        .iter()
        .map(|o| quote_key(rules, &o.0, version))
        .collect();
    let mut tx = pool.begin().await?;
    // Losing this commit in a database crash costs only a recomputation or a repeated
    // upsert by our own key (both harmless), so it need not wait for the WAL flush; the
    // ledger's chunk commit that follows is durable as usual.
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    // Already pushed by this run (a retried chunk): leave those; anything else (a new
    // run, new rules, a changed Opportunity) is computed afresh.
    let done: Vec<(String,)> = sqlx::query_as(
        "SELECT key FROM orgpool.quotes WHERE key = ANY($1) AND state = 'pushed' AND run_id = $2",
    )
    .bind(&keys)
    .bind(run_id)
    .fetch_all(&mut *tx)
    .await?;
    let done: std::collections::HashSet<String> = done.into_iter().map(|d| d.0).collect();
    let mut q = QuoteColumns::default();
    let mut l = LineColumns::default();
    for ((opp, name, close, country, stamp), key) in opps.iter().zip(keys) {
        if done.contains(&key) {
            continue;
        }
        let Some(items) = by_opp.get(opp.as_str()) else {
            continue;
        };
        let mut total = Decimal::ZERO;
        for (sfid, _, product, qty, family, list, entry) in items {
            let p = price_line(
                &rules.pricing,
                country.as_deref(),
                &LineInput {
                    family: family.clone(),
                    quantity: *qty,
                    list_price: list.unwrap_or(Decimal::ZERO),
                },
            )
            .map_err(|source| ComputeError::Pricing {
                opportunity: opp.clone(),
                line: sfid.clone(),
                source,
            })?;
            total += p.total;
            l.key.push(format!("{key}:{sfid}"));
            l.quote_key.push(key.clone());
            l.line.push(sfid.clone());
            l.product.push(product.clone());
            l.entry.push(entry.clone());
            l.quantity.push(p.quantity);
            l.unit_price.push(p.list_price);
            l.discount.push(p.discount);
            l.total.push(p.total);
        }
        q.expiration.push(match rules.quote.expiration {
            Expiration::CloseDate => *close,
            Expiration::Days(n) => Some(today + chrono::Duration::days(n as i64)),
        });
        q.name.push(
            rules
                .quote
                .name
                .replace("{opportunity}", name)
                .replace("{version}", short),
        );
        q.opportunity.push(opp.clone());
        q.line_count.push(items.len() as i32);
        q.total.push(total);
        q.stamp.push(*stamp);
        q.key.push(key);
    }
    let computed = q.key.len();
    if computed > 0 {
        q.save(&mut tx, rules, version, &book, run_id).await?;
        // Every existing line of these Quotes is marked stale, then the upsert of the
        // lines just priced marks those computed again: what stays stale belongs to an
        // Opportunity line item that is gone, and the push deletes it from Salesforce,
        // so a replaced Quote keeps no orphan lines.
        sqlx::query("UPDATE orgpool.quote_lines SET state = 'stale' WHERE quote_key = ANY($1)")
            .bind(&q.key)
            .execute(&mut *tx)
            .await?;
        l.save(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(computed)
}

/// The Quotes of a chunk, column by column (saved with one statement).
#[derive(Default)]
struct QuoteColumns {
    key: Vec<String>,
    opportunity: Vec<String>,
    name: Vec<String>,
    expiration: Vec<Option<NaiveDate>>,
    line_count: Vec<i32>,
    total: Vec<Decimal>,
    stamp: Vec<Option<chrono::DateTime<Utc>>>,
}

impl QuoteColumns {
    async fn save(
        &self,
        tx: &mut sqlx::PgConnection,
        rules: &QuotesFile,
        version: &str,
        book: &str,
        run_id: i64,
    ) -> Result<(), sqlx::Error> {
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
        .bind(&self.key)
        .bind(&self.opportunity)
        .bind(&self.name)
        .bind(&self.expiration)
        .bind(&self.line_count)
        .bind(&self.total)
        .bind(&self.stamp)
        .bind(version)
        .bind(&rules.quote.status)
        .bind(book)
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

/// The Quote lines of a chunk, column by column (saved with one statement).
#[derive(Default)]
struct LineColumns {
    key: Vec<String>,
    quote_key: Vec<String>,
    line: Vec<String>,
    product: Vec<Option<String>>,
    entry: Vec<Option<String>>,
    quantity: Vec<Decimal>,
    unit_price: Vec<Decimal>,
    discount: Vec<Decimal>,
    total: Vec<Decimal>,
}

impl LineColumns {
    async fn save(&self, tx: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
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
        .bind(&self.key)
        .bind(&self.quote_key)
        .bind(&self.line)
        .bind(&self.product)
        .bind(&self.entry)
        .bind(&self.quantity)
        .bind(&self.unit_price)
        .bind(&self.discount)
        .bind(&self.total)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}
