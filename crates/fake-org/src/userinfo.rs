//! `GET /services/oauth2/userinfo`, the OpenID Connect user info that clients (Pub/Sub
//! clients among them) call after login for `organization_id` and `preferred_username`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::api_error::json_response;
use super::auth;
use super::state::OrgState;

/// `GET /services/oauth2/userinfo` (Bearer token); a bad token gets Salesforce's 403
/// `Bad_OAuth_Token`.
pub async fn userinfo(State(org): State<Arc<OrgState>>, headers: HeaderMap) -> Response {
    if !auth::authorized(&org, &headers) {
        return (StatusCode::FORBIDDEN, "Bad_OAuth_Token").into_response();
    }
    let user = org.store.read().user.to_string();
    let base = org.base_url();
    let cfg = &org.config;
    let body = json!({
        "sub": format!("{base}/id/{}/{user}", org.org_id),
        "user_id": user,
        "organization_id": org.org_id,
        "preferred_username": cfg.username,
        "nickname": "orgpool",
        "name": "Orgpool Integration",
        "email": cfg.username,
        "email_verified": true,
        "given_name": "Orgpool",
        "family_name": "Integration",
        "zoneinfo": "GMT",
        "active": true,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "is_app_installed": true,
        "urls": {
            "rest": format!("{base}/services/data/v{{version}}/"),
            "sobjects": format!("{base}/services/data/v{{version}}/sobjects/"),
            "custom_domain": base,
        },
    });
    json_response(StatusCode::OK, &body)
}
