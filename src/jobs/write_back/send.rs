//! A write-back chunk's work step: read its log rows still `PENDING`, fold each
//! record's rows into one change, find each record's Salesforce Id, apply the conflict
//! rule to updates, send through Collections or Bulk ([`super::calls`]), and settle every
//! row in one transaction with the chunk's end. An outage or the API limit mid-chunk
//! settles what Salesforce already answered, then waits (no attempt spent); the rows not
//! answered stay `PENDING` and go when the chunk runs again. Inserts are upserts by the
//! mapping's `upsert_field`, updates and deletes go by Id, so sending again never
//! duplicates a record.

use std::collections::BTreeMap;

use super::calls::{Call, Calls};
use super::changes::{Action, Change, LogRow, Net, Values, fold};
use super::conflict::{self, Verdict};
use super::kind::{WriteBackArgs, WriteBackChunk};
use super::plan::{Target, targets};
use super::refusals::{self, Refusal};
use super::values::{Purpose, record, sendable};
use crate::jobs::error::JobError;
use crate::jobs::kind::{Job, Outcome};
use crate::mirror::capture::hstore;
use crate::mirror::capture::log::{self, LoggedRow};
use crate::mirror::capture::{Settled, settle};
use crate::telemetry::write_back::{ChangesSettled, Conflict};

pub(super) async fn work(
    job: &Job<'_, WriteBackArgs>,
    spec: &WriteBackChunk,
) -> Result<Outcome, JobError> {
    let (ctx, schema) = (job.ctx, job.run.object.as_str());
    let target = targets(&ctx.pool, schema)
        .await?
        .into_iter()
        .find(|t| t.table.table == spec.table)
        .ok_or_else(|| JobError::Mapping {
            problem: format!(
                "table {schema}.{} is no longer a read_write mapping",
                spec.table
            ),
            fix: "set access = \"read_write\" on its mapping again, or leave its log rows".into(),
        })?;
    let started = std::time::Instant::now();
    let mut conn = ctx.pool.acquire().await?;
    let logged = log::load(&mut conn, schema, &spec.table, &spec.log_ids).await?;
    let mut settled = Vec::new();
    let rows = decode(&logged, &mut settled);
    let mut changes = fold(&rows);
    let current: BTreeMap<i32, &LoggedRow> = logged.iter().map(|l| (l.record_id, l)).collect();
    for c in &mut changes {
        if let Some(s) = current
            .get(&c.record_id)
            .and_then(|l| l.current_sfid.clone())
        {
            c.sfid = Some(s);
        }
    }
    let unknown: Vec<i32> = changes
        .iter()
        .filter(|c| c.sfid.is_none() && !matches!(c.net, Net::Insert(_) | Net::Nothing))
        .map(|c| c.record_id)
        .collect();
    if !unknown.is_empty() {
        let found: BTreeMap<i32, String> = log::sent_ids(&mut conn, schema, &spec.table, &unknown)
            .await?
            .into_iter()
            .collect();
        for c in &mut changes {
            if c.sfid.is_none() {
                c.sfid = found.get(&c.record_id).cloned();
            }
        }
    }
    let updated: Vec<i32> = changes
        .iter()
        .filter(|c| matches!(c.net, Net::Update { .. }))
        .map(|c| c.record_id)
        .collect();
    let last_sent: BTreeMap<i32, chrono::DateTime<chrono::Utc>> =
        log::last_sent(&mut conn, schema, &spec.table, &updated)
            .await?
            .into_iter()
            .collect();
    drop(conn);
    let read = started.elapsed();
    let mut sender = Sender {
        target: &target,
        attempts: ctx.settings.write_back.attempts,
        backoff: |n| ctx.settings.write_back.backoff(n),
        settled,
        calls: Calls::new(&ctx.client, &target, spec.via),
    };
    for c in changes {
        sender.prepare(c, &last_sent).await?;
    }
    let stopped = sender
        .calls
        .flush(&mut sender.settled, sender.attempts, &sender.backoff)
        .await;
    let settled = std::mem::take(&mut sender.settled);
    let rows = settled.len() as u64;
    emit(&target, &settled, &rows_created(&logged));
    let sent = started.elapsed();
    let mut tx = ctx.pool.begin().await?;
    settle(&mut tx, schema, &spec.table, &settled).await?;
    // Where a chunk's time goes, for `orgpool bench write-back` and slow-chunk reports.
    tracing::debug!(
        table = %spec.table,
        via = ?spec.via,
        log_rows = logged.len(),
        read_ms = read.as_millis() as u64,
        salesforce_ms = (sent - read).as_millis() as u64,
        settle_ms = (started.elapsed() - sent).as_millis() as u64,
        "write-back chunk timings"
    );
    match stopped {
        None => Ok(Outcome::done(tx, rows)),
        Some(e) => {
            // What Salesforce answered stays answered; the rest goes again.
            tx.commit().await?;
            Ok(Outcome::from_error(&JobError::Salesforce(e)))
        }
    }
}

/// When each log row was written, for the lag.
fn rows_created(logged: &[LoggedRow]) -> BTreeMap<i32, chrono::DateTime<chrono::Utc>> {
    logged.iter().map(|l| (l.id, l.created_at)).collect()
}

fn emit(
    target: &Target,
    settled: &[Settled],
    created: &BTreeMap<i32, chrono::DateTime<chrono::Utc>>,
) {
    let now = chrono::Utc::now();
    let count = |s: &str| settled.iter().filter(|r| r.state == s).count() as u64;
    ChangesSettled {
        object: &target.mapping.object,
        success: count("SUCCESS"),
        failed: count("FAILED"),
        ignored: count("IGNORED"),
        retry: count("NEW"),
        lags: settled
            .iter()
            .filter(|r| r.state == "SUCCESS")
            .filter_map(|r| r.log_ids.iter().filter_map(|id| created.get(id)).min())
            .map(|t| (now - *t).to_std().unwrap_or_default())
            .collect(),
    }
    .emit();
}

/// Log rows as changes; a row that does not decode fails on its own.
fn decode(logged: &[LoggedRow], settled: &mut Vec<Settled>) -> Vec<LogRow> {
    let mut out = Vec::new();
    for l in logged {
        let parse = |t: &Option<String>| -> Result<Values, String> {
            match t {
                None => Ok(Values::new()),
                Some(t) => hstore::parse(t)
                    .map(|pairs| pairs.into_iter().collect())
                    .map_err(|e| e.to_string()),
            }
        };
        let decoded = Action::parse(&l.action)
            .ok_or_else(|| format!("unknown action {:?}", l.action))
            .and_then(|a| Ok((a, parse(&l.old)?, parse(&l.values)?)));
        match decoded {
            Ok((action, old, values)) => out.push(LogRow {
                id: l.id,
                action,
                record_id: l.record_id,
                sfid: l.sfid.clone(),
                old,
                values,
                created_at: l.created_at,
                attempts: l.sf_result.unwrap_or(0),
            }),
            Err(e) => settled.push(Settled {
                log_ids: vec![l.id],
                record_id: l.record_id,
                state: "FAILED",
                sfid: l.sfid.clone(),
                message: Some(format!(
                    "orgpool cannot read this log row ({e}); it was not written by orgpool's capture"
                )),
                attempts: 1,
                retry_in: None,
                lastop: None,
                err: None,
                write_sfid: false,
            }),
        }
    }
    out
}

/// Turns changes into calls, settling those that need none.
struct Sender<'a, B: Fn(i32) -> std::time::Duration + Sync> {
    target: &'a Target,
    attempts: i32,
    backoff: B,
    settled: Vec<Settled>,
    calls: Calls<'a>,
}

impl<B: Fn(i32) -> std::time::Duration + Sync> Sender<'_, B> {
    fn settle_now(
        &mut self,
        c: &Change,
        state: &'static str,
        why: String,
        lastop: Option<&'static str>,
    ) {
        let failed = state == "FAILED";
        self.settled.push(Settled {
            log_ids: c.log_ids.clone(),
            record_id: c.record_id,
            state,
            sfid: c.sfid.clone(),
            err: failed.then(|| refusals::hc_err(op_of(&c.net), "ORGPOOL", &why, &[])),
            message: Some(why),
            attempts: c.attempts + 1,
            retry_in: None,
            lastop: if failed { Some("FAILED") } else { lastop },
            write_sfid: false,
        });
    }

    async fn prepare(
        &mut self,
        c: Change,
        last_sent: &BTreeMap<i32, chrono::DateTime<chrono::Utc>>,
    ) -> Result<(), JobError> {
        let columns = &self.target.table.columns;
        let mapping = &self.target.mapping;
        match &c.net {
            Net::Nothing => self.settle_now(
                &c,
                "IGNORED",
                "inserted and deleted before it was sent: nothing to do in Salesforce".into(),
                None,
            ),
            Net::Insert(values) => {
                let body = record(columns, values, Purpose::Insert);
                match &mapping.upsert_field {
                    Some(key) => {
                        let key_col = crate::mirror::pg_name(key);
                        match values.get(&key_col).cloned().flatten().filter(|v| !v.is_empty()) {
                            Some(k) => self.calls.add(Call::Upsert { change: c, body, key: k }),
                            None => self.settle_now(
                                &c,
                                "FAILED",
                                format!(
                                    "the upsert field {key} (column {key_col}) is empty, and inserts are upserts by it so a retry never creates a second record; set it in the row, then run `orgpool writes retry`"
                                ),
                                None,
                            ),
                        }
                    }
                    None => self.calls.add(Call::Create { change: c, body }),
                }
            }
            Net::Update { values, stamp } => {
                let Some(id) = c.sfid.clone() else {
                    return {
                        self.settle_now(
                            &c,
                            "FAILED",
                            "the row has no Salesforce Id: its insert has not reached Salesforce (see its FAILED log rows); fix that row, then run `orgpool writes retry`".into(),
                            None,
                        );
                        Ok(())
                    };
                };
                if sendable(columns, values, Purpose::Update).is_empty() {
                    self.settle_now(
                        &c,
                        "IGNORED",
                        "no field Salesforce lets us set changed (unmapped, read-only or formula columns only)".into(),
                        Some("SYNCED"),
                    );
                    return Ok(());
                }
                let known = [
                    stamp.as_deref().and_then(conflict::parse_time),
                    last_sent.get(&c.record_id).copied(),
                ]
                .into_iter()
                .flatten()
                .max();
                let body = record(columns, values, Purpose::Update);
                self.calls.add(Call::Update {
                    change: c,
                    body,
                    id,
                    known,
                });
            }
            Net::Delete => match c.sfid.clone() {
                Some(id) => self.calls.add(Call::Delete { change: c, id }),
                None => self.settle_now(
                    &c,
                    "IGNORED",
                    "the row never reached Salesforce (its insert failed or was never sent)".into(),
                    None,
                ),
            },
        }
        Ok(())
    }
}

/// The log's action name of a change.
pub fn op_of(net: &Net) -> &'static str {
    match net {
        Net::Insert(_) => "INSERT",
        Net::Update { .. } => "UPDATE",
        Net::Delete | Net::Nothing => "DELETE",
    }
}

/// Settles a refused record: again later, done, or failed.
pub fn refused(
    c: &Change,
    code: &str,
    text: &str,
    fields: &[String],
    max_attempts: i32,
    backoff: &(dyn Fn(i32) -> std::time::Duration + Sync),
) -> Settled {
    let op = op_of(&c.net);
    let attempts = c.attempts + 1;
    let message = refusals::message(code, text, fields);
    let base = Settled {
        log_ids: c.log_ids.clone(),
        record_id: c.record_id,
        state: "FAILED",
        sfid: c.sfid.clone(),
        message: Some(message),
        attempts,
        retry_in: None,
        lastop: Some("FAILED"),
        err: Some(refusals::hc_err(op, code, text, fields)),
        write_sfid: false,
    };
    match refusals::classify(op, code) {
        Refusal::Retry if attempts < max_attempts => Settled {
            state: "NEW",
            retry_in: Some(backoff(attempts)),
            lastop: None,
            err: None,
            ..base
        },
        Refusal::AlreadyDone => Settled {
            state: "SUCCESS",
            message: None,
            lastop: None,
            err: None,
            ..base
        },
        _ => base,
    }
}

/// Applies the conflict rule's verdict, counting conflicts.
pub fn verdict_event(target: &Target, sfid: &str, v: Verdict) {
    let winner = match v {
        Verdict::SalesforceWins => "salesforce",
        Verdict::AppWins => "app",
        _ => return,
    };
    Conflict {
        object: &target.mapping.object,
        sfid,
        winner,
    }
    .emit();
}
