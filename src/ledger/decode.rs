//! Decoding the typed values the ledger stores as jsonb (a run's arguments, a chunk's
//! spec) in one place, so a value that no longer fits its kind's type fails with the
//! run, the kind and the field named instead of a silent default.

use serde::de::DeserializeOwned;

use super::LedgerError;

/// Decodes `value` as `T`; `what` says which stored value it is ("arguments", "chunk
/// spec of chunk 12").
pub fn decode<T: DeserializeOwned>(
    run: i64,
    kind: &str,
    what: &str,
    value: &serde_json::Value,
) -> Result<T, LedgerError> {
    serde_json::from_value(value.clone()).map_err(|e| LedgerError::Decode {
        run,
        kind: kind.to_string(),
        what: what.to_string(),
        detail: e.to_string(),
    })
}

/// Encodes a typed value for the ledger. Plain structs and enums always encode.
pub fn encode<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Args {
        version: String,
    }

    #[test]
    fn a_value_that_does_not_fit_names_the_run_kind_and_field() {
        let e = decode::<Args>(7, "quote_generation", "arguments", &serde_json::json!({}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("run 7"), "{e}");
        assert!(e.contains("quote_generation"), "{e}");
        assert!(e.contains("version"), "{e}");
    }
}
