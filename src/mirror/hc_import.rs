//! `orgpool mappings import`: turns a Heroku Connect mapping export (JSON) into
//! `jobs/mappings.toml`, so a Heroku Connect user switches by importing. The file gets
//! `column_types = "heroku_connect"`, so the tables have the types the user's apps read
//! now. Settings orgpool supports carry over (`indexes`, `upsert_field`,
//! `sf_notify_enabled` as `events`); what does not (read-write access, the per-mapping
//! API cap, binary fields, unknown keys) becomes a warning naming the object and the
//! setting, never dropped silently.

use serde_json::Value;

use super::mapping::MappingsFile;

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
        let mut kept: Vec<&str> = Vec::new();
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
            kept.push(f);
        }
        let names: Vec<String> = kept.iter().map(|f| quoted(f)).collect();
        out.push_str(&format!("fields = [{}]\n", names.join(", ")));
        match config.get("access").and_then(Value::as_str) {
            Some("read_write") => {
                warnings.push(format!(
                    "{object}: read_write imported as read_only (write-back is not supported yet)"
                ));
                out.push_str("access = \"read_only\"  # was read_write in Heroku Connect\n");
            }
            Some("read_only") | None => {}
            Some(other) => {
                return Err(err(
                    at("config.access"),
                    format!("{other:?} is neither read_only nor read_write"),
                ));
            }
        }
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

/// The settings orgpool supports beside fields and polling: `indexes`, `upsert_field`
/// and `sf_notify_enabled`; `sf_max_daily_api_calls` becomes a warning.
fn carry_over(
    object: &str,
    config: &serde_json::Map<String, Value>,
    fields: &[&str],
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
            if !fields.contains(&f.as_str()) {
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
            "upsert_field = {}  # used by write-back (coming)\n",
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
        assert!(
            got.warnings.iter().any(|w| w.contains("read_write")),
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
