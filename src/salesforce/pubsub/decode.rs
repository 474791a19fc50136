//! Decoding a change event's payload: plain Avro binary in the writer schema that
//! `GetSchema` returns for the event's `schema_id`. Field values become text as
//! Salesforce writes them in CSV (times in UTC with milliseconds), so one path writes
//! them to the mirror whatever their origin. The field lists of the header are bitmaps:
//! `0x` + hex of a number whose bit `i` is top-level schema field `i`, and
//! `<i>-0x<hex>` for the parts of compound field `i` (`BillingAddress`: its parts are
//! the fields `BillingStreet`, `BillingCity`, ...). Salesforce sets compound field
//! `i`'s top-level bit as well, so only a top-level bit with no `<i>-` entry means the
//! whole compound. A record type is defined once and named afterwards
//! (`ShippingAddress` is `["null", "Address"]`), so named records are resolved.

use std::collections::{BTreeMap, BTreeSet};

use apache_avro::Schema;
use apache_avro::schema::RecordSchema;
use apache_avro::types::Value as Avro;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::error::PubSubError;
use super::event::{ChangeType, Event};

/// A parsed event schema.
#[derive(Debug)]
pub struct EventSchema {
    avro: Schema,
    /// Top-level field names, in schema order (0 is `ChangeEventHeader`).
    fields: Vec<String>,
    /// For compound fields (records): their parts' names.
    parts: BTreeMap<usize, Vec<String>>,
}

impl EventSchema {
    /// Parses the schema JSON `GetSchema` returned.
    pub fn parse(json: &str) -> Result<EventSchema, PubSubError> {
        let avro = Schema::parse_str(json)
            .map_err(|e| PubSubError::Decode(format!("event schema: {e}")))?;
        let Schema::Record(RecordSchema { fields: top, .. }) = &avro else {
            return Err(PubSubError::Decode("event schema is not a record".into()));
        };
        let fields: Vec<String> = top.iter().map(|f| f.name.clone()).collect();
        let mut parts = BTreeMap::new();
        // Record types by name, in definition order (a reference follows its definition).
        let mut named: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (i, f) in top.iter().enumerate() {
            if let Some(names) = record_fields(&f.schema, &mut named) {
                parts.insert(i, names);
            }
        }
        Ok(EventSchema {
            avro,
            fields,
            parts,
        })
    }

    /// Decodes one event's payload.
    pub fn decode(&self, payload: &[u8]) -> Result<Event, PubSubError> {
        let value = apache_avro::from_avro_datum(&self.avro, &mut &payload[..], None)
            .map_err(|e| PubSubError::Decode(format!("event payload: {e}")))?;
        let Avro::Record(top) = value else {
            return Err(PubSubError::Decode("event payload is not a record".into()));
        };
        let mut header = None;
        let mut present: BTreeMap<String, String> = BTreeMap::new();
        for (name, v) in top {
            if name == "ChangeEventHeader" {
                header = Some(v);
                continue;
            }
            match unwrap_union(v) {
                Avro::Null => {}
                Avro::Record(inner) => {
                    for (part, pv) in inner {
                        if let Some(t) = text(unwrap_union(pv)) {
                            present.insert(part_field(&name, &part), t);
                        }
                    }
                }
                other => {
                    if let Some(t) = text(other) {
                        present.insert(name, t);
                    }
                }
            }
        }
        let Some(Avro::Record(h)) = header.map(unwrap_union) else {
            return Err(PubSubError::Decode(
                "event payload has no ChangeEventHeader".into(),
            ));
        };
        let get = |k: &str| h.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let string = |k: &str| match get(k).map(unwrap_union) {
            Some(Avro::String(s)) => s,
            _ => String::new(),
        };
        let strings = |k: &str| match get(k).map(unwrap_union) {
            Some(Avro::Array(items)) => items
                .into_iter()
                .filter_map(|i| match i {
                    Avro::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let change_type = match get("changeType").map(unwrap_union) {
            Some(Avro::Enum(_, s)) | Some(Avro::String(s)) => ChangeType::parse(&s),
            _ => None,
        }
        .ok_or_else(|| PubSubError::Decode("event header has no known changeType".into()))?;
        let commit_ms = match get("commitTimestamp").map(unwrap_union) {
            Some(Avro::Long(n)) | Some(Avro::TimestampMillis(n)) => n,
            _ => 0,
        };
        let nulled = self.names(&strings("nulledFields"));
        let values = if matches!(change_type, ChangeType::Update) {
            self.names(&strings("changedFields"))
                .into_iter()
                .map(|f| {
                    let v = if nulled.contains(&f) {
                        None
                    } else {
                        present.get(&f).cloned()
                    };
                    (f, v)
                })
                .collect()
        } else {
            present.into_iter().map(|(k, v)| (k, Some(v))).collect()
        };
        Ok(Event {
            change_type,
            entity: string("entityName"),
            record_ids: strings("recordIds"),
            values,
            commit_ms,
            commit_user: string("commitUser"),
            origin: string("changeOrigin"),
            transaction_key: string("transactionKey"),
        })
    }

    /// The field names a bitmap list names.
    pub fn names(&self, bitmaps: &[String]) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        // Compound fields whose changed parts an `<i>-` entry lists.
        let listed: BTreeSet<usize> = bitmaps
            .iter()
            .filter_map(|e| e.split_once('-'))
            .filter_map(|(p, _)| p.parse().ok())
            .collect();
        for entry in bitmaps {
            match entry.split_once('-') {
                Some((parent, bits)) => {
                    let Ok(p) = parent.parse::<usize>() else {
                        continue;
                    };
                    let (Some(pname), Some(parts)) = (self.fields.get(p), self.parts.get(&p))
                    else {
                        continue;
                    };
                    for i in bits_of(bits) {
                        if let Some(part) = parts.get(i) {
                            out.insert(part_field(pname, part));
                        }
                    }
                }
                None => {
                    for i in bits_of(entry) {
                        if let Some(name) = self.fields.get(i).filter(|_| i > 0) {
                            if listed.contains(&i) {
                                // Its `<i>-` entry names the parts.
                            } else if self.parts.contains_key(&i) {
                                // A whole compound field: every part.
                                for part in &self.parts[&i] {
                                    out.insert(part_field(name, part));
                                }
                            } else {
                                out.insert(name.clone());
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

/// The bit positions set in `0x<hex>`.
pub fn bits_of(bitmap: &str) -> Vec<usize> {
    let hex = bitmap
        .trim()
        .trim_start_matches("0x")
        .trim_start_matches("0X");
    let mut out = Vec::new();
    for (n, c) in hex.chars().rev().enumerate() {
        let Some(d) = c.to_digit(16) else {
            return Vec::new();
        };
        for b in 0..4 {
            if d & (1 << b) != 0 {
                out.push(n * 4 + b);
            }
        }
    }
    out
}

/// The real field of part `part` of compound field `parent`: an address's parts carry
/// its prefix (`BillingAddress.Street` is `BillingStreet`); a geolocation's are its
/// component fields (`Site__c.Latitude` is `Site__Latitude__s`); a name's are fields
/// already (`Name.FirstName` is `FirstName`).
fn part_field(parent: &str, part: &str) -> String {
    if let Some(prefix) = parent.strip_suffix("Address").filter(|p| !p.is_empty()) {
        return format!("{prefix}{part}");
    }
    match parent.strip_suffix("__c") {
        Some(base) if !base.is_empty() => format!("{base}__{part}__s"),
        _ => part.to_string(),
    }
}

/// The part names of a (nullable) record field; records seen are remembered in `named`
/// so a later reference by name resolves.
fn record_fields(s: &Schema, named: &mut BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    match s {
        Schema::Record(r) => {
            let names: Vec<String> = r.fields.iter().map(|f| f.name.clone()).collect();
            named.insert(r.name.name.clone(), names.clone());
            Some(names)
        }
        Schema::Ref { name } => named.get(&name.name).cloned(),
        Schema::Union(u) => u.variants().iter().find_map(|v| record_fields(v, named)),
        _ => None,
    }
}

fn unwrap_union(v: Avro) -> Avro {
    match v {
        Avro::Union(_, inner) => unwrap_union(*inner),
        other => other,
    }
}

/// A value as Salesforce's CSV writes it; None for null and for what a field never is.
fn text(v: Avro) -> Option<String> {
    Some(match v {
        Avro::Null => return None,
        Avro::Boolean(b) => b.to_string(),
        Avro::Int(n) => n.to_string(),
        Avro::Long(n) => n.to_string(),
        Avro::Float(f) => f.to_string(),
        Avro::Double(f) => f.to_string(),
        Avro::String(s) | Avro::Enum(_, s) => s,
        Avro::Date(days) => {
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
            (epoch + chrono::Duration::days(i64::from(days)))
                .format("%Y-%m-%d")
                .to_string()
        }
        Avro::TimestampMillis(ms) => millis_text(ms)?,
        Avro::TimestampMicros(us) => millis_text(us / 1000)?,
        Avro::TimeMillis(ms) => {
            let t = NaiveTime::from_num_seconds_from_midnight_opt(
                (ms / 1000) as u32,
                ((ms % 1000) * 1_000_000) as u32,
            )?;
            format!("{}Z", t.format("%H:%M:%S%.3f"))
        }
        Avro::Array(items) => {
            // Multi-select picklists arrive as arrays; the CSV form joins with `;`.
            let parts: Vec<String> = items.into_iter().filter_map(text).collect();
            parts.join(";")
        }
        _ => return None,
    })
}

/// Epoch milliseconds as `2024-05-01T12:00:00.000Z`.
pub fn millis_text(ms: i64) -> Option<String> {
    let t: DateTime<Utc> = DateTime::from_timestamp_millis(ms)?;
    Some(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
