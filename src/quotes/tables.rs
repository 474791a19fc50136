//! The mirror tables a quote run reads, found through the mappings the ledger recorded
//! (their schema and table as mapped, `crm.opportunity` as well as
//! `salesforce.opportunity`), never assumed. An object that is not mapped, or mapped but
//! not loaded yet, is an error naming the object and the fix.

use std::collections::HashSet;

use sqlx::PgPool;

use crate::ledger::{self, LedgerError};
use crate::mirror::quote_ident;

/// A mirror table the quote run reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The Salesforce object.
    pub object: &'static str,
    /// Its schema, as mapped.
    pub schema: String,
    /// Its table, as mapped.
    pub name: String,
}

impl Table {
    /// The table for SQL, each part quoted.
    pub fn sql(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }

    /// Its lowercase column names (none when the table does not exist).
    pub async fn columns(&self, pool: &PgPool) -> Result<HashSet<String>, sqlx::Error> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT column_name::text FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
        )
        .bind(&self.schema)
        .bind(&self.name)
        .fetch_all(pool)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// Every table a quote run reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteTables {
    /// Opportunity.
    pub opportunity: Table,
    /// Account (billing countries for regional pricing, `Account.<field>` selections).
    pub account: Table,
    /// OpportunityLineItem.
    pub line_item: Table,
    /// Product2 (families).
    pub product: Table,
    /// Pricebook2.
    pub price_book: Table,
    /// PricebookEntry (list prices).
    pub entry: Table,
}

/// A table the quote run needs cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The object is not in the ledger's mappings.
    #[error(
        "the quote run reads {object} from the mirror, but {object} is not mapped. Fix: map it in jobs/mappings.toml (a [[mapping]] with object = \"{object}\") and load it with `orgpool enqueue initial-load {object}`"
    )]
    NotMapped {
        /// The object.
        object: &'static str,
    },
    /// The object is mapped but its table does not exist yet.
    #[error(
        "{object} is mapped to {table}, which does not exist yet. Fix: load it with `orgpool enqueue initial-load {object}`"
    )]
    NotLoaded {
        /// The object.
        object: &'static str,
        /// Its table, as mapped.
        table: String,
    },
    /// The mappings could not be read.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Postgres failed checking the tables.
    #[error("database error checking the mirror tables: {0}")]
    Db(#[from] sqlx::Error),
}

impl QuoteTables {
    /// The tables as mapped in the ledger, each checked to exist.
    pub async fn load(pool: &PgPool) -> Result<QuoteTables, TableError> {
        let mapped = ledger::mappings::tables(pool).await?;
        let find = |object: &'static str| -> Result<Table, TableError> {
            mapped
                .iter()
                .find(|t| t.object.eq_ignore_ascii_case(object))
                .map(|t| Table {
                    object,
                    schema: t.schema_name.clone(),
                    name: t.table_name.clone(),
                })
                .ok_or(TableError::NotMapped { object })
        };
        let tables = QuoteTables {
            opportunity: find("Opportunity")?,
            account: find("Account")?,
            line_item: find("OpportunityLineItem")?,
            product: find("Product2")?,
            price_book: find("Pricebook2")?,
            entry: find("PricebookEntry")?,
        };
        let all = tables.all();
        let names: Vec<String> = all.iter().map(|t| t.sql()).collect();
        let missing: Vec<(String,)> =
            sqlx::query_as("SELECT t FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NULL")
                .bind(&names)
                .fetch_all(pool)
                .await?;
        if let Some((name,)) = missing.first()
            && let Some(t) = all.iter().find(|t| &t.sql() == name)
        {
            return Err(TableError::NotLoaded {
                object: t.object,
                table: t.to_string(),
            });
        }
        Ok(tables)
    }

    fn all(&self) -> [&Table; 6] {
        [
            &self.opportunity,
            &self.account,
            &self.line_item,
            &self.product,
            &self.price_book,
            &self.entry,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_and_errors_name_the_object_and_the_fix() {
        let t = Table {
            object: "Opportunity",
            schema: "crm".into(),
            name: "opportunity".into(),
        };
        assert_eq!(t.sql(), "\"crm\".\"opportunity\"");
        assert_eq!(t.to_string(), "crm.opportunity");
        let e = TableError::NotMapped {
            object: "PricebookEntry",
        }
        .to_string();
        assert!(
            e.contains("PricebookEntry") && e.contains("jobs/mappings.toml"),
            "{e}"
        );
    }
}
