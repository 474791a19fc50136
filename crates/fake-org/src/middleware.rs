//! Request gates applied before the handlers: injected latency and outages on every
//! route; on the versioned API also the version check, the bearer token, the API
//! allowance (`REQUEST_LIMIT_EXCEEDED`) and the `Sforce-Limit-Info` header; after them,
//! a JSON body for the router's bare 405s.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::api_error::{self, ApiError};
use super::auth;
use super::faults::OutageMode;
use super::state::OrgState;

/// The API version of a request (`v62.0`).
#[derive(Debug, Clone)]
pub struct ApiVersion(pub String);

/// Oldest version served.
pub const MIN_VERSION: f64 = 50.0;
/// Newest version served (also what `/services/data/` lists last).
pub const MAX_VERSION: u32 = 64;

/// Latency and outage gate for every route.
pub async fn faults(State(org): State<Arc<OrgState>>, req: Request, next: Next) -> Response {
    let latency = org.faults.snapshot().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some((OutageMode::Unavailable, _)) = org.faults.outage() {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVER_UNAVAILABLE",
            "Server is temporarily unavailable. Please try again later.",
        )
        .into_response();
    }
    next.run(req).await
}

/// Whether API version `n` is served (`64.0` as well as `64`).
pub fn version_served(n: f64) -> bool {
    (MIN_VERSION..=f64::from(MAX_VERSION) + 0.05).contains(&n)
}

/// Parses `vNN.N` and checks it is served.
pub fn parse_version(segment: &str) -> Option<String> {
    let n: f64 = segment.strip_prefix('v')?.parse().ok()?;
    if version_served(n) && segment.contains('.') {
        Some(segment.to_string())
    } else {
        None
    }
}

/// The path segment after `prefix` (the version) in the path the client sent: inside
/// a nested router the URI lost its prefix; the original keeps it. Returns that path too.
pub fn version_segment(req: &Request, prefix: &str) -> (String, Option<String>) {
    let path = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map(|u| u.0.path().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let segment = path
        .strip_prefix(prefix)
        .and_then(|rest| rest.split('/').next())
        .map(str::to_string);
    (path, segment)
}

/// Version, auth and allowance gate for `/services/data/vXX.X/...`.
pub async fn api(State(org): State<Arc<OrgState>>, mut req: Request, next: Next) -> Response {
    let version = version_segment(&req, "/services/data/")
        .1
        .and_then(|v| parse_version(&v));
    let Some(version) = version else {
        return ApiError::not_found().into_response();
    };
    if !auth::authorized(&org, req.headers()) {
        return ApiError::invalid_session().into_response();
    }
    let (used, limit) = match org.faults.count_request() {
        Ok(u) => u,
        Err((used, limit)) => {
            let mut resp = ApiError::new(
                StatusCode::FORBIDDEN,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
            )
            .into_response();
            set_limit_header(&mut resp, used, limit);
            return resp;
        }
    };
    req.extensions_mut().insert(ApiVersion(version));
    let mut resp = next.run(req).await;
    set_limit_header(&mut resp, used, limit);
    resp
}

fn set_limit_header(resp: &mut Response, used: u64, limit: u64) {
    if let Ok(v) = HeaderValue::from_str(&format!("api-usage={used}/{limit}")) {
        resp.headers_mut().insert("Sforce-Limit-Info", v);
    }
}

/// Gives the router's empty 405 (a known path, another method) Salesforce's body, with
/// the methods listed as Salesforce lists them (`HEAD` first) and the `Allow` header kept.
pub async fn method_not_allowed(req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let resp = next.run(req).await;
    if resp.status() != StatusCode::METHOD_NOT_ALLOWED
        || resp.headers().contains_key(header::CONTENT_TYPE)
    {
        return resp;
    }
    let allow = resp
        .headers()
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut allowed: Vec<&str> = allow
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect();
    if let Some(i) = allowed.iter().position(|m| *m == "HEAD") {
        let head = allowed.remove(i);
        allowed.insert(0, head);
    }
    let mut out = api_error::method_not_allowed(&method, &allowed).into_response();
    if let Some(v) = resp.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, v.clone());
    }
    out
}
