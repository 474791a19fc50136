//! The COPY loader, one producer of change sets: a Bulk query's CSV streams, page by
//! page, straight into the temporary staging table with `COPY ... FROM STDIN` (memory
//! stays flat whatever the size), then [`apply`] merges it into the mirror table (the
//! `systemmodstamp` guard, deletions removed or kept flagged per the mapping, and for a
//! range load the rows of records the org no longer has removed). Everything runs in
//! the caller's transaction, so the caller marks its chunk done in the same commit.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use sqlx::PgConnection;

use super::change_set::{ChangeSet, Rows, STAGE, apply, stage};
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
    let mut cs = ChangeSet::full(t, Rows::Staged, deleted);
    stage(conn, &cs.columns).await?;

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
    if let LoadMode::ReplaceRange { lo, hi } = mode {
        cs.replace_range = Some((lo.clone(), hi.clone()));
    }
    let applied = apply(conn, &cs).await?;
    Ok(LoadStats {
        rows,
        upserted: applied.upserted,
        deleted: applied.deleted,
    })
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
