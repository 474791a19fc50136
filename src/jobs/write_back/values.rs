//! Turning captured column values (text as Postgres writes them in JSON: `true`,
//! `12.50`, `2026-01-01T00:00:00`) into what Salesforce takes: a Collections record
//! (JSON, typed by the column's Postgres type) or Bulk CSV cells (`#N/A` for null, as
//! the Bulk API defines, because an empty cell leaves a field unchanged). Only mapped
//! columns that Salesforce lets us set are sent: never `sfid`, `systemmodstamp` or
//! `isdeleted`, nor a field describe marks not createable (inserts) or not updateable
//! (updates). A Heroku Connect relationship column (`account__r__external_id__c`) sets
//! its lookup by the parent's External ID. Pure: unit-tested here.

use serde_json::{Map, Value as Json};

use super::changes::Values;
use crate::mirror::Column;

/// Which operation the values are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A new record (createable fields).
    Insert,
    /// A change (updateable fields).
    Update,
}

fn settable(c: &Column, purpose: Purpose) -> bool {
    if matches!(c.name.as_str(), "sfid" | "systemmodstamp" | "isdeleted") {
        return false;
    }
    match purpose {
        Purpose::Insert => c.create,
        Purpose::Update => c.update,
    }
}

/// The columns of `values` to send, in `columns` order, with their values.
pub fn sendable<'a>(
    columns: &'a [Column],
    values: &'a Values,
    purpose: Purpose,
) -> Vec<(&'a Column, Option<&'a str>)> {
    let mut out: Vec<(&Column, Option<&str>)> = columns
        .iter()
        .filter(|c| settable(c, purpose))
        .filter_map(|c| values.get(&c.name).map(|v| (c, v.as_deref())))
        .collect();
    // A parent named by External ID and no lookup Id: send only the reference
    // (Salesforce refuses a null lookup beside it on insert).
    let by_ref: Vec<String> = out
        .iter()
        .filter(|(c, v)| v.is_some() && c.relationship.is_some())
        .filter_map(|(c, _)| {
            c.relationship
                .as_ref()
                .map(|r| r.lookup.to_ascii_lowercase())
        })
        .collect();
    out.retain(|(c, v)| {
        if c.relationship.is_some() {
            // A null reference says nothing; the lookup column clears a parent.
            return v.is_some();
        }
        !(v.is_none() && by_ref.contains(&c.field.to_ascii_lowercase()))
    });
    out
}

/// A Collections record of `values` (without `attributes` or `Id`).
pub fn record(columns: &[Column], values: &Values, purpose: Purpose) -> Map<String, Json> {
    let mut out = Map::new();
    for (c, v) in sendable(columns, values, purpose) {
        match (&c.relationship, v) {
            (Some(r), Some(v)) => {
                let mut inner = Map::new();
                inner.insert(r.external_id.clone(), Json::String(v.to_string()));
                out.insert(r.name.clone(), Json::Object(inner));
            }
            _ => {
                out.insert(c.field.clone(), json_value(&c.pg_type, v));
            }
        }
    }
    out
}

/// A value for a column of Postgres type `pg_type` as Collections JSON.
pub fn json_value(pg_type: &str, v: Option<&str>) -> Json {
    let Some(v) = v else { return Json::Null };
    let t = pg_type.to_ascii_lowercase();
    if t == "boolean" {
        return Json::Bool(v == "true");
    }
    if is_number(&t)
        && let Ok(n @ Json::Number(_)) = serde_json::from_str::<Json>(v)
    {
        return n;
    }
    if v.is_empty() && !t.starts_with("varchar") && t != "text" {
        return Json::Null;
    }
    Json::String(text(&t, v))
}

/// A Bulk CSV cell for a column of Postgres type `pg_type`.
pub fn csv_cell(pg_type: &str, v: Option<&str>) -> String {
    match v {
        // Empty text is null in Salesforce, and an empty cell would leave it unchanged.
        None | Some("") => "#N/A".into(),
        Some(v) => text(&pg_type.to_ascii_lowercase(), v),
    }
}

fn is_number(t: &str) -> bool {
    t.starts_with("numeric")
        || matches!(
            t,
            "integer" | "bigint" | "smallint" | "double precision" | "real"
        )
}

/// Text as Salesforce reads it: a `timestamp` without time zone holds UTC (Heroku
/// Connect's convention), so it gets a `Z`.
fn text(t: &str, v: &str) -> String {
    if t == "timestamp" || t == "timestamp without time zone" {
        let has_zone = v.ends_with('Z') || v.rfind(['+', '-']).is_some_and(|i| i > 10);
        if !has_zone {
            return format!("{v}Z");
        }
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mirror::Relationship;

    fn cols() -> Vec<Column> {
        let mut key = Column::plain("Key__c", "key__c", "varchar(40)");
        key.update = false;
        let mut account_ref = Column::plain("Account.Ext__c", "account__r__ext__c", "varchar(255)");
        account_ref.relationship = Some(Relationship {
            lookup: "AccountId".into(),
            name: "Account".into(),
            external_id: "Ext__c".into(),
        });
        vec![
            Column::plain("Id", "sfid", "varchar(18)"),
            Column::plain("SystemModstamp", "systemmodstamp", "timestamptz"),
            Column::plain("Name", "name", "varchar(80)"),
            Column::plain("Amount__c", "amount__c", "numeric(18, 2)"),
            Column::plain("Active__c", "active__c", "boolean"),
            Column::plain("Seen__c", "seen__c", "timestamp"),
            Column::plain("AccountId", "accountid", "varchar(18)"),
            key,
            account_ref,
        ]
    }

    fn vals(pairs: &[(&str, Option<&str>)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn an_insert_sends_typed_settable_fields_and_a_parent_by_external_id() {
        let v = vals(&[
            ("sfid", None),
            ("systemmodstamp", None),
            ("name", Some("Acme \"x\"")),
            ("amount__c", Some("12.50")),
            ("active__c", Some("true")),
            ("seen__c", Some("2026-01-02T03:04:05")),
            ("accountid", None),
            ("key__c", Some("K-1")),
            ("account__r__ext__c", Some("A-9")),
            ("app_only_column", Some("x")),
        ]);
        let r = Json::Object(record(&cols(), &v, Purpose::Insert));
        assert_eq!(
            r,
            serde_json::json!({
                "Name": "Acme \"x\"",
                "Amount__c": 12.5,
                "Active__c": true,
                "Seen__c": "2026-01-02T03:04:05Z",
                "Key__c": "K-1",
                "Account": {"Ext__c": "A-9"},
            })
        );
    }

    #[test]
    fn an_update_sends_only_updateable_fields_and_nulls() {
        let v = vals(&[
            ("key__c", Some("K-2")),
            ("amount__c", None),
            ("accountid", None),
        ]);
        let r = Json::Object(record(&cols(), &v, Purpose::Update));
        assert_eq!(r, serde_json::json!({"Amount__c": null, "AccountId": null}));
    }

    #[test]
    fn csv_cells_use_n_a_for_null_and_keep_zones() {
        assert_eq!(csv_cell("varchar(80)", None), "#N/A");
        assert_eq!(csv_cell("varchar(80)", Some("")), "#N/A");
        assert_eq!(csv_cell("boolean", Some("false")), "false");
        assert_eq!(
            csv_cell("timestamptz", Some("2026-01-02T03:04:05+00:00")),
            "2026-01-02T03:04:05+00:00"
        );
        assert_eq!(
            csv_cell("timestamp", Some("2026-01-02T03:04:05")),
            "2026-01-02T03:04:05Z"
        );
        assert_eq!(
            json_value("date", Some("2026-01-02")),
            Json::String("2026-01-02".into())
        );
        assert_eq!(json_value("integer", Some("7")), serde_json::json!(7));
        assert_eq!(json_value("date", Some("")), Json::Null);
    }
}
