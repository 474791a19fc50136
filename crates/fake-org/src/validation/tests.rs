//! Rule checks on values, and the refusal of rules that do not fit the schema.

use super::super::model::ObjectDef;
use super::super::standard::standard_objects;
use super::super::value::Value;
use super::{RuleValue, ValidationRule, check, compile};

fn rule(object: &str, field: &str, kind: &str, value: Option<RuleValue>) -> ValidationRule {
    ValidationRule {
        object: object.into(),
        name: "R".into(),
        field: field.into(),
        rule: kind.into(),
        value,
        message: "broken".into(),
    }
}

fn record(objects: &[ObjectDef], object: &str, field: &str, v: Value) -> (usize, Vec<Value>) {
    let obj = objects.iter().position(|o| o.name == object).unwrap();
    let def = &objects[obj];
    let mut values = vec![Value::Null; def.slots];
    values[def.try_slot(field).unwrap()] = v;
    (obj, values)
}

#[test]
fn each_rule_fails_only_the_values_that_break_it() {
    let objects = standard_objects();
    let rules = compile(
        &objects,
        &[
            rule(
                "Account",
                "AccountNumber",
                "max_length",
                Some(RuleValue::Number(3.0)),
            ),
            rule(
                "Opportunity",
                "Amount",
                "not_equal",
                Some(RuleValue::Number(5.0)),
            ),
            rule("Contact", "Email", "required", None),
        ],
    )
    .unwrap();
    let run = |object: &str, field: &str, v: Value| {
        let (obj, values) = record(&objects, object, field, v);
        check(&rules, obj, &values).map_err(|e| (e.code, e.message, e.fields))
    };
    assert!(run("Account", "AccountNumber", Value::text("123")).is_ok());
    assert_eq!(
        run("Account", "AccountNumber", Value::text("1234")),
        Err((
            "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "broken".to_string(),
            vec!["AccountNumber".to_string()]
        ))
    );
    // A currency of 5.0 equals the rule's 5.
    assert!(run("Opportunity", "Amount", Value::Num(5.0)).is_err());
    assert!(run("Opportunity", "Amount", Value::Num(5.5)).is_ok());
    assert!(run("Contact", "Email", Value::Null).is_err());
    assert!(run("Contact", "Email", Value::text("a@b.c")).is_ok());
    // Contact's required Email does not apply to Account; a null is no length.
    assert!(run("Account", "AccountNumber", Value::Null).is_ok());
}

#[test]
fn rules_that_do_not_fit_are_refused_naming_the_problem() {
    let objects = standard_objects();
    let err = |r: ValidationRule| compile(&objects, &[r]).unwrap_err();
    assert!(err(rule("Nope__c", "Name", "required", None)).contains("no object named Nope__c"));
    assert!(err(rule("Account", "Nope__c", "required", None)).contains("no field named Nope__c"));
    assert!(err(rule("Account", "Name", "max_length", None)).contains("whole number"));
    assert!(err(rule("Account", "Name", "not_equal", None)).contains("needs value"));
    assert!(err(rule("Account", "Name", "regex", None)).contains("unknown rule \"regex\""));
}
