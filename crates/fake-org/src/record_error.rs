//! A failure to write one record, in the terms Salesforce reports it: a status code, a
//! message and the fields involved. REST turns it into an error array, sObject
//! Collections into a per-item result, Bulk ingest into an `sf__Error` cell.

use serde_json::{Value as Json, json};

use super::ids::RecordId;

/// Why a record could not be written.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordError {
    /// Salesforce status code (`REQUIRED_FIELD_MISSING` ...).
    pub code: &'static str,
    /// Human-readable message, as Salesforce words it.
    pub message: String,
    /// The fields concerned.
    pub fields: Vec<String>,
}

impl RecordError {
    /// An error without fields.
    pub fn new(code: &'static str, message: impl Into<String>) -> RecordError {
        RecordError {
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// An error naming fields.
    pub fn with_fields(
        code: &'static str,
        message: impl Into<String>,
        fields: Vec<String>,
    ) -> RecordError {
        RecordError {
            code,
            message: message.into(),
            fields,
        }
    }

    /// The top-level REST error body item (`errorCode`).
    pub fn rest_json(&self) -> Json {
        json!({"message": self.message, "errorCode": self.code, "fields": self.fields})
    }

    /// The sObject Collections item error (`statusCode`).
    pub fn collection_json(&self) -> Json {
        json!({"statusCode": self.code, "message": self.message, "fields": self.fields})
    }

    /// The Bulk ingest `sf__Error` cell: `CODE:message:field,field --`.
    pub fn bulk_cell(&self) -> String {
        format!(
            "{}:{}:{} --",
            self.code,
            self.message,
            self.fields.join(",")
        )
    }

    /// `NOT_FOUND` for an unknown record.
    pub fn not_found() -> RecordError {
        RecordError::new("NOT_FOUND", "The requested resource does not exist")
    }

    /// `UNABLE_TO_LOCK_ROW`, the injected lock failure (the fault switch's rate).
    pub fn lock_failed() -> RecordError {
        RecordError::new(
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access to this record",
        )
    }

    /// `ENTITY_IS_DELETED`.
    pub fn deleted() -> RecordError {
        RecordError::new("ENTITY_IS_DELETED", "entity is deleted")
    }
}

/// The record Id a by-Id write (update, delete) names, or the error Salesforce reports
/// for it: `MISSING_ARGUMENT` when empty, `MALFORMED_ID` when not an Id.
pub fn parse_id(text: &str) -> Result<RecordId, RecordError> {
    RecordId::parse(text).ok_or_else(|| {
        if text.is_empty() {
            RecordError::with_fields(
                "MISSING_ARGUMENT",
                "Id not specified in an update call",
                vec![],
            )
        } else {
            RecordError::with_fields(
                "MALFORMED_ID",
                format!("invalid cross reference id: {text}"),
                vec!["Id".into()],
            )
        }
    })
}
