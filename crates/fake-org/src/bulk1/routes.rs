//! The Bulk 1.0 routes under `/services/async/{version}` and their gate: a served
//! version, a live session in `X-SFDC-Session` (or a Bearer token), and the org's API
//! allowance. A bad session is `InvalidSessionId` with HTTP 400, as Salesforce answers.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::super::auth;
use super::super::middleware::{MAX_VERSION, MIN_VERSION, version_segment, version_served};
use super::super::state::OrgState;
use super::error::Bulk1Error;
use super::job::Bulk1;
use super::wire::Format;
use super::{batch, job, results};

/// The API version of a Bulk 1.0 request (`62.0`).
#[derive(Debug, Clone, Copy)]
pub struct Bulk1Version(pub f64);

/// Salesforce takes up to 10 MB per Bulk 1.0 batch.
const BATCH_MAX: usize = 10 * 1024 * 1024;

/// The Bulk 1.0 routes, with their state.
pub fn routes(org: Arc<OrgState>) -> Router {
    let b1 = Arc::new(Bulk1::new(org));
    let api = Router::new()
        .route("/job", post(job::create))
        .route("/job/{job}", get(job::get).post(job::update))
        .route(
            "/job/{job}/batch",
            post(batch::add)
                .get(batch::list)
                .layer(axum::extract::DefaultBodyLimit::max(BATCH_MAX)),
        )
        .route("/job/{job}/batch/{batch}", get(batch::info))
        .route("/job/{job}/batch/{batch}/request", get(batch::request))
        .route("/job/{job}/batch/{batch}/result", get(results::list))
        .route(
            "/job/{job}/batch/{batch}/result/{result}",
            get(results::file),
        )
        .route_layer(from_fn_with_state(b1.clone(), gate))
        .with_state(b1);
    Router::new().nest("/services/async/{version}", api)
}

/// The session a request carries.
fn session(req: &Request) -> Option<String> {
    let h = req.headers();
    if let Some(s) = h.get("X-SFDC-Session").and_then(|v| v.to_str().ok()) {
        return Some(s.trim().to_string());
    }
    h.get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|s| s.trim().to_string())
}

async fn gate(State(b1): State<Arc<Bulk1>>, mut req: Request, next: Next) -> Response {
    let format = Format::of_request(req.headers());
    let (path, segment) = version_segment(&req, "/services/async/");
    let version = segment
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|n| version_served(*n));
    let Some(version) = version else {
        return Bulk1Error::InvalidUrl(format!(
            "Invalid API version in {path}: use {MIN_VERSION:.1} to {MAX_VERSION}.0"
        ))
        .with(format)
        .into_response();
    };
    if !session(&req).is_some_and(|s| auth::session_live(&b1.org, &s)) {
        return Bulk1Error::InvalidSessionId.with(format).into_response();
    }
    if b1.org.faults.count_request().is_err() {
        return Bulk1Error::ExceededQuota.with(format).into_response();
    }
    req.extensions_mut().insert(Bulk1Version(version));
    next.run(req).await
}
