//! `jobs/mappings.toml`: which Salesforce objects are mirrored and how. Parsed into typed
//! structs (unknown keys are refused with the key named); checking against the org's
//! describe is in [`super::check`]. Every problem names the mapping and the fix; a
//! `read_write` mapping that would send inserts without an upsert key is one.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::types::{self, ColumnTypes};
use crate::salesforce::Scope;

pub use super::check::Resolved;
pub use relationship::Relationship;

pub mod relationship;

/// The file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MappingsFile {
    /// The column types of every mapping that does not set its own (default `exact`;
    /// `orgpool mappings import` writes `heroku_connect`).
    #[serde(default)]
    pub column_types: Option<ColumnTypes>,
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
    /// The named fields (`Id`, `SystemModstamp` and `IsDeleted` are always added). An
    /// entry may also be a relationship column, the parent's External ID through a
    /// lookup: `"Account.External_Id__c"` or Heroku Connect's `"account__r__external_id__c"`
    /// (see [`relationship`]).
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
    /// Both directions: the app's writes are captured in `_trigger_log` and write-back
    /// sends them to Salesforce, inserts as upserts by `upsert_field` (required, unless
    /// `allow_insert_without_upsert_field`).
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

impl Deleted {
    /// Which records a range load and reconcile read and count: with `keep` the
    /// recycle bin too (queryAll), so kept rows are compared with it; only records
    /// gone for good then leave the mirror.
    pub fn scope(self) -> Scope {
        match self {
            Deleted::Remove => Scope::Live,
            Deleted::Keep => Scope::All,
        }
    }
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
    /// `read_only` (default) or `read_write` (the app's writes are sent to Salesforce;
    /// needs `upsert_field` or `allow_insert_without_upsert_field`).
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
    /// `exact` or `heroku_connect` column types (default: the file's `column_types`,
    /// else `exact`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_types: Option<ColumnTypes>,
    /// Fields that get a single-column index named as Heroku Connect names it
    /// (`hc_idx_<table>_<column>`) (default none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<String>,
    /// The unique External ID field write-back matches records by: an app's insert is
    /// sent as an upsert by its value, so a retry never creates a second record. It
    /// must exist, be an External ID and be mapped (checked against describe); a
    /// `read_only` mapping may name one too (default none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upsert_field: Option<String>,
    /// Let a `read_write` mapping without `upsert_field` send inserts as plain creates,
    /// accepting that an insert retried after a crash or a lost response can create a
    /// second record (default false: such a mapping is refused).
    #[serde(default)]
    pub allow_insert_without_upsert_field: bool,
    /// Event-driven sync (Change Data Capture) for this object, Heroku Connect's
    /// `sf_notify_enabled` (event-driven sync is coming; accepted and stored now)
    /// (default false).
    #[serde(default)]
    pub events: bool,
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

pub(super) fn invalid(object: &str, problem: impl Into<String>) -> MappingError {
    MappingError::Invalid {
        object: object.to_string(),
        problem: problem.into(),
    }
}

impl MappingsFile {
    /// Parses TOML text (`path` is for messages).
    pub fn parse(path: &str, text: &str) -> Result<MappingsFile, MappingError> {
        let mut file: MappingsFile = toml::from_str(text).map_err(|e| MappingError::Syntax {
            path: path.to_string(),
            message: e.to_string().trim().to_string(),
        })?;
        // The file's default is written into each mapping, so the ledger's copy (what
        // the workers use) says which types its table has.
        let default = file.column_types.unwrap_or_default();
        for m in &mut file.mapping {
            m.column_types.get_or_insert(default);
        }
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
    let mut total = Duration::ZERO;
    let mut num = String::new();
    let mut chars = text.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        total += match c {
            // `ms`, for settings such as a retry base under a second.
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                Duration::from_millis(n)
            }
            's' => Duration::from_secs(n),
            'm' => Duration::from_secs(n * 60),
            'h' => Duration::from_secs(n * 3600),
            _ => return None,
        };
    }
    if !num.is_empty() {
        return None;
    }
    (!total.is_zero()).then_some(total)
}

impl Mapping {
    /// The poll interval (checked by [`MappingsFile::parse`]).
    pub fn interval(&self) -> Duration {
        parse_duration(&self.poll_interval).unwrap_or(Duration::from_secs(600))
    }

    /// The column types of its table.
    pub fn column_types(&self) -> ColumnTypes {
        self.column_types.unwrap_or_default()
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
        if let Fields::List(names) = &self.fields
            && let Some(p) = names.iter().find_map(|n| relationship::syntax_problem(n))
        {
            return Err(invalid(o, p));
        }
        if self.access == Access::ReadWrite
            && self.upsert_field.is_none()
            && !self.allow_insert_without_upsert_field
        {
            return Err(invalid(
                o,
                format!(
                    "access = \"read_write\" without upsert_field: write-back would send the app's inserts as plain creates, so an insert retried after a crash or a lost response could create a second record in Salesforce; set upsert_field to a unique External ID field of {o} (and map it), or set allow_insert_without_upsert_field = true to accept that risk"
                ),
            ));
        }
        Ok(())
    }
}

/// A mirrored column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The Salesforce field as the Bulk query selects it and its CSV header names it
    /// (`Id` for `sfid`; a relationship path, `Account.External_Id__c`, for a
    /// relationship column).
    pub field: String,
    /// The Postgres column (`sfid`, the field lowercased, or a relationship column's
    /// `account__r__external_id__c`).
    pub name: String,
    /// The Postgres type.
    pub pg_type: String,
    /// Whether the column gets an index: lookups (`reference` fields such as
    /// `OpportunityId`), which apps and the quote job join on.
    #[serde(default)]
    pub indexed: bool,
    /// Whether the mapping's `indexes` names it: it gets an index named as Heroku
    /// Connect names it, `hc_idx_<table>_<column>`.
    #[serde(default)]
    pub hc_index: bool,
    /// Whether write-back may set it on insert (describe's `createable`). Columns stored
    /// before write-back existed decode as writable; Salesforce refuses what is not.
    #[serde(default = "writable")]
    pub create: bool,
    /// Whether write-back may set it on update (describe's `updateable`).
    #[serde(default = "writable")]
    pub update: bool,
    /// For a Heroku Connect relationship column (`account__r__external_id__c`): the
    /// lookup it sets by the parent's External ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<Relationship>,
    /// For a lookup: the objects it may point at (describe's `referenceTo`), so
    /// write-back sends parents before their children.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// A formula or roll-up field (describe's `calculated`): change events never carry
    /// it, so records of a mapping with one are read by Id when an event arrives.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub calculated: bool,
}

fn writable() -> bool {
    true
}

impl Column {
    /// A column of field `field` named `name`, typed `pg_type`, writable, no index.
    pub fn plain(field: &str, name: &str, pg_type: &str) -> Column {
        Column {
            field: field.into(),
            name: name.into(),
            pg_type: pg_type.into(),
            indexed: false,
            hc_index: false,
            create: true,
            update: true,
            relationship: None,
            references: Vec::new(),
            calculated: false,
        }
    }

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

#[cfg(test)]
mod tests;
