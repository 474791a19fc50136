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
            {"name": "AccountId", "type": "reference", "referenceTo": ["Account"],
             "relationshipName": "Account", "createable": true, "updateable": true},
            {"name": "Ref__c", "type": "string", "length": 40, "externalId": true,
             "createable": true, "updateable": false},
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
        [
            "sfid",
            "systemmodstamp",
            "isdeleted",
            "name",
            "select__c",
            "accountid",
            "ref__c"
        ]
    );
    assert_eq!(
        r.soql(),
        "SELECT Id, SystemModstamp, IsDeleted, Name, Select__c, AccountId, Ref__c FROM Order"
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
    assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
    assert_eq!(
        parse_duration("1m30ms"),
        Some(Duration::from_millis(60_030))
    );
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

#[test]
fn read_write_needs_an_upsert_field_or_the_risk_accepted() {
    let rw = "[[mapping]]\nobject = \"Order\"\naccess = \"read_write\"\n";
    let err = one(rw).unwrap_err().to_string();
    for part in [
        "mapping Order",
        "without upsert_field",
        "second record",
        "set upsert_field",
        "allow_insert_without_upsert_field = true",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
    let m = one(&format!("{rw}upsert_field = \"Ref__c\"\n")).unwrap();
    assert_eq!(
        (m.access, m.upsert_field.as_deref()),
        (Access::ReadWrite, Some("Ref__c"))
    );
    let m = one(&format!("{rw}allow_insert_without_upsert_field = true\n")).unwrap();
    assert!(m.allow_insert_without_upsert_field);
    // A read_only mapping may name one, and needs none.
    let m = one("[[mapping]]\nobject = \"Order\"\nupsert_field = \"Ref__c\"\n").unwrap();
    assert_eq!(
        (m.access, m.allow_insert_without_upsert_field),
        (Access::ReadOnly, false)
    );
    // Stored mappings from before the option decode without it.
    let old: Mapping = serde_json::from_value(serde_json::json!({
        "object": "Order", "access": "read_write", "poll_interval": "10m",
        "chunk_size": 50000, "schema": "salesforce", "deleted": "remove", "events": false,
    }))
    .unwrap();
    assert!(!old.allow_insert_without_upsert_field);
}

#[test]
fn columns_carry_describe_write_flags_system_columns_none() {
    let m = one("[[mapping]]\nobject = \"Order\"\nfields = [\"Name\", \"Ref__c\"]\n").unwrap();
    let r = Resolved::new(&m, &describe()).unwrap();
    let flags: Vec<(&str, bool, bool)> = r
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.create, c.update))
        .collect();
    assert_eq!(
        flags,
        [
            ("sfid", false, false),
            ("systemmodstamp", false, false),
            ("isdeleted", false, false),
            ("name", false, false),
            ("ref__c", true, false),
        ]
    );
    // Columns stored before the flags existed decode as writable, with no relationship.
    let old: Column = serde_json::from_value(serde_json::json!({
        "field": "Name", "name": "name", "pg_type": "varchar(80)",
    }))
    .unwrap();
    assert_eq!(old, Column::plain("Name", "name", "varchar(80)"));
    let stored = serde_json::to_value(&old).unwrap();
    assert!(stored.get("relationship").is_none(), "{stored}");
}

#[test]
fn relationship_columns_resolve_in_list_order() {
    let m = one(
        "[[mapping]]\nobject = \"Order\"\nfields = [\"Account.Ext_Key__c\", \"Name\", \"account__r__other__c\"]\nindexes = [\"account__r__ext_key__c\"]\n",
    )
    .unwrap();
    let r = Resolved::new(&m, &describe()).unwrap();
    let got: Vec<(&str, &str, &str)> = r
        .columns
        .iter()
        .skip(3)
        .map(|c| (c.name.as_str(), c.field.as_str(), c.pg_type.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "account__r__ext_key__c",
                "Account.Ext_Key__c",
                "varchar(255)"
            ),
            ("name", "Name", "varchar(80)"),
            ("account__r__other__c", "Account.other__c", "varchar(255)"),
        ]
    );
    assert!(r.columns[3].hc_index && r.columns[3].create && r.columns[3].update);
    assert_eq!(
        r.soql(),
        "SELECT Id, SystemModstamp, IsDeleted, Account.Ext_Key__c, Name, Account.other__c FROM Order"
    );

    // The same column twice, a relationship the object lacks, a path too deep.
    let m = one(
        "[[mapping]]\nobject = \"Order\"\nfields = [\"Account.Ext_Key__c\", \"account__r__ext_key__c\", \"Acount.Ext_Key__c\"]\n",
    )
    .unwrap();
    let all = crate::mirror::check_against(&m, &describe()).unwrap_err();
    let text: Vec<String> = all.iter().map(ToString::to_string).collect();
    assert_eq!(all.len(), 2, "{text:?}");
    assert!(
        text[0].contains("Acount.Ext_Key__c") && text[0].contains("no such relationship"),
        "{text:?}"
    );
    assert!(text[1].contains("listed twice"), "{text:?}");
    let err =
        one("[[mapping]]\nobject = \"Order\"\nfields = [\"Account.Owner.Key__c\"]\n").unwrap_err();
    assert!(
        err.to_string().contains("mapping Order") && err.to_string().contains("one level only"),
        "{err}"
    );
}
