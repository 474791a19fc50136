//! A mirror table's size for the console's mapping page: its rows and the bytes it
//! takes on disk with its indexes and TOAST (`pg_total_relation_size`).

use serde::Serialize;
use sqlx::PgPool;

use super::StatusError;
use crate::mirror::quote_ident;

/// Rows and bytes of one table.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct TableSize {
    /// Rows (an exact count).
    pub rows: i64,
    /// Bytes on disk, indexes and TOAST included.
    pub bytes: i64,
}

/// The size of `schema.table`, or None before it exists.
pub async fn size(
    pool: &PgPool,
    schema: &str,
    table: &str,
) -> Result<Option<TableSize>, StatusError> {
    let name = format!("{}.{}", quote_ident(schema), quote_ident(table));
    let failed = |source| StatusError::Mirror {
        table: format!("{schema}.{table}"),
        source,
    };
    let (bytes,): (Option<i64>,) = sqlx::query_as("SELECT pg_total_relation_size(to_regclass($1))")
        .bind(&name)
        .fetch_one(pool)
        .await
        .map_err(failed)?;
    let Some(bytes) = bytes else {
        return Ok(None);
    };
    let (rows,): (i64,) =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {name}")))
            .fetch_one(pool)
            .await
            .map_err(failed)?;
    Ok(Some(TableSize { rows, bytes }))
}
