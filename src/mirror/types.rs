//! How each Salesforce field type becomes a Postgres column, and which fields cannot be
//! mirrored at all (the Bulk API cannot read them). One table per [`ColumnTypes`] mode,
//! documented in `docs/mirror.md`: `exact` keeps every value exact (numeric with the
//! field's precision and scale, `timestamptz`); `heroku_connect` uses Heroku Connect's
//! own types (`double precision`, `timestamp` in UTC, long text areas as `text`) so an
//! app written for Heroku Connect reads the values it expects. Also the in-place
//! conversion between the two modes' types.

use serde::{Deserialize, Serialize};

use crate::salesforce::FieldDescribe;

/// Which Postgres types mirror columns get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnTypes {
    /// Exact: `numeric(p, s)` for numbers, `timestamptz` for datetimes (default).
    #[default]
    Exact,
    /// Heroku Connect's: `double precision` for numbers, currency and percent,
    /// `timestamp` (without time zone, UTC) for datetimes, `text` for long text areas.
    HerokuConnect,
}

/// Salesforce's plain text area holds at most 255 characters; a longer `textarea` is a
/// long or rich text area, which Heroku Connect stores as `text`.
const PLAIN_TEXTAREA: u32 = 255;

/// Postgres's largest `varchar(n)`.
const MAX_VARCHAR: u32 = 10_485_760;

/// Why a field cannot be mirrored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeError {
    /// The Bulk API cannot read this type.
    #[error(
        "field {field} is of type {ftype}, which the Bulk API cannot read; remove it from the mapping{hint}"
    )]
    NotBulkReadable {
        /// The field.
        field: String,
        /// Its Salesforce type.
        ftype: String,
        /// Extra advice (the component fields of a compound field).
        hint: String,
    },
    /// A type this version of orgpool does not know.
    #[error(
        "field {field} has type {ftype}, which orgpool cannot mirror yet; remove it from the mapping"
    )]
    Unknown {
        /// The field.
        field: String,
        /// Its Salesforce type.
        ftype: String,
    },
}

/// The Postgres column type for a field.
pub fn column_type(f: &FieldDescribe, mode: ColumnTypes) -> Result<String, TypeError> {
    if mode == ColumnTypes::HerokuConnect {
        match f.field_type.as_str() {
            "double" | "currency" | "percent" => return Ok("double precision".into()),
            "datetime" => return Ok("timestamp".into()),
            "textarea" if f.length > PLAIN_TEXTAREA => return Ok("text".into()),
            _ => {}
        }
    }
    let text = |len: u32| {
        if len == 0 || len > MAX_VARCHAR {
            "text".to_string()
        } else {
            format!("varchar({len})")
        }
    };
    Ok(match f.field_type.as_str() {
        "id" | "reference" => "varchar(18)".into(),
        "string" | "picklist" | "combobox" | "email" | "phone" | "url" | "encryptedstring"
        | "textarea" | "multipicklist" => text(f.length),
        "boolean" => "boolean".into(),
        "int" => {
            if f.digits > 9 {
                "bigint".into()
            } else {
                "integer".into()
            }
        }
        "double" | "currency" | "percent" => {
            if f.precision == 0 {
                "numeric".into()
            } else {
                format!("numeric({}, {})", f.precision, f.scale.min(f.precision))
            }
        }
        "date" => "date".into(),
        "datetime" => "timestamptz".into(),
        "time" => "time".into(),
        "base64" | "address" | "location" => {
            let hint = match f.field_type.as_str() {
                "address" => {
                    " (map its component fields such as BillingStreet and BillingCity instead)"
                }
                "location" => " (map its __Latitude__s and __Longitude__s fields instead)",
                _ => "",
            };
            return Err(TypeError::NotBulkReadable {
                field: f.name.clone(),
                ftype: f.field_type.clone(),
                hint: hint.into(),
            });
        }
        other => {
            return Err(TypeError::Unknown {
                field: f.name.clone(),
                ftype: other.into(),
            });
        }
    })
}

/// Whether a column of type `existing` can hold values of `wanted` without loss, so a
/// changed field keeps its column (a longer text, a wider number) instead of needing a
/// reload.
pub fn compatible(existing: &str, wanted: &str) -> bool {
    if existing == wanted {
        return true;
    }
    let varchar =
        |t: &str| -> Option<u32> { t.strip_prefix("varchar(")?.strip_suffix(')')?.parse().ok() };
    let numeric = |t: &str| -> Option<(u32, u32)> {
        let inner = t.strip_prefix("numeric(")?.strip_suffix(')')?;
        let (p, s) = inner.split_once(',')?;
        Some((p.trim().parse().ok()?, s.trim().parse().ok()?))
    };
    match (existing, wanted) {
        ("text", w) => varchar(w).is_some(),
        (e, w) if varchar(e).is_some() && varchar(w).is_some() => varchar(w) <= varchar(e),
        ("numeric", w) => numeric(w).is_some() || w == "integer" || w == "bigint",
        (e, w) => match (numeric(e), numeric(w)) {
            (Some((ep, es)), Some((wp, ws))) => ws <= es && wp - ws <= ep - es,
            _ => existing == "bigint" && wanted == "integer",
        },
    }
}

/// The `USING` expression that converts a column of type `existing` into `wanted` in
/// place when the two are the same field's types in the two [`ColumnTypes`] modes (a
/// mapping's `column_types` changed); `None` for any other pair. `{c}` stands for the
/// quoted column.
pub fn conversion(existing: &str, wanted: &str) -> Option<&'static str> {
    let number = |t: &str| t == "numeric" || t.starts_with("numeric(");
    let varchar = |t: &str| t.starts_with("varchar(");
    match (existing, wanted) {
        // Both directions read the naive value as UTC, as Salesforce writes it.
        ("timestamptz", "timestamp") | ("timestamp", "timestamptz") => {
            Some("{c} AT TIME ZONE 'UTC'")
        }
        (e, "double precision") if number(e) => Some("{c}::double precision"),
        ("double precision", w) if number(w) => Some("{c}::{t}"),
        (e, "text") if varchar(e) => Some("{c}::text"),
        _ => None,
    }
}

/// Salesforce names as Postgres names: lowercased, as Heroku Connect does.
pub fn pg_name(salesforce_name: &str) -> String {
    salesforce_name.to_ascii_lowercase()
}

/// An identifier quoted for SQL (`"order"`), whatever it contains.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(t: &str, length: u32, precision: u32, scale: u32, digits: u32) -> FieldDescribe {
        serde_json::from_value(serde_json::json!({
            "name": "F__c", "type": t, "length": length, "precision": precision,
            "scale": scale, "digits": digits,
        }))
        .unwrap()
    }

    #[test]
    fn maps_every_type_faithfully() {
        let t = |f: FieldDescribe| column_type(&f, ColumnTypes::Exact).unwrap();
        assert_eq!(t(field("id", 18, 0, 0, 0)), "varchar(18)");
        assert_eq!(t(field("reference", 18, 0, 0, 0)), "varchar(18)");
        assert_eq!(t(field("string", 80, 0, 0, 0)), "varchar(80)");
        assert_eq!(t(field("textarea", 131_072, 0, 0, 0)), "varchar(131072)");
        assert_eq!(t(field("multipicklist", 4099, 0, 0, 0)), "varchar(4099)");
        assert_eq!(t(field("boolean", 0, 0, 0, 0)), "boolean");
        assert_eq!(t(field("int", 0, 0, 0, 9)), "integer");
        assert_eq!(t(field("int", 0, 0, 0, 18)), "bigint");
        assert_eq!(t(field("currency", 0, 18, 2, 0)), "numeric(18, 2)");
        assert_eq!(t(field("percent", 0, 5, 2, 0)), "numeric(5, 2)");
        assert_eq!(t(field("double", 0, 0, 0, 0)), "numeric");
        assert_eq!(t(field("date", 0, 0, 0, 0)), "date");
        assert_eq!(t(field("datetime", 0, 0, 0, 0)), "timestamptz");
        assert_eq!(t(field("time", 0, 0, 0, 0)), "time");
        let err = column_type(&field("address", 0, 0, 0, 0), ColumnTypes::Exact).unwrap_err();
        assert!(err.to_string().contains("BillingStreet"), "{err}");
        assert!(column_type(&field("base64", 0, 0, 0, 0), ColumnTypes::Exact).is_err());
        assert!(matches!(
            column_type(&field("anyType", 0, 0, 0, 0), ColumnTypes::Exact),
            Err(TypeError::Unknown { .. })
        ));
    }

    #[test]
    fn heroku_connect_mode_uses_its_types() {
        let t = |f: FieldDescribe| column_type(&f, ColumnTypes::HerokuConnect).unwrap();
        assert_eq!(t(field("currency", 0, 18, 2, 0)), "double precision");
        assert_eq!(t(field("percent", 0, 5, 2, 0)), "double precision");
        assert_eq!(t(field("double", 0, 0, 0, 0)), "double precision");
        assert_eq!(t(field("datetime", 0, 0, 0, 0)), "timestamp");
        assert_eq!(t(field("textarea", 32_768, 0, 0, 0)), "text");
        assert_eq!(t(field("textarea", 255, 0, 0, 0)), "varchar(255)");
        assert_eq!(t(field("int", 0, 0, 0, 9)), "integer");
        assert_eq!(t(field("date", 0, 0, 0, 0)), "date");
        assert_eq!(t(field("string", 80, 0, 0, 0)), "varchar(80)");
        assert!(column_type(&field("base64", 0, 0, 0, 0), ColumnTypes::HerokuConnect).is_err());
    }

    #[test]
    fn converts_between_the_modes_only() {
        assert!(conversion("timestamptz", "timestamp").is_some());
        assert!(conversion("timestamp", "timestamptz").is_some());
        assert!(conversion("numeric(18, 2)", "double precision").is_some());
        assert!(conversion("double precision", "numeric(18, 2)").is_some());
        assert!(conversion("varchar(32768)", "text").is_some());
        assert_eq!(conversion("varchar(80)", "date"), None);
        assert_eq!(conversion("boolean", "double precision"), None);
    }

    #[test]
    fn widening_is_compatible_narrowing_is_not() {
        assert!(compatible("varchar(80)", "varchar(40)"));
        assert!(!compatible("varchar(40)", "varchar(80)"));
        assert!(compatible("text", "varchar(80)"));
        assert!(compatible("numeric(18, 2)", "numeric(10, 2)"));
        assert!(!compatible("numeric(18, 2)", "numeric(18, 4)"));
        assert!(!compatible("varchar(80)", "numeric(18, 2)"));
        assert!(!compatible("date", "timestamptz"));
        assert!(compatible("bigint", "integer"));
    }

    #[test]
    fn quotes_identifiers() {
        assert_eq!(quote_ident("order"), "\"order\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(pg_name("Select__c"), "select__c");
    }
}
