//! The COPY loader: a Bulk query's CSV streams, page by page, straight into a temporary
//! staging table with `COPY ... FROM STDIN` (memory stays flat whatever the size), then
//! one merge upserts it into the mirror table by `sfid`. An older copy of a row never
//! overwrites a newer one (`systemmodstamp` guard), deleted records are removed or kept
//! flagged per the mapping, and a range load also removes rows of records the org no
//! longer has. Everything runs in the caller's transaction, so the caller marks its
//! chunk done in the same commit as the data.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use sqlx::PgConnection;

use super::error::MirrorError;
use super::mapping::Deleted;
use super::table::MirrorTable;
use super::types::quote_ident;
use crate::salesforce::SfError;

/// How the staged rows are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadMode {
    /// Upsert every row (a resync window).
    Upsert,
    /// Upsert, then delete the table's rows in `[lo, hi)` that the stream did not have.
    ReplaceRange {
        /// Range start (None: unbounded).
        lo: Option<String>,
        /// Range end (None: unbounded).
        hi: Option<String>,
    },
}

/// What a load did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Rows read from the stream.
    pub rows: u64,
    /// Rows inserted or updated.
    pub upserted: u64,
    /// Rows deleted.
    pub deleted: u64,
}

const STAGE: &str = "orgpool_stage";
/// The longest header line accepted before giving up looking for its end.
const MAX_HEADER: usize = 1 << 20;

/// Streams `body` (CSV with one header line, columns in `t.columns` order) into `t`.
pub async fn load<S>(
    conn: &mut PgConnection,
    t: &MirrorTable,
    deleted: Deleted,
    mut body: S,
    mode: &LoadMode,
) -> Result<LoadStats, MirrorError>
where
    S: Stream<Item = Result<Bytes, SfError>> + Unpin + Send,
{
    let cols: Vec<String> = t.columns.iter().map(|c| quote_ident(&c.name)).collect();
    let list = cols.join(", ");
    let defs: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("{} {}{}", quote_ident(&c.name), c.pg_type, collation(c)))
        .collect();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP TABLE IF EXISTS pg_temp.{STAGE}"
    )))
    .execute(&mut *conn)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TEMP TABLE {STAGE} ({}) ON COMMIT DROP",
        defs.join(", ")
    )))
    .execute(&mut *conn)
    .await?;

    // The header is checked before anything is copied, so a changed select list can
    // never load values into the wrong columns.
    let mut head = Vec::new();
    while !head.contains(&b'\n') && head.len() < MAX_HEADER {
        match body.next().await {
            Some(chunk) => head.extend_from_slice(&chunk?),
            None => break,
        }
    }
    let rows = if head.is_empty() {
        // No rows at all (an empty range): nothing to copy, but a range still applies.
        0
    } else {
        check_header(t, &head)?;
        copy_rows(conn, &list, head, &mut body).await?
    };
    merge(conn, t, &cols, &list, deleted, mode, rows).await
}

/// `COLLATE "C"` for `sfid` and lookup columns: Ids order and compare by bytes, the
/// unique index then serves Id range scans, and a join of a lookup to `sfid` (an
/// Opportunity's line items, say) has one collation on both sides, so it can use the
/// lookup's index.
pub fn collation(column: &super::Column) -> &'static str {
    if column.name == "sfid" || column.indexed {
        " COLLATE \"C\""
    } else {
        ""
    }
}

async fn copy_rows<S>(
    conn: &mut PgConnection,
    list: &str,
    head: Vec<u8>,
    body: &mut S,
) -> Result<u64, MirrorError>
where
    S: Stream<Item = Result<Bytes, SfError>> + Unpin + Send,
{
    // FORCE_NULL: Bulk API writes a null as `""`, which COPY would read as ''.
    let mut copy = conn
        .copy_in_raw(&format!(
            "COPY {STAGE} ({list}) FROM STDIN WITH (FORMAT csv, HEADER true, FORCE_NULL ({list}))"
        ))
        .await?;
    let sent: Result<(), MirrorError> = async {
        copy.send(head).await?;
        while let Some(chunk) = body.next().await {
            copy.send(chunk?).await?;
        }
        Ok(())
    }
    .await;
    match sent {
        Ok(()) => Ok(copy.finish().await?),
        Err(e) => {
            let _ = copy.abort("the Salesforce stream failed").await;
            Err(e)
        }
    }
}

async fn merge(
    conn: &mut PgConnection,
    t: &MirrorTable,
    cols: &[String],
    list: &str,
    deleted: Deleted,
    mode: &LoadMode,
    rows: u64,
) -> Result<LoadStats, MirrorError> {
    let target = t.qualified();
    let mut stats = LoadStats {
        rows,
        ..Default::default()
    };
    let live_filter = if deleted == Deleted::Remove {
        stats.deleted += sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {target} t USING {STAGE} s
             WHERE s.isdeleted AND t.sfid = s.sfid AND (t.systemmodstamp IS NULL OR t.systemmodstamp <= s.systemmodstamp)"
        )))
        .execute(&mut *conn)
        .await?
        .rows_affected();
        "WHERE s.isdeleted IS NOT TRUE"
    } else {
        ""
    };
    let sets: Vec<String> = cols
        .iter()
        .filter(|c| c.as_str() != "\"sfid\"")
        .map(|c| format!("{c} = EXCLUDED.{c}"))
        .collect();
    let select: Vec<String> = cols.iter().map(|c| format!("s.{c}")).collect();
    stats.upserted = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {target} AS t ({list}, _hc_lastop, _hc_err)
         SELECT {}, 'SYNCED', NULL FROM {STAGE} s {live_filter}
         ON CONFLICT (sfid) DO UPDATE SET {}, _hc_lastop = 'SYNCED', _hc_err = NULL
         WHERE t.systemmodstamp IS NULL OR t.systemmodstamp <= EXCLUDED.systemmodstamp",
        select.join(", "),
        sets.join(", ")
    )))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if let LoadMode::ReplaceRange { lo, hi } = mode {
        stats.deleted += sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {target} t
             WHERE ($1::text IS NULL OR t.sfid COLLATE \"C\" >= $1)
               AND ($2::text IS NULL OR t.sfid COLLATE \"C\" < $2)
               AND NOT EXISTS (SELECT 1 FROM {STAGE} s WHERE s.sfid = t.sfid)"
        )))
        .bind(lo.as_deref())
        .bind(hi.as_deref())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(stats)
}

fn check_header(t: &MirrorTable, head: &[u8]) -> Result<(), MirrorError> {
    let end = head.iter().position(|b| *b == b'\n').unwrap_or(head.len());
    let line = String::from_utf8_lossy(&head[..end]);
    let got: Vec<String> = line
        .trim_end_matches('\r')
        .split(',')
        .map(|f| f.trim_matches('"').to_string())
        .filter(|f| !f.is_empty())
        .collect();
    let expected: Vec<String> = t.columns.iter().map(|c| c.field.clone()).collect();
    let same = got.len() == expected.len()
        && got
            .iter()
            .zip(&expected)
            .all(|(g, e)| g.eq_ignore_ascii_case(e));
    if same {
        Ok(())
    } else {
        Err(MirrorError::BadHeader {
            object: t.object.clone(),
            expected,
            got,
        })
    }
}
