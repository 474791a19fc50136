//! Web process errors: what could not be read for a page (answered with 503 and the
//! reason, logged once), and why the listener could not start or stopped. Messages name
//! hosts and ports, never a password or the token.

use std::net::SocketAddr;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::ledger::LedgerError;
use crate::queue::QueueError;
use crate::status::StatusError;

/// A web process failure.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The fleet status document could not be read.
    #[error(transparent)]
    Status(#[from] StatusError),
    /// The ledger could not be read.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Redis (live workers) could not be read.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The listener could not bind.
    #[error("cannot listen on {addr}: {source}; set PORT to a free port")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server stopped with an error.
    #[error("the web server stopped: {0}")]
    Serve(std::io::Error),
}

/// A page could not be read: 503 with the reason (never a secret: errors name hosts
/// without passwords).
pub fn unavailable(e: impl Into<WebError>) -> Response {
    let e = e.into();
    tracing::warn!(error = %e, "web: could not read the fleet state");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("cannot read the fleet state: {e}\n"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_state_is_a_503_with_the_reason() {
        let r = unavailable(LedgerError::NoSuchRun(7));
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
