//! Mirror tables in the Heroku Connect layout: `id serial` primary key, `sfid` unique,
//! `systemmodstamp` indexed, `isdeleted`, `_hc_lastop`, `_hc_err`, then one column per
//! mapped field, every identifier quoted. Creating them, growing them when a mapping
//! gains fields (never dropping a column), converting columns in place when the
//! mapping's `column_types` changed, refusing incompatible type changes, counting an Id
//! range, and swapping a reloaded shadow table in. Index names are in [`super::indexes`];
//! the capture triggers the mapping's access wants are installed by
//! [`super::capture::ensure_capture`] in the same transaction.

use sqlx::{Connection, PgConnection};

use super::error::MirrorError;
use super::indexes::{self, PLAIN, UNIQUE};
use super::mapping::{Access, Column, Resolved};
use super::types::{compatible, conversion, quote_ident};

/// A mirror table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorTable {
    /// The Salesforce object.
    pub object: String,
    /// Postgres schema.
    pub schema: String,
    /// Postgres table.
    pub table: String,
    /// Mapped columns (`sfid`, `systemmodstamp`, `isdeleted` first).
    pub columns: Vec<Column>,
    /// The mapping's access: which capture triggers [`ensure`] installs.
    pub access: Access,
}

/// What [`ensure`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    /// The table was created.
    pub created: bool,
    /// Columns added (to be backfilled).
    pub added: Vec<Column>,
    /// Columns in the table that are no longer mapped (kept, never dropped).
    pub missing: Vec<String>,
}

/// A Postgres name made of `base` and `suffix`, within the 63-byte identifier limit.
fn derived(base: &str, suffix: &str) -> String {
    let mut cut = 63usize.saturating_sub(suffix.len()).min(base.len());
    while !base.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", &base[..cut])
}

impl MirrorTable {
    /// The table for a resolved mapping.
    pub fn new(r: &Resolved) -> MirrorTable {
        MirrorTable {
            object: r.mapping.object.clone(),
            schema: r.mapping.schema.clone(),
            table: r.mapping.table(),
            columns: r.columns.clone(),
            access: r.mapping.access,
        }
    }

    /// `"schema"."table"`.
    pub fn qualified(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.table))
    }

    /// The table a reload fills before the swap.
    pub fn shadow(&self) -> MirrorTable {
        MirrorTable {
            table: derived(&self.table, "__reload"),
            ..self.clone()
        }
    }

    fn names(&self) -> [(String, &'static str); 2] {
        [
            (derived(&self.table, "_pkey"), "INDEX"),
            (derived(&self.table, "_id_seq"), "SEQUENCE"),
        ]
    }
}

/// The type spelling `format_type` uses, turned into ours.
fn normalise(t: &str) -> String {
    let t = t
        .replace("character varying", "varchar")
        .replace("timestamp with time zone", "timestamptz")
        .replace("timestamp without time zone", "timestamp")
        .replace("time without time zone", "time");
    match t.strip_prefix("numeric(") {
        Some(rest) => format!("numeric({}", rest.replace(',', ", ").replace(",  ", ", ")),
        None if t == "varchar" => "text".into(),
        None => t,
    }
}

/// Indexes a lookup column. The index is left unnamed so Postgres picks a free name:
/// a reload's shadow table gets its own, and the swap then needs no renaming.
async fn index_lookup(
    conn: &mut PgConnection,
    t: &MirrorTable,
    c: &super::Column,
) -> Result<(), MirrorError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE INDEX ON {} ({})",
        t.qualified(),
        quote_ident(&c.name)
    )))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Creates the table if missing, or brings its columns and indexes in line with `t`
/// (in one transaction, so a type conversion keeps every row or changes nothing).
pub async fn ensure(conn: &mut PgConnection, t: &MirrorTable) -> Result<Drift, MirrorError> {
    let made = sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE SCHEMA IF NOT EXISTS {}",
        quote_ident(&t.schema)
    )))
    .execute(&mut *conn)
    .await;
    // Two plans creating the schema at once: IF NOT EXISTS is not atomic, and the loser
    // sees a unique violation although the schema now exists.
    if let Err(e) = made
        && !matches!(&e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505"))
    {
        return Err(e.into());
    }
    let existing: Vec<(String, String)> = sqlx::query_as(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
         WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
    )
    .bind(t.qualified())
    .fetch_all(&mut *conn)
    .await?;
    let [pkey, _] = t.names();
    let mut tx = conn.begin().await?;
    let drift = if existing.is_empty() {
        create(&mut tx, t, &pkey.0).await?
    } else {
        update(&mut tx, t, &existing).await?
    };
    indexes::ensure_all(&mut tx, t).await?;
    super::capture::ensure_capture(&mut tx, t, t.access).await?;
    tx.commit().await?;
    Ok(drift)
}

async fn create(
    conn: &mut PgConnection,
    t: &MirrorTable,
    pkey: &str,
) -> Result<Drift, MirrorError> {
    let mut cols = vec![format!(
        "id serial CONSTRAINT {} PRIMARY KEY",
        quote_ident(pkey)
    )];
    for c in &t.columns {
        let extra = if c.name == "sfid" {
            format!(
                "{} CONSTRAINT {} UNIQUE",
                c.collation(),
                quote_ident(&indexes::name(UNIQUE, &t.table, "sfid"))
            )
        } else {
            c.collation().to_string()
        };
        cols.push(format!("{} {}{extra}", quote_ident(&c.name), c.pg_type));
    }
    cols.push("_hc_lastop varchar(32)".into());
    cols.push("_hc_err text".into());
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE {} ({})",
        t.qualified(),
        cols.join(", ")
    )))
    .execute(&mut *conn)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE INDEX IF NOT EXISTS {} ON {} (systemmodstamp)",
        quote_ident(&indexes::name(PLAIN, &t.table, "systemmodstamp")),
        t.qualified()
    )))
    .execute(&mut *conn)
    .await?;
    // A lookup listed in `indexes` gets its named index (ensure_all) instead.
    for c in t.columns.iter().filter(|c| c.indexed && !c.hc_index) {
        index_lookup(conn, t, c).await?;
    }
    Ok(Drift {
        created: true,
        ..Default::default()
    })
}

async fn update(
    conn: &mut PgConnection,
    t: &MirrorTable,
    existing: &[(String, String)],
) -> Result<Drift, MirrorError> {
    let mut drift = Drift::default();
    // A table made elsewhere (by hand, or Heroku Connect's without one of them) gets
    // the system columns apply and the capture triggers rely on; `id` numbers every
    // row as it is added.
    for (name, def) in [
        ("id", "serial"),
        ("_hc_lastop", "varchar(32)"),
        ("_hc_err", "text"),
    ] {
        if !existing.iter().any(|(n, _)| n == name) {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {name} {def}",
                t.qualified()
            )))
            .execute(&mut *conn)
            .await?;
        }
    }
    for c in &t.columns {
        match existing.iter().find(|(n, _)| *n == c.name) {
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}{}",
                    t.qualified(),
                    quote_ident(&c.name),
                    c.pg_type,
                    c.collation()
                )))
                .execute(&mut *conn)
                .await?;
                if c.indexed && !c.hc_index {
                    index_lookup(conn, t, c).await?;
                }
                drift.added.push(c.clone());
            }
            Some((_, have)) => {
                let have = normalise(have);
                if compatible(&have, &c.pg_type) {
                    continue;
                }
                if let Some(using) = conversion(&have, &c.pg_type) {
                    let col = quote_ident(&c.name);
                    let using = using.replace("{c}", &col).replace("{t}", &c.pg_type);
                    tracing::info!(object = %t.object, column = %c.name, from = %have, to = %c.pg_type, "column_types changed; converting the column in place");
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "ALTER TABLE {} ALTER COLUMN {col} TYPE {}{} USING {using}",
                        t.qualified(),
                        c.pg_type,
                        c.collation()
                    )))
                    .execute(&mut *conn)
                    .await?;
                } else {
                    return Err(MirrorError::Incompatible {
                        object: t.object.clone(),
                        column: c.name.clone(),
                        existing: have,
                        wanted: c.pg_type.clone(),
                    });
                }
            }
        }
    }
    for (name, _) in existing {
        let system = matches!(name.as_str(), "id" | "_hc_lastop" | "_hc_err");
        if !system && !t.columns.iter().any(|c| &c.name == name) {
            drift.missing.push(name.clone());
        }
    }
    Ok(drift)
}

/// Replaces `live` by `shadow` inside the caller's transaction: the app sees the old
/// table until commit and the new one after, never an empty one.
pub async fn swap(
    conn: &mut PgConnection,
    live: &MirrorTable,
    shadow: &MirrorTable,
) -> Result<(), MirrorError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP TABLE IF EXISTS {}",
        live.qualified()
    )))
    .execute(&mut *conn)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER TABLE {} RENAME TO {}",
        shadow.qualified(),
        quote_ident(&live.table)
    )))
    .execute(&mut *conn)
    .await?;
    for ((from, kind), (to, _)) in shadow.names().into_iter().zip(live.names()) {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER {kind} IF EXISTS {}.{} RENAME TO {}",
            quote_ident(&live.schema),
            quote_ident(&from),
            quote_ident(&to)
        )))
        .execute(&mut *conn)
        .await?;
    }
    indexes::rename_swapped(conn, live, shadow).await?;
    Ok(())
}

/// Rows with `lo <= sfid < hi` in byte order, as Salesforce orders Ids (a 15-character
/// bound compares as a prefix): live rows (`isdeleted` not true), or with
/// `with_deleted` the kept rows of deleted records too.
pub async fn count_range(
    conn: &mut PgConnection,
    t: &MirrorTable,
    lo: Option<&str>,
    hi: Option<&str>,
    with_deleted: bool,
) -> Result<u64, MirrorError> {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM {} WHERE ($3 OR isdeleted IS NOT TRUE)
           AND ($1::text IS NULL OR sfid COLLATE \"C\" >= $1)
           AND ($2::text IS NULL OR sfid COLLATE \"C\" < $2)",
        t.qualified()
    )))
    .bind(lo)
    .bind(hi)
    .bind(with_deleted)
    .fetch_one(conn)
    .await?;
    Ok(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_postgres_type_names() {
        assert_eq!(normalise("character varying(80)"), "varchar(80)");
        assert_eq!(normalise("timestamp with time zone"), "timestamptz");
        assert_eq!(normalise("numeric(18,2)"), "numeric(18, 2)");
        assert_eq!(normalise("time without time zone"), "time");
        assert_eq!(normalise("timestamp without time zone"), "timestamp");
        assert_eq!(normalise("double precision"), "double precision");
        assert_eq!(normalise("boolean"), "boolean");
    }

    #[test]
    fn derived_names_fit_postgres() {
        let long = "x".repeat(80);
        assert_eq!(derived(&long, "_pkey").len(), 63);
        assert_eq!(derived("order", "__reload"), "order__reload");
    }
}
