//! Job states and settings shared by query and ingest jobs.

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value as Json;

use super::super::api_error::ApiError;

/// A Bulk job's state as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Ingest: waiting for the upload.
    Open,
    /// Upload finished (query jobs start here).
    UploadComplete,
    /// Processing.
    InProgress,
    /// Done.
    JobComplete,
    /// Failed (`errorMessage` says why).
    Failed,
    /// Aborted by the client.
    Aborted,
}

impl JobState {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Open => "Open",
            JobState::UploadComplete => "UploadComplete",
            JobState::InProgress => "InProgress",
            JobState::JobComplete => "JobComplete",
            JobState::Failed => "Failed",
            JobState::Aborted => "Aborted",
        }
    }

    /// Whether the job has ended.
    pub fn terminal(self) -> bool {
        matches!(
            self,
            JobState::JobComplete | JobState::Failed | JobState::Aborted
        )
    }
}

/// `columnDelimiter` to a character.
pub fn delimiter(name: Option<&str>) -> Result<(char, &'static str), ApiError> {
    Ok(match name.unwrap_or("COMMA") {
        "COMMA" => (',', "COMMA"),
        "TAB" => ('\t', "TAB"),
        "PIPE" => ('|', "PIPE"),
        "SEMICOLON" => (';', "SEMICOLON"),
        "CARET" => ('^', "CARET"),
        "BACKQUOTE" => ('`', "BACKQUOTE"),
        other => return Err(invalid_property("columnDelimiter", other)),
    })
}

/// `lineEnding` to "is CRLF".
pub fn line_ending(name: Option<&str>) -> Result<bool, ApiError> {
    match name.unwrap_or("LF") {
        "LF" => Ok(false),
        "CRLF" => Ok(true),
        other => Err(invalid_property("lineEnding", other)),
    }
}

/// `API_ERROR` for a bad job property.
pub fn invalid_property(prop: &str, value: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "API_ERROR",
        format!("Invalid value: '{value}' supplied for property: '{prop}'"),
    )
}

/// The `{"state": ...}` body of a PATCH.
#[derive(Debug, Deserialize)]
pub struct StatePatch {
    /// Requested state.
    pub state: String,
}

/// Parses a JSON body.
pub fn json_body(body: &[u8]) -> Result<Json, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::json(format!("Unexpected character in the request body: {e}")))
}

/// `2024-05-20T20:49:32.000+0000` for now.
pub fn now_rest() -> String {
    super::super::value::format_datetime(chrono::Utc::now().timestamp_millis(), "+0000")
}

/// Job not found.
pub fn no_job() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "The requested resource does not exist",
    )
}
