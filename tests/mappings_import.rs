//! `orgpool mappings import` through the real binary: a Heroku Connect export becomes a
//! mappings file that orgpool accepts, with every object and its fields; an existing file
//! is only replaced with --force. A full export (tests/fixtures/heroku_connect_export.json,
//! in the shape `heroku connect:export` writes) keeps its read-write access, indexes,
//! upsert field and accelerated polling, gets Heroku Connect's column types, and every
//! setting that does not carry over (the per-mapping API cap, a unique index, a base64
//! field) or carries a risk (read-write without an upsert field) is one warning line on
//! stderr naming the object and the setting. Relationship external-Id fields become
//! their `<lookup>__r__<extid>` columns.

use std::path::Path;
use std::process::Command;

use orgpool::mirror::{Access, ColumnTypes, Fields, MappingsFile};

const EXPORT: &str = r#"{"mappings":[
  {"object_name":"Contact","config":{"access":"read_write","sf_polling_seconds":300,
    "fields":{"Id":{},"IsDeleted":{},"SystemModstamp":{},"Email":{},"LastName":{}}}},
  {"object_name":"Account","config":{"access":"read_only","sf_polling_seconds":600,
    "fields":{"Id":{},"Name":{},"Industry":{},"AnnualRevenue":{}}}}],
  "connection":{"schema_name":"salesforce"},"version":1}"#;

/// `(object, sorted field names)` of every mapping in the file at `path`.
fn objects_and_fields(path: &Path) -> Vec<(String, Vec<String>)> {
    let file = MappingsFile::load(path).unwrap();
    file.mapping
        .iter()
        .map(|m| match &m.fields {
            Fields::List(names) => {
                let mut names = names.clone();
                names.sort();
                (m.object.clone(), names)
            }
            other => panic!("{}: expected a field list, got {other:?}", m.object),
        })
        .collect()
}

fn owned(pairs: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    pairs
        .iter()
        .map(|(o, f)| (o.to_string(), f.iter().map(|s| s.to_string()).collect()))
        .collect()
}

#[test]
fn imports_a_heroku_connect_export() {
    let dir = std::env::temp_dir().join(format!("orgpool-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let export = dir.join("export.json");
    std::fs::write(&export, EXPORT).unwrap();
    let out = dir.join("mappings.toml");
    let run = |force: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_orgpool"));
        c.args(["mappings", "import"])
            .arg(&export)
            .arg("--output")
            .arg(&out);
        if force {
            c.arg("--force");
        }
        c.output().unwrap()
    };
    let first = run(false);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        stderr.contains("warning: Contact: read_write without an upsert_field")
            && stderr.contains("second record"),
        "{stderr}"
    );

    // Every object in export order, each with exactly its own fields; Id, IsDeleted and
    // SystemModstamp are left out because orgpool always adds them.
    let expected = owned(&[
        ("Contact", &["Email", "LastName"]),
        ("Account", &["AnnualRevenue", "Industry", "Name"]),
    ]);
    assert_eq!(objects_and_fields(&out), expected);
    let file = MappingsFile::load(&out).unwrap();
    assert_eq!(
        file.mapping
            .iter()
            .map(|m| (
                m.poll_interval.as_str(),
                m.access,
                m.allow_insert_without_upsert_field
            ))
            .collect::<Vec<_>>(),
        [
            ("5m", Access::ReadWrite, true),
            ("10m", Access::ReadOnly, false)
        ]
    );

    // Without --force an existing file is left as it was.
    std::fs::write(
        &export,
        EXPORT.replace(r#""Email":{},"#, r#""Email":{},"Phone":{},"#),
    )
    .unwrap();
    let again = run(false);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(objects_and_fields(&out), expected);

    // With it the file is the new export's.
    assert!(run(true).status.success());
    assert_eq!(
        objects_and_fields(&out),
        owned(&[
            ("Contact", &["Email", "LastName", "Phone"]),
            ("Account", &["AnnualRevenue", "Industry", "Name"]),
        ])
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn carries_over_what_orgpool_supports_and_warns_about_the_rest() {
    let dir = std::env::temp_dir().join(format!("orgpool-import-full-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("mappings.toml");
    let run = Command::new(env!("CARGO_BIN_EXE_orgpool"))
        .args(["mappings", "import"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/heroku_connect_export.json"
        ))
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(run.status.success(), "{stderr}");

    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    let expect = [
        ("Invoice__c:", "sf_max_daily_api_calls"),
        ("Invoice__c:", "index on Number__c was unique"),
        ("Attachment:", "field Body dropped"),
        ("Attachment:", "sf_max_daily_api_calls"),
    ];
    for (object, setting) in expect {
        assert_eq!(
            warnings
                .iter()
                .filter(|w| w.contains(object) && w.contains(setting))
                .count(),
            1,
            "one line for {object} {setting}: {stderr}"
        );
    }
    assert_eq!(warnings.len(), expect.len(), "{stderr}");

    let file = MappingsFile::load(&out).unwrap();
    assert_eq!(file.column_types, Some(ColumnTypes::HerokuConnect));
    let [invoice, attachment, account] = &file.mapping[..] else {
        panic!("three mappings: {file:?}");
    };
    assert!(
        file.mapping
            .iter()
            .all(|m| m.column_types() == ColumnTypes::HerokuConnect)
    );
    let mut idx = invoice.indexes.clone();
    idx.sort();
    assert_eq!(idx, ["Account__c", "Number__c"]);
    assert_eq!(invoice.upsert_field.as_deref(), Some("Number__c"));
    assert!(invoice.events, "sf_notify_enabled becomes events");
    assert_eq!(
        (
            invoice.poll_interval.as_str(),
            invoice.access,
            invoice.allow_insert_without_upsert_field
        ),
        ("2m", Access::ReadWrite, false),
        "read_write with its upsert field carries over as it is"
    );
    assert_eq!(
        attachment.fields,
        Fields::List(vec!["Name".into(), "ParentId".into()]),
        "the base64 Body is dropped"
    );
    assert!(!attachment.events && attachment.indexes.is_empty());
    assert_eq!(account.indexes, ["Name"]);
    assert_eq!(account.upsert_field, None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn relationship_fields_become_relationship_columns() {
    let dir = std::env::temp_dir().join(format!("orgpool-import-rel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let export = dir.join("export.json");
    std::fs::write(
        &export,
        r#"{"mappings":[{"object_name":"Contact","config":{"access":"read_write",
          "upsert_field":"Key__c","sf_polling_seconds":600,
          "fields":{"Id":{},"IsDeleted":{},"SystemModstamp":{},"LastName":{},"Key__c":{},
                    "Account.External_Id__c":{},"Parent__r__Key__c":{}}}}],
          "connection":{"schema_name":"salesforce"},"version":1}"#,
    )
    .unwrap();
    let out = dir.join("mappings.toml");
    let run = Command::new(env!("CARGO_BIN_EXE_orgpool"))
        .args(["mappings", "import"])
        .arg(&export)
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(run.status.success(), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    assert_eq!(
        objects_and_fields(&out),
        owned(&[(
            "Contact",
            &[
                "Key__c",
                "LastName",
                "account__r__external_id__c",
                "parent__r__key__c"
            ]
        )])
    );
    let file = MappingsFile::load(&out).unwrap();
    assert_eq!(
        (
            file.mapping[0].access,
            file.mapping[0].upsert_field.as_deref()
        ),
        (Access::ReadWrite, Some("Key__c"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}
