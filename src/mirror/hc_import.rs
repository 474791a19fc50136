//! `orgpool mappings import`: turns a Heroku Connect mapping export (JSON) into
//! `jobs/mappings.toml`, so a Heroku Connect user switches by importing. The file gets
//! `column_types = "heroku_connect"`, so the tables have the types the user's apps read
//! now. Settings orgpool supports carry over (`access`, `indexes`, `upsert_field`,
//! `sf_notify_enabled` as `events`, relationship external-Id fields as their
//! `<lookup>__r__<extid>` columns); what does not (the per-mapping API cap, binary
//! fields, unknown keys) or what carries a risk (read-write without an upsert field)
//! becomes a warning naming the object and the setting, never dropped silently.

use serde_json::Value;

use super::mapping::{MappingsFile, relationship};

/// The converted file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// TOML text for `jobs/mappings.toml` (it parses with [`MappingsFile::parse`]).
    pub toml: String,
    /// What changed on the way.
    pub warnings: Vec<String>,
    /// Mappings converted.
    pub count: usize,
}

/// The export cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Heroku Connect export: {path}: {problem}")]
pub struct ImportError {
    /// Where in the JSON (`mappings[2].object_name`).
    pub path: String,
    /// What is wrong and what to do.
    pub problem: String,
}

fn err(path: impl Into<String>, problem: impl Into<String>) -> ImportError {
    ImportError {
        path: path.into(),
        problem: problem.into(),
    }
}

fn quoted(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// Heroku Connect's `sf_polling_seconds` as a duration string.
fn interval(seconds: u64) -> String {
    if seconds.is_multiple_of(3600) {
        format!("{}h", seconds / 3600)
    } else if seconds.is_multiple_of(60) {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

/// Standard base64 (binary) fields, which the Bulk API cannot read: the import cannot
/// ask describe, so it knows these; `orgpool mappings check` finds custom ones.
const BASE64: &[(&str, &str)] = &[
    ("Attachment", "Body"),
    ("Document", "Body"),
    ("ContentVersion", "VersionData"),
    ("ContentNote", "Content"),
    ("StaticResource", "Body"),
    ("MailmergeTemplate", "Body"),
    ("QuoteDocument", "Document"),
    ("EventLogFile", "LogFile"),
    ("EmailCapture", "RawMessage"),
];

fn is_base64(object: &str, field: &str) -> bool {
    BASE64
        .iter()
        .any(|(o, f)| o.eq_ignore_ascii_case(object) && f.eq_ignore_ascii_case(field))
}

const KNOWN_CONFIG: &[&str] = &[
    "access",
    "sf_polling_seconds",
    "fields",
    "indexes",
    "applied_at",
    "sf_notify_enabled",
    "sf_max_daily_api_calls",
    "upsert_field",
];

/// Converts an export.
pub fn import(json: &str) -> Result<Imported, ImportError> {
    let doc: Value = serde_json::from_str(json).map_err(|e| {
        err(
            "(file)",
            format!("not valid JSON ({e}); pass the file `heroku connect:export` wrote"),
        )
    })?;
    let mappings = doc
        .get("mappings")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            err(
                "mappings",
                "missing or not a list; this does not look like a Heroku Connect export",
            )
        })?;
    let schema = doc
        .pointer("/connection/schema_name")
        .and_then(Value::as_str)
        .unwrap_or("salesforce");
    let mut out = String::from(
        "# Imported from a Heroku Connect mapping export by `orgpool mappings import`.\n# Every key and its default is documented in docs/mirror.md.\n\n# Heroku Connect's column types (double precision, timestamp in UTC), so apps\n# written for it read what they expect; \"exact\" keeps numbers exact instead.\ncolumn_types = \"heroku_connect\"\n",
    );
    let mut warnings = Vec::new();
    for (i, m) in mappings.iter().enumerate() {
        let at = |k: &str| format!("mappings[{i}].{k}");
        let object = m
            .get("object_name")
            .and_then(Value::as_str)
            .filter(|o| !o.is_empty())
            .ok_or_else(|| {
                err(
                    at("object_name"),
                    "missing; every mapping names its Salesforce object",
                )
            })?;
        let config = m
            .get("config")
            .and_then(Value::as_object)
            .ok_or_else(|| err(at("config"), "missing or not an object"))?;
        out.push_str(&format!("\n[[mapping]]\nobject = {}\n", quoted(object)));
        let fields = config
            .get("fields")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                err(
                    at("config.fields"),
                    "missing or not an object of field names",
                )
            })?;
        let mut kept: Vec<String> = Vec::new();
        for f in fields.keys() {
            if matches!(f.as_str(), "Id" | "IsDeleted" | "SystemModstamp") {
                continue;
            }
            if is_base64(object, f) {
                warnings.push(format!(
                    "{object}: field {f} dropped: it is binary (base64), which the Bulk API cannot read"
                ));
                continue;
            }
            kept.push(field_name(f));
        }
        let names: Vec<String> = kept.iter().map(|f| quoted(f)).collect();
        out.push_str(&format!("fields = [{}]\n", names.join(", ")));
        let read_write = match config.get("access").and_then(Value::as_str) {
            Some("read_write") => {
                out.push_str("access = \"read_write\"\n");
                true
            }
            Some("read_only") | None => false,
            Some(other) => {
                return Err(err(
                    at("config.access"),
                    format!("{other:?} is neither read_only nor read_write"),
                ));
            }
        };
        if let Some(secs) = config.get("sf_polling_seconds") {
            let secs = secs.as_u64().filter(|s| *s > 0).ok_or_else(|| {
                err(
                    at("config.sf_polling_seconds"),
                    "not a positive whole number of seconds",
                )
            })?;
            out.push_str(&format!(
                "poll_interval = {}\n",
                quoted(&interval(secs.min(3600)))
            ));
            if secs < 120 {
                out.push_str("allow_fast_poll = true\n");
            }
            if secs > 3600 {
                warnings.push(format!(
                    "{object}: polling every {secs} s is over an hour; set to 60m"
                ));
            }
        }
        carry_over(object, config, &kept, &mut out, &mut warnings);
        if read_write {
            read_write_inserts(object, config, &mut out, &mut warnings);
        }
        if schema != "salesforce" {
            out.push_str(&format!("schema = {}\n", quoted(schema)));
        }
        let unknown: Vec<&str> = config
            .keys()
            .map(String::as_str)
            .filter(|k| !KNOWN_CONFIG.contains(k))
            .collect();
        if !unknown.is_empty() {
            warnings.push(format!("{object}: ignored keys {}", unknown.join(", ")));
        }
    }
    MappingsFile::parse("imported mappings", &out).map_err(|e| {
        err(
            "(result)",
            format!("the converted file does not validate: {e}"),
        )
    })?;
    Ok(Imported {
        toml: out,
        warnings,
        count: mappings.len(),
    })
}

/// A field of the export as the mappings file names it: a relationship external-Id
/// field (`Account.External_Id__c`, or Heroku Connect's `account__r__external_id__c`)
/// becomes its column spelling, which orgpool reads as the same relationship column;
/// any other field stays as it is.
fn field_name(f: &str) -> String {
    match f.split_once('.') {
        Some((rel, ext)) => relationship::column_name(rel, ext),
        None if relationship::is_relationship_entry(f) => f.to_ascii_lowercase(),
        None => f.to_string(),
    }
}

/// A read-write mapping sends the app's inserts by `upsert_field`; without one it
/// needs `allow_insert_without_upsert_field`, and the user hears the risk.
fn read_write_inserts(
    object: &str,
    config: &serde_json::Map<String, Value>,
    out: &mut String,
    warnings: &mut Vec<String>,
) {
    if config.get("upsert_field").and_then(Value::as_str).is_some() {
        return;
    }
    out.push_str("# No upsert_field in Heroku Connect: a retried insert could create a second\n# record. Set upsert_field to a unique External ID field and remove this line.\nallow_insert_without_upsert_field = true\n");
    warnings.push(format!(
        "{object}: read_write without an upsert_field: imported with allow_insert_without_upsert_field = true, so an insert retried after a crash or a lost response could create a second record in Salesforce; set upsert_field to a unique External ID field of {object} to remove the risk"
    ));
}

/// The settings orgpool supports beside fields and polling: `indexes`, `upsert_field`
/// and `sf_notify_enabled`; `sf_max_daily_api_calls` becomes a warning.
fn carry_over(
    object: &str,
    config: &serde_json::Map<String, Value>,
    fields: &[String],
    out: &mut String,
    warnings: &mut Vec<String>,
) {
    if let Some(indexes) = config.get("indexes").and_then(Value::as_object) {
        let mut names = Vec::new();
        for (f, opts) in indexes {
            // Heroku Connect lists the indexes every table has; orgpool makes them too.
            if matches!(f.as_str(), "Id" | "SystemModstamp") {
                continue;
            }
            let f = &field_name(f);
            if !fields.contains(f) {
                warnings.push(format!(
                    "{object}: index on {f} dropped: the field is not mapped"
                ));
                continue;
            }
            if opts.get("unique").and_then(Value::as_bool) == Some(true) {
                warnings.push(format!(
                    "{object}: index on {f} was unique in Heroku Connect; imported as a plain index"
                ));
            }
            names.push(quoted(f));
        }
        if !names.is_empty() {
            out.push_str(&format!("indexes = [{}]\n", names.join(", ")));
        }
    }
    if let Some(up) = config.get("upsert_field").and_then(Value::as_str) {
        out.push_str(&format!(
            "upsert_field = {}  # write-back sends inserts as upserts by it\n",
            quoted(up)
        ));
    }
    if config.get("sf_notify_enabled").and_then(Value::as_bool) == Some(true) {
        out.push_str("events = true  # event-driven sync (coming); polling continues\n");
    }
    if let Some(calls) = config.get("sf_max_daily_api_calls") {
        warnings.push(format!(
            "{object}: sf_max_daily_api_calls = {calls} not carried over; orgpool keeps one API budget for the whole fleet (ORGPOOL_API_BUDGET_SHARE, ORGPOOL_API_BUDGET_CAP)"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &str = r#"{"mappings":[
      {"object_name":"agf__ADM_Work__c","config":{"access":"read_write","sf_notify_enabled":false,
        "sf_polling_seconds":600,"sf_max_daily_api_calls":30000,"upsert_field":"agf__External_ID__c",
        "fields":{"Id":{},"IsDeleted":{},"SystemModstamp":{},"Name":{},"agf__External_ID__c":{}},
        "indexes":{"Id":{"unique":true}},"applied_at":"2023-02-14T01:40:34Z"}},
      {"object_name":"Account","config":{"access":"read_only","sf_polling_seconds":60,
        "fields":{"Id":{},"Name":{},"Order__c":{}},"mystery":1}}],
     "connection":{"app_name":"x","schema_name":"salesforce"},"version":1}"#;

    #[test]
    fn converts_an_export_with_warnings() {
        let got = import(EXPORT).unwrap();
        assert_eq!(got.count, 2);
        let file = MappingsFile::parse("t", &got.toml).unwrap();
        assert_eq!(file.mapping[0].object, "agf__ADM_Work__c");
        assert_eq!(file.mapping[0].poll_interval, "10m");
        assert_eq!(
            file.mapping[0].fields,
            crate::mirror::Fields::List(vec!["Name".into(), "agf__External_ID__c".into()])
        );
        assert_eq!(file.mapping[1].poll_interval, "1m");
        assert!(file.mapping[1].allow_fast_poll);
        // Read-write with its upsert field carries over as it is, with no warning.
        assert_eq!(file.mapping[0].access, crate::mirror::Access::ReadWrite);
        assert_eq!(
            file.mapping[0].upsert_field.as_deref(),
            Some("agf__External_ID__c")
        );
        assert!(!file.mapping[0].allow_insert_without_upsert_field);
        assert!(
            !got.warnings.iter().any(|w| w.contains("read_write")),
            "{:?}",
            got.warnings
        );
        assert!(
            got.warnings.iter().any(|w| w.contains("mystery")),
            "{:?}",
            got.warnings
        );
    }

    #[test]
    fn read_write_without_an_upsert_field_accepts_the_risk_loudly() {
        let got = import(
            r#"{"mappings":[{"object_name":"Contact","config":{"access":"read_write",
              "fields":{"Id":{},"LastName":{}}}}]}"#,
        )
        .unwrap();
        let m = &MappingsFile::parse("t", &got.toml).unwrap().mapping[0];
        assert_eq!(m.access, crate::mirror::Access::ReadWrite);
        assert!(m.allow_insert_without_upsert_field && m.upsert_field.is_none());
        assert_eq!(got.warnings.len(), 1, "{:?}", got.warnings);
        let w = &got.warnings[0];
        assert!(
            w.starts_with("Contact: read_write without an upsert_field")
                && w.contains("second record")
                && w.contains("set upsert_field"),
            "{w}"
        );
    }

    #[test]
    fn relationship_fields_become_their_columns() {
        let got = import(
            r#"{"mappings":[{"object_name":"Contact","config":{
              "fields":{"Id":{},"LastName":{},"Account.External_Id__c":{},
                        "Parent__r__Key__c":{},"account__r__other__c":{}},
              "indexes":{"Account.External_Id__c":{"unique":false}}}}]}"#,
        )
        .unwrap();
        let m = &MappingsFile::parse("t", &got.toml).unwrap().mapping[0];
        assert_eq!(
            m.fields,
            // In the export's key order (serde_json sorts them).
            crate::mirror::Fields::List(vec![
                "account__r__external_id__c".into(),
                "LastName".into(),
                "parent__r__key__c".into(),
                "account__r__other__c".into(),
            ])
        );
        assert_eq!(m.indexes, ["account__r__external_id__c"]);
        assert!(got.warnings.is_empty(), "{:?}", got.warnings);
    }

    #[test]
    fn bad_exports_name_the_place() {
        assert!(
            import("nope")
                .unwrap_err()
                .to_string()
                .contains("not valid JSON")
        );
        let e = import(r#"{"mappings":[{"config":{"fields":{}}}]}"#).unwrap_err();
        assert_eq!(e.path, "mappings[0].object_name");
        let e = import(
            r#"{"mappings":[{"object_name":"A","config":{"fields":{},"sf_polling_seconds":-5}}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.path, "mappings[0].config.sf_polling_seconds");
    }
}
