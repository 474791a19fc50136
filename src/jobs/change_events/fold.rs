//! Folding a chunk's events, in order, into what to write per record: the newest
//! known state of each record (a whole row from CREATE or UNDELETE, or changed fields
//! from UPDATE, merged in order), deletions, records to read by Id (a gap event names
//! them without their data), and whether a resync must cover what no event names
//! (GAP_OVERFLOW). Pure, so the rules are unit-tested.

use std::collections::{BTreeMap, BTreeSet};

use crate::salesforce::pubsub::{ChangeType, Event};

/// One record's change as the events tell it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordChange {
    /// The values are the whole record (absent fields are null).
    pub whole: bool,
    /// Field values by API name.
    pub values: BTreeMap<String, Option<String>>,
    /// The newest event's commit time, epoch ms.
    pub commit_ms: i64,
}

/// What a chunk's events come to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Folded {
    /// Records with a known new state.
    pub upserts: BTreeMap<String, RecordChange>,
    /// Records deleted, with the delete's commit time.
    pub deletes: BTreeMap<String, i64>,
    /// Records to read by Id.
    pub fetch: BTreeSet<String>,
    /// A change no event names happened: a resync must cover it.
    pub resync: bool,
    /// Records orgpool created itself (write-back writes their rows, with the local
    /// row's id, so the event is not applied).
    pub own_creates: usize,
}

/// Folds `events` in order.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> Folded {
    let mut out = Folded::default();
    for e in events {
        match e.change_type {
            ChangeType::GapOverflow => out.resync = true,
            t if t.is_gap() => {
                if e.record_ids.is_empty() {
                    out.resync = true;
                }
                for id in &e.record_ids {
                    out.upserts.remove(id);
                    out.deletes.remove(id);
                    out.fetch.insert(id.clone());
                }
            }
            ChangeType::Snapshot => {}
            ChangeType::Create if e.is_own() => out.own_creates += e.record_ids.len(),
            ChangeType::Create | ChangeType::Undelete => {
                for id in live_ids(e, &out) {
                    out.deletes.remove(&id);
                    out.upserts.insert(
                        id,
                        RecordChange {
                            whole: true,
                            values: e.values.clone(),
                            commit_ms: e.commit_ms,
                        },
                    );
                }
            }
            ChangeType::Update => {
                for id in live_ids(e, &out) {
                    let entry = out.upserts.entry(id).or_insert_with(|| RecordChange {
                        whole: false,
                        values: BTreeMap::new(),
                        commit_ms: e.commit_ms,
                    });
                    entry.commit_ms = e.commit_ms;
                    for (k, v) in &e.values {
                        entry.values.insert(k.clone(), v.clone());
                    }
                }
            }
            ChangeType::Delete => {
                for id in live_ids(e, &out) {
                    out.upserts.remove(&id);
                    out.deletes.insert(id, e.commit_ms);
                }
            }
            _ => {}
        }
    }
    out
}

/// The event's records that are not read by Id anyway (a read gives the newest state).
fn live_ids(e: &Event, out: &Folded) -> Vec<String> {
    e.record_ids
        .iter()
        .filter(|id| !out.fetch.contains(*id))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: ChangeType, ids: &[&str], values: &[(&str, Option<&str>)], ms: i64) -> Event {
        Event {
            change_type: t,
            entity: "Account".into(),
            record_ids: ids.iter().map(|s| s.to_string()).collect(),
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
                .collect(),
            commit_ms: ms,
            commit_user: String::new(),
            origin: String::new(),
            transaction_key: "t".into(),
        }
    }

    #[test]
    fn updates_merge_in_order_over_a_create() {
        let f = fold(&[
            ev(
                ChangeType::Create,
                &["a"],
                &[("Name", Some("x")), ("Phone", Some("1"))],
                1,
            ),
            ev(ChangeType::Update, &["a", "b"], &[("Name", Some("y"))], 2),
            ev(ChangeType::Update, &["a"], &[("Phone", None)], 3),
        ]);
        let a = &f.upserts["a"];
        assert!(a.whole);
        assert_eq!(a.commit_ms, 3);
        assert_eq!(a.values["Name"].as_deref(), Some("y"));
        assert_eq!(a.values["Phone"], None);
        let b = &f.upserts["b"];
        assert!(!b.whole);
        assert_eq!(b.values.len(), 1);
        assert!(f.deletes.is_empty() && f.fetch.is_empty() && !f.resync);
    }

    #[test]
    fn a_delete_wins_over_earlier_changes_and_an_undelete_over_the_delete() {
        let f = fold(&[
            ev(ChangeType::Update, &["a", "b"], &[("Name", Some("y"))], 1),
            ev(ChangeType::Delete, &["a", "b"], &[], 2),
            ev(ChangeType::Undelete, &["b"], &[("Name", Some("z"))], 3),
        ]);
        assert_eq!(f.deletes.keys().collect::<Vec<_>>(), ["a"]);
        assert!(f.upserts["b"].whole);
        assert!(!f.upserts.contains_key("a"));
    }

    #[test]
    fn gaps_read_their_records_by_id_and_an_overflow_asks_for_a_resync() {
        let f = fold(&[
            ev(ChangeType::Update, &["a"], &[("Name", Some("y"))], 1),
            ev(ChangeType::GapUpdate, &["a", "c"], &[], 2),
            ev(ChangeType::Update, &["a"], &[("Name", Some("later"))], 3),
        ]);
        assert_eq!(f.fetch.iter().collect::<Vec<_>>(), ["a", "c"]);
        assert!(f.upserts.is_empty());
        assert!(!f.resync);
        assert!(fold(&[ev(ChangeType::GapOverflow, &[], &[], 1)]).resync);
    }

    #[test]
    fn orgpools_own_creates_are_left_to_write_back() {
        let mut e = ev(ChangeType::Create, &["a"], &[("Name", Some("x"))], 1);
        e.origin = "com/salesforce/api/rest/62.0;client=orgpool".into();
        let f = fold(&[e]);
        assert!(f.upserts.is_empty());
        assert_eq!(f.own_creates, 1);
    }
}
