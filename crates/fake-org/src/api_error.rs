//! Error responses in Salesforce's shapes: a JSON array of `{message, errorCode, fields}`
//! for the REST and Bulk APIs, `{error, error_description}` for OAuth.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};

use super::query::QueryError;
use super::record_error::RecordError;

/// An API error response.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The JSON body.
    pub body: Json,
}

impl ApiError {
    /// `[{"message": ..., "errorCode": ...}]` with `status`.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: json!([{"message": message.into(), "errorCode": code}]),
        }
    }

    /// 404 `NOT_FOUND`.
    pub fn not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist",
        )
    }

    /// 400 with a record error's body (fields included).
    pub fn record(e: &RecordError) -> ApiError {
        let status = match e.code {
            "NOT_FOUND" | "ENTITY_IS_DELETED" => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError {
            status,
            body: Json::Array(vec![e.rest_json()]),
        }
    }

    /// 400 for a query error.
    pub fn query(e: &QueryError) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, e.code(), e.to_string())
    }

    /// 401 `INVALID_SESSION_ID`.
    pub fn invalid_session() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        )
    }

    /// 400 `JSON_PARSER_ERROR`.
    pub fn json(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body)
    }
}

/// The fallback for paths no route serves: 404 `NOT_FOUND`, as Salesforce answers.
pub async fn not_found_fallback() -> Response {
    ApiError::not_found().into_response()
}

/// 405 `METHOD_NOT_ALLOWED` naming the method and the allowed ones, in Salesforce's
/// wording (`HTTP Method 'PATCH' not allowed. Allowed are HEAD,GET,POST`).
pub fn method_not_allowed(method: &str, allowed: &[&str]) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!(
            "HTTP Method '{method}' not allowed. Allowed are {}",
            allowed.join(",")
        ),
    )
}

/// A JSON response with Salesforce's content type.
pub fn json_response(status: StatusCode, body: &Json) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    resp
}

/// An OAuth error: 400 `{"error": ..., "error_description": ...}`.
pub fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut resp = json_response(
        status,
        &json!({"error": error, "error_description": description}),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
