//! Capture of the app's own writes to mirror tables, in Postgres and compatible with
//! Heroku Connect: per schema a `_trigger_log` and `_trigger_log_archive` with Connect's
//! columns and states, trigger functions, and per table the triggers that log every
//! INSERT, UPDATE and DELETE an application makes (`NEW` on a `read_write` mapping,
//! `READONLY` on a `read_only` one). orgpool's own writes carry a transaction-local
//! marker ([`mark_own_writes`]) the triggers skip, so a synced change never echoes
//! back. Archiving processed log rows and pruning the archive is in [`archive`]; the
//! write path's reads and claims of the log in [`log`], recording Salesforce's answers in
//! [`settle`]. Sending the changes is the `write_back` job kind (`src/jobs/write_back/`).

pub mod archive;
pub mod hstore;
pub mod log;
pub mod settle;
mod sql;
pub mod triggers;

use sqlx::PgConnection;

pub use archive::{Archived, archive, archive_all};
pub use settle::{Settled, settle};
pub use triggers::{ensure_capture, installed};

/// The `LISTEN` channel a capture notifies, with a JSON payload naming the schema and
/// table (`{"schema":..,"table":..}`): one notification per transaction and table, so
/// an `UPDATE` of a million rows sends one.
pub const CHANNEL: &str = "orgpool_write_back";

/// The transaction-local setting that marks orgpool's own writes.
pub const WRITER_SETTING: &str = "orgpool.writer";

/// Marks the rest of the caller's transaction as orgpool's own sync writes, which the
/// capture triggers skip. Transaction-local (`set_config(.., true)`), so it ends with the
/// transaction and never leaks to the next user of a pooled connection.
pub async fn mark_own_writes(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT set_config($1, 'sync', true)")
        .bind(WRITER_SETTING)
        .execute(conn)
        .await?;
    Ok(())
}
