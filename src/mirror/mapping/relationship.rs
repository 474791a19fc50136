//! Relationship external-Id columns, Heroku Connect's `<lookup>__r__<extid>`: a lookup
//! mirrored as the parent's External ID instead of (or beside) its Salesforce Id, so an
//! app can set a parent it knows only by its own key. A mapping's `fields` names one as
//! a SOQL relationship path (`Account.External_Id__c`) or in Heroku Connect's column
//! spelling (`account__r__external_id__c`); both give the same column. This module owns
//! the two spellings, the column name, and resolving an entry against the child's
//! describe (the relationship must exist there; the parent's field is checked by
//! Salesforce when the Bulk query runs, as orgpool reads no parent describe).

use serde::{Deserialize, Serialize};

use super::Column;
use crate::salesforce::{Describe, FieldDescribe};

/// A lookup set by the parent's External ID, as Heroku Connect's
/// `<lookup>__r__<extid>` columns do: write-back sends `{"Account": {"External_Id__c":
/// v}}` (Collections) or an `Account.External_Id__c` column (Bulk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relationship {
    /// The lookup field (`AccountId`).
    pub lookup: String,
    /// Its relationship name (`Account`, `Parent__r`).
    pub name: String,
    /// The parent's External ID field (`External_Id__c`).
    pub external_id: String,
}

/// The Postgres type of every relationship column: External IDs are text, number or
/// email fields of at most 255 characters, and Salesforce returns each as text.
pub const PG_TYPE: &str = "varchar(255)";

/// Heroku Connect's column for `relationship`'s `external_id`: the relationship name
/// lowercased without a trailing `__r`, then `__r__`, then the field lowercased
/// (`Account` + `External_Id__c` -> `account__r__external_id__c`, `Parent__r` ->
/// `parent__r__...`).
pub fn column_name(relationship: &str, external_id: &str) -> String {
    format!(
        "{}{}",
        prefix(relationship),
        external_id.to_ascii_lowercase()
    )
}

/// `account__r__` for `Account`, `parent__r__` for `Parent__r`.
fn prefix(relationship: &str) -> String {
    let lower = relationship.to_ascii_lowercase();
    let base = lower.strip_suffix("__r").unwrap_or(&lower);
    format!("{base}__r__")
}

/// Whether a `fields` entry is written as a relationship column (a path with a dot, or
/// Heroku Connect's spelling with `__r__`) rather than as a field of the object.
pub fn is_relationship_entry(entry: &str) -> bool {
    entry.contains('.') || entry.to_ascii_lowercase().contains("__r__")
}

fn api_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What is wrong with how `entry` is written, if it is a path (checked at parse, before
/// any describe): one relationship and one field, API names both.
pub fn syntax_problem(entry: &str) -> Option<String> {
    if !entry.contains('.') {
        return None;
    }
    let parts: Vec<&str> = entry.split('.').collect();
    if parts.len() == 2 && parts.iter().all(|p| api_name(p)) {
        return None;
    }
    Some(format!(
        "fields entry {entry:?} is not a relationship column: write it as the relationship name, a dot and the parent's External ID field (\"Account.External_Id__c\", \"Parent__r.External_Id__c\"), one level only"
    ))
}

/// The column of a relationship entry of `describe`'s object, or what is wrong (the
/// relationship is not one of its lookups, the lookup is polymorphic, the field is the
/// parent's Id). `None` when `entry` is not a relationship entry.
pub fn resolve(entry: &str, describe: &Describe) -> Option<Result<Column, String>> {
    if !is_relationship_entry(entry) {
        return None;
    }
    let found = match entry.split_once('.') {
        Some((rel, field)) => by_path(describe, rel, field),
        None => by_column(describe, entry),
    };
    let Some((lookup, name, external_id)) = found else {
        return Some(Err(unknown(entry, describe)));
    };
    if lookup.reference_to.len() > 1 {
        return Some(Err(format!(
            "fields entry {entry}: {} is polymorphic (it points to {}); a relationship column needs a lookup to one object",
            lookup.name,
            lookup.reference_to.join(", ")
        )));
    }
    if external_id.eq_ignore_ascii_case("Id") {
        return Some(Err(format!(
            "fields entry {entry} is the parent's Id, which is the lookup {} itself; map {} instead",
            lookup.name, lookup.name
        )));
    }
    Some(Ok(Column {
        field: format!("{name}.{external_id}"),
        name: column_name(&name, &external_id),
        pg_type: PG_TYPE.into(),
        indexed: false,
        hc_index: false,
        create: lookup.createable,
        update: lookup.updateable,
        // Its parent, so write-back sends the parent's table first.
        references: lookup.reference_to.clone(),
        calculated: false,
        relationship: Some(Relationship {
            lookup: lookup.name.clone(),
            name,
            external_id,
        }),
    }))
}

/// Whether `entry` names something `describe`'s object has: a field, or a relationship
/// column of one of its lookups (so a synced mapping can tell a field gone from the org
/// from a relationship column).
pub fn exists(entry: &str, describe: &Describe) -> bool {
    describe.field(entry).is_some() || matches!(resolve(entry, describe), Some(Ok(_)))
}

/// The lookups of `describe` with their relationship names.
fn lookups(describe: &Describe) -> impl Iterator<Item = (&FieldDescribe, &str)> {
    describe.fields.iter().filter_map(|f| {
        let rel = f.relationship_name.as_deref()?;
        (f.field_type == "reference").then_some((f, rel))
    })
}

fn by_path<'a>(
    describe: &'a Describe,
    rel: &str,
    field: &str,
) -> Option<(&'a FieldDescribe, String, String)> {
    let (f, name) = lookups(describe).find(|(_, name)| name.eq_ignore_ascii_case(rel))?;
    Some((f, name.to_string(), field.to_string()))
}

/// The column spelling names no case of the parent's field, so it is kept lowercased
/// (Salesforce matches field names in queries and writes case-insensitively). The
/// longest matching relationship wins, so `ns__parent__r__...` is not read as `ns`'s.
fn by_column<'a>(
    describe: &'a Describe,
    entry: &str,
) -> Option<(&'a FieldDescribe, String, String)> {
    let lower = entry.to_ascii_lowercase();
    lookups(describe)
        .filter_map(|(f, name)| {
            let rest = lower.strip_prefix(&prefix(name))?;
            api_name(rest).then(|| (f, name.to_string(), rest.to_string()))
        })
        .max_by_key(|(_, name, _)| name.len())
}

fn unknown(entry: &str, describe: &Describe) -> String {
    let names: Vec<&str> = lookups(describe).map(|(_, n)| n).collect();
    let known = if names.is_empty() {
        format!("{} has no lookups", describe.name)
    } else {
        format!("its relationships are {}", names.join(", "))
    };
    format!(
        "fields entry {entry}: {} has no such relationship ({known}); write the relationship name (Account for AccountId, Parent__r for Parent__c), a dot and the parent's External ID field, or fix the field name",
        describe.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe() -> Describe {
        serde_json::from_value(serde_json::json!({
            "name": "Contact",
            "fields": [
                {"name": "Id", "type": "id"},
                {"name": "AccountId", "type": "reference", "referenceTo": ["Account"],
                 "relationshipName": "Account", "createable": true, "updateable": true},
                {"name": "Parent__c", "type": "reference", "referenceTo": ["Contact"],
                 "relationshipName": "Parent__r", "createable": true, "updateable": false},
                {"name": "OwnerId", "type": "reference", "referenceTo": ["Group", "User"],
                 "relationshipName": "Owner"},
            ]
        }))
        .unwrap()
    }

    fn ok(entry: &str) -> Column {
        resolve(entry, &describe()).unwrap().unwrap()
    }

    #[test]
    fn names_columns_as_heroku_connect_does() {
        assert_eq!(
            column_name("Account", "External_Id__c"),
            "account__r__external_id__c"
        );
        assert_eq!(
            column_name("Parent__r", "External_Id__c"),
            "parent__r__external_id__c"
        );
    }

    #[test]
    fn both_spellings_give_one_column() {
        let c = ok("Account.External_Id__c");
        assert_eq!(
            (c.name.as_str(), c.field.as_str(), c.pg_type.as_str()),
            (
                "account__r__external_id__c",
                "Account.External_Id__c",
                PG_TYPE
            )
        );
        assert_eq!(
            c.relationship,
            Some(Relationship {
                lookup: "AccountId".into(),
                name: "Account".into(),
                external_id: "External_Id__c".into(),
            })
        );
        assert!(c.create && c.update && !c.indexed);
        let same = ok("account__r__external_id__c");
        assert_eq!(same.name, c.name);
        assert_eq!(same.field, "Account.external_id__c");

        let p = ok("parent__r.Key__c");
        assert_eq!(
            (p.name.as_str(), p.field.as_str()),
            ("parent__r__key__c", "Parent__r.Key__c")
        );
        assert!(p.create && !p.update, "the lookup's flags");
        assert_eq!(ok("Parent__r__Key__c").field, "Parent__r.key__c");
    }

    #[test]
    fn refuses_what_cannot_be_a_relationship_column() {
        let err = |e: &str| resolve(e, &describe()).unwrap().unwrap_err();
        let e = err("Acount.External_Id__c");
        assert!(
            e.contains("no such relationship") && e.contains("Account, Parent__r, Owner"),
            "{e}"
        );
        assert!(err("Parent__c.Key__c").contains("Parent__r for Parent__c"));
        assert!(err("Owner.Key__c").contains("polymorphic"));
        assert!(err("Account.Id").contains("map AccountId"));
        assert!(err("nothing__r__key__c").contains("no such relationship"));
        assert!(resolve("Email", &describe()).is_none());
    }

    #[test]
    fn checks_the_path_syntax_at_parse() {
        assert_eq!(syntax_problem("Account.External_Id__c"), None);
        assert_eq!(syntax_problem("account__r__external_id__c"), None);
        assert_eq!(syntax_problem("Name"), None);
        for bad in [
            "Account.Owner.Key__c",
            "Account.",
            ".Key__c",
            "Acc ount.Key__c",
        ] {
            let p = syntax_problem(bad).unwrap();
            assert!(p.contains("one level only"), "{p}");
        }
    }

    #[test]
    fn knows_relationship_entries_exist() {
        let d = describe();
        assert!(exists("AccountId", &d));
        assert!(exists("Account.External_Id__c", &d));
        assert!(exists("parent__r__key__c", &d));
        assert!(!exists("Gone__c", &d));
        assert!(!exists("Gone__r.Key__c", &d));
    }
}
