//! The Salesforce calls of one write-back chunk, through the one client: the conflict
//! check of updates (a query of `SystemModstamp` and the changed fields, 200 Ids a
//! query), then upserts, creates, updates and deletes, each group through sObject
//! Collections (200 records a request) or Bulk API 2.0 ingest, and every record's
//! answer turned into its log rows' end. A refusal of a whole request that will never
//! pass (a field Salesforce does not know) fails that group's records; an outage, the
//! API limit or a transient error stops here and is returned, leaving the unanswered
//! records `PENDING` for the chunk's next run.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use super::changes::{Change, Net};
use super::conflict::{self, Verdict};
use super::kind::Via;
use super::plan::Target;
use super::send::{refused, verdict_event};
use super::values::{Purpose, csv_cell, sendable};
use crate::classify::{Classify, Disposition};
use crate::mirror::capture::Settled;
use crate::salesforce::{Client, Operation, SaveResult, Scope, SfError};

/// One record's call.
#[derive(Debug)]
pub enum Call {
    /// Insert by the mapping's External ID (`key` is its value).
    Upsert {
        /// The change.
        change: Change,
        /// The Collections record.
        body: Map<String, Json>,
        /// The External ID value.
        key: String,
    },
    /// Insert without a key (`allow_insert_without_upsert_field`).
    Create {
        /// The change.
        change: Change,
        /// The Collections record.
        body: Map<String, Json>,
    },
    /// Update by Id.
    Update {
        /// The change.
        change: Change,
        /// The Collections record (without `Id`).
        body: Map<String, Json>,
        /// The Salesforce Id.
        id: String,
        /// The latest `SystemModstamp` the app's copy could know.
        known: Option<DateTime<Utc>>,
    },
    /// Delete by Id.
    Delete {
        /// The change.
        change: Change,
        /// The Salesforce Id.
        id: String,
    },
}

/// A chunk's calls, grouped.
pub struct Calls<'a> {
    client: &'a Client,
    target: &'a Target,
    via: Via,
    upserts: Vec<Call>,
    creates: Vec<Call>,
    updates: Vec<Call>,
    deletes: Vec<Call>,
}

type Backoff<'b> = &'b (dyn Fn(i32) -> Duration + Sync);

impl<'a> Calls<'a> {
    /// No calls yet.
    pub fn new(client: &'a Client, target: &'a Target, via: Via) -> Calls<'a> {
        Calls {
            client,
            target,
            via,
            upserts: Vec::new(),
            creates: Vec::new(),
            updates: Vec::new(),
            deletes: Vec::new(),
        }
    }

    /// Queues `call`.
    pub fn add(&mut self, call: Call) {
        match call {
            Call::Upsert { .. } => self.upserts.push(call),
            Call::Create { .. } => self.creates.push(call),
            Call::Update { .. } => self.updates.push(call),
            Call::Delete { .. } => self.deletes.push(call),
        }
    }

    /// Makes every call, settling each record in `out`; the error that stopped it, if
    /// one did.
    pub async fn flush(
        &mut self,
        out: &mut Vec<Settled>,
        attempts: i32,
        backoff: Backoff<'_>,
    ) -> Option<SfError> {
        let updates = std::mem::take(&mut self.updates);
        let started = std::time::Instant::now();
        let checked = updates.len();
        let updates = match self.check(updates, out).await {
            Ok(u) => u,
            Err((e, _)) if !fails(&e) => return Some(e),
            Err((e, u)) => {
                fail_all(&u, &e, out);
                Vec::new()
            }
        };
        tracing::debug!(
            updates = checked,
            check_ms = started.elapsed().as_millis() as u64,
            "write-back conflict check"
        );
        let groups = [
            std::mem::take(&mut self.upserts),
            std::mem::take(&mut self.creates),
            updates,
            std::mem::take(&mut self.deletes),
        ];
        for group in groups {
            if group.is_empty() {
                continue;
            }
            let bulk = self.via == Via::Bulk && !matches!(group[0], Call::Create { .. });
            let sent = if bulk {
                self.bulk(&group, attempts, backoff).await
            } else {
                self.collections(&group, attempts, backoff).await
            };
            match sent {
                Ok(settled) => out.extend(settled),
                Err(e) if fails(&e) => fail_all(&group, &e, out),
                Err(e) => return Some(e),
            }
        }
        None
    }

    /// The conflict rule for `updates`: those to send, the others settled in `out`.
    async fn check(
        &self,
        updates: Vec<Call>,
        out: &mut Vec<Settled>,
    ) -> Result<Vec<Call>, (SfError, Vec<Call>)> {
        if updates.is_empty() {
            return Ok(updates);
        }
        let mut fields: Vec<String> = Vec::new();
        for u in &updates {
            if let Call::Update { body, .. } = u {
                for (k, v) in body {
                    if !v.is_object() && !fields.contains(k) {
                        fields.push(k.clone());
                    }
                }
            }
        }
        let object = &self.target.mapping.object;
        let mut theirs: BTreeMap<String, Json> = BTreeMap::new();
        let ids: Vec<String> = updates
            .iter()
            .filter_map(|u| match u {
                Call::Update { id, .. } if is_id(id) => Some(id.clone()),
                _ => None,
            })
            .collect();
        for soql in check_queries(object, &fields, ids) {
            let mut rows = self.client.query(&soql, Scope::Live);
            while let Some(r) = futures::StreamExt::next(&mut rows).await {
                match r {
                    Ok(rec) => {
                        if let Some(id) = rec.get("Id").and_then(Json::as_str) {
                            theirs.insert(id[..15.min(id.len())].to_string(), rec.clone());
                        }
                    }
                    Err(e) => return Err((e, updates)),
                }
            }
        }
        let mut send = Vec::new();
        for u in updates {
            let Call::Update {
                change,
                body,
                id,
                known,
            } = &u
            else {
                continue;
            };
            let found = theirs.get(&id[..15.min(id.len())]);
            let Some(rec) = found.filter(|_| is_id(id)) else {
                let (code, text) = if is_id(id) {
                    (
                        "ENTITY_IS_DELETED",
                        "the record is deleted in Salesforce, so the app's change cannot be applied",
                    )
                } else {
                    ("MALFORMED_ID", "the row's sfid is not a Salesforce Id")
                };
                out.push(refused(change, code, text, &[], 1, &|_| Duration::ZERO));
                continue;
            };
            let stamp = rec
                .get("SystemModstamp")
                .and_then(Json::as_str)
                .and_then(conflict::parse_time);
            let already = !body.is_empty()
                && body
                    .iter()
                    .all(|(k, v)| !v.is_object() && rec.get(k).is_some_and(|t| same(v, t)));
            let verdict = match stamp {
                Some(t) => conflict::decide(*known, t, change.last_write, already),
                None => Verdict::Send,
            };
            verdict_event(self.target, id, verdict);
            match verdict {
                Verdict::Send | Verdict::AppWins => send.push(u),
                Verdict::AlreadyApplied => out.push(success(change, Some(id.clone()), "UPDATED", false)),
                Verdict::SalesforceWins => out.push(Settled {
                    state: "IGNORED",
                    message: Some(format!(
                        "conflict: Salesforce changed the record at {} after the app's write at {}; the later write wins, so Salesforce's values stay and the next resync brings them into the row",
                        stamp.map(|t| t.to_rfc3339()).unwrap_or_default(),
                        change.last_write.to_rfc3339()
                    )),
                    lastop: None,
                    ..success(change, Some(id.clone()), "UPDATED", false)
                }),
            }
        }
        Ok(send)
    }

    async fn collections(
        &self,
        group: &[Call],
        attempts: i32,
        backoff: Backoff<'_>,
    ) -> Result<Vec<Settled>, SfError> {
        let object = &self.target.mapping.object;
        let results: Vec<SaveResult> = match &group[0] {
            Call::Upsert { .. } => {
                let key = self.target.mapping.upsert_field.clone().unwrap_or_default();
                let bodies: Vec<Json> = group
                    .iter()
                    .filter_map(|c| match c {
                        Call::Upsert { body, .. } => Some(Json::Object(body.clone())),
                        _ => None,
                    })
                    .collect();
                self.client.upsert_records(object, &key, &bodies).await?
            }
            Call::Create { .. } => {
                let bodies: Vec<Json> = group
                    .iter()
                    .filter_map(|c| match c {
                        Call::Create { body, .. } => Some(Json::Object(body.clone())),
                        _ => None,
                    })
                    .collect();
                self.client.create_records(object, &bodies).await?
            }
            Call::Update { .. } => {
                let bodies: Vec<Json> = group
                    .iter()
                    .filter_map(|c| match c {
                        Call::Update { body, id, .. } => {
                            let mut b = body.clone();
                            b.insert("Id".into(), Json::String(id.clone()));
                            Some(Json::Object(b))
                        }
                        _ => None,
                    })
                    .collect();
                self.client.update_records(object, &bodies).await?
            }
            Call::Delete { .. } => {
                let ids: Vec<String> = group
                    .iter()
                    .filter_map(|c| match c {
                        Call::Delete { id, .. } => Some(id.clone()),
                        _ => None,
                    })
                    .collect();
                self.client.delete_records(&ids).await?
            }
        };
        Ok(group
            .iter()
            .zip(results)
            .map(|(call, r)| {
                let (change, known_id) = parts(call);
                if r.success {
                    let id = r.id.clone().or(known_id);
                    answered(call, change, id)
                } else {
                    let e = r.errors.first();
                    refused(
                        change,
                        e.map_or("UNKNOWN_EXCEPTION", |e| e.status_code.as_str()),
                        e.map_or("refused without a reason", |e| e.message.as_str()),
                        e.map_or(&[][..], |e| &e.fields[..]),
                        attempts,
                        backoff,
                    )
                }
            })
            .collect())
    }

    async fn bulk(
        &self,
        group: &[Call],
        attempts: i32,
        backoff: Backoff<'_>,
    ) -> Result<Vec<Settled>, SfError> {
        let columns = &self.target.table.columns;
        let (op, purpose, key_field) = match &group[0] {
            Call::Upsert { .. } => {
                let key = self.target.mapping.upsert_field.clone().unwrap_or_default();
                (
                    Operation::Upsert {
                        external_id: key.clone(),
                    },
                    Purpose::Insert,
                    key,
                )
            }
            Call::Delete { .. } => (Operation::Delete, Purpose::Update, "Id".to_string()),
            _ => (Operation::Update, Purpose::Update, "Id".to_string()),
        };
        // One header for all: a record that does not set a column leaves it empty, which
        // the Bulk API reads as unchanged.
        let mut header: Vec<String> = vec![key_field.clone()];
        let mut rows_values = Vec::new();
        for call in group {
            let (change, id) = parts(call);
            let cells: Vec<(String, String)> = match (&change.net, call) {
                (
                    Net::Insert(v) | Net::Update { values: v, .. },
                    Call::Upsert { .. } | Call::Update { .. },
                ) => sendable(columns, v, purpose)
                    .into_iter()
                    .map(|(c, val)| (c.field.clone(), csv_cell(&c.pg_type, val)))
                    .collect(),
                _ => Vec::new(),
            };
            for (f, _) in &cells {
                if !header.iter().any(|h| h.eq_ignore_ascii_case(f)) {
                    header.push(f.clone());
                }
            }
            let key = match call {
                Call::Upsert { key, .. } => key.clone(),
                _ => id.unwrap_or_default(),
            };
            rows_values.push((key, cells));
        }
        let rows: Vec<Vec<String>> = rows_values
            .iter()
            .map(|(key, cells)| {
                header
                    .iter()
                    .enumerate()
                    .map(|(i, h)| {
                        if i == 0 {
                            key.clone()
                        } else {
                            cells
                                .iter()
                                .find(|(f, _)| f.eq_ignore_ascii_case(h))
                                .map(|(_, v)| v.clone())
                                .unwrap_or_default()
                        }
                    })
                    .collect()
            })
            .collect();
        let outcome = self
            .client
            .bulk_ingest(&self.target.mapping.object, &op, &header, rows)
            .await?;
        // Answers by the key column: the External ID for upserts, the Id otherwise (15
        // characters, as Salesforce may echo either length).
        let norm = |k: &str| -> String {
            if key_field == "Id" {
                k[..15.min(k.len())].to_string()
            } else {
                k.to_string()
            }
        };
        let mut by_key: BTreeMap<String, &Call> = BTreeMap::new();
        for (call, (key, _)) in group.iter().zip(&rows_values) {
            by_key.insert(norm(key), call);
        }
        let mut out = Vec::new();
        for s in &outcome.saved {
            if let Some(call) = s.values.first().and_then(|k| by_key.remove(&norm(k))) {
                let (change, _) = parts(call);
                out.push(answered(call, change, Some(s.id.clone())));
            }
        }
        for f in &outcome.failed {
            if let Some(call) = f.values.first().and_then(|k| by_key.remove(&norm(k))) {
                let (change, _) = parts(call);
                out.push(refused(
                    change, &f.code, &f.message, &f.fields, attempts, backoff,
                ));
            }
        }
        // Unprocessed, or never answered: sent again later.
        for call in by_key.into_values() {
            let (change, _) = parts(call);
            out.push(refused(
                change,
                "UNABLE_TO_LOCK_ROW",
                "the ingest job did not process this record",
                &[],
                attempts,
                backoff,
            ));
        }
        Ok(out)
    }
}

fn parts(call: &Call) -> (&Change, Option<String>) {
    match call {
        Call::Upsert { change, .. } | Call::Create { change, .. } => (change, None),
        Call::Update { change, id, .. } | Call::Delete { change, id } => (change, Some(id.clone())),
    }
}

/// A record Salesforce accepted.
fn answered(call: &Call, change: &Change, id: Option<String>) -> Settled {
    match call {
        Call::Upsert { .. } | Call::Create { .. } => success(change, id, "INSERTED", true),
        Call::Update { .. } => success(change, id, "UPDATED", false),
        Call::Delete { .. } => Settled {
            lastop: None,
            ..success(change, id, "UPDATED", false)
        },
    }
}

fn success(change: &Change, sfid: Option<String>, lastop: &'static str, created: bool) -> Settled {
    Settled {
        log_ids: change.log_ids.clone(),
        record_id: change.record_id,
        state: "SUCCESS",
        sfid,
        message: None,
        attempts: change.attempts + 1,
        retry_in: None,
        lastop: Some(lastop),
        err: None,
        write_sfid: created,
    }
}

/// Whether `e` will never pass as it is (so its records fail instead of waiting).
fn fails(e: &SfError) -> bool {
    e.disposition() == Disposition::Fail
}

fn fail_all(group: &[Call], e: &SfError, out: &mut Vec<Settled>) {
    for call in group {
        let (change, _) = parts(call);
        out.push(refused(
            change,
            Classify::class(e),
            &e.to_string(),
            &[],
            1,
            &|_| Duration::ZERO,
        ));
    }
}

/// The conflict check's queries of `ids` (valid Ids): 200 a query, in Id order
/// (15-character form, as Salesforce compares Ids) so each query's Ids span a narrow
/// range, and bounded by that range, so the org reads just that stretch of its Id index
/// instead of testing every record against 200 values.
fn check_queries(object: &str, fields: &[String], mut ids: Vec<String>) -> Vec<String> {
    ids.sort_by(|a, b| a[..15].cmp(&b[..15]));
    ids.dedup_by(|a, b| a[..15] == b[..15]);
    let mut select = vec!["Id".to_string(), "SystemModstamp".to_string()];
    select.extend(fields.iter().cloned());
    ids.chunks(200)
        .map(|batch| {
            let list: Vec<String> = batch.iter().map(|i| format!("'{i}'")).collect();
            let (first, last) = (&batch[0], &batch[batch.len() - 1]);
            format!(
                "SELECT {} FROM {object} WHERE Id >= '{first}' AND Id <= '{last}' AND Id IN ({})",
                select.join(", "),
                list.join(", ")
            )
        })
        .collect()
}

/// A Salesforce Id: 15 or 18 letters and digits (also keeps quotes out of SOQL).
fn is_id(s: &str) -> bool {
    matches!(s.len(), 15 | 18) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Whether Salesforce's value `theirs` is the value we would send.
fn same(ours: &Json, theirs: &Json) -> bool {
    match (ours, theirs) {
        (Json::Number(a), Json::Number(b)) => {
            (a.as_f64().unwrap_or(f64::NAN) - b.as_f64().unwrap_or(f64::NAN)).abs() < 1e-9
        }
        (Json::String(a), Json::String(b)) => {
            a == b
                || matches!((conflict::parse_time(a), conflict::parse_time(b)), (Some(x), Some(y)) if x == y)
        }
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_compare_as_salesforce_spells_them() {
        assert!(same(&serde_json::json!(12.5), &serde_json::json!(12.50)));
        assert!(same(
            &serde_json::json!("2026-01-02T03:04:05Z"),
            &serde_json::json!("2026-01-02T03:04:05.000+0000")
        ));
        assert!(!same(&serde_json::json!("a"), &serde_json::json!("b")));
        assert!(same(&Json::Null, &Json::Null));
        assert!(is_id("001000000000001AAA") && !is_id("001' OR Id != '"));
    }

    #[test]
    fn the_conflict_check_asks_for_ids_in_order_within_bounds() {
        // 401 Ids given out of order, one twice (once in its 15-character form).
        let mut ids: Vec<String> = (1..=400).rev().map(|n| format!("001{n:012}AAA")).collect();
        ids.push("001000000000007".into());
        let q = check_queries("Account", &["Name".into()], ids);
        assert_eq!(q.len(), 2, "400 distinct Ids, 200 a query");
        assert!(
            q[0].starts_with(
                "SELECT Id, SystemModstamp, Name FROM Account WHERE Id >= '001000000000001AAA' AND Id <= '001000000000200AAA' AND Id IN ('001000000000001AAA', '001000000000002AAA', "
            ),
            "{}",
            q[0]
        );
        assert!(q[1].contains("Id >= '001000000000201AAA' AND Id <= '001000000000400AAA'"));
        assert_eq!(q[0].matches("000000000007").count(), 1);
    }
}
