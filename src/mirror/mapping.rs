//! `jobs/mappings.toml`: which Salesforce objects are mirrored and how. Parsed into typed
//! structs (unknown keys are refused with the key named), then resolved against the
//! org's describe into the exact columns to load; every problem names the mapping and
//! the fix.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::types::{self, TypeError};
use crate::salesforce::{Describe, FieldDescribe};

/// The file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MappingsFile {
    /// One `[[mapping]]` table per object (default: none).
    #[serde(default)]
    pub mapping: Vec<Mapping>,
}

/// Which fields to sync.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Fields {
    /// `"all"`: every field the Bulk API can read (compound and binary fields skipped).
    All(String),
    /// The named fields (`Id`, `SystemModstamp` and `IsDeleted` are always added).
    List(Vec<String>),
}

impl Default for Fields {
    fn default() -> Self {
        Fields::All("all".into())
    }
}

/// Sync direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Salesforce to Postgres (default).
    #[default]
    ReadOnly,
    /// Both directions (not supported yet; refused with an explanation).
    ReadWrite,
}

/// What happens to rows of records deleted in Salesforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Deleted {
    /// Delete the row, as Heroku Connect does (default).
    #[default]
    Remove,
    /// Keep the row with `isdeleted = true`.
    Keep,
}

/// One mapped object.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The object's API name (`Account`, `Invoice__c`); required.
    pub object: String,
    /// Fields to sync (default `"all"`).
    #[serde(default)]
    pub fields: Fields,
    /// `read_only` (default) or `read_write`.
    #[serde(default)]
    pub access: Access,
    /// How often `resync` runs, like `"10m"`, `"90s"`, `"1h"` (default `"10m"`; 2 to 60
    /// minutes as Heroku Connect allows).
    #[serde(default = "default_interval")]
    pub poll_interval: String,
    /// Allow a poll interval under 2 minutes (default false: each poll costs API calls).
    #[serde(default)]
    pub allow_fast_poll: bool,
    /// Target rows per load chunk (default 50,000).
    #[serde(default = "default_chunk")]
    pub chunk_size: u64,
    /// Postgres schema of the table (default `salesforce`).
    #[serde(default = "default_schema")]
    pub schema: String,
    /// `remove` (default) or `keep` rows of deleted records.
    #[serde(default)]
    pub deleted: Deleted,
}

fn default_interval() -> String {
    "10m".into()
}
fn default_chunk() -> u64 {
    50_000
}
fn default_schema() -> String {
    "salesforce".into()
}

/// A problem with the mappings file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// The file is not valid TOML or has unknown or mistyped keys.
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// The parser's message (it names the key and line).
        message: String,
    },
    /// One mapping is wrong.
    #[error("mapping {object}: {problem}")]
    Invalid {
        /// The mapping's object.
        object: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
}

fn invalid(object: &str, problem: impl Into<String>) -> MappingError {
    MappingError::Invalid {
        object: object.to_string(),
        problem: problem.into(),
    }
}

impl MappingsFile {
    /// Parses TOML text (`path` is for messages).
    pub fn parse(path: &str, text: &str) -> Result<MappingsFile, MappingError> {
        let file: MappingsFile = toml::from_str(text).map_err(|e| MappingError::Syntax {
            path: path.to_string(),
            message: e.to_string().trim().to_string(),
        })?;
        let mut seen = std::collections::HashSet::new();
        for m in &file.mapping {
            m.check()?;
            if !seen.insert(m.object.to_ascii_lowercase()) {
                return Err(invalid(
                    &m.object,
                    "appears twice; keep one [[mapping]] per object",
                ));
            }
        }
        Ok(file)
    }

    /// Reads and parses a file.
    pub fn load(path: &std::path::Path) -> Result<MappingsFile, MappingError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| MappingError::Syntax {
            path: shown.clone(),
            message: format!("cannot read it: {e}"),
        })?;
        MappingsFile::parse(&shown, &text)
    }
}

/// Parses `"10m"`, `"90s"`, `"1h"`, `"2m30s"`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut total = 0u64;
    let mut num = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        total += n * match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return None,
        };
    }
    if !num.is_empty() {
        return None;
    }
    (total > 0).then(|| Duration::from_secs(total))
}

impl Mapping {
    /// The poll interval (checked by [`MappingsFile::parse`]).
    pub fn interval(&self) -> Duration {
        parse_duration(&self.poll_interval).unwrap_or(Duration::from_secs(600))
    }

    /// The Postgres table name (the object lowercased).
    pub fn table(&self) -> String {
        types::pg_name(&self.object)
    }

    fn check(&self) -> Result<(), MappingError> {
        let o = &self.object;
        if o.is_empty() || !o.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(invalid(
                o,
                "object must be an API name such as Account or Invoice__c",
            ));
        }
        if self.access == Access::ReadWrite {
            return Err(invalid(
                o,
                "access = \"read_write\" is not supported yet (write-back is planned); use access = \"read_only\"",
            ));
        }
        let Some(every) = parse_duration(&self.poll_interval) else {
            return Err(invalid(
                o,
                format!(
                    "poll_interval {:?} is not a duration such as \"10m\", \"90s\" or \"1h\"",
                    self.poll_interval
                ),
            ));
        };
        if every > Duration::from_secs(3600) {
            return Err(invalid(
                o,
                format!(
                    "poll_interval {} is over 60 minutes; use at most \"60m\"",
                    self.poll_interval
                ),
            ));
        }
        if every < Duration::from_secs(120) && !self.allow_fast_poll {
            return Err(invalid(
                o,
                format!(
                    "poll_interval {} is under 2 minutes; each poll costs API calls, so set allow_fast_poll = true to confirm",
                    self.poll_interval
                ),
            ));
        }
        if self.chunk_size < 1_000 || self.chunk_size > 10_000_000 {
            return Err(invalid(
                o,
                format!(
                    "chunk_size {} is outside 1,000 to 10,000,000",
                    self.chunk_size
                ),
            ));
        }
        if self.schema.is_empty() || self.schema.len() > 63 {
            return Err(invalid(
                o,
                "schema must be a Postgres schema name of 1 to 63 characters",
            ));
        }
        if let Fields::All(s) = &self.fields
            && s != "all"
        {
            return Err(invalid(
                o,
                format!("fields = {s:?}: use \"all\" or a list such as [\"Name\", \"Industry\"]"),
            ));
        }
        Ok(())
    }
}

/// A mirrored column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The Salesforce field (`Id` for `sfid`).
    pub field: String,
    /// The Postgres column (`sfid`, or the field lowercased).
    pub name: String,
    /// The Postgres type.
    pub pg_type: String,
    /// Whether the column gets an index: lookups (`reference` fields such as
    /// `OpportunityId`), which apps and the quote job join on.
    #[serde(default)]
    pub indexed: bool,
}

impl Column {
    /// `COLLATE "C"` for `sfid` and lookup columns: Ids order and compare by bytes, the
    /// unique index then serves Id range scans, and a join of a lookup to `sfid` (an
    /// Opportunity's line items, say) has one collation on both sides, so it can use
    /// the lookup's index.
    pub fn collation(&self) -> &'static str {
        if self.name == "sfid" || self.indexed {
            " COLLATE \"C\""
        } else {
            ""
        }
    }
}

/// A mapping checked against the org: the columns to load, in Bulk query order.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The mapping.
    pub mapping: Mapping,
    /// Columns, `sfid` first, then `systemmodstamp` and `isdeleted`, then the rest.
    pub columns: Vec<Column>,
}

/// The fields every mirror needs to sync.
const SYSTEM: [&str; 3] = ["Id", "SystemModstamp", "IsDeleted"];

impl Resolved {
    /// Checks `mapping` against the object's describe.
    pub fn new(mapping: &Mapping, describe: &Describe) -> Result<Resolved, MappingError> {
        let o = &mapping.object;
        let wanted: Vec<&FieldDescribe> = match &mapping.fields {
            Fields::All(_) => describe
                .fields
                .iter()
                .filter(|f| types::column_type(f).is_ok())
                .collect(),
            Fields::List(names) => {
                let mut out = Vec::new();
                for n in names {
                    let f = describe.field(n).ok_or_else(|| {
                        invalid(o, format!("field {n} does not exist on {}; check the spelling (custom fields end in __c) or remove it", describe.name))
                    })?;
                    types::column_type(f).map_err(|e: TypeError| invalid(o, e.to_string()))?;
                    out.push(f);
                }
                out
            }
        };
        let mut columns: Vec<Column> = Vec::new();
        for name in SYSTEM {
            let f = describe.field(name).ok_or_else(|| {
                invalid(o, format!("{} has no {name} field, so it cannot be mirrored by SystemModstamp polling", describe.name))
            })?;
            columns.push(column(f)?);
        }
        for f in wanted {
            if SYSTEM.iter().any(|s| s.eq_ignore_ascii_case(&f.name)) {
                continue;
            }
            let c = column(f)?;
            if columns.iter().any(|x| x.name == c.name) {
                return Err(invalid(o, format!("field {} is listed twice", f.name)));
            }
            columns.push(c);
        }
        Ok(Resolved {
            mapping: mapping.clone(),
            columns,
        })
    }

    /// The Bulk query that reads the mapped fields.
    pub fn soql(&self) -> String {
        let fields: Vec<&str> = self.columns.iter().map(|c| c.field.as_str()).collect();
        format!("SELECT {} FROM {}", fields.join(", "), self.mapping.object)
    }
}

fn column(f: &FieldDescribe) -> Result<Column, MappingError> {
    let pg_type = types::column_type(f).map_err(|e| invalid("?", e.to_string()))?;
    let name = if f.name.eq_ignore_ascii_case("Id") {
        "sfid".to_string()
    } else {
        types::pg_name(&f.name)
    };
    Ok(Column {
        indexed: f.field_type == "reference" && name != "sfid",
        field: f.name.clone(),
        name,
        pg_type,
    })
}

#[cfg(test)]
mod tests;
