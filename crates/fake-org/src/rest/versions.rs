//! Version list, resource directory, `/limits`, and the identity URL.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value as Json, json};

use super::super::api_error::json_response;
use super::super::middleware::{ApiVersion, MAX_VERSION, MIN_VERSION};
use super::super::state::OrgState;

/// `GET /services/data/`: every served version.
pub async fn versions() -> Response {
    let seasons = ["Winter", "Spring", "Summer"];
    let list: Vec<Json> = (MIN_VERSION as u32..=MAX_VERSION)
        .map(|v| {
            // v50 was Winter '21; three releases a year.
            let k = v - 50;
            let season = seasons[(k % 3) as usize];
            let year = 21 + k.div_ceil(3);
            json!({"label": format!("{season} '{year}"), "url": format!("/services/data/v{v}.0"), "version": format!("{v}.0")})
        })
        .collect();
    json_response(StatusCode::OK, &Json::Array(list))
}

/// `GET /services/data/vXX.X/`: the resource directory.
pub async fn resources(Extension(ApiVersion(v)): Extension<ApiVersion>) -> Response {
    let mut m = Map::new();
    for r in [
        "sobjects",
        "query",
        "queryAll",
        "limits",
        "composite",
        "jobs",
    ] {
        m.insert(r.into(), json!(format!("/services/data/{v}/{r}")));
    }
    json_response(StatusCode::OK, &Json::Object(m))
}

/// `GET /limits`.
pub async fn limits(State(org): State<Arc<OrgState>>) -> Response {
    let (used, limit) = org.faults.usage();
    let query_jobs = org.query_jobs.lock().len() as u64;
    let ingest_jobs = org.ingest_jobs.lock().len() as u64;
    let pair = |max: u64, used: u64| json!({"Max": max, "Remaining": max.saturating_sub(used)});
    let body = json!({
        "DailyApiRequests": pair(limit, used),
        "DailyBulkApiBatches": pair(15_000, ingest_jobs),
        "DailyBulkV2QueryJobs": pair(10_000, query_jobs),
        "DailyBulkV2QueryFileStorageMB": pair(976_562, 0),
        "DataStorageMB": pair(1_024, 0),
        "FileStorageMB": pair(1_024, 0),
        "ConcurrentAsyncGetReportInstances": pair(200, 0),
        "HourlyPublishedStandardVolumePlatformEvents": pair(100_000, 0),
    });
    json_response(StatusCode::OK, &body)
}

/// `GET /id/{org}/{user}`: who the token belongs to.
pub async fn identity(State(org): State<Arc<OrgState>>) -> Response {
    let user = org.store.read().user.to_string();
    let base = org.base_url();
    let body = json!({
        "id": format!("{base}/id/{}/{user}", org.org_id),
        "user_id": user,
        "organization_id": org.org_id,
        "username": org.config.username,
        "display_name": "Orgpool Integration",
        "active": true,
        "urls": {
            "rest": format!("{base}/services/data/v{{version}}/"),
            "sobjects": format!("{base}/services/data/v{{version}}/sobjects/"),
            "query": format!("{base}/services/data/v{{version}}/query/"),
        },
    });
    json_response(StatusCode::OK, &body)
}
