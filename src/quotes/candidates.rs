//! The mirror reads of a quote run's plan: the Opportunities a translated selection
//! matches (with whether they have line items and their `SystemModstamp`), and the
//! product families the mirror knows, so the rules can be checked before anything is
//! sent. Tables are the mapped ones ([`super::tables`]); values are bound.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::selection::{Bind, Selection};
use super::tables::QuoteTables;

/// An Opportunity the selection matched.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Candidate {
    /// Its Id.
    pub sfid: String,
    /// Whether it has line items (one without is skipped: nothing to price).
    pub has_lines: bool,
    /// Its `SystemModstamp` in the mirror.
    pub stamp: Option<DateTime<Utc>>,
}

/// The live Opportunities `sel` matches, by Id (`sel` numbers its placeholders from 1).
pub async fn matching(
    pool: &PgPool,
    tables: &QuoteTables,
    sel: &Selection,
) -> Result<Vec<Candidate>, sqlx::Error> {
    let join = if sel.uses_account {
        format!(
            "LEFT JOIN {} a ON a.sfid = o.accountid",
            tables.account.sql()
        )
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT o.sfid, EXISTS (SELECT 1 FROM {lines} l WHERE l.opportunityid = o.sfid) AS has_lines,
                o.systemmodstamp::timestamptz AS stamp
         FROM {opportunity} o {join} WHERE o.isdeleted IS NOT TRUE AND ({cond}) ORDER BY o.sfid",
        lines = tables.line_item.sql(),
        opportunity = tables.opportunity.sql(),
        cond = sel.sql,
    );
    let mut q = sqlx::query_as::<_, Candidate>(sqlx::AssertSqlSafe(sql));
    for b in &sel.binds {
        q = match b {
            Bind::Text(t) | Bind::Number(t) => q.bind(t.clone()),
            Bind::Bool(v) => q.bind(*v),
            Bind::Date(d) => q.bind(*d),
            Bind::DateTime(t) => q.bind(*t),
        };
    }
    q.fetch_all(pool).await
}

/// The product families in the mirror, lowercased.
pub async fn families(pool: &PgPool, tables: &QuoteTables) -> Result<HashSet<String>, sqlx::Error> {
    let rows: Vec<(Option<String>,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT family FROM {}",
        tables.product.sql()
    )))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|f| f.0)
        .map(|f| f.to_lowercase())
        .collect())
}

/// The names of the live price books in the mirror, sorted (the rules name theirs).
pub async fn price_books(pool: &PgPool, tables: &QuoteTables) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(Option<String>,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT name FROM {} WHERE isdeleted IS NOT TRUE ORDER BY 1",
        tables.price_book.sql()
    )))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().filter_map(|r| r.0).collect())
}
