use super::*;
use crate::mirror::ColumnTypes;
use crate::salesforce::Describe;

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
    // read_write is accepted: its writes are captured (sending them is not built yet).
    let m = one("[[mapping]]\nobject = \"Order\"\naccess = \"read_write\"\n").unwrap();
    assert_eq!(m.access, Access::ReadWrite);
    let err = one("[[mapping]]\nobject = \"Order\"\naccess = \"both\"\n").unwrap_err();
    assert!(err.to_string().contains("access"), "{err}");
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

#[test]
fn column_types_default_per_file_and_mapping() {
    let file = MappingsFile::parse(
        "m.toml",
        "column_types = \"heroku_connect\"\n[[mapping]]\nobject = \"A\"\n[[mapping]]\nobject = \"B\"\ncolumn_types = \"exact\"\n",
    )
    .unwrap();
    assert_eq!(file.mapping[0].column_types(), ColumnTypes::HerokuConnect);
    assert_eq!(file.mapping[1].column_types(), ColumnTypes::Exact);
    // Stored in the ledger with the value it got, so workers see the same types.
    let stored = serde_json::to_value(&file.mapping[0]).unwrap();
    assert_eq!(stored["column_types"], "heroku_connect");
    let m = one("[[mapping]]\nobject = \"Order\"\n").unwrap();
    assert_eq!(m.column_types(), ColumnTypes::Exact);
    let err = one("[[mapping]]\nobject = \"Order\"\ncolumn_types = \"hc\"\n").unwrap_err();
    assert!(err.to_string().contains("column_types"), "{err}");
}

#[test]
fn every_problem_is_listed_with_indexes_and_upsert_field() {
    let m = one(
        "[[mapping]]\nobject = \"Order\"\nfields = [\"Name\", \"Nope__c\", \"Logo__c\"]\nindexes = [\"Select__c\"]\nupsert_field = \"Name\"\n",
    )
    .unwrap();
    let all = crate::mirror::check_against(&m, &describe()).unwrap_err();
    let text: Vec<String> = all.iter().map(ToString::to_string).collect();
    assert_eq!(all.len(), 4, "{text:?}");
    assert!(text[0].contains("Nope__c"), "{text:?}");
    assert!(text[1].contains("Logo__c"), "{text:?}");
    assert!(text[2].contains("indexes names Select__c"), "{text:?}");
    assert!(text[3].contains("not an External ID"), "{text:?}");

    let m = one("[[mapping]]\nobject = \"Order\"\nindexes = [\"Name\", \"Id\"]\n").unwrap();
    let r = Resolved::new(&m, &describe()).unwrap();
    let indexed: Vec<&str> = r
        .columns
        .iter()
        .filter(|c| c.hc_index)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(indexed, ["name"]);
}
