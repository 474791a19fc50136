//! Encoding a change event as Salesforce sends it: plain Avro binary (no container, no
//! schema prefix) in the event's schema, compound fields as nested records, with
//! `changedFields` / `nulledFields` / `diffFields` as bitmaps: first `0x` + upper-case
//! hex of the number whose bit `i` is set when top-level schema field `i` is in the
//! list, then for each compound field `i` with listed parts `<i>-0x<hex>`, bit `j` its
//! part `j` (its top-level bit `i` is set as well).

use apache_avro::types::Value as Avro;

use super::PubSubError;
use super::avro_schema::{CHANGE_TYPES, EventSchema};
use super::bus::ChangeEvent;
use super::compound::TopField;
use crate::model::FieldType;
use crate::value::Value;

/// The event's Avro payload.
pub fn payload(e: &ChangeEvent) -> Result<Vec<u8>, PubSubError> {
    let s = &e.schema;
    let h = &e.header;
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
        ("nulledFields".into(), strings(&bitmaps(s, &h.nulled))),
        ("diffFields".into(), strings(&[])),
        ("changedFields".into(), strings(&bitmaps(s, &h.changed))),
    ]);
    let value = |slot: usize| e.fields.iter().find(|(s, _)| *s == slot).map(|(_, v)| v);
    let mut record = vec![("ChangeEventHeader".to_string(), header)];
    for top in &s.top {
        let v = match top {
            TopField::Plain(slot, ftype, _) => union(value(*slot).unwrap_or(&Value::Null), *ftype),
            TopField::Compound(_, _, parts) => {
                // The record is there when a part has a value or was changed (a nulled
                // part is carried as null inside it); otherwise the field is null.
                let carried = parts
                    .iter()
                    .filter_map(|p| p.slot)
                    .any(|slot| value(slot).is_some() || h.changed.contains(&slot));
                if carried {
                    let inner = parts
                        .iter()
                        .map(|p| {
                            let v = p.slot.and_then(value).unwrap_or(&Value::Null);
                            (p.name.clone(), union(v, p.ftype))
                        })
                        .collect();
                    Avro::Union(1, Box::new(Avro::Record(inner)))
                } else {
                    Avro::Union(0, Box::new(Avro::Null))
                }
            }
        };
        record.push((top.name().to_string(), v));
    }
    apache_avro::to_avro_datum(&s.avro, Avro::Record(record))
        .map_err(|err| PubSubError::Encode(format!("{}: {err}", h.entity)))
}

/// The bitmap list naming value slots `slots` of schema `s`: empty, or the top-level
/// `0x…` entry followed by one `<i>-0x…` entry per compound field `i` with listed parts,
/// in position order.
pub fn bitmaps(s: &EventSchema, slots: &[usize]) -> Vec<String> {
    let located: Vec<(usize, Option<usize>)> = slots.iter().filter_map(|x| s.locate(*x)).collect();
    let mut top: Vec<usize> = located.iter().map(|(i, _)| *i).collect();
    top.sort_unstable();
    top.dedup();
    let mut out = bitmap(&top);
    for i in &top {
        let parts: Vec<usize> = located
            .iter()
            .filter(|(p, _)| p == i)
            .filter_map(|(_, j)| *j)
            .collect();
        if let Some(hex) = bitmap(&parts).pop() {
            out.push(format!("{i}-{hex}"));
        }
    }
    out
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
    use super::{EventSchema, bitmap, bitmaps};
    use crate::standard::standard_objects;

    #[test]
    fn bitmaps_are_upper_case_hex_of_the_field_bits() {
        assert!(bitmap(&[]).is_empty());
        assert_eq!(bitmap(&[1]), vec!["0x2"]);
        assert_eq!(bitmap(&[1, 22]), vec!["0x400002"]);
        assert_eq!(bitmap(&[0, 1, 2, 3, 4, 10, 11]), vec!["0xC1F"]);
    }

    #[test]
    fn compound_parts_get_their_own_entry_after_the_top_level_one() {
        let objects = standard_objects();
        let account = objects.iter().find(|o| o.name == "Account").unwrap();
        let s = EventSchema::of(account).unwrap();
        let at = |name: &str| 1 + s.top.iter().position(|t| t.name() == name).unwrap();
        let (billing, shipping) = (at("BillingAddress"), at("ShippingAddress"));
        assert_eq!(shipping, billing + 1, "the compound takes its parts' place");
        let hex = |positions: &[usize]| bitmap(positions).remove(0);
        // City is part 1 of Address, Street part 0, Country part 4.
        let city = account.slot("BillingCity");
        let street = account.slot("BillingStreet");
        let name = account.slot("Name");
        assert_eq!(
            bitmaps(&s, &[city]),
            vec![hex(&[billing]), format!("{billing}-0x2")]
        );
        assert_eq!(
            bitmaps(&s, &[street, name, city]),
            vec![hex(&[at("Name"), billing]), format!("{billing}-0x3")]
        );
        let country = account.slot("ShippingCountry");
        assert_eq!(
            bitmaps(&s, &[country, city]),
            vec![
                hex(&[billing, shipping]),
                format!("{billing}-0x2"),
                format!("{shipping}-0x10")
            ]
        );
    }
}
