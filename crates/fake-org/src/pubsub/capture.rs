//! Change capture inside the store: every write records which record changed and how,
//! merged per record within one transaction (several writes to one record in one
//! transaction give one change with the final state, as Salesforce's CDC does). The
//! store lock's write guard drains it when the transaction ends (see `store_lock`).

use std::collections::{BTreeMap, BTreeSet};

/// How a record changed within the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Created (and possibly updated again).
    Create,
    /// Updated.
    Update,
    /// Moved to the recycle bin (or hard-deleted while live).
    Delete,
    /// Restored from the recycle bin.
    Undelete,
}

/// One record's change: its kind and, for updates, the value slots that changed.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The change.
    pub kind: Kind,
    /// Slots whose value changed (updates only).
    pub slots: BTreeSet<usize>,
}

/// The changes of the transaction in progress, by `(object, sequence number)`, in the
/// order records were first touched.
#[derive(Debug, Default)]
pub struct Capture {
    enabled: bool,
    order: Vec<(usize, u64)>,
    pending: BTreeMap<(usize, u64), Pending>,
}

impl Capture {
    /// Starts recording (off while seeding: a seeded org has no history of events).
    pub fn enable(&mut self) {
        self.enabled = true;
    }

    /// Records a change of one record.
    pub fn record(
        &mut self,
        obj: usize,
        seq: u64,
        kind: Kind,
        slots: impl IntoIterator<Item = usize>,
    ) {
        if !self.enabled {
            return;
        }
        let key = (obj, seq);
        match self.pending.get_mut(&key) {
            None => {
                self.order.push(key);
                self.pending.insert(
                    key,
                    Pending {
                        kind,
                        slots: slots.into_iter().collect(),
                    },
                );
            }
            Some(p) => match (p.kind, kind) {
                // Created (or undeleted) then changed: still that, with the final state.
                (Kind::Create | Kind::Undelete, Kind::Update) => {}
                // Created (or undeleted) and deleted in one transaction: nothing to tell.
                (Kind::Create | Kind::Undelete, Kind::Delete) => {
                    self.pending.remove(&key);
                }
                (Kind::Update, Kind::Update) => p.slots.extend(slots),
                (_, k) => {
                    p.kind = k;
                    p.slots = slots.into_iter().collect();
                }
            },
        }
    }

    /// Forgets the changes of one record (its write was rolled back).
    pub fn forget(&mut self, obj: usize, seq: u64) {
        self.pending.remove(&(obj, seq));
    }

    /// Whether anything was recorded since the last drain.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Takes the transaction's changes in first-touched order.
    pub fn drain(&mut self) -> Vec<((usize, u64), Pending)> {
        let mut pending = std::mem::take(&mut self.pending);
        std::mem::take(&mut self.order)
            .into_iter()
            .filter_map(|k| pending.remove(&k).map(|p| (k, p)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_per_record_and_drops_created_then_deleted() {
        let mut c = Capture::default();
        c.record(0, 1, Kind::Create, []);
        c.record(0, 1, Kind::Update, [3]);
        c.record(0, 2, Kind::Update, [3]);
        c.record(0, 2, Kind::Update, [4]);
        c.record(0, 3, Kind::Create, []);
        c.record(0, 3, Kind::Delete, []);
        assert!(c.is_empty(), "disabled capture records nothing");
        c.enable();
        c.record(0, 1, Kind::Create, []);
        c.record(0, 1, Kind::Update, [3]);
        c.record(0, 2, Kind::Update, [3]);
        c.record(0, 2, Kind::Update, [4]);
        c.record(0, 3, Kind::Create, []);
        c.record(0, 3, Kind::Delete, []);
        let d = c.drain();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].1.kind, Kind::Create);
        assert_eq!(d[1].1.kind, Kind::Update);
        assert_eq!(d[1].1.slots.iter().copied().collect::<Vec<_>>(), vec![3, 4]);
        assert!(c.is_empty());
    }
}
