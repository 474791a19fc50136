use apache_avro::types::Value as Avro;
use serde_json::json;

use super::*;

fn schema_json() -> String {
    let strings = json!({"type": "array", "items": "string"});
    json!({
        "type": "record", "name": "AccountChangeEvent", "namespace": "com.sforce.eventbus",
        "fields": [
            {"name": "ChangeEventHeader", "type": {
                "type": "record", "name": "ChangeEventHeader", "fields": [
                    {"name": "entityName", "type": "string"},
                    {"name": "recordIds", "type": strings},
                    {"name": "changeType", "type": {"type": "enum", "name": "ChangeType",
                        "symbols": ["CREATE", "UPDATE", "DELETE", "UNDELETE", "GAP_CREATE",
                                    "GAP_UPDATE", "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW", "SNAPSHOT"]}},
                    {"name": "changeOrigin", "type": "string"},
                    {"name": "transactionKey", "type": "string"},
                    {"name": "sequenceNumber", "type": "int"},
                    {"name": "commitTimestamp", "type": "long"},
                    {"name": "commitNumber", "type": "long"},
                    {"name": "commitUser", "type": "string"},
                    {"name": "nulledFields", "type": strings},
                    {"name": "diffFields", "type": strings},
                    {"name": "changedFields", "type": strings}
                ]}},
            {"name": "Name", "type": ["null", "string"], "default": null},
            {"name": "AnnualRevenue", "type": ["null", "double"], "default": null},
            {"name": "LastModifiedDate", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}], "default": null},
            {"name": "BillingAddress", "type": ["null", {"type": "record", "name": "Address", "fields": [
                {"name": "Street", "type": ["null", "string"], "default": null},
                {"name": "City", "type": ["null", "string"], "default": null}
            ]}], "default": null},
            {"name": "Founded__c", "type": ["null", {"type": "int", "logicalType": "date"}], "default": null},
            {"name": "ShippingAddress", "type": ["null", "Address"], "default": null},
            {"name": "Site__c", "type": ["null", {"type": "record", "name": "Location", "fields": [
                {"name": "Latitude", "type": ["null", "double"], "default": null},
                {"name": "Longitude", "type": ["null", "double"], "default": null}
            ]}], "default": null}
        ]
    })
    .to_string()
}

fn some(v: Avro) -> Avro {
    Avro::Union(1, Box::new(v))
}

fn none() -> Avro {
    Avro::Union(0, Box::new(Avro::Null))
}

fn strings(items: &[&str]) -> Avro {
    Avro::Array(items.iter().map(|s| Avro::String((*s).into())).collect())
}

fn payload(
    s: &EventSchema,
    change: (u32, &str),
    changed: &[&str],
    nulled: &[&str],
    fields: Vec<Avro>,
) -> Vec<u8> {
    let header = Avro::Record(vec![
        ("entityName".into(), Avro::String("Account".into())),
        (
            "recordIds".into(),
            strings(&["001000000000001AAA", "001000000000002AAA"]),
        ),
        ("changeType".into(), Avro::Enum(change.0, change.1.into())),
        (
            "changeOrigin".into(),
            Avro::String("com/salesforce/api/rest/62.0;client=orgpool".into()),
        ),
        ("transactionKey".into(), Avro::String("tx-1".into())),
        ("sequenceNumber".into(), Avro::Int(1)),
        ("commitTimestamp".into(), Avro::Long(1_714_564_800_123)),
        ("commitNumber".into(), Avro::Long(7)),
        (
            "commitUser".into(),
            Avro::String("005000000000001AAA".into()),
        ),
        ("nulledFields".into(), strings(nulled)),
        ("diffFields".into(), strings(&[])),
        ("changedFields".into(), strings(changed)),
    ]);
    let names = [
        "Name",
        "AnnualRevenue",
        "LastModifiedDate",
        "BillingAddress",
        "Founded__c",
        "ShippingAddress",
        "Site__c",
    ];
    let mut record = vec![("ChangeEventHeader".to_string(), header)];
    record.extend(names.iter().map(|n| n.to_string()).zip(fields));
    apache_avro::to_avro_datum(&s.avro, Avro::Record(record)).unwrap()
}

#[test]
fn bitmaps_name_top_level_fields_and_compound_parts() {
    let s = EventSchema::parse(&schema_json()).unwrap();
    assert_eq!(bits_of("0x2"), vec![1]);
    assert_eq!(bits_of("0xC1F"), vec![0, 1, 2, 3, 4, 10, 11]);
    assert!(bits_of("0xZZ").is_empty());
    let names: Vec<String> = s.names(&["0x6".into()]).into_iter().collect();
    assert_eq!(names, ["AnnualRevenue", "Name"]);
    // Field 4 is BillingAddress; `4-0x2` is its part 1, City. Salesforce sets the
    // compound's top-level bit 4 too; that does not make every part changed.
    let names: Vec<String> = s
        .names(&["0x18".into(), "4-0x2".into()])
        .into_iter()
        .collect();
    assert_eq!(names, ["BillingCity", "LastModifiedDate"]);
    let names: Vec<String> = s
        .names(&["0x8".into(), "4-0x2".into()])
        .into_iter()
        .collect();
    assert_eq!(names, ["BillingCity", "LastModifiedDate"]);
    // The whole compound field named at top level: every part.
    let names: Vec<String> = s.names(&["0x10".into()]).into_iter().collect();
    assert_eq!(names, ["BillingCity", "BillingStreet"]);
    // ShippingAddress (6) names the Address record defined by BillingAddress; a
    // geolocation's parts are its `__s` component fields.
    let names: Vec<String> = s
        .names(&["0xC0".into(), "6-0x1".into(), "7-0x3".into()])
        .into_iter()
        .collect();
    assert_eq!(
        names,
        ["ShippingStreet", "Site__Latitude__s", "Site__Longitude__s"]
    );
}

#[test]
fn a_create_carries_every_non_null_field_as_text() {
    let s = EventSchema::parse(&schema_json()).unwrap();
    let bytes = payload(
        &s,
        (0, "CREATE"),
        &[],
        &[],
        vec![
            some(Avro::String("Acme".into())),
            some(Avro::Double(1250.5)),
            some(Avro::TimestampMillis(1_714_564_800_123)),
            some(Avro::Record(vec![
                ("Street".into(), some(Avro::String("1 Main St".into()))),
                ("City".into(), none()),
            ])),
            some(Avro::Date(19_844)),
            some(Avro::Record(vec![
                ("Street".into(), none()),
                ("City".into(), some(Avro::String("Lyon".into()))),
            ])),
            some(Avro::Record(vec![
                ("Latitude".into(), some(Avro::Double(45.75))),
                ("Longitude".into(), none()),
            ])),
        ],
    );
    let e = s.decode(&bytes).unwrap();
    assert_eq!(e.change_type, ChangeType::Create);
    assert_eq!(e.record_ids.len(), 2);
    assert!(e.is_whole() && e.is_own());
    assert_eq!(e.commit_ms, 1_714_564_800_123);
    let v = |k: &str| e.values.get(k).cloned().flatten();
    assert_eq!(v("Name").as_deref(), Some("Acme"));
    assert_eq!(v("AnnualRevenue").as_deref(), Some("1250.5"));
    assert_eq!(
        v("LastModifiedDate").as_deref(),
        Some("2024-05-01T12:00:00.123Z")
    );
    assert_eq!(v("BillingStreet").as_deref(), Some("1 Main St"));
    assert_eq!(v("Founded__c").as_deref(), Some("2024-05-01"));
    assert!(!e.values.contains_key("BillingCity"));
    assert_eq!(v("ShippingCity").as_deref(), Some("Lyon"));
    assert_eq!(v("Site__Latitude__s").as_deref(), Some("45.75"));
    assert!(!e.values.contains_key("Site__Longitude__s"));
}

#[test]
fn an_update_carries_only_changed_fields_and_nulls_the_nulled() {
    let s = EventSchema::parse(&schema_json()).unwrap();
    // Changed: Name (1), AnnualRevenue (2), LastModifiedDate (3); AnnualRevenue nulled.
    let bytes = payload(
        &s,
        (1, "UPDATE"),
        &["0xE"],
        &["0x4"],
        vec![
            some(Avro::String("Acme 2".into())),
            none(),
            some(Avro::TimestampMillis(1_714_564_800_000)),
            none(),
            none(),
            none(),
            none(),
        ],
    );
    let e = s.decode(&bytes).unwrap();
    assert_eq!(e.change_type, ChangeType::Update);
    assert!(!e.is_whole());
    assert_eq!(e.values.len(), 3);
    assert_eq!(e.values["Name"].as_deref(), Some("Acme 2"));
    assert_eq!(e.values["AnnualRevenue"], None);
    assert_eq!(
        e.values["LastModifiedDate"].as_deref(),
        Some("2024-05-01T12:00:00.000Z")
    );
}

#[test]
fn a_payload_that_does_not_fit_the_schema_is_a_decode_error() {
    let s = EventSchema::parse(&schema_json()).unwrap();
    let err = s.decode(&[0xff, 0x01]).unwrap_err();
    assert!(matches!(err, PubSubError::Decode(_)), "{err}");
    assert!(EventSchema::parse("{\"type\": \"string\"}").is_err());
}

#[test]
fn an_update_of_compound_parts_changes_only_those_parts() {
    let s = EventSchema::parse(&schema_json()).unwrap();
    // BillingAddress (4): City set, Street nulled; LastModifiedDate (3) changed.
    let bytes = payload(
        &s,
        (1, "UPDATE"),
        &["0x18", "4-0x3"],
        &["0x10", "4-0x1"],
        vec![
            none(),
            none(),
            some(Avro::TimestampMillis(1_714_564_800_000)),
            some(Avro::Record(vec![
                ("Street".into(), none()),
                ("City".into(), some(Avro::String("Paris".into()))),
            ])),
            none(),
            none(),
            none(),
        ],
    );
    let e = s.decode(&bytes).unwrap();
    let keys: Vec<&str> = e.values.keys().map(String::as_str).collect();
    assert_eq!(keys, ["BillingCity", "BillingStreet", "LastModifiedDate"]);
    assert_eq!(e.values["BillingCity"].as_deref(), Some("Paris"));
    assert_eq!(e.values["BillingStreet"], None);
}
