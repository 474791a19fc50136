//! Mirror table indexes, named as Heroku Connect names them: `hcu_idx_<table>_sfid`
//! (unique, on `sfid`), `hc_idx_<table>_systemmodstamp`, and `hc_idx_<table>_<column>`
//! for each field in a mapping's `indexes`. A table made by an older orgpool
//! (`<table>_sfid_key`, `<table>_systemmodstamp_idx`, an unnamed index on a column now
//! listed in `indexes`) has that index renamed, never a second one built beside it.

use sqlx::PgConnection;

use super::error::MirrorError;
use super::table::MirrorTable;
use super::types::quote_ident;

/// Prefix of a unique index's name.
pub const UNIQUE: &str = "hcu_idx_";
/// Prefix of a plain index's name.
pub const PLAIN: &str = "hc_idx_";

/// `<prefix><table>_<column>` within Postgres's 63-byte limit (the table part is cut).
pub fn name(prefix: &str, table: &str, column: &str) -> String {
    let fixed = prefix.len() + 1 + column.len();
    let mut cut = 63usize.saturating_sub(fixed).min(table.len());
    while !table.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = format!("{prefix}{}_{column}", &table[..cut]);
    while out.len() > 63 {
        out.pop();
    }
    out
}

/// The named indexes of `t`: `(column, prefix)`, `sfid` first.
pub fn named(t: &MirrorTable) -> Vec<(String, &'static str)> {
    let mut out = vec![
        ("sfid".to_string(), UNIQUE),
        ("systemmodstamp".to_string(), PLAIN),
    ];
    out.extend(
        t.columns
            .iter()
            .filter(|c| c.hc_index)
            .map(|c| (c.name.clone(), PLAIN)),
    );
    out
}

/// The plain single-column indexes on `column` of `t`: `(name, unique)`.
async fn on_column(
    conn: &mut PgConnection,
    t: &MirrorTable,
    column: &str,
) -> Result<Vec<(String, bool)>, MirrorError> {
    Ok(sqlx::query_as(
        "SELECT c.relname::text, i.indisunique FROM pg_index i
           JOIN pg_class c ON c.oid = i.indexrelid
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
         WHERE i.indrelid = to_regclass($1) AND i.indnkeyatts = 1
           AND i.indpred IS NULL AND i.indexprs IS NULL AND a.attname = $2
         ORDER BY c.relname",
    )
    .bind(t.qualified())
    .bind(column)
    .fetch_all(&mut *conn)
    .await?)
}

/// Gives `column` of `t` its Heroku Connect–named index: keeps it, renames the index
/// the column has (unique for `sfid`, plain otherwise), or creates it.
pub async fn ensure_named(
    conn: &mut PgConnection,
    t: &MirrorTable,
    column: &str,
    prefix: &'static str,
) -> Result<(), MirrorError> {
    let wanted = name(prefix, &t.table, column);
    let unique = prefix == UNIQUE;
    let have = on_column(conn, t, column).await?;
    if have.iter().any(|(n, _)| *n == wanted) {
        return Ok(());
    }
    let sql = match have.iter().find(|(_, u)| *u == unique) {
        // Renaming the index of the sfid UNIQUE constraint renames the constraint too.
        Some((old, _)) => format!(
            "ALTER INDEX {}.{} RENAME TO {}",
            quote_ident(&t.schema),
            quote_ident(old),
            quote_ident(&wanted)
        ),
        None => format!(
            "CREATE {}INDEX {} ON {} ({})",
            if unique { "UNIQUE " } else { "" },
            quote_ident(&wanted),
            t.qualified(),
            quote_ident(column)
        ),
    };
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Every named index of `t` in place (see [`ensure_named`]).
pub async fn ensure_all(conn: &mut PgConnection, t: &MirrorTable) -> Result<(), MirrorError> {
    for (column, prefix) in named(t) {
        ensure_named(conn, t, &column, prefix).await?;
    }
    Ok(())
}

/// After a reload's swap: the shadow's named indexes (named after the shadow table)
/// take the live table's names.
pub async fn rename_swapped(
    conn: &mut PgConnection,
    live: &MirrorTable,
    shadow: &MirrorTable,
) -> Result<(), MirrorError> {
    for (column, prefix) in named(live) {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER INDEX IF EXISTS {}.{} RENAME TO {}",
            quote_ident(&live.schema),
            quote_ident(&name(prefix, &shadow.table, &column)),
            quote_ident(&name(prefix, &live.table, &column))
        )))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_heroku_connect_does() {
        assert_eq!(name(UNIQUE, "contact", "sfid"), "hcu_idx_contact_sfid");
        assert_eq!(
            name(PLAIN, "contact", "systemmodstamp"),
            "hc_idx_contact_systemmodstamp"
        );
        let long = "x".repeat(80);
        let n = name(PLAIN, &long, "email");
        assert_eq!(n.len(), 63);
        assert!(n.starts_with("hc_idx_x") && n.ends_with("_email"), "{n}");
    }
}
