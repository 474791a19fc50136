//! Encoding a change event as Salesforce sends it: plain Avro binary (no container, no
//! schema prefix) in the event's schema, with `changedFields` / `nulledFields` /
//! `diffFields` as bitmaps: `0x` + upper-case hex of the number whose bit `i` is set
//! when top-level schema field `i` is in the list.

use apache_avro::types::Value as Avro;

use super::PubSubError;
use super::avro_schema::CHANGE_TYPES;
use super::bus::ChangeEvent;
use crate::model::FieldType;
use crate::value::Value;

/// The event's Avro payload.
pub fn payload(e: &ChangeEvent) -> Result<Vec<u8>, PubSubError> {
    let s = &e.schema;
    let h = &e.header;
    let positions = |slots: &[usize]| -> Vec<usize> {
        slots.iter().filter_map(|slot| s.position(*slot)).collect()
    };
    let header = Avro::Record(vec![
        ("entityName".into(), Avro::String(h.entity.clone())),
        ("recordIds".into(), strings(&h.record_ids)),
        (
            "changeType".into(),
            Avro::Enum(
                h.change_type as u32,
                CHANGE_TYPES[h.change_type].to_string(),
            ),
        ),
        ("changeOrigin".into(), Avro::String(h.origin.clone())),
        (
            "transactionKey".into(),
            Avro::String(h.transaction_key.clone()),
        ),
        ("sequenceNumber".into(), Avro::Int(h.sequence_number)),
        ("commitTimestamp".into(), Avro::Long(h.commit_timestamp)),
        ("commitNumber".into(), Avro::Long(h.commit_number)),
        ("commitUser".into(), Avro::String(h.commit_user.clone())),
        (
            "nulledFields".into(),
            strings(&bitmap(&positions(&h.nulled))),
        ),
        ("diffFields".into(), strings(&[])),
        (
            "changedFields".into(),
            strings(&bitmap(&positions(&h.changed))),
        ),
    ]);
    let mut record = vec![("ChangeEventHeader".to_string(), header)];
    for (slot, ftype, name) in &s.fields {
        let v = e
            .fields
            .iter()
            .find(|(s, _)| s == slot)
            .map_or(&Value::Null, |(_, v)| v);
        record.push((name.clone(), union(v, *ftype)));
    }
    apache_avro::to_avro_datum(&s.avro, Avro::Record(record))
        .map_err(|err| PubSubError::Encode(format!("{}: {err}", h.entity)))
}

/// The bitmap list for top-level field positions: empty, or one `0x…` entry.
pub fn bitmap(positions: &[usize]) -> Vec<String> {
    let Some(&max) = positions.iter().max() else {
        return Vec::new();
    };
    let mut nibbles = vec![0u8; max / 4 + 1];
    for p in positions {
        nibbles[p / 4] |= 1 << (p % 4);
    }
    let hex: String = nibbles
        .iter()
        .rev()
        .map(|n| char::from_digit(u32::from(*n), 16).unwrap_or('0'))
        .collect::<String>()
        .to_uppercase();
    vec![format!("0x{hex}")]
}

fn strings(items: &[String]) -> Avro {
    Avro::Array(items.iter().map(|s| Avro::String(s.clone())).collect())
}

fn union(v: &Value, t: FieldType) -> Avro {
    let inner = match (v, t) {
        (Value::Null, _) => return Avro::Union(0, Box::new(Avro::Null)),
        (Value::Bool(b), _) => Avro::Boolean(*b),
        (Value::Int(i), FieldType::Int) => Avro::Int(i32::try_from(*i).unwrap_or(i32::MAX)),
        (Value::Int(i), _) => Avro::Double(*i as f64),
        (Value::Num(n), FieldType::Int) => Avro::Int(*n as i32),
        (Value::Num(n), _) => Avro::Double(*n),
        (Value::Date(d), _) => {
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
            Avro::Date(i32::try_from((*d - epoch).num_days()).unwrap_or(0))
        }
        (Value::DateTime(ms), _) => Avro::TimestampMillis(*ms),
        (Value::Time(ms), _) => Avro::TimeMillis(i32::try_from(*ms).unwrap_or(0)),
        (Value::Id(id), _) => Avro::String(id.to_string()),
        (Value::Text(t), _) => Avro::String(t.to_string()),
    };
    Avro::Union(1, Box::new(inner))
}

#[cfg(test)]
mod tests {
    use super::bitmap;

    #[test]
    fn bitmaps_are_upper_case_hex_of_the_field_bits() {
        assert!(bitmap(&[]).is_empty());
        assert_eq!(bitmap(&[1]), vec!["0x2"]);
        assert_eq!(bitmap(&[1, 22]), vec!["0x400002"]);
        assert_eq!(bitmap(&[0, 1, 2, 3, 4, 10, 11]), vec!["0xC1F"]);
    }
}
