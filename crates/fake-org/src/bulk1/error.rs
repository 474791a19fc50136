//! Bulk 1.0 errors as Salesforce reports them: an `exceptionCode` from the async API's
//! list and a message, in an XML `error` element or a JSON object, with HTTP 400.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::wire::{Format, Val, render};

/// Why a Bulk 1.0 request was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Bulk1Error {
    /// No session, or an expired or unknown one.
    #[error("Invalid session id")]
    InvalidSessionId,
    /// A bad job spec or an unknown job.
    #[error("{0}")]
    InvalidJob(String),
    /// A bad batch or an unknown batch.
    #[error("{0}")]
    InvalidBatch(String),
    /// The job's state does not allow the request.
    #[error("{0}")]
    InvalidJobState(String),
    /// The URL names no resource (bad version, unknown result).
    #[error("{0}")]
    InvalidUrl(String),
    /// The body could not be read.
    #[error("{0}")]
    ClientInput(String),
    /// The org's API allowance is spent.
    #[error("TotalRequests Limit exceeded.")]
    ExceededQuota,
}

impl Bulk1Error {
    /// The async API's `exceptionCode`.
    pub fn code(&self) -> &'static str {
        match self {
            Bulk1Error::InvalidSessionId => "InvalidSessionId",
            Bulk1Error::InvalidJob(_) => "InvalidJob",
            Bulk1Error::InvalidBatch(_) => "InvalidBatch",
            Bulk1Error::InvalidJobState(_) => "InvalidJobState",
            Bulk1Error::InvalidUrl(_) => "InvalidUrl",
            Bulk1Error::ClientInput(_) => "ClientInputError",
            Bulk1Error::ExceededQuota => "ExceededQuota",
        }
    }

    /// Only a spent allowance goes away by waiting (and a session by logging in again).
    // Part of every module error's contract; the fake org itself never retries.
    #[allow(dead_code)]
    pub fn retryable(&self) -> bool {
        matches!(self, Bulk1Error::ExceededQuota)
    }

    /// This error in `format`.
    pub fn with(self, format: Format) -> Failure {
        Failure(format, self)
    }
}

/// An error ready to send in the client's format.
#[derive(Debug)]
pub struct Failure(pub Format, pub Bulk1Error);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = match self.1 {
            Bulk1Error::ExceededQuota => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        };
        render(
            self.0,
            status,
            "error",
            vec![
                ("exceptionCode", Val::S(self.1.code().into())),
                ("exceptionMessage", Val::S(self.1.to_string())),
            ],
        )
    }
}
