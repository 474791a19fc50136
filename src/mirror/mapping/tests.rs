use super::*;

fn describe() -> Describe {
    serde_json::from_value(serde_json::json!({
        "name": "Order",
        "fields": [
            {"name": "Id", "type": "id", "length": 18},
            {"name": "SystemModstamp", "type": "datetime"},
            {"name": "IsDeleted", "type": "boolean"},
            {"name": "Name", "type": "string", "length": 80},
            {"name": "Select__c", "type": "currency", "precision": 18, "scale": 2},
            {"name": "BillingAddress", "type": "address"},
            {"name": "Logo__c", "type": "base64"},
        ]
    }))
    .unwrap()
}

fn one(text: &str) -> Result<Mapping, MappingError> {
    MappingsFile::parse("mappings.toml", text).map(|f| f.mapping[0].clone())
}

#[test]
fn defaults_fill_every_field() {
    let m = one("[[mapping]]\nobject = \"Order\"\n").unwrap();
    assert_eq!(m.fields, Fields::All("all".into()));
    assert_eq!((m.access, m.deleted), (Access::ReadOnly, Deleted::Remove));
    assert_eq!(m.interval(), Duration::from_secs(600));
    assert_eq!(
        (m.chunk_size, m.schema.as_str(), m.table().as_str()),
        (50_000, "salesforce", "order")
    );
}

#[test]
fn refuses_bad_entries_naming_the_key_and_fix() {
    let err = one("[[mapping]]\nobject = \"Order\"\npoll_intervall = \"5m\"\n").unwrap_err();
    assert!(err.to_string().contains("poll_intervall"), "{err}");
    let err = one("[[mapping]]\nobject = \"Order\"\naccess = \"read_write\"\n").unwrap_err();
    assert!(
        err.to_string().contains("mapping Order") && err.to_string().contains("read_only"),
        "{err}"
    );
    let err = one("[[mapping]]\nobject = \"Order\"\npoll_interval = \"30s\"\n").unwrap_err();
    assert!(err.to_string().contains("allow_fast_poll"), "{err}");
    assert!(
        one("[[mapping]]\nobject = \"Order\"\npoll_interval = \"30s\"\nallow_fast_poll = true\n")
            .is_ok()
    );
    let err = one("[[mapping]]\nobject = \"Order\"\npoll_interval = \"2h\"\n").unwrap_err();
    assert!(err.to_string().contains("60m"), "{err}");
    let err = one("[[mapping]]\nobject = \"Order\"\npoll_interval = \"soon\"\n").unwrap_err();
    assert!(err.to_string().contains("\"10m\""), "{err}");
    let err = MappingsFile::parse(
        "m.toml",
        "[[mapping]]\nobject = \"A\"\n[[mapping]]\nobject = \"a\"\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
}

#[test]
fn resolves_against_describe() {
    let m = one("[[mapping]]\nobject = \"Order\"\n").unwrap();
    let r = Resolved::new(&m, &describe()).unwrap();
    let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["sfid", "systemmodstamp", "isdeleted", "name", "select__c"]
    );
    assert_eq!(
        r.soql(),
        "SELECT Id, SystemModstamp, IsDeleted, Name, Select__c FROM Order"
    );

    let m = one("[[mapping]]\nobject = \"Order\"\nfields = [\"Name\", \"Nope__c\"]\n").unwrap();
    let err = Resolved::new(&m, &describe()).unwrap_err();
    assert!(
        err.to_string()
            .contains("field Nope__c does not exist on Order"),
        "{err}"
    );
    let m = one("[[mapping]]\nobject = \"Order\"\nfields = [\"BillingAddress\"]\n").unwrap();
    let err = Resolved::new(&m, &describe()).unwrap_err();
    assert!(err.to_string().contains("Bulk API cannot read"), "{err}");
}

#[test]
fn parses_durations() {
    assert_eq!(parse_duration("2m30s"), Some(Duration::from_secs(150)));
    assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
    assert_eq!(parse_duration("10"), None);
    assert_eq!(parse_duration("0m"), None);
}
