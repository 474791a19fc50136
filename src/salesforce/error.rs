//! The one error type of the Salesforce client. Each variant is a class that tells the
//! caller what to do: wait without spending attempts (`Outage`), pause until the budget
//! frees (`Limit`), stop and fix a setting (`Auth`), fail with Salesforce's message kept
//! (`Permanent`). Per-record failures of a Bulk job are not errors: they are listed in
//! the job's outcome for the caller to keep. Classification happens once,
//! here, from the HTTP status and Salesforce's error body.

use std::time::Duration;

use serde_json::Value as Json;

/// What the caller should do with a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Salesforce is unreachable or failing: wait and retry; attempts are not spent.
    Outage,
    /// An API allowance is used up: pause until it frees.
    Limit,
    /// Login failed: stop and fix the named setting.
    Auth,
    /// The request itself is wrong: fail now, keep the message.
    Permanent,
}

impl ErrorClass {
    /// A stable label (`outage`, `limit`, `auth`, `permanent`).
    pub fn label(self) -> &'static str {
        match self {
            ErrorClass::Outage => "outage",
            ErrorClass::Limit => "limit",
            ErrorClass::Auth => "auth",
            ErrorClass::Permanent => "permanent",
        }
    }
}

/// A failed Salesforce call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SfError {
    /// Connection errors, timeouts, 5xx, `SERVER_UNAVAILABLE`.
    #[error("Salesforce is unavailable: {detail}")]
    Outage {
        /// What was seen.
        detail: String,
        /// When to try again, if the server said.
        retry_after: Option<Duration>,
    },
    /// `REQUEST_LIMIT_EXCEEDED`, or the fleet's own API budget is spent.
    #[error("API limit reached: {detail}")]
    Limit {
        /// What was seen.
        detail: String,
        /// When the budget is expected to free, if known.
        retry_after: Option<Duration>,
    },
    /// Logging in failed.
    #[error("Salesforce login ({flow}) failed: {detail}. Fix: {fix}")]
    Auth {
        /// The flow used.
        flow: &'static str,
        /// Salesforce's `error: error_description`, or what else went wrong.
        detail: String,
        /// Which setting to check.
        fix: String,
    },
    /// A request Salesforce will never accept as sent.
    #[error("Salesforce rejected the request ({code}): {message}")]
    Permanent {
        /// HTTP status (0 when the failure was found by the client).
        status: u16,
        /// Salesforce's `errorCode` (`MALFORMED_QUERY`, `INVALID_FIELD`, ...).
        code: String,
        /// Salesforce's message, unchanged.
        message: String,
    },
}

impl SfError {
    /// The class.
    pub fn class(&self) -> ErrorClass {
        match self {
            SfError::Outage { .. } => ErrorClass::Outage,
            SfError::Limit { .. } => ErrorClass::Limit,
            SfError::Auth { .. } => ErrorClass::Auth,
            SfError::Permanent { .. } => ErrorClass::Permanent,
        }
    }

    /// The server's or the budget's hint of when to retry.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SfError::Outage { retry_after, .. } | SfError::Limit { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// Salesforce's error code, when it gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            SfError::Permanent { code, .. } => Some(code),
            _ => None,
        }
    }

    /// A client-side failure that no retry fixes (bad input, broken response).
    pub fn permanent(code: &str, message: impl Into<String>) -> SfError {
        SfError::Permanent {
            status: 0,
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// Classifies a transport failure (no usable HTTP response).
    pub fn from_transport(e: &reqwest::Error) -> SfError {
        // reqwest's Display never includes headers, so the token cannot leak here; the
        // URL is dropped anyway because query strings may hold SOQL with customer data.
        let what = if e.is_connect() {
            "connection failed"
        } else if e.is_timeout() {
            "timed out"
        } else if e.is_body() || e.is_decode() {
            "the response body broke off"
        } else {
            "request failed"
        };
        let mut detail = what.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        SfError::Outage {
            detail,
            retry_after: None,
        }
    }
}

/// What a non-success HTTP response means.
#[derive(Debug, Clone)]
pub enum Classified {
    /// 401 `INVALID_SESSION_ID`: refresh the token and replay.
    ExpiredSession,
    /// Anything else, as the error to return or retry.
    Error(SfError),
}

/// Classifies a non-2xx response from its status, `Retry-After` and body.
pub fn classify(status: u16, retry_after: Option<Duration>, body: &str) -> Classified {
    let (code, message) = error_code(body);
    if status == 401 {
        return Classified::ExpiredSession;
    }
    let err = match (status, code.as_str()) {
        (_, "REQUEST_LIMIT_EXCEEDED") | (429, _) => SfError::Limit {
            detail: format!("{code}: {message}"),
            retry_after,
        },
        (_, "SERVER_UNAVAILABLE") | (408, _) | (500..=599, _) => SfError::Outage {
            detail: format!("HTTP {status} {code}: {message}"),
            retry_after,
        },
        _ => SfError::Permanent {
            status,
            code,
            message,
        },
    };
    Classified::Error(err)
}

/// `(errorCode, message)` from a REST error body (`[{"errorCode","message"}]`), an
/// OAuth error (`{"error","error_description"}`) or plain text.
pub fn error_code(body: &str) -> (String, String) {
    let parsed: Option<Json> = serde_json::from_str(body).ok();
    let first = match &parsed {
        Some(Json::Array(items)) => items.first().cloned(),
        Some(obj @ Json::Object(_)) => Some(obj.clone()),
        _ => None,
    };
    if let Some(e) = first {
        let text = |k: &str| e.get(k).and_then(Json::as_str).map(str::to_string);
        if let Some(code) = text("errorCode").or_else(|| text("error")) {
            let message = text("message")
                .or_else(|| text("error_description"))
                .unwrap_or_default();
            return (code, message);
        }
    }
    let mut text: String = body.trim().chars().take(500).collect();
    if text.is_empty() {
        text = "(empty body)".into();
    }
    ("UNKNOWN_ERROR".into(), text)
}

/// Parses `Retry-After` (seconds, or an HTTP date).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let ms = at.timestamp_millis() - chrono::Utc::now().timestamp_millis();
    Some(Duration::from_millis(ms.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(status: u16, body: &str) -> Option<ErrorClass> {
        match classify(status, None, body) {
            Classified::Error(e) => Some(e.class()),
            Classified::ExpiredSession => None,
        }
    }

    #[test]
    fn classifies_by_status_and_code() {
        let err = |c: &str| format!(r#"[{{"message":"m","errorCode":"{c}"}}]"#);
        assert_eq!(
            class(503, &err("SERVER_UNAVAILABLE")),
            Some(ErrorClass::Outage)
        );
        assert_eq!(class(500, "oops"), Some(ErrorClass::Outage));
        assert_eq!(
            class(403, &err("REQUEST_LIMIT_EXCEEDED")),
            Some(ErrorClass::Limit)
        );
        assert_eq!(
            class(400, &err("MALFORMED_QUERY")),
            Some(ErrorClass::Permanent)
        );
        assert_eq!(class(401, &err("INVALID_SESSION_ID")), None);
        match classify(400, None, &err("INVALID_FIELD")) {
            Classified::Error(SfError::Permanent { code, message, .. }) => {
                assert_eq!((code.as_str(), message.as_str()), ("INVALID_FIELD", "m"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_oauth_errors_and_retry_after() {
        let (c, m) =
            error_code(r#"{"error":"invalid_grant","error_description":"authentication failure"}"#);
        assert_eq!(
            (c.as_str(), m.as_str()),
            ("invalid_grant", "authentication failure")
        );
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
