//! What a record's refusal by Salesforce means for its log row: sent again later
//! (a lock held by another transaction, a server hiccup), already done (deleting a
//! record that is gone), or failed for good until the user fixes the data (validation
//! rules, required fields, bad values), with Heroku Connect's `_hc_err` JSON for the
//! table row. Pure: unit-tested here.

use serde_json::json;

/// What to do with a refused record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Send it again after a backoff.
    Retry,
    /// The change is in effect already (a delete of a record that is gone).
    AlreadyDone,
    /// Failed until someone fixes the data and runs `orgpool writes retry`.
    Permanent,
}

/// Codes Salesforce gives for conditions that pass by themselves.
const RETRYABLE: &[&str] = &[
    "UNABLE_TO_LOCK_ROW",
    "SERVER_UNAVAILABLE",
    "REQUEST_RUNNING_TOO_LONG",
    "QUERY_TIMEOUT",
    "UNKNOWN_EXCEPTION",
    "API_CURRENTLY_DISABLED",
];

/// What `code` means for a change of kind `op` (`INSERT`, `UPDATE`, `DELETE`).
pub fn classify(op: &str, code: &str) -> Refusal {
    if RETRYABLE.contains(&code) {
        return Refusal::Retry;
    }
    if op == "DELETE" && matches!(code, "ENTITY_IS_DELETED" | "INVALID_CROSS_REFERENCE_KEY") {
        return Refusal::AlreadyDone;
    }
    Refusal::Permanent
}

/// `sf_message` of a log row: `CODE: message (fields)`.
pub fn message(code: &str, text: &str, fields: &[String]) -> String {
    if fields.is_empty() {
        format!("{code}: {text}")
    } else {
        format!("{code}: {text} ({})", fields.join(", "))
    }
}

/// `_hc_err` of a table row, in Heroku Connect's shape (`op`, `src`, `msg`), with the
/// Salesforce code and fields added.
pub fn hc_err(op: &str, code: &str, text: &str, fields: &[String]) -> String {
    json!({"op": op, "src": "SFDC", "msg": text, "code": code, "fields": fields}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_retry_rules_fail_and_deleting_the_deleted_is_done() {
        assert_eq!(classify("UPDATE", "UNABLE_TO_LOCK_ROW"), Refusal::Retry);
        assert_eq!(
            classify("INSERT", "FIELD_CUSTOM_VALIDATION_EXCEPTION"),
            Refusal::Permanent
        );
        assert_eq!(
            classify("INSERT", "REQUIRED_FIELD_MISSING"),
            Refusal::Permanent
        );
        assert_eq!(
            classify("DELETE", "ENTITY_IS_DELETED"),
            Refusal::AlreadyDone
        );
        assert_eq!(classify("UPDATE", "ENTITY_IS_DELETED"), Refusal::Permanent);
        assert_eq!(
            message(
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [Name]",
                &["Name".into()]
            ),
            "REQUIRED_FIELD_MISSING: Required fields are missing: [Name] (Name)"
        );
        let e: serde_json::Value =
            serde_json::from_str(&hc_err("INSERT", "X", "bad", &[])).unwrap();
        assert_eq!(
            (e["op"].as_str(), e["src"].as_str()),
            (Some("INSERT"), Some("SFDC"))
        );
    }
}
