//! Field values as the fake org stores them, and their wire spellings: REST JSON
//! (`2024-05-20T20:49:32.000+0000`), Bulk CSV (`2024-05-20T20:49:32.000Z`), and parsing
//! of client input for a given field type.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use serde_json::Value as Json;

use super::ids::RecordId;
use super::model::{FieldDef, FieldType};

/// A stored value. Text is reference-counted so repeated values (picklists) share memory.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value.
    Null,
    /// Boolean.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// Double, currency, percent (already rounded to the field's scale).
    Num(f64),
    /// Text of any text type.
    Text(Arc<str>),
    /// A record Id (Id and reference fields).
    Id(RecordId),
    /// A date.
    Date(NaiveDate),
    /// An instant, milliseconds since the Unix epoch.
    DateTime(i64),
    /// A time of day, milliseconds since midnight.
    Time(u32),
}

impl Value {
    /// Text value.
    pub fn text(s: &str) -> Value {
        Value::Text(Arc::from(s))
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as a number, if numeric.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The Id, if this is one.
    pub fn as_id(&self) -> Option<RecordId> {
        match self {
            Value::Id(id) => Some(*id),
            _ => None,
        }
    }

    /// The text, if this is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// REST JSON spelling.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Num(n) => serde_json::Number::from_f64(*n)
                .map(Json::Number)
                .unwrap_or(Json::Null),
            Value::Text(s) => Json::String(s.to_string()),
            Value::Id(id) => Json::String(id.to_string()),
            Value::Date(d) => Json::String(d.format("%Y-%m-%d").to_string()),
            Value::DateTime(ms) => Json::String(format_datetime(*ms, "+0000")),
            Value::Time(ms) => Json::String(format_time(*ms)),
        }
    }

    /// Bulk CSV spelling (unquoted; the writer quotes). Null is the empty string.
    pub fn write_csv(&self, out: &mut String) {
        use std::fmt::Write;
        match self {
            Value::Null => {}
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Num(n) => write_number(*n, out),
            Value::Text(s) => out.push_str(s),
            Value::Id(id) => out.push_str(std::str::from_utf8(&id.to_18()).unwrap_or_default()),
            Value::Date(d) => {
                let _ = write!(out, "{}", d.format("%Y-%m-%d"));
            }
            Value::DateTime(ms) => out.push_str(&format_datetime(*ms, "Z")),
            Value::Time(ms) => out.push_str(&format_time(*ms)),
        }
    }
}

/// Numbers as Salesforce (Java) prints doubles in the usual range: `15000.0`, `12.5`.
pub fn write_number(n: f64, out: &mut String) {
    use std::fmt::Write;
    if n.fract() == 0.0 && n.abs() < 1e15 {
        let _ = write!(out, "{n:.1}");
    } else {
        let _ = write!(out, "{n}");
    }
}

/// `2024-05-20T20:49:32.000+0000` (REST, `zone` = `+0000`) or `...000Z` (Bulk, `zone` = `Z`).
pub fn format_datetime(ms: i64, zone: &str) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(dt) => format!("{}{}", dt.format("%Y-%m-%dT%H:%M:%S%.3f"), zone),
        None => String::new(),
    }
}

fn format_time(ms: u32) -> String {
    let secs = ms / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60,
        ms % 1000
    )
}

/// Why a client-supplied value does not fit a field.
#[derive(Debug, Clone, PartialEq)]
pub struct BadValue(pub String);

/// Parses a datetime as clients send it: `2024-05-20T20:49:32Z`, `.000Z`, `+0000`,
/// `+00:00`, or a date alone (midnight UTC).
pub fn parse_datetime(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_millis());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
            return Some(dt.timestamp_millis());
        }
    }
    if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(naive.and_utc().timestamp_millis());
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc().timestamp_millis())
}

fn parse_time(text: &str) -> Option<u32> {
    let t = text.trim().trim_end_matches('Z');
    let time = NaiveTime::parse_from_str(t, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
        .ok()?;
    Some(time.num_seconds_from_midnight() * 1000 + time.nanosecond() / 1_000_000)
}

/// Rounds to `scale` decimal places, half away from zero as Salesforce does on save.
pub fn round_scale(n: f64, scale: u32) -> f64 {
    let f = 10f64.powi(scale as i32);
    (n * f).round() / f
}

/// Converts text input (a Bulk CSV cell, a JSON string) to a value for `field`.
/// Reference fields are returned as text here; the store resolves them to Ids.
pub fn from_text(field: &FieldDef, text: &str) -> Result<Value, BadValue> {
    let bad = || {
        BadValue(format!(
            "{}: value not of required type: {}",
            field.name, text
        ))
    };
    Ok(match field.ftype {
        FieldType::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Value::Bool(true),
            "false" | "0" | "no" => Value::Bool(false),
            _ => return Err(bad()),
        },
        FieldType::Int => Value::Int(text.trim().parse::<i64>().map_err(|_| bad())?),
        FieldType::Double | FieldType::Currency | FieldType::Percent => {
            let n: f64 = text.trim().parse().map_err(|_| bad())?;
            if !n.is_finite() {
                return Err(bad());
            }
            Value::Num(round_scale(n, field.scale))
        }
        FieldType::Date => Value::Date(
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .or_else(|_| {
                    parse_datetime(text)
                        .and_then(DateTime::<Utc>::from_timestamp_millis)
                        .map(|d| d.date_naive())
                        .ok_or(())
                })
                .map_err(|_| bad())?,
        ),
        FieldType::DateTime => Value::DateTime(parse_datetime(text).ok_or_else(bad)?),
        FieldType::Time => Value::Time(parse_time(text).ok_or_else(bad)?),
        FieldType::Id | FieldType::Reference => Value::text(text.trim()),
        FieldType::Address | FieldType::Location => return Err(bad()),
        _ => Value::text(text),
    })
}

/// Converts a JSON value from a REST body to a value for `field`.
pub fn from_json(field: &FieldDef, json: &Json) -> Result<Value, BadValue> {
    let bad = || {
        BadValue(format!(
            "Cannot deserialize instance of {} from {} value {}",
            field.ftype.api_name(),
            match json {
                Json::String(_) => "VALUE_STRING",
                Json::Number(_) => "VALUE_NUMBER",
                Json::Bool(_) => "VALUE_BOOLEAN",
                Json::Array(_) => "START_ARRAY",
                Json::Object(_) => "START_OBJECT",
                Json::Null => "VALUE_NULL",
            },
            json
        ))
    };
    match json {
        Json::Null => Ok(Value::Null),
        Json::Bool(b) => match field.ftype {
            FieldType::Boolean => Ok(Value::Bool(*b)),
            _ if field.ftype.is_text() => Ok(Value::text(if *b { "true" } else { "false" })),
            _ => Err(bad()),
        },
        Json::Number(n) => match field.ftype {
            FieldType::Int => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Value::Int)
                .ok_or_else(bad),
            t if t.is_decimal() => n
                .as_f64()
                .map(|f| Value::Num(round_scale(f, field.scale)))
                .ok_or_else(bad),
            t if t.is_text() => Ok(Value::text(&n.to_string())),
            FieldType::DateTime => n.as_i64().map(Value::DateTime).ok_or_else(bad),
            _ => Err(bad()),
        },
        Json::String(s) => from_text(field, s).map_err(|_| bad()),
        Json::Array(_) | Json::Object(_) => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_spellings() {
        let ms = parse_datetime("2024-05-20T20:49:32.000+0000").unwrap();
        assert_eq!(format_datetime(ms, "+0000"), "2024-05-20T20:49:32.000+0000");
        assert_eq!(format_datetime(ms, "Z"), "2024-05-20T20:49:32.000Z");
        assert_eq!(parse_datetime("2024-05-20T20:49:32Z"), Some(ms));
        assert_eq!(parse_datetime("2024-05-20T22:49:32+02:00"), Some(ms));
    }

    #[test]
    fn numbers_print_like_salesforce() {
        let mut s = String::new();
        write_number(15000.0, &mut s);
        s.push(' ');
        write_number(12.5, &mut s);
        s.push(' ');
        write_number(-0.01, &mut s);
        assert_eq!(s, "15000.0 12.5 -0.01");
    }

    #[test]
    fn text_input_by_type() {
        let f = FieldDef::new("Amount", FieldType::Currency);
        assert_eq!(from_text(&f, "12.345").unwrap(), Value::Num(12.35));
        assert!(from_text(&f, "abc").is_err());
        let d = FieldDef::new("CloseDate", FieldType::Date);
        assert_eq!(
            from_text(&d, "2025-01-31").unwrap(),
            Value::Date(NaiveDate::from_ymd_opt(2025, 1, 31).unwrap())
        );
        let t = FieldDef::new("At__c", FieldType::Time);
        assert_eq!(
            from_text(&t, "10:30:00.000Z").unwrap(),
            Value::Time(37_800_000)
        );
    }
}
