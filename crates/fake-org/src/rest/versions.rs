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
    let list: Vec<Json> = (MIN_VERSION as u32..=MAX_VERSION)
        .map(|v| {
            json!({"label": release_label(v), "url": format!("/services/data/v{v}.0"), "version": format!("{v}.0")})
        })
        .collect();
    json_response(StatusCode::OK, &Json::Array(list))
}

/// The release that shipped API version `v` (`51` -> `Spring '21`): v20.0 was Winter '11
/// and there are three releases a year, Spring, Summer and then Winter, which carries
/// the next year's name (v53.0, October 2021, is Winter '22).
pub fn release_label(v: u32) -> String {
    let k = v.saturating_sub(20);
    let season = ["Winter", "Spring", "Summer"][(k % 3) as usize];
    format!("{season} '{:02}", 11 + k / 3)
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

#[cfg(test)]
mod tests {
    use super::release_label;

    #[test]
    fn known_releases() {
        for (v, label) in [
            (20, "Winter '11"),
            (50, "Winter '21"),
            (51, "Spring '21"),
            (52, "Summer '21"),
            (53, "Winter '22"),
            (60, "Spring '24"),
            (62, "Winter '25"),
            (64, "Summer '25"),
        ] {
            assert_eq!(release_label(v), label, "v{v}.0");
        }
    }
}
