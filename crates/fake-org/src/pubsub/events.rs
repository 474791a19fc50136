//! Turning one committed transaction into change events, as Salesforce does: one event
//! per object and distinct change, with every record the same change hit in its
//! `recordIds`; the transaction's events share a `transactionKey` and count up
//! `sequenceNumber`. Past the overflow threshold an object's further changes become one
//! `GAP_OVERFLOW` event.

use std::collections::HashMap;
use std::sync::Arc;

use super::PubSubState;
use super::avro_schema::EventSchema;
use super::bus::{Header, uuid_v4};
use super::capture::{Kind, Pending};
use crate::ids::RecordId;
use crate::store::Store;
use crate::value::Value;

/// Index of `GAP_OVERFLOW` in the change types.
pub const GAP_OVERFLOW: usize = 8;

/// An event before it has a replay id.
pub type Draft = (Arc<EventSchema>, Header, Vec<(usize, Value)>);

/// Publishes the events of one transaction's changes, made through the API call that
/// `origin` names (empty for churn and admin writes).
pub fn commit(
    state: &PubSubState,
    store: &Store,
    origin: &str,
    changes: Vec<((usize, u64), Pending)>,
) {
    if changes.is_empty() {
        return;
    }
    let threshold = state.bus.settings().overflow_threshold;
    let base = BaseHeader {
        origin: origin.to_string(),
        transaction_key: uuid_v4(),
        commit_number: state.bus.next_commit(),
        commit_timestamp: chrono::Utc::now().timestamp_millis(),
        commit_user: store.user.to_string(),
    };
    let mut drafts: Vec<Draft> = Vec::new();
    // (object, change) -> index in drafts, so equal changes share one event.
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut per_object: HashMap<usize, usize> = HashMap::new();
    let mut overflowed: Vec<usize> = Vec::new();
    for ((obj, seq), p) in changes {
        let Some(schema) = state.schema(store, obj) else {
            continue;
        };
        let n = per_object.entry(obj).or_default();
        *n += 1;
        if *n > threshold {
            if !overflowed.contains(&obj) {
                overflowed.push(obj);
            }
            continue;
        }
        let def = &store.schema.objects[obj];
        let id = RecordId::new(def.key_prefix, seq).to_string();
        let row = store.table(obj).get(seq);
        let value = |slot: usize| row.map_or(Value::Null, |r| r.values[slot].clone());
        let (fields, changed, nulled) = match p.kind {
            Kind::Create | Kind::Undelete => {
                let fields: Vec<(usize, Value)> = schema
                    .slots
                    .iter()
                    .map(|s| (*s, value(*s)))
                    .filter(|(_, v)| !v.is_null())
                    .collect();
                (fields, Vec::new(), Vec::new())
            }
            Kind::Update => {
                let changed: Vec<usize> = schema
                    .slots
                    .iter()
                    .copied()
                    .filter(|s| p.slots.contains(s))
                    .collect();
                let nulled: Vec<usize> = changed
                    .iter()
                    .copied()
                    .filter(|s| value(*s).is_null())
                    .collect();
                let fields = changed
                    .iter()
                    .map(|s| (*s, value(*s)))
                    .filter(|(_, v)| !v.is_null())
                    .collect();
                (fields, changed, nulled)
            }
            Kind::Delete => (Vec::new(), Vec::new(), Vec::new()),
        };
        let change_type = match p.kind {
            Kind::Create => 0,
            Kind::Update => 1,
            Kind::Delete => 2,
            Kind::Undelete => 3,
        };
        let key = format!("{obj}|{change_type}|{fields:?}|{nulled:?}");
        if let Some(&i) = by_key.get(&key) {
            drafts[i].1.record_ids.push(id);
            continue;
        }
        by_key.insert(key, drafts.len());
        let header = base.header(&def.name, vec![id], change_type, changed, nulled);
        drafts.push((schema, header, fields));
    }
    for obj in overflowed {
        if let Some(schema) = state.schema(store, obj) {
            let name = &store.schema.objects[obj].name;
            let header = base.header(name, Vec::new(), GAP_OVERFLOW, Vec::new(), Vec::new());
            drafts.push((schema, header, Vec::new()));
        }
    }
    for (i, d) in drafts.iter_mut().enumerate() {
        d.1.sequence_number = i32::try_from(i + 1).unwrap_or(i32::MAX);
    }
    state.bus.publish(drafts);
}

/// A gap (or overflow) event for `ids` of `obj`, as its own transaction: Salesforce
/// sends these when it could not produce the change event itself.
pub fn gap(state: &PubSubState, store: &Store, obj: usize, change_type: usize, ids: Vec<String>) {
    let Some(schema) = state.schema(store, obj) else {
        return;
    };
    let base = BaseHeader {
        origin: String::new(),
        transaction_key: uuid_v4(),
        commit_number: state.bus.next_commit(),
        commit_timestamp: chrono::Utc::now().timestamp_millis(),
        commit_user: store.user.to_string(),
    };
    let mut header = base.header(
        &store.schema.objects[obj].name,
        ids,
        change_type,
        Vec::new(),
        Vec::new(),
    );
    header.sequence_number = 1;
    state.bus.publish(vec![(schema, header, Vec::new())]);
}

struct BaseHeader {
    origin: String,
    transaction_key: String,
    commit_number: i64,
    commit_timestamp: i64,
    commit_user: String,
}

impl BaseHeader {
    fn header(
        &self,
        entity: &str,
        record_ids: Vec<String>,
        change_type: usize,
        changed: Vec<usize>,
        nulled: Vec<usize>,
    ) -> Header {
        Header {
            entity: entity.to_string(),
            record_ids,
            change_type,
            origin: self.origin.clone(),
            transaction_key: self.transaction_key.clone(),
            sequence_number: 0,
            commit_timestamp: self.commit_timestamp,
            commit_number: self.commit_number,
            commit_user: self.commit_user.clone(),
            changed,
            nulled,
        }
    }
}

/// [`gap`] by names, for the admin endpoint and the handle; false when the object or the
/// change type (`GAP_CREATE`, ..., `GAP_OVERFLOW`) is unknown.
pub fn emit_named_gap(
    org: &crate::state::OrgState,
    object: &str,
    change_type: &str,
    ids: Vec<String>,
) -> bool {
    let types = super::avro_schema::CHANGE_TYPES;
    let Some(t) = types
        .iter()
        .position(|t| t.eq_ignore_ascii_case(change_type) && t.starts_with("GAP_"))
    else {
        return false;
    };
    let store = org.store.read();
    let Some(obj) = store.schema.index(object) else {
        return false;
    };
    gap(&org.store.pubsub, &store, obj, t, ids);
    true
}
