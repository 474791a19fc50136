//! Installing capture on a mirror table, inside [`crate::mirror::ensure`]'s transaction:
//! the schema's log tables and functions, then the table's triggers as its mapping's
//! access wants them. `orgpool_log` (AFTER INSERT/UPDATE/DELETE) is on every mirror
//! table, logging `NEW` rows on a `read_write` mapping and `READONLY` ones on a
//! `read_only` one; `orgpool_status` (BEFORE INSERT/UPDATE, sets `_hc_lastop =
//! 'PENDING'`) only on `read_write`. Switching access changes only triggers, so every
//! row is kept. Trigger names are per table in Postgres, so a reload's shadow table
//! carries the same names into place when it is swapped in.

use sqlx::PgConnection;

use super::sql;
use crate::mirror::error::MirrorError;
use crate::mirror::mapping::Access;
use crate::mirror::table::MirrorTable;
use crate::mirror::types::quote_ident;

/// The AFTER trigger that logs a change.
pub const LOG_TRIGGER: &str = "orgpool_log";
/// The BEFORE trigger that marks a user write `PENDING`.
pub const STATUS_TRIGGER: &str = "orgpool_status";

/// The capture triggers on `t` now, as (name, state logged): `("orgpool_log", "NEW")`,
/// `("orgpool_status", "")`.
pub async fn installed(
    conn: &mut PgConnection,
    t: &MirrorTable,
) -> Result<Vec<(String, String)>, MirrorError> {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT tgname::text, tgargs FROM pg_trigger
         WHERE tgrelid = to_regclass($1) AND tgname IN ($2, $3) ORDER BY tgname",
    )
    .bind(t.qualified())
    .bind(LOG_TRIGGER)
    .bind(STATUS_TRIGGER)
    .fetch_all(&mut *conn)
    .await?;
    // tgargs is the arguments, each ending in a NUL byte.
    Ok(rows
        .into_iter()
        .map(|(name, args)| {
            let arg = String::from_utf8_lossy(&args)
                .trim_end_matches('\0')
                .to_string();
            (name, arg)
        })
        .collect())
}

/// Brings capture on `t` in line with `access`, in the caller's transaction.
pub async fn ensure_capture(
    conn: &mut PgConnection,
    t: &MirrorTable,
    access: Access,
) -> Result<(), MirrorError> {
    let s = quote_ident(&t.schema);
    // Plans of two mappings in one schema may run at once: CREATE ... IF NOT EXISTS
    // and CREATE OR REPLACE FUNCTION are not safe against each other.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('orgpool.capture.' || $1))")
        .bind(&t.schema)
        .execute(&mut *conn)
        .await?;
    let mut ddl = if has_log(conn, &t.schema).await? {
        Vec::new()
    } else {
        sql::log_tables(&s)
    };
    // Replaced every time (cheap, no table lock), so a newer orgpool's body applies.
    ddl.extend(sql::functions(&s, super::CHANNEL));
    ddl.push(sql::record_index(&s));
    for statement in ddl {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut *conn)
            .await?;
    }
    let now = installed(conn, t).await?;
    let state = match access {
        Access::ReadWrite => "NEW",
        Access::ReadOnly => "READONLY",
    };
    let target = t.qualified();
    // Only what differs is changed: DROP TRIGGER locks the table, and this runs on
    // every plan step.
    if !now.iter().any(|(n, a)| n == LOG_TRIGGER && a == state) {
        drop_trigger(conn, &target, LOG_TRIGGER).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TRIGGER {LOG_TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON {target}
             FOR EACH ROW WHEN ({}) EXECUTE FUNCTION {s}._orgpool_capture('{state}')",
            sql::NOT_OWN
        )))
        .execute(&mut *conn)
        .await?;
        tracing::info!(object = %t.object, table = %target, state, "capture trigger installed");
    }
    let has_status = now.iter().any(|(n, _)| n == STATUS_TRIGGER);
    match access {
        Access::ReadWrite if !has_status => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE TRIGGER {STATUS_TRIGGER} BEFORE INSERT OR UPDATE ON {target}
                 FOR EACH ROW WHEN ({}) EXECUTE FUNCTION {s}._orgpool_status()",
                sql::NOT_OWN
            )))
            .execute(&mut *conn)
            .await?;
        }
        Access::ReadOnly if has_status => drop_trigger(conn, &target, STATUS_TRIGGER).await?,
        _ => {}
    }
    Ok(())
}

/// Whether `schema` has both log tables.
pub async fn has_log(conn: &mut PgConnection, schema: &str) -> Result<bool, MirrorError> {
    let s = quote_ident(schema);
    let (have,): (bool,) =
        sqlx::query_as("SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL")
            .bind(format!("{s}._trigger_log"))
            .bind(format!("{s}._trigger_log_archive"))
            .fetch_one(&mut *conn)
            .await?;
    Ok(have)
}

async fn drop_trigger(
    conn: &mut PgConnection,
    target: &str,
    name: &str,
) -> Result<(), MirrorError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP TRIGGER IF EXISTS {name} ON {target}"
    )))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
