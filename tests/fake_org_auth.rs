//! OAuth token endpoint and bearer-token checks of the fake org.

mod fake_org_common;

use std::time::Duration;

use fake_org_common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use orgpool::fake_org::FakeOrgConfig;
use reqwest::StatusCode;
use serde_json::{Value as Json, json};

const KEY: &str = include_str!("fixtures/jwt/key.pem");
const PUB: &str = include_str!("fixtures/jwt/pub.pem");
const OTHER_KEY: &str = include_str!("fixtures/jwt/other_key.pem");
const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

async fn assert_token_ok(resp: reqwest::Response, base: &str) -> Json {
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(content_type(&resp).starts_with("application/json"));
    let body: Json = resp.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap();
    assert!(
        access.starts_with("00D") && access.contains('!'),
        "{access}"
    );
    assert_eq!(body["instance_url"], base);
    assert!(body["id"].as_str().unwrap().contains("/id/00D"), "{body}");
    assert_eq!(body["token_type"], "Bearer");
    let issued = body["issued_at"].as_str().expect("issued_at is a string");
    let ms: i64 = issued.parse().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    assert!((now - ms).abs() < 60_000, "issued_at {issued} is ms");
    assert!(!body["signature"].as_str().unwrap().is_empty());
    assert!(body.get("expires_in").is_none());
    body
}

async fn assert_oauth_error(resp: reqwest::Response, error: &str, description: &str) {
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(content_type(&resp).starts_with("application/json"));
    let body: Json = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": error, "error_description": description})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_grant() {
    let org = start().await;
    let http = client();
    let cfg = org.config().clone();
    let resp = token_request(
        &http,
        &org,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cfg.client_id),
            ("client_secret", &cfg.client_secret),
        ],
    )
    .await;
    let body = assert_token_ok(resp, &org.base_url).await;
    assert!(body.get("refresh_token").is_none());
    // The token works on the API.
    let resp = http
        .get(api(&org, "/limits"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // Basic auth carries the client credentials too.
    let resp = http
        .post(org.token_url())
        .basic_auth(&cfg.client_id, Some(&cfg.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_token_ok(resp, &org.base_url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_grant_with_and_without_security_token() {
    let org = start().await;
    let http = client();
    let cfg = org.config().clone();
    let with_token = format!("{}{}", cfg.password, "FAKETOKEN");
    for pw in [cfg.password.as_str(), with_token.as_str()] {
        let resp = token_request(
            &http,
            &org,
            &[
                ("grant_type", "password"),
                ("client_id", &cfg.client_id),
                ("client_secret", &cfg.client_secret),
                ("username", &cfg.username),
                ("password", pw),
            ],
        )
        .await;
        let body = assert_token_ok(resp, &org.base_url).await;
        assert!(body.get("refresh_token").is_none());
    }
    let resp = token_request(
        &http,
        &org,
        &[
            ("grant_type", "password"),
            ("client_id", &cfg.client_id),
            ("client_secret", &cfg.client_secret),
            ("username", &cfg.username),
            ("password", "wrong"),
        ],
    )
    .await;
    assert_oauth_error(resp, "invalid_grant", "authentication failure").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_grant() {
    let org = start().await;
    let http = client();
    let cfg = org.config().clone();
    let resp = token_request(
        &http,
        &org,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &cfg.client_id),
            ("refresh_token", &cfg.refresh_token),
        ],
    )
    .await;
    assert_token_ok(resp, &org.base_url).await;
    let resp = token_request(
        &http,
        &org,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &cfg.client_id),
            ("refresh_token", "nope"),
        ],
    )
    .await;
    assert_oauth_error(resp, "invalid_grant", "expired access/refresh token").await;
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
}

fn jwt(key_pem: &str, iss: &str, sub: &str, aud: &str, exp_offset: i64) -> String {
    let claims = Claims {
        iss,
        sub,
        aud,
        exp: chrono::Utc::now().timestamp() + exp_offset,
    };
    let key = EncodingKey::from_rsa_pem(key_pem.as_bytes()).expect("rsa key");
    encode(&Header::new(Algorithm::RS256), &claims, &key).expect("encode jwt")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_bearer_without_public_key_checks_claims() {
    let org = start().await;
    let http = client();
    let cfg = org.config().clone();
    let aud = "https://login.salesforce.com";
    let ok = jwt(OTHER_KEY, &cfg.client_id, &cfg.username, aud, 120);
    let resp = token_request(
        &http,
        &org,
        &[("grant_type", JWT_GRANT), ("assertion", &ok)],
    )
    .await;
    let body = assert_token_ok(resp, &org.base_url).await;
    assert!(body.get("refresh_token").is_none());

    let bad_iss = jwt(KEY, "someone-else", &cfg.username, aud, 120);
    let resp = token_request(
        &http,
        &org,
        &[("grant_type", JWT_GRANT), ("assertion", &bad_iss)],
    )
    .await;
    assert_oauth_error(resp, "invalid_client_id", "client identifier invalid").await;

    let bad_sub = jwt(KEY, &cfg.client_id, "nobody@example.com", aud, 120);
    let resp = token_request(
        &http,
        &org,
        &[("grant_type", JWT_GRANT), ("assertion", &bad_sub)],
    )
    .await;
    assert_oauth_error(resp, "invalid_grant", "user hasn't approved this consumer").await;

    let bad_aud = jwt(
        KEY,
        &cfg.client_id,
        &cfg.username,
        "https://example.com",
        120,
    );
    let resp = token_request(
        &http,
        &org,
        &[("grant_type", JWT_GRANT), ("assertion", &bad_aud)],
    )
    .await;
    assert_oauth_error(resp, "invalid_grant", "audience is invalid").await;

    let expired = jwt(KEY, &cfg.client_id, &cfg.username, aud, -3600);
    let resp = token_request(
        &http,
        &org,
        &[("grant_type", JWT_GRANT), ("assertion", &expired)],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Json = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_bearer_with_public_key_checks_signature() {
    let cfg = FakeOrgConfig {
        jwt_public_key: Some(PUB.to_string()),
        ..config()
    };
    let org = start_with(cfg).await;
    let http = client();
    let cfg = org.config().clone();
    let aud = "https://login.salesforce.com";
    let good = jwt(KEY, &cfg.client_id, &cfg.username, aud, 120);
    let resp = token_request(
        &http,
        &org,
        &[("grant_type", JWT_GRANT), ("assertion", &good)],
    )
    .await;
    assert_token_ok(resp, &org.base_url).await;
    let wrong = jwt(OTHER_KEY, &cfg.client_id, &cfg.username, aud, 120);
    let resp = token_request(
        &http,
        &org,
        &[("grant_type", JWT_GRANT), ("assertion", &wrong)],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Json = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_error_shapes() {
    let org = start().await;
    let http = client();
    let cfg = org.config().clone();
    let resp = token_request(&http, &org, &[("client_id", &cfg.client_id)]).await;
    assert_oauth_error(resp, "invalid_request", "grant type is missing").await;
    let resp = token_request(
        &http,
        &org,
        &[
            ("grant_type", "authorization_magic"),
            ("client_id", &cfg.client_id),
        ],
    )
    .await;
    assert_oauth_error(resp, "unsupported_grant_type", "grant type not supported").await;
    let resp = token_request(
        &http,
        &org,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "unknown"),
            ("client_secret", &cfg.client_secret),
        ],
    )
    .await;
    assert_oauth_error(resp, "invalid_client_id", "client identifier invalid").await;
    let resp = token_request(
        &http,
        &org,
        &[
            ("grant_type", "password"),
            ("client_id", &cfg.client_id),
            ("client_secret", &cfg.client_secret),
            ("username", "someone@else.example"),
            ("password", &cfg.password),
        ],
    )
    .await;
    assert_oauth_error(resp, "invalid_grant", "authentication failure").await;
}

async fn assert_invalid_session(resp: reqwest::Response) {
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Json = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_missing_tokens_get_401() {
    let cfg = FakeOrgConfig {
        token_ttl: Duration::from_millis(300),
        ..config()
    };
    let org = start_with(cfg).await;
    let http = client();
    let t = token(&http, &org).await;
    let resp = http
        .get(api(&org, "/limits"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // The older OAuth scheme also works.
    let resp = http
        .get(api(&org, "/limits"))
        .header("Authorization", format!("OAuth {t}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_invalid_session(
        http.get(api(&org, "/limits"))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_invalid_session(http.get(api(&org, "/limits")).send().await.unwrap()).await;
    assert_invalid_session(
        http.get(api(&org, "/limits"))
            .bearer_auth("garbage")
            .send()
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expire_tokens_invalidates_sessions() {
    let org = start().await;
    let http = client();
    let t = token(&http, &org).await;
    let q = api(&org, "/query?q=SELECT+Id+FROM+Account+LIMIT+1");
    assert_eq!(
        http.get(&q).bearer_auth(&t).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert!(org.expire_tokens() >= 1);
    assert_invalid_session(http.get(&q).bearer_auth(&t).send().await.unwrap()).await;
    let t2 = token(&http, &org).await;
    assert_eq!(
        http.get(&q).bearer_auth(&t2).send().await.unwrap().status(),
        StatusCode::OK
    );
}
