//! Undelete: restoring a record from the recycle bin, as the SOAP `undelete` call does.
//! The record and the master-detail children its delete took along come back live
//! (`IsDeleted` false, in queries again, unique values indexed again) with
//! `LastModifiedDate` and `SystemModstamp` moved on; each is captured as an UNDELETE
//! change. Children deleted on their own before the parent stay in the recycle bin, and
//! a cascade-deleted child cannot be undeleted by itself (it is not in the bin: its
//! parent is).

use super::{Row, Store, index_unique, malformed_id, stamp};
use crate::ids::RecordId;
use crate::pubsub::capture::Kind;
use crate::record_error::RecordError;
use crate::rules;
use crate::value::Value;

/// `UNDELETE_FAILED`, Salesforce's answer for an Id that is not in the recycle bin (a
/// live record, one deleted for good, one never issued).
pub fn not_in_recycle_bin() -> RecordError {
    RecordError::new("UNDELETE_FAILED", "Entity is not in the recycle bin")
}

impl Store {
    /// Restores `id` of `obj` and the children deleted with it. Returns the rows as they
    /// were, so an all-or-none caller can put them back with [`Store::restore`].
    pub fn undelete(
        &mut self,
        obj: usize,
        id: RecordId,
    ) -> Result<Vec<(usize, u64, Row)>, RecordError> {
        let schema = self.schema.clone();
        let def = &schema.objects[obj];
        if id.prefix() != def.key_prefix {
            return Err(malformed_id(def, &id.to_string()));
        }
        let seq = id.seq();
        match self.tables[obj].get(seq) {
            Some(r) if r.deleted && !r.cascaded => {}
            _ => return Err(not_in_recycle_bin()),
        }
        let set = self.undelete_set(obj, seq);
        // A unique value another record took meanwhile keeps the whole set in the bin.
        for (o, s) in &set {
            if let Some(row) = self.tables[*o].get(*s) {
                self.check_unique(*o, &row.values, Some(*s))?;
            }
        }
        let now = self.tick();
        let user = self.user;
        let mut before = Vec::with_capacity(set.len());
        for (o, s) in set {
            let def = &schema.objects[o];
            let t = &mut self.tables[o];
            let Some(row) = t.rows[(s - 1) as usize].as_mut() else {
                continue;
            };
            before.push((o, s, row.clone()));
            row.deleted = false;
            row.cascaded = false;
            if let Some(slot) = def.try_slot("IsDeleted") {
                row.values[slot] = Value::Bool(false);
            }
            stamp(def, &mut row.values, now, user);
            let values = row.values.clone();
            t.live += 1;
            t.deleted -= 1;
            index_unique(def, t, &values, s);
            self.capture.record(o, s, Kind::Undelete, []);
            // Parents' roll-ups count the restored children again.
            self.current = Some(now);
            rules::after_write(self, o, s, None);
            self.current = None;
        }
        Ok(before)
    }

    /// The record and, parents before children, the cascade-deleted descendants that
    /// come back with it.
    fn undelete_set(&self, obj: usize, seq: u64) -> Vec<(usize, u64)> {
        let schema = self.schema.clone();
        let mut out = vec![(obj, seq)];
        let mut i = 0;
        while i < out.len() {
            let (o, s) = out[i];
            for child in self.cascade_children(&schema, o, s) {
                let with_parent = self.tables[child.0]
                    .get(child.1)
                    .is_some_and(|r| r.deleted && r.cascaded);
                if with_parent && !out.contains(&child) {
                    out.push(child);
                }
            }
            i += 1;
        }
        out
    }
}
