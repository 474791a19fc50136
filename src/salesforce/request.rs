//! A request to Salesforce as the client sends it: which API it belongs to (a metric
//! label), its method, path, query, headers and body, and whether it may be replayed.

use bytes::Bytes;
use reqwest::Method;

/// Which API a request belongs to (a metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// REST: describe, query, collections, limits.
    Rest,
    /// Bulk API 2.0 query jobs and results.
    BulkQuery,
    /// Bulk API 2.0 ingest jobs, uploads and results.
    BulkIngest,
}

impl Api {
    /// `rest`, `bulk_query` or `bulk_ingest`.
    pub fn label(self) -> &'static str {
        match self {
            Api::Rest => "rest",
            Api::BulkQuery => "bulk_query",
            Api::BulkIngest => "bulk_ingest",
        }
    }
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// JSON.
    Json(serde_json::Value),
    /// Raw bytes with a content type (CSV uploads).
    Bytes(&'static str, Bytes),
}

/// One API request, kept so it can be replayed.
#[derive(Debug, Clone)]
pub struct Request {
    /// For metrics.
    pub api: Api,
    /// HTTP method.
    pub method: Method,
    /// `/query` (under the versioned API), `/services/...` (under the instance) or a
    /// full URL.
    pub path: String,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Option<Body>,
    /// Whether sending it twice is harmless. A request that is not is only retried when
    /// Salesforce cannot have acted on it (connection refused, 503 unavailable).
    pub replay_safe: bool,
}

impl Request {
    /// A replay-safe request without body.
    pub fn new(api: Api, method: Method, path: impl Into<String>) -> Request {
        Request {
            api,
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            replay_safe: true,
        }
    }

    /// Adds a query parameter.
    pub fn param(mut self, k: &str, v: impl Into<String>) -> Request {
        self.query.push((k.to_string(), v.into()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, k: &'static str, v: impl Into<String>) -> Request {
        self.headers.push((k, v.into()));
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: serde_json::Value) -> Request {
        self.body = Some(Body::Json(body));
        self
    }

    /// Marks the request as unsafe to send twice.
    pub fn not_replay_safe(mut self) -> Request {
        self.replay_safe = false;
        self
    }
}
