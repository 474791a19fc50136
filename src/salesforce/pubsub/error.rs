//! What can go wrong talking to the Pub/Sub API, classified for the subscriber:
//! re-authenticate, resume from the stored position, heal a gap, or stop with a
//! message that names the fix.

use crate::salesforce::SfError;

/// A Pub/Sub API failure.
#[derive(Debug, thiserror::Error)]
pub enum PubSubError {
    /// `SALESFORCE_PUBSUB_URL` or the CA certificate cannot be used.
    #[error("Pub/Sub API settings: {0}")]
    Config(String),
    /// The token was refused: log in again and resubscribe.
    #[error("the Pub/Sub API refused the session (UNAUTHENTICATED)")]
    Unauthenticated,
    /// The stored replay id is past the retention window or unknown (after an org
    /// migration, say): the events since it are gone.
    #[error(
        "the Pub/Sub API no longer has the stored replay id (past the event retention window, or from another org)"
    )]
    ReplayInvalid,
    /// The server or the network went away: resubscribe from the stored position.
    #[error("the Pub/Sub API is unavailable: {0}")]
    Unavailable(String),
    /// A refusal retrying will not fix (no such topic, Change Data Capture not enabled
    /// for the object, no permission).
    #[error("the Pub/Sub API refused the call ({code}): {message}")]
    Refused {
        /// The gRPC status code.
        code: String,
        /// Salesforce's message.
        message: String,
    },
    /// A payload or schema this client cannot read.
    #[error("change event not readable: {0}")]
    Decode(String),
    /// Logging in or looking up the org failed.
    #[error(transparent)]
    Salesforce(#[from] SfError),
}

impl PubSubError {
    /// Whether subscribing again (after a pause) can succeed.
    pub fn retryable(&self) -> bool {
        match self {
            PubSubError::Unauthenticated | PubSubError::Unavailable(_) => true,
            PubSubError::Salesforce(e) => matches!(
                e.class(),
                crate::salesforce::ErrorClass::Outage | crate::salesforce::ErrorClass::Limit
            ),
            _ => false,
        }
    }

    /// From a gRPC status (its `error-code` trailer tells replay-id problems apart).
    pub fn from_status(s: &tonic::Status) -> PubSubError {
        use tonic::Code;
        let detail = s
            .metadata()
            .get("error-code")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        match s.code() {
            Code::Unauthenticated => PubSubError::Unauthenticated,
            Code::InvalidArgument if detail.contains("replayid") => PubSubError::ReplayInvalid,
            Code::Unavailable
            | Code::Internal
            | Code::Unknown
            | Code::DeadlineExceeded
            | Code::Cancelled
            | Code::Aborted
            | Code::ResourceExhausted => PubSubError::Unavailable(s.message().to_string()),
            code => PubSubError::Refused {
                code: format!("{code:?}"),
                message: if detail.is_empty() {
                    s.message().to_string()
                } else {
                    format!("{} ({detail})", s.message())
                },
            },
        }
    }
}
