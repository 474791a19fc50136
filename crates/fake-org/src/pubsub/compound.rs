//! Which of an object's fields a change event nests, and how: Salesforce sends a
//! compound field (an address, a geolocation, a person's `Name`) as ONE top-level field
//! whose type is a record of its parts, each part `["null", T]` and named without the
//! compound's prefix (`BillingAddress.Street` is the field `BillingStreet`). This module
//! lays out the top-level fields after the header; `avro_schema.rs` turns the layout into
//! JSON and `encode.rs` fills it.

use serde_json::{Value as Json, json};

use crate::model::{FieldType, ObjectDef};

/// The parts of Salesforce's `Address` record, in its order; the fake org stores no
/// state or country codes, so those parts are always null (the record type is shared
/// by every address of a schema and must be the same for all of them).
const ADDRESS_PARTS: [(&str, FieldType); 10] = [
    ("Street", FieldType::TextArea),
    ("City", FieldType::String),
    ("State", FieldType::String),
    ("PostalCode", FieldType::String),
    ("Country", FieldType::String),
    ("StateCode", FieldType::String),
    ("CountryCode", FieldType::String),
    ("Latitude", FieldType::Double),
    ("Longitude", FieldType::Double),
    ("GeocodeAccuracy", FieldType::Picklist),
];

/// The parts of a geolocation's `Location` record.
const LOCATION_PARTS: [(&str, FieldType); 2] = [
    ("Latitude", FieldType::Double),
    ("Longitude", FieldType::Double),
];

/// The parts of a person's `Name` record, in Salesforce's order; only those the object
/// has are listed.
const NAME_PARTS: [&str; 6] = [
    "Salutation",
    "FirstName",
    "LastName",
    "MiddleName",
    "InformalName",
    "Suffix",
];

/// One part of a compound field.
#[derive(Debug, Clone)]
pub struct Part {
    /// Name inside the record (`Street`).
    pub name: String,
    /// Its type.
    pub ftype: FieldType,
    /// Where its value lives in a row; `None` for parts the fake org does not store.
    pub slot: Option<usize>,
}

/// One top-level field of the event schema after the header.
#[derive(Debug, Clone)]
pub enum TopField {
    /// An ordinary field: `(value slot, type, name)`.
    Plain(usize, FieldType, String),
    /// A compound field: its name (`BillingAddress`), the Avro record type's name
    /// (`Address`) and its parts.
    Compound(String, &'static str, Vec<Part>),
}

impl TopField {
    /// The field's name in the schema.
    pub fn name(&self) -> &str {
        match self {
            TopField::Plain(_, _, n) | TopField::Compound(n, _, _) => n,
        }
    }
}

/// The top-level fields of `def`'s change events after the header, in describe order;
/// a compound field takes the place of its first part. CDC never carries formula fields,
/// `Id` (the header has it), `IsDeleted` or `SystemModstamp`.
pub fn layout(def: &ObjectDef) -> Vec<TopField> {
    let person = person_name(def);
    let mut out: Vec<TopField> = Vec::new();
    for f in &def.fields {
        if matches!(f.name.as_str(), "Id" | "IsDeleted" | "SystemModstamp") {
            continue;
        }
        let group = match (&f.compound_name, &person) {
            (Some(c), _) => Some(c.clone()),
            (None, Some(parts)) if parts.iter().any(|p| p.name == f.name) => {
                Some("Name".to_string())
            }
            _ => None,
        };
        if let Some(g) = group {
            if !out.iter().any(|t| t.name() == g)
                && let Some(top) = compound(def, &g, person.as_ref())
            {
                out.push(top);
            }
            continue;
        }
        if f.calculated || f.ftype.is_compound() {
            continue;
        }
        if let Some(slot) = f.slot {
            out.push(TopField::Plain(slot, f.ftype, f.name.clone()));
        }
    }
    out
}

/// The compound field named `name` of `def`, or None if it is not one.
fn compound(def: &ObjectDef, name: &str, person: Option<&Vec<Part>>) -> Option<TopField> {
    if name == "Name" {
        return person.map(|p| TopField::Compound(name.to_string(), "Name", p.clone()));
    }
    let wrapper = def.field(name)?;
    let slot_of = |field: String| {
        def.field(&field)
            .filter(|f| f.compound_name.as_deref() == Some(name))
            .and_then(|f| f.slot)
    };
    let parts = |list: &[(&str, FieldType)], field: &dyn Fn(&str) -> String| -> Vec<Part> {
        list.iter()
            .map(|(p, t)| Part {
                name: (*p).to_string(),
                ftype: *t,
                slot: slot_of(field(p)),
            })
            .collect()
    };
    match wrapper.ftype {
        FieldType::Address => {
            let prefix = name.strip_suffix("Address").unwrap_or(name);
            let parts = parts(&ADDRESS_PARTS, &|p| format!("{prefix}{p}"));
            Some(TopField::Compound(name.to_string(), "Address", parts))
        }
        FieldType::Location => {
            // `Site__c`'s parts are `Site__Latitude__s` and `Site__Longitude__s`.
            let base = name.strip_suffix("__c").unwrap_or(name);
            let parts = parts(&LOCATION_PARTS, &|p| format!("{base}__{p}__s"));
            Some(TopField::Compound(name.to_string(), "Location", parts))
        }
        _ => None,
    }
}

/// The parts of a person's `Name` when `def` has one: a computed `Name` beside stored
/// `FirstName` and `LastName` (Contact, User; Lead in a real org).
fn person_name(def: &ObjectDef) -> Option<Vec<Part>> {
    let name = def.field("Name")?;
    if !name.calculated || def.field("FirstName").is_none() || def.field("LastName").is_none() {
        return None;
    }
    Some(
        NAME_PARTS
            .iter()
            .filter_map(|p| def.field(p))
            .filter(|f| f.compound_name.is_none() && !f.calculated)
            .filter_map(|f| {
                f.slot.map(|slot| Part {
                    name: f.name.clone(),
                    ftype: f.ftype,
                    slot: Some(slot),
                })
            })
            .collect(),
    )
}

/// The Avro type of a field of type `t` (without the null union).
pub fn avro_type(t: FieldType) -> Json {
    match t {
        FieldType::Boolean => json!("boolean"),
        FieldType::Int => json!("int"),
        FieldType::Double | FieldType::Currency | FieldType::Percent => json!("double"),
        FieldType::Date => json!({"type": "int", "logicalType": "date"}),
        FieldType::DateTime => json!({"type": "long", "logicalType": "timestamp-millis"}),
        FieldType::Time => json!({"type": "int", "logicalType": "time-millis"}),
        _ => json!("string"),
    }
}

/// The schema JSON of the top-level fields. A record type is defined where it is first
/// used and named afterwards (Avro allows one definition per name: `ShippingAddress` is
/// `["null", "Address"]` once `BillingAddress` defined it).
pub fn schema_fields(top: &[TopField]) -> Vec<Json> {
    let mut defined: Vec<&str> = Vec::new();
    top.iter()
        .map(|t| match t {
            TopField::Plain(_, ftype, name) => {
                json!({"name": name, "type": ["null", avro_type(*ftype)], "default": null})
            }
            TopField::Compound(name, record, parts) => {
                let inner = if defined.contains(record) {
                    json!(record)
                } else {
                    defined.push(record);
                    let fields: Vec<Json> = parts
                        .iter()
                        .map(|p| json!({"name": p.name, "type": ["null", avro_type(p.ftype)], "default": null}))
                        .collect();
                    json!({"type": "record", "name": record, "fields": fields})
                };
                json!({"name": name, "type": ["null", inner], "default": null})
            }
        })
        .collect()
}
