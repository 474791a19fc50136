//! OAuth 2.0 token endpoint (client credentials, username-password, refresh token, JWT
//! bearer) and the bearer-token check every API call passes. Tokens expire after the
//! configured TTL; expired or unknown ones get 401 `INVALID_SESSION_ID`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::Rng;
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;

use super::api_error::{json_response, oauth_error};
use super::state::OrgState;

/// `POST /services/oauth2/token`.
pub async fn token(
    State(org): State<Arc<OrgState>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let cfg = &org.config;
    let Some(grant) = form.get("grant_type") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "grant type is missing",
        );
    };
    let (client_id, client_secret) = client_credentials(&headers, &form);
    let check_client = |need_secret: bool| -> Result<(), Box<Response>> {
        if client_id.as_deref() != Some(cfg.client_id.as_str()) {
            return Err(Box::new(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_client_id",
                "client identifier invalid",
            )));
        }
        if need_secret && !constant_eq(client_secret.as_deref().unwrap_or(""), &cfg.client_secret) {
            return Err(Box::new(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                "invalid client credentials",
            )));
        }
        Ok(())
    };
    let mut refresh = None;
    let scope = match grant.as_str() {
        "client_credentials" => {
            if let Err(r) = check_client(true) {
                return *r;
            }
            Some("api")
        }
        "password" => {
            if let Err(r) = check_client(true) {
                return *r;
            }
            let user = form.get("username").map(String::as_str).unwrap_or("");
            let pw = form.get("password").map(String::as_str).unwrap_or("");
            if !credentials_ok(cfg, user, pw) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "authentication failure",
                );
            }
            None
        }
        "refresh_token" => {
            // Public clients may omit the secret; a given secret must match.
            let need_secret = client_secret.is_some();
            if let Err(r) = check_client(need_secret) {
                return *r;
            }
            if !form
                .get("refresh_token")
                .is_some_and(|t| constant_eq(t, &cfg.refresh_token))
            {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "expired access/refresh token",
                );
            }
            refresh = Some(cfg.refresh_token.clone());
            Some("api refresh_token")
        }
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
            let Some(assertion) = form.get("assertion") else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "assertion is missing",
                );
            };
            if let Err((e, d)) = check_jwt(&org, assertion) {
                return oauth_error(StatusCode::BAD_REQUEST, e, &d);
            }
            Some("api")
        }
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant type not supported",
            );
        }
    };
    let access = issue(&org);
    let issued_at = chrono::Utc::now().timestamp_millis().to_string();
    let base = org.base_url();
    let id_url = format!("{base}/id/{}/{}", org.org_id, org.store.read().user);
    let mut body = json!({
        "access_token": access,
        "instance_url": base,
        "id": id_url,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": signature(&cfg.client_secret, &id_url, &issued_at),
    });
    if let Some(s) = scope {
        body["scope"] = json!(s);
    }
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    json_response(StatusCode::OK, &body)
}

/// Client id and secret from the body or an `Authorization: Basic` header.
fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> (Option<String>, Option<String>) {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        && let Some((id, secret)) = basic.split_once(':')
    {
        return (Some(id.to_string()), Some(secret.to_string()));
    }
    (
        form.get("client_id").cloned(),
        form.get("client_secret").cloned(),
    )
}

fn check_jwt(org: &OrgState, assertion: &str) -> Result<(), (&'static str, String)> {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
    let cfg = &org.config;
    let header =
        decode_header(assertion).map_err(|_| ("invalid_grant", "invalid assertion".to_string()))?;
    if header.alg != Algorithm::RS256 {
        return Err((
            "invalid_grant",
            "invalid assertion: algorithm must be RS256".into(),
        ));
    }
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_aud = false;
    // `exp` is checked below: Salesforce takes it as a number or a string of digits, and
    // the library only takes a number.
    v.validate_exp = false;
    v.set_required_spec_claims(&["iss", "sub", "aud"]);
    #[derive(Deserialize)]
    struct Claims {
        iss: String,
        sub: String,
        aud: serde_json::Value,
        exp: Option<serde_json::Value>,
    }
    let invalid = |_| ("invalid_grant", "invalid assertion".to_string());
    let claims: Claims = match &cfg.jwt_public_key {
        Some(pem) => {
            let key = DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| {
                (
                    "invalid_grant",
                    "the connected app has no usable certificate".to_string(),
                )
            })?;
            decode::<Claims>(assertion, &key, &v)
                .map_err(invalid)?
                .claims
        }
        None => {
            v.insecure_disable_signature_validation();
            decode::<Claims>(assertion, &DecodingKey::from_secret(&[]), &v)
                .map_err(invalid)?
                .claims
        }
    };
    let Some(exp) = claims.exp.as_ref().and_then(epoch_seconds) else {
        return Err(("invalid_grant", "invalid assertion".into()));
    };
    // Salesforce allows three minutes of clock skew.
    if exp.saturating_add(JWT_SKEW_SECS) < chrono::Utc::now().timestamp() {
        return Err(("invalid_grant", "expired authorization code".into()));
    }
    if claims.iss != cfg.client_id {
        return Err(("invalid_client_id", "client identifier invalid".into()));
    }
    if !claims.sub.eq_ignore_ascii_case(&cfg.username) {
        return Err(("invalid_grant", "user hasn't approved this consumer".into()));
    }
    let base = org.base_url().to_string();
    let aud_ok = |a: &str| {
        let a = a.trim_end_matches('/');
        a == base || a == "https://login.salesforce.com" || a == "https://test.salesforce.com"
    };
    let ok = match &claims.aud {
        serde_json::Value::String(a) => aud_ok(a),
        serde_json::Value::Array(v) => v.iter().filter_map(|x| x.as_str()).any(aud_ok),
        _ => false,
    };
    if !ok {
        return Err(("invalid_grant", "audience is invalid".into()));
    }
    Ok(())
}

/// Clock skew allowed on a JWT's `exp`, in seconds.
const JWT_SKEW_SECS: i64 = 180;

/// A JWT `exp` as epoch seconds: a JSON number, or a string of digits.
fn epoch_seconds(exp: &serde_json::Value) -> Option<i64> {
    match exp {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
}

/// Issues a new access token.
pub fn issue(org: &OrgState) -> String {
    let mut rng = rand::rng();
    let secret: String = (0..96)
        .map(|_| {
            let c = rng.random_range(0..62u8);
            (match c {
                0..=9 => b'0' + c,
                10..=35 => b'A' + c - 10,
                _ => b'a' + c - 36,
            }) as char
        })
        .collect();
    let token = format!("{}!{}", &org.org_id[..15], secret);
    org.tokens
        .lock()
        .insert(token.clone(), Instant::now() + org.config.token_ttl);
    token
}

/// Username and password check shared by the password grant and the SOAP `login`:
/// the password alone, or followed by the security token, as Salesforce accepts them.
pub fn credentials_ok(cfg: &super::config::FakeOrgConfig, username: &str, password: &str) -> bool {
    let with_token = format!("{}{}", cfg.password, cfg.security_token);
    username.eq_ignore_ascii_case(&cfg.username)
        && (constant_eq(password, &cfg.password) || constant_eq(password, &with_token))
}

/// Whether the request carries a live token (`Bearer` or the older `OAuth` scheme).
pub fn authorized(org: &OrgState, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("OAuth "))
        })
    else {
        return false;
    };
    session_live(org, token)
}

/// Whether `token` (an access token or SOAP session id) is issued and not expired.
pub fn session_live(org: &OrgState, token: &str) -> bool {
    let mut tokens = org.tokens.lock();
    match tokens.get(token.trim()) {
        Some(exp) if *exp > Instant::now() => true,
        Some(_) => {
            tokens.remove(token.trim());
            false
        }
        None => false,
    }
}

/// Ends a session (SOAP `logout`); false when it was not live.
pub fn revoke(org: &OrgState, token: &str) -> bool {
    let live = session_live(org, token);
    org.tokens.lock().remove(token.trim());
    live
}

/// Expires every issued token now (forced expiry fault).
pub fn expire_all(org: &OrgState) -> usize {
    let mut tokens = org.tokens.lock();
    let n = tokens.len();
    tokens.clear();
    n
}

fn signature(secret: &str, id: &str, issued_at: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(id.as_bytes());
    mac.update(issued_at.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Compares secrets without leaking where they differ through timing.
fn constant_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0));
    }
    diff == 0
}
