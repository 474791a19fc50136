//! Validation rules, as an admin defines them in a real org: per object, a named check
//! on one field with the message shown when a record breaks it. Every write (REST,
//! Collections, Bulk 1.0 and 2.0) goes through the store, which runs them after derived
//! fields are filled; a broken rule fails that record with
//! `FIELD_CUSTOM_VALIDATION_EXCEPTION`, the rule's message and the field, as Salesforce
//! reports it. Rules come from the schema file (`[[validation_rule]]`) and from the admin
//! endpoint (`validation_rules` in `POST /__admin/faults`).

use serde::{Deserialize, Serialize};

use super::model::ObjectDef;
use super::record_error::RecordError;
use super::value::Value;

/// A rule as written in the schema file or the admin body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationRule {
    /// The object it applies to (`Account`).
    pub object: String,
    /// The rule's name (unique per object, for the reader; not checked).
    pub name: String,
    /// The field it checks, and the error location reported.
    pub field: String,
    /// `required`, `max_length` (`value`: a length) or `not_equal` (`value`: a text).
    pub rule: String,
    /// The rule's argument, when it takes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<RuleValue>,
    /// The error message Salesforce returns when a record breaks the rule.
    pub message: String,
}

/// A rule argument: a number or a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RuleValue {
    /// A number (`max_length`).
    Number(f64),
    /// A text (`not_equal`).
    Text(String),
}

impl RuleValue {
    fn text(&self) -> String {
        match self {
            RuleValue::Number(n) if n.fract() == 0.0 => format!("{}", *n as i64),
            RuleValue::Number(n) => n.to_string(),
            RuleValue::Text(t) => t.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Check {
    Required,
    MaxLength(usize),
    NotEqual(RuleValue),
}

/// A rule bound to the schema: object index, field slot and the check.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    /// The rule as given (reported back by the admin state).
    pub spec: ValidationRule,
    obj: usize,
    slot: usize,
    field: String,
    check: Check,
}

/// Binds `specs` to `objects`; the error names the rule and what to fix.
pub fn compile(
    objects: &[ObjectDef],
    specs: &[ValidationRule],
) -> Result<Vec<CompiledRule>, String> {
    specs.iter().map(|s| compile_one(objects, s)).collect()
}

fn compile_one(objects: &[ObjectDef], s: &ValidationRule) -> Result<CompiledRule, String> {
    let at = format!("validation rule {} on {}", s.name, s.object);
    let obj = objects
        .iter()
        .position(|o| o.name.eq_ignore_ascii_case(&s.object))
        .ok_or_else(|| format!("{at}: no object named {}", s.object))?;
    let def = &objects[obj];
    let (field, slot) = def
        .field_index(&s.field)
        .and_then(|i| {
            def.fields[i]
                .slot
                .map(|slot| (def.fields[i].name.clone(), slot))
        })
        .ok_or_else(|| format!("{at}: {} has no field named {}", def.name, s.field))?;
    let check = match (s.rule.as_str(), &s.value) {
        ("required", None) => Check::Required,
        ("max_length", Some(RuleValue::Number(n))) if *n >= 0.0 && n.fract() == 0.0 => {
            Check::MaxLength(*n as usize)
        }
        ("not_equal", Some(v)) => Check::NotEqual(v.clone()),
        ("required", Some(_)) => return Err(format!("{at}: required takes no value")),
        ("max_length", _) => {
            return Err(format!(
                "{at}: max_length needs value = a whole number of characters"
            ));
        }
        ("not_equal", None) => return Err(format!("{at}: not_equal needs value = the text")),
        (other, _) => {
            return Err(format!(
                "{at}: unknown rule {other:?}; use required, max_length or not_equal"
            ));
        }
    };
    Ok(CompiledRule {
        spec: s.clone(),
        obj,
        slot,
        field,
        check,
    })
}

/// The first rule on `obj` the record's values break, as the record's error.
pub fn check(rules: &[CompiledRule], obj: usize, values: &[Value]) -> Result<(), RecordError> {
    for r in rules.iter().filter(|r| r.obj == obj) {
        let v = &values[r.slot];
        let broken = match &r.check {
            Check::Required => v.is_null(),
            Check::MaxLength(n) => text_of(v).is_some_and(|t| t.chars().count() > *n),
            // Numbers compare as numbers (a double's 5.0 equals 5), anything else as text.
            Check::NotEqual(x) => match (x, v.as_f64()) {
                (RuleValue::Number(n), Some(have)) => have == *n,
                _ => text_of(v).is_some_and(|t| t == x.text()),
            },
        };
        if broken {
            return Err(RecordError::with_fields(
                "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                r.spec.message.clone(),
                vec![r.field.clone()],
            ));
        }
    }
    Ok(())
}

/// A value as its CSV text (what a formula's `TEXT()` compares), `None` when null.
fn text_of(v: &Value) -> Option<String> {
    if v.is_null() {
        return None;
    }
    let mut out = String::new();
    v.write_csv(&mut out);
    Some(out)
}

#[cfg(test)]
mod tests;
