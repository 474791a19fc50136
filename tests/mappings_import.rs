//! `orgpool mappings import` through the real binary: a Heroku Connect export becomes a
//! mappings file that orgpool accepts, with every object and its fields; an existing file
//! is only replaced with --force.

use std::path::Path;
use std::process::Command;

use orgpool::mirror::{Access, Fields, MappingsFile};

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
    assert!(String::from_utf8_lossy(&first.stderr).contains("read_write imported as read_only"));

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
            .map(|m| (m.poll_interval.as_str(), m.access))
            .collect::<Vec<_>>(),
        [("5m", Access::ReadOnly), ("10m", Access::ReadOnly)]
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
