//! `orgpool mappings import` through the real binary: a Heroku Connect export becomes a
//! mappings file that orgpool accepts; an existing file is only replaced with --force.

use std::process::Command;

#[test]
fn imports_a_heroku_connect_export() {
    let dir = std::env::temp_dir().join(format!("orgpool-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let export = dir.join("export.json");
    std::fs::write(
        &export,
        r#"{"mappings":[{"object_name":"Contact","config":{"access":"read_write","sf_polling_seconds":300,
            "fields":{"Id":{},"IsDeleted":{},"SystemModstamp":{},"Email":{},"LastName":{}}}}],
            "connection":{"schema_name":"salesforce"},"version":1}"#,
    )
    .unwrap();
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
    let file = orgpool::mirror::MappingsFile::load(&out).unwrap();
    assert_eq!(file.mapping[0].object, "Contact");
    assert_eq!(file.mapping[0].poll_interval, "5m");
    let again = run(false);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert!(run(true).status.success());
    let _ = std::fs::remove_dir_all(&dir);
}
