//! Recording what Salesforce said about a chunk's changes, in the chunk's transaction
//! (so a crash before the commit leaves the rows `PENDING`, to be sent again, and
//! idempotently): each log row gets its final state (`SUCCESS`, `FAILED`, `IGNORED`) or
//! goes back to `NEW` with a later `updated_at` (a retryable refusal), with
//! `processed_at`, `sf_result` (sends tried) and `sf_message`; each table row gets the
//! `sfid` of a record it created and Heroku Connect's `_hc_lastop` (`INSERTED`,
//! `UPDATED`, `FAILED`) and `_hc_err`, unless the app has changed it again since (it
//! stays `PENDING` then). These writes are orgpool's own, so the capture skips them.

use std::time::Duration;

use sqlx::PgConnection;

use crate::mirror::error::MirrorError;
use crate::mirror::types::quote_ident;

/// A log row's end, for one record's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The log rows the change covered.
    pub log_ids: Vec<i32>,
    /// The table row's `id`.
    pub record_id: i32,
    /// `SUCCESS`, `FAILED`, `IGNORED`, or `NEW` (send again after `retry_in`).
    pub state: &'static str,
    /// The record's Salesforce Id, when known.
    pub sfid: Option<String>,
    /// `sf_message`: why it failed or was ignored.
    pub message: Option<String>,
    /// `sf_result`: sends tried, this one included.
    pub attempts: i32,
    /// When a `NEW` row is due again.
    pub retry_in: Option<Duration>,
    /// The table row's `_hc_lastop` (`INSERTED`, `UPDATED`, `FAILED`), or none to leave it.
    pub lastop: Option<&'static str>,
    /// The table row's `_hc_err` (JSON) with `FAILED`.
    pub err: Option<String>,
    /// Write `sfid` into the table row (a record the change created).
    pub write_sfid: bool,
}

/// Records `results` for rows of `table` in `schema`, in the caller's transaction.
pub async fn settle(
    conn: &mut PgConnection,
    schema: &str,
    table: &str,
    results: &[Settled],
) -> Result<(), MirrorError> {
    if results.is_empty() {
        return Ok(());
    }
    super::mark_own_writes(conn).await?;
    let s = quote_ident(schema);
    let t = format!("{s}.{}", quote_ident(table));
    let mut ids = Vec::new();
    let mut states = Vec::new();
    let mut sfids = Vec::new();
    let mut messages = Vec::new();
    let mut attempts = Vec::new();
    let mut delays = Vec::new();
    for r in results {
        for id in &r.log_ids {
            ids.push(*id);
            states.push(r.state);
            sfids.push(r.sfid.clone());
            messages.push(r.message.clone());
            attempts.push(r.attempts);
            delays.push(r.retry_in.map(|d| d.as_millis() as i64).unwrap_or(0));
        }
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {s}._trigger_log l SET state = r.state,
           updated_at = now() + r.delay_ms * interval '1 millisecond',
           processed_at = CASE WHEN r.state = 'NEW' THEN NULL ELSE now() END,
           processed_tx = txid_current(), sf_result = r.attempts, sf_message = r.message,
           sfid = coalesce(r.sfid, l.sfid)
         FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[])
           AS r(id, state, sfid, message, attempts, delay_ms)
         WHERE l.id = r.id"
    )))
    .bind(&ids)
    .bind(&states)
    .bind(&sfids)
    .bind(&messages)
    .bind(&attempts)
    .bind(&delays)
    .execute(&mut *conn)
    .await?;
    // A resync may have loaded a record this chunk created before its Id was written
    // back here: that copy goes, the app's row gets the Id.
    let created: Vec<(i32, String)> = results
        .iter()
        .filter(|r| r.write_sfid)
        .filter_map(|r| r.sfid.clone().map(|s| (r.record_id, s)))
        .collect();
    if !created.is_empty() {
        let (rids, new_ids): (Vec<i32>, Vec<String>) = created.into_iter().unzip();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {t} WHERE sfid = ANY($1) AND id <> ALL($2)"
        )))
        .bind(&new_ids)
        .bind(&rids)
        .execute(&mut *conn)
        .await?;
    }
    let rows: Vec<&Settled> = results
        .iter()
        .filter(|r| r.write_sfid || r.lastop.is_some())
        .collect();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {t} x SET sfid = coalesce(r.sfid, x.sfid),
           _hc_lastop = CASE WHEN r.lastop IS NULL OR a.again THEN x._hc_lastop ELSE r.lastop END,
           _hc_err = CASE WHEN r.lastop IS NULL OR a.again THEN x._hc_err ELSE r.err END
         FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $6::int[])
           AS r(id, sfid, lastop, err, last_log)
         CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM {s}._trigger_log n
           WHERE n.table_name = $5 AND n.record_id = r.id AND n.state IN ('NEW', 'PENDING')
             AND n.id > r.last_log) AS again) a
         WHERE x.id = r.id"
    )))
    .bind(rows.iter().map(|r| r.record_id).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| r.sfid.clone().filter(|_| r.write_sfid))
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.lastop).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.err.clone()).collect::<Vec<_>>())
    .bind(table)
    // A change's later rows have higher log ids than all of its own (writes of one row
    // are serialised by its row lock): those mean the app wrote the row again.
    .bind(
        rows.iter()
            .map(|r| r.log_ids.iter().copied().max().unwrap_or(0))
            .collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
