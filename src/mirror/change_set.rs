//! The mirror's one write seam: [`apply`] takes a [`ChangeSet`] for one mapping's table
//! (upserts of full or partial rows, deletes by Id, and optionally "this Id range is now
//! exactly these rows") and applies it in the caller's transaction, so the caller ends
//! its chunk in the same commit as the data. Every writer of the mirror goes through
//! it: the Bulk CSV loader (rows staged by `COPY`), and the event subscriber and
//! write-back to come (rows in memory). An older copy of a row never overwrites a newer
//! one (the `systemmodstamp` guard, whenever the change carries `systemmodstamp`).

use sqlx::PgConnection;

use super::error::MirrorError;
use super::mapping::{Column, Deleted};
use super::table::MirrorTable;
use super::types::quote_ident;

/// The temporary table rows are staged in (dropped at commit).
pub const STAGE: &str = "orgpool_stage";

/// Where a change set's upserted rows are.
#[derive(Debug, Clone, PartialEq)]
pub enum Rows {
    /// Already in the temporary table [`STAGE`] (created by [`stage`]) in these
    /// columns: the Bulk loader's `COPY` put them there.
    Staged,
    /// In memory, one text value (or null) per column, in the change set's column
    /// order, as Salesforce writes values in CSV.
    Values(Vec<Vec<Option<String>>>),
}

/// What to write into one mapping's table.
#[derive(Debug, Clone)]
pub struct ChangeSet<'a> {
    /// The table (live, or a reload's shadow).
    pub table: &'a MirrorTable,
    /// The columns the rows carry: `sfid` always; a partial change names only some.
    pub columns: Vec<&'a Column>,
    /// The rows to upsert by `sfid`.
    pub rows: Rows,
    /// Records gone from the org: their rows are removed.
    pub deletes: Vec<String>,
    /// The Id range `[lo, hi)` the rows are all of (None: unbounded): rows of the table
    /// in it that are not among them are removed (a range load).
    pub replace_range: Option<(Option<String>, Option<String>)>,
    /// What a row flagged `isdeleted` does: removed, or kept flagged.
    pub deleted: Deleted,
    /// `_hc_lastop` of the rows written (`SYNCED` for what came from Salesforce).
    pub lastop: &'static str,
}

impl<'a> ChangeSet<'a> {
    /// A change set of every mapped column of `table`, with rows from Salesforce.
    pub fn full(table: &'a MirrorTable, rows: Rows, deleted: Deleted) -> ChangeSet<'a> {
        ChangeSet {
            table,
            columns: table.columns.iter().collect(),
            rows,
            deletes: Vec::new(),
            replace_range: None,
            deleted,
            lastop: "SYNCED",
        }
    }
}

/// What [`apply`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Rows inserted or updated.
    pub upserted: u64,
    /// Rows deleted.
    pub deleted: u64,
}

/// Creates the (empty) staging table for `columns` of `table`; [`Rows::Staged`] then
/// refers to it.
pub async fn stage(conn: &mut PgConnection, columns: &[&Column]) -> Result<(), MirrorError> {
    let defs: Vec<String> = columns
        .iter()
        .map(|c| format!("{} {}{}", quote_ident(&c.name), c.pg_type, c.collation()))
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
    Ok(())
}

/// Applies `cs` in the caller's transaction, marked as orgpool's own writes for the
/// rest of it, so the capture triggers do not log them (a synced change must never be
/// sent back). Outside a transaction the marker would end with its own statement.
pub async fn apply(conn: &mut PgConnection, cs: &ChangeSet<'_>) -> Result<Applied, MirrorError> {
    super::capture::mark_own_writes(conn).await?;
    if !cs.columns.iter().any(|c| c.name == "sfid") {
        return Err(MirrorError::Incomplete {
            object: cs.table.object.clone(),
            detail: "a change set's rows must carry sfid".into(),
        });
    }
    if let Rows::Values(rows) = &cs.rows {
        stage(conn, &cs.columns).await?;
        stage_values(conn, cs, rows).await?;
    }
    let target = cs.table.qualified();
    let names: Vec<String> = cs.columns.iter().map(|c| quote_ident(&c.name)).collect();
    let list = names.join(", ");
    let has = |n: &str| cs.columns.iter().any(|c| c.name == n);
    let guarded = has("systemmodstamp");
    let mut out = Applied::default();
    let live_filter = if cs.deleted == Deleted::Remove && has("isdeleted") {
        let guard = if guarded {
            " AND (t.systemmodstamp IS NULL OR t.systemmodstamp <= s.systemmodstamp)"
        } else {
            ""
        };
        out.deleted += sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {target} t USING {STAGE} s WHERE s.isdeleted AND t.sfid = s.sfid{guard}"
        )))
        .execute(&mut *conn)
        .await?
        .rows_affected();
        "WHERE s.isdeleted IS NOT TRUE"
    } else {
        ""
    };
    let sets: Vec<String> = names
        .iter()
        .filter(|c| c.as_str() != "\"sfid\"")
        .map(|c| format!("{c} = EXCLUDED.{c}"))
        .chain([
            "_hc_lastop = EXCLUDED._hc_lastop".into(),
            "_hc_err = NULL".into(),
        ])
        .collect();
    let select: Vec<String> = names.iter().map(|c| format!("s.{c}")).collect();
    let guard = if guarded {
        "WHERE t.systemmodstamp IS NULL OR t.systemmodstamp <= EXCLUDED.systemmodstamp"
    } else {
        ""
    };
    out.upserted = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {target} AS t ({list}, _hc_lastop, _hc_err)
         SELECT {}, $1, NULL FROM {STAGE} s {live_filter}
         ON CONFLICT (sfid) DO UPDATE SET {} {guard}",
        select.join(", "),
        sets.join(", ")
    )))
    .bind(cs.lastop)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if !cs.deletes.is_empty() {
        out.deleted += sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {target} WHERE sfid = ANY($1)"
        )))
        .bind(&cs.deletes)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    if let Some((lo, hi)) = &cs.replace_range {
        out.deleted += sqlx::query(sqlx::AssertSqlSafe(format!(
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
    Ok(out)
}

/// Puts in-memory rows into the staging table, one bound text array per column (values
/// are bound, never spliced) cast to the column's type.
async fn stage_values(
    conn: &mut PgConnection,
    cs: &ChangeSet<'_>,
    rows: &[Vec<Option<String>>],
) -> Result<(), MirrorError> {
    if let Some(bad) = rows.iter().find(|r| r.len() != cs.columns.len()) {
        return Err(MirrorError::Incomplete {
            object: cs.table.object.clone(),
            detail: format!(
                "a row has {} values for {} columns",
                bad.len(),
                cs.columns.len()
            ),
        });
    }
    let names: Vec<String> = cs.columns.iter().map(|c| quote_ident(&c.name)).collect();
    let casts: Vec<String> = cs
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("v.c{}::{}", i + 1, c.pg_type))
        .collect();
    let arrays: Vec<String> = (1..=cs.columns.len())
        .map(|i| format!("${i}::text[]"))
        .collect();
    let sql = format!(
        "INSERT INTO {STAGE} ({}) SELECT {} FROM unnest({}) AS v({})",
        names.join(", "),
        casts.join(", "),
        arrays.join(", "),
        (1..=cs.columns.len())
            .map(|i| format!("c{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for i in 0..cs.columns.len() {
        let column: Vec<Option<String>> = rows.iter().map(|r| r[i].clone()).collect();
        q = q.bind(column);
    }
    q.execute(&mut *conn).await?;
    Ok(())
}
