//! Folding a record's captured log rows, in log order, into the one change to send:
//! an insert followed by updates is one insert with the last values, updates merge
//! (later values win), anything followed by a delete is a delete, and an insert deleted
//! before it was ever sent is nothing at all. Every log row a change covers is listed,
//! so each gets the change's result. Pure: unit-tested here.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// What the app did to a row (`_trigger_log.action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `INSERT`.
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
}

impl Action {
    /// From the log's text.
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "INSERT" => Some(Action::Insert),
            "UPDATE" => Some(Action::Update),
            "DELETE" => Some(Action::Delete),
            _ => None,
        }
    }
}

/// Column values as the capture wrote them (`None`: SQL null).
pub type Values = BTreeMap<String, Option<String>>;

/// One captured log row, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRow {
    /// `_trigger_log.id`.
    pub id: i32,
    /// What the app did.
    pub action: Action,
    /// The table row's `id`.
    pub record_id: i32,
    /// The row's `sfid` at capture (null for a row the app inserted).
    pub sfid: Option<String>,
    /// The row before (updates and deletes).
    pub old: Values,
    /// The columns written (inserts: all; updates: the changed ones).
    pub values: Values,
    /// When the app's transaction wrote it.
    pub created_at: DateTime<Utc>,
    /// Sends tried so far (`sf_result`).
    pub attempts: i32,
}

/// The net change to one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Net {
    /// Create it with these values.
    Insert(Values),
    /// Set these values; `stamp` is the `systemmodstamp` the app's copy had.
    Update {
        /// Changed columns, last value of each.
        values: Values,
        /// The row's `systemmodstamp` before the first update (the conflict rule).
        stamp: Option<String>,
    },
    /// Delete it.
    Delete,
    /// Inserted and deleted before it was sent: nothing to do.
    Nothing,
}

/// One record's change and the log rows it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The table row's `id`.
    pub record_id: i32,
    /// The log rows, in order.
    pub log_ids: Vec<i32>,
    /// What to send.
    pub net: Net,
    /// The last `sfid` any of its rows saw.
    pub sfid: Option<String>,
    /// When the app made its first write of them (the write lag runs from here).
    pub first_write: DateTime<Utc>,
    /// When the app made its last write of them.
    pub last_write: DateTime<Utc>,
    /// Most sends any of its rows had.
    pub attempts: i32,
}

/// Folds `rows` (in log id order, any records) into one change per record, in the
/// order of each record's first row.
pub fn fold(rows: &[LogRow]) -> Vec<Change> {
    let mut order: Vec<i32> = Vec::new();
    let mut by_record: BTreeMap<i32, Change> = BTreeMap::new();
    for r in rows {
        let c = by_record.entry(r.record_id).or_insert_with(|| {
            order.push(r.record_id);
            Change {
                record_id: r.record_id,
                log_ids: Vec::new(),
                net: Net::Nothing,
                sfid: None,
                first_write: r.created_at,
                last_write: r.created_at,
                attempts: 0,
            }
        });
        let first = c.log_ids.is_empty();
        c.log_ids.push(r.id);
        c.first_write = c.first_write.min(r.created_at);
        c.last_write = c.last_write.max(r.created_at);
        c.attempts = c.attempts.max(r.attempts);
        if let Some(s) = r
            .sfid
            .clone()
            .or_else(|| r.old.get("sfid").cloned().flatten())
        {
            c.sfid = Some(s);
        }
        let net = std::mem::replace(&mut c.net, Net::Nothing);
        c.net = match (net, r.action) {
            (_, Action::Insert) if first => Net::Insert(r.values.clone()),
            (_, Action::Update) if first => Net::Update {
                values: r.values.clone(),
                stamp: r.old.get("systemmodstamp").cloned().flatten(),
            },
            (_, Action::Delete) if first => Net::Delete,
            (Net::Insert(mut v), Action::Update) => {
                v.extend(r.values.clone());
                Net::Insert(v)
            }
            (Net::Update { mut values, stamp }, Action::Update) => {
                values.extend(r.values.clone());
                Net::Update { values, stamp }
            }
            (Net::Insert(_), Action::Delete) => Net::Nothing,
            (Net::Update { .. }, Action::Delete) => Net::Delete,
            // A row inserted again under the same id after a delete cannot be told from
            // the deleted one: the delete stands.
            (n, _) => n,
        };
    }
    order
        .into_iter()
        .filter_map(|id| by_record.remove(&id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(pairs: &[(&str, Option<&str>)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    fn row(id: i32, record: i32, action: Action, values: Values, old: Values) -> LogRow {
        LogRow {
            id,
            action,
            record_id: record,
            sfid: old.get("sfid").cloned().flatten(),
            old,
            values,
            created_at: DateTime::from_timestamp(1_700_000_000 + i64::from(id), 0).unwrap(),
            attempts: 0,
        }
    }

    #[test]
    fn an_insert_then_updates_is_one_insert_with_the_last_values() {
        let rows = [
            row(
                1,
                7,
                Action::Insert,
                vals(&[("name", Some("a")), ("x", None)]),
                vals(&[]),
            ),
            row(
                2,
                7,
                Action::Update,
                vals(&[("name", Some("b"))]),
                vals(&[]),
            ),
            row(3, 7, Action::Update, vals(&[("x", Some("1"))]), vals(&[])),
        ];
        let got = fold(&rows);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].log_ids, vec![1, 2, 3]);
        assert_eq!(
            got[0].net,
            Net::Insert(vals(&[("name", Some("b")), ("x", Some("1"))]))
        );
    }

    #[test]
    fn updates_merge_keep_the_first_stamp_and_a_delete_wins() {
        let old = vals(&[("sfid", Some("001A")), ("systemmodstamp", Some("t0"))]);
        let old2 = vals(&[("sfid", Some("001A")), ("systemmodstamp", Some("t1"))]);
        let rows = [
            row(
                1,
                1,
                Action::Update,
                vals(&[("name", Some("a"))]),
                old.clone(),
            ),
            row(
                2,
                2,
                Action::Update,
                vals(&[("name", Some("z"))]),
                old.clone(),
            ),
            row(3, 1, Action::Update, vals(&[("name", Some("b"))]), old2),
            row(4, 2, Action::Delete, vals(&[]), old),
        ];
        let got = fold(&rows);
        assert_eq!(got.iter().map(|c| c.record_id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(
            got[0].net,
            Net::Update {
                values: vals(&[("name", Some("b"))]),
                stamp: Some("t0".into())
            }
        );
        assert_eq!(got[0].sfid.as_deref(), Some("001A"));
        assert_eq!(got[1].net, Net::Delete);
        assert_eq!(got[1].log_ids, vec![2, 4]);
    }

    #[test]
    fn an_insert_deleted_before_it_was_sent_is_nothing() {
        let rows = [
            row(
                1,
                5,
                Action::Insert,
                vals(&[("name", Some("a"))]),
                vals(&[]),
            ),
            row(
                2,
                5,
                Action::Delete,
                vals(&[]),
                vals(&[("name", Some("a"))]),
            ),
        ];
        assert_eq!(fold(&rows)[0].net, Net::Nothing);
        assert_eq!(Action::parse("DELETE"), Some(Action::Delete));
        assert_eq!(Action::parse("TRUNCATE"), None);
    }
}
