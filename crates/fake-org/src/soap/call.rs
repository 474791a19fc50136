//! `POST /services/Soap/u/{version}[/{orgId}]`: dispatches `login`, `logout` and
//! `undelete` (see `undelete`).
//! Credentials are checked as the OAuth password grant checks them (the password, or
//! the password followed by the security token); a bad login is the `INVALID_LOGIN`
//! fault with HTTP 500, as Salesforce answers.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::super::auth;
use super::super::state::OrgState;
use super::envelope::{self, Call, Item};

/// The SOAP routes, with their state.
pub fn routes(org: Arc<OrgState>) -> Router {
    Router::new()
        .route("/services/Soap/u/{version}", post(call))
        .route("/services/Soap/u/{version}/{org}", post(call))
        .with_state(org)
}

pub(super) fn xml(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml;charset=UTF-8"),
    );
    resp
}

pub(super) fn fault(code: &str, message: &str, detail: &str) -> Response {
    xml(
        StatusCode::INTERNAL_SERVER_ERROR,
        envelope::fault(code, message, detail),
    )
}

/// `62.0` to itself when served.
fn version(segment: &str) -> Option<String> {
    let n: f64 = segment.parse().ok()?;
    let max = f64::from(super::super::middleware::MAX_VERSION) + 0.05;
    (super::super::middleware::MIN_VERSION..=max)
        .contains(&n)
        .then(|| format!("{n:.1}"))
}

/// The `SOAPAction` header without the quotes some clients put around it.
fn soap_action(headers: &HeaderMap) -> String {
    headers
        .get("SOAPAction")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_matches('"').to_string())
        .unwrap_or_default()
}

async fn call(
    State(org): State<Arc<OrgState>>,
    Path(p): Path<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let Some(v) = p.get("version").and_then(|s| version(s)) else {
        return fault(
            "UNSUPPORTED_API_VERSION",
            "Invalid Api version specified on URL",
            "UnexpectedErrorFault",
        );
    };
    let call = match envelope::parse(&body) {
        Ok(c) => c,
        Err(e) => {
            return xml(
                StatusCode::INTERNAL_SERVER_ERROR,
                envelope::fault("INVALID_XML", &e.to_string(), "UnexpectedErrorFault"),
            );
        }
    };
    let action = soap_action(&headers);
    let named = match &call {
        Call::Login { .. } => "login",
        Call::Logout { .. } => "logout",
        Call::Undelete { .. } => "undelete",
    };
    // An empty SOAPAction is allowed; one naming another call is not.
    if !action.is_empty() && action != named {
        return fault(
            "INVALID_OPERATION",
            &format!("SOAPAction '{action}' does not match the {named} call in the body"),
            "UnexpectedErrorFault",
        );
    }
    match call {
        Call::Login { username, password } => login(&org, &v, &username, &password),
        Call::Logout { session_id } => {
            if auth::revoke(&org, &session_id) {
                xml(StatusCode::OK, envelope::logout_response())
            } else {
                invalid_session()
            }
        }
        Call::Undelete {
            session_id,
            client,
            all_or_none,
            ids,
        } => super::undelete::call(&org, &v, &session_id, client.as_deref(), all_or_none, &ids),
    }
}

/// The fault for a missing, unknown or expired `SessionHeader`.
pub(super) fn invalid_session() -> Response {
    fault(
        "INVALID_SESSION_ID",
        "Invalid Session ID found in SessionHeader: Illegal Session",
        "UnexpectedErrorFault",
    )
}

fn login(org: &OrgState, v: &str, username: &str, password: &str) -> Response {
    let cfg = &org.config;
    if !auth::credentials_ok(cfg, username, password) {
        return fault(
            "INVALID_LOGIN",
            "Invalid username, password, security token; or user locked out.",
            "LoginFault",
        );
    }
    let session = auth::issue(org);
    let base = org.base_url();
    let user = org.store.read().user.to_string();
    let profile = super::super::ids::RecordId::new(*b"00e", 1).to_string();
    let t = |name, value: &str| Item::Text(name, value.to_string());
    let info = vec![
        t("accessibilityMode", "false"),
        t("chatterExternal", "false"),
        t("currencySymbol", "$"),
        t("orgAttachmentFileSizeLimit", "5242880"),
        t("orgDefaultCurrencyIsoCode", "USD"),
        t("orgDefaultCurrencyLocale", "en_US"),
        t("orgDisallowHtmlAttachments", "false"),
        t("orgHasPersonAccounts", "false"),
        t("organizationId", &org.org_id),
        t("organizationMultiCurrency", "false"),
        t("organizationName", "Orgpool Fake Org"),
        t("profileId", &profile),
        Item::Nil("roleId"),
        t("sessionSecondsValid", &cfg.token_ttl.as_secs().to_string()),
        Item::Nil("userDefaultCurrencyIsoCode"),
        t("userEmail", &cfg.username),
        t("userFullName", "Orgpool Integration"),
        t("userId", &user),
        t("userLanguage", "en_US"),
        t("userLocale", "en_US"),
        t("userName", &cfg.username),
        t("userTimeZone", "America/Los_Angeles"),
        t("userType", "Standard"),
        t("userUiSkin", "Theme3"),
    ];
    let result = vec![
        t(
            "metadataServerUrl",
            &format!("{base}/services/Soap/m/{v}/{}", org.org_id),
        ),
        t("passwordExpired", "false"),
        t("sandbox", "false"),
        t(
            "serverUrl",
            &format!("{base}/services/Soap/u/{v}/{}", org.org_id),
        ),
        t("sessionId", &session),
        t("userId", &user),
        Item::Group("userInfo", info),
    ];
    xml(StatusCode::OK, envelope::login_response(&result))
}
