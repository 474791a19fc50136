//! The Avro schema of an object's change event, as `GetSchema` returns it: the record
//! `<Object>ChangeEvent` whose field 0 is the real `ChangeEventHeader` and whose other
//! fields are the object's fields as `["null", T]` unions, compound fields as nested
//! records (the layout is `compound.rs`'s). The schema id is a hash of the JSON, so it
//! changes exactly when the schema does.

use base64::Engine;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use super::PubSubError;
use super::compound::{TopField, layout, schema_fields};
use crate::model::ObjectDef;

/// The change types of `ChangeEventHeader.changeType`, in the schema's symbol order.
pub const CHANGE_TYPES: [&str; 10] = [
    "CREATE",
    "UPDATE",
    "DELETE",
    "UNDELETE",
    "GAP_CREATE",
    "GAP_UPDATE",
    "GAP_DELETE",
    "GAP_UNDELETE",
    "GAP_OVERFLOW",
    "SNAPSHOT",
];

/// One object's event schema.
#[derive(Debug)]
pub struct EventSchema {
    /// The schema id (22 characters, as Salesforce's are).
    pub id: String,
    /// The schema as JSON text.
    pub json: String,
    /// The parsed schema, for encoding.
    pub avro: apache_avro::Schema,
    /// Top-level fields after the header; field `i` of this list is top-level schema
    /// field `i + 1`, the bit the bitmaps use.
    pub top: Vec<TopField>,
    /// Every value slot the events carry (plain fields and stored compound parts).
    pub slots: Vec<usize>,
}

impl EventSchema {
    /// The schema of `def`'s change events.
    pub fn of(def: &ObjectDef) -> Result<EventSchema, PubSubError> {
        let top = layout(def);
        let slots = top
            .iter()
            .flat_map(|t| match t {
                TopField::Plain(slot, _, _) => vec![*slot],
                TopField::Compound(_, _, parts) => parts.iter().filter_map(|p| p.slot).collect(),
            })
            .collect();
        let mut avro_fields = vec![json!({"name": "ChangeEventHeader", "type": header_type()})];
        avro_fields.extend(schema_fields(&top));
        let record = json!({
            "type": "record",
            "name": event_name(&def.name),
            "namespace": "com.sforce.eventbus",
            "fields": avro_fields,
        });
        let json = record.to_string();
        let avro = apache_avro::Schema::parse_str(&json)
            .map_err(|e| PubSubError::Schema(format!("{}: {e}", def.name)))?;
        let digest = Sha256::digest(json.as_bytes());
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
        Ok(EventSchema {
            id,
            json,
            avro,
            top,
            slots,
        })
    }

    /// Where a value slot is: its top-level schema position (1-based after the header)
    /// and, for a part of a compound field, the part's index in the nested record.
    pub fn locate(&self, slot: usize) -> Option<(usize, Option<usize>)> {
        self.top.iter().enumerate().find_map(|(i, t)| match t {
            TopField::Plain(s, _, _) => (*s == slot).then_some((i + 1, None)),
            TopField::Compound(_, _, parts) => parts
                .iter()
                .position(|p| p.slot == Some(slot))
                .map(|j| (i + 1, Some(j))),
        })
    }
}

/// `Account` -> `AccountChangeEvent`, `Employee__c` -> `Employee__ChangeEvent`.
pub fn event_name(object: &str) -> String {
    match object.strip_suffix("__c") {
        Some(base) => format!("{base}__ChangeEvent"),
        None => format!("{object}ChangeEvent"),
    }
}

/// The inverse of [`event_name`]: the object a `<Name>ChangeEvent` is about.
pub fn object_of_event(event: &str) -> Option<String> {
    let base = event.strip_suffix("ChangeEvent")?;
    if base.is_empty() {
        return None;
    }
    Some(match base.strip_suffix("__") {
        Some(custom) => format!("{custom}__c"),
        None => base.to_string(),
    })
}

fn header_type() -> Json {
    let strings = json!({"type": "array", "items": "string"});
    json!({
        "type": "record",
        "name": "ChangeEventHeader",
        "namespace": "com.sforce.eventbus",
        "fields": [
            {"name": "entityName", "type": "string"},
            {"name": "recordIds", "type": strings},
            {"name": "changeType", "type": {"type": "enum", "name": "ChangeType", "namespace": "com.sforce.eventbus", "symbols": CHANGE_TYPES}},
            {"name": "changeOrigin", "type": "string"},
            {"name": "transactionKey", "type": "string"},
            {"name": "sequenceNumber", "type": "int"},
            {"name": "commitTimestamp", "type": "long"},
            {"name": "commitNumber", "type": "long"},
            {"name": "commitUser", "type": "string"},
            {"name": "nulledFields", "type": strings},
            {"name": "diffFields", "type": strings},
            {"name": "changedFields", "type": strings},
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(event_name("Account"), "AccountChangeEvent");
        assert_eq!(event_name("Employee__c"), "Employee__ChangeEvent");
        assert_eq!(
            object_of_event("AccountChangeEvent").as_deref(),
            Some("Account")
        );
        assert_eq!(
            object_of_event("Employee__ChangeEvent").as_deref(),
            Some("Employee__c")
        );
        assert_eq!(object_of_event("ChangeEvents"), None);
    }
}
