//! Fault injection of the fake org (outages, API limits, latency, token expiry) and TLS.

mod fake_org_common;

use std::time::{Duration, Instant};

use fake_org_common::*;
use orgpool::fake_org::{FakeOrgConfig, OutageMode};
use reqwest::StatusCode;
use serde_json::Value as Json;

const Q: &str = "/query?q=SELECT+Id+FROM+Account+LIMIT+1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_unavailable_then_recovery() {
    let c = Ctx::new().await;
    c.org
        .outage(Duration::from_millis(500), OutageMode::Unavailable);
    let e = assert_api_error(
        c.get(Q).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVER_UNAVAILABLE",
    )
    .await;
    assert!(e["message"].is_string());
    // The token endpoint is down too.
    let resp = token_request(&c.http, &c.org, &[("grant_type", "client_credentials")]).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(c.get(Q).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_refuse_then_recovery_on_same_port() {
    let c = Ctx::new().await;
    let port = c.org.addr.port();
    c.org.outage(Duration::from_millis(800), OutageMode::Refuse);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A fresh client so no pooled connection is reused.
    let fresh = client();
    let err = fresh
        .get(api(&c.org, Q))
        .bearer_auth(&c.token)
        .send()
        .await
        .expect_err("refused");
    assert!(err.is_connect(), "{err:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        match client()
            .get(api(&c.org, Q))
            .bearer_auth(&c.token)
            .send()
            .await
        {
            Ok(resp) => {
                assert_eq!(resp.status(), StatusCode::OK);
                break;
            }
            Err(e) if Instant::now() < deadline => assert!(e.is_connect(), "{e:?}"),
            Err(e) => panic!("no recovery: {e:?}"),
        }
    }
    assert_eq!(c.org.addr.port(), port);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_limit_exceeded() {
    let c = Ctx::new().await;
    c.org.set_api_limit(5, true);
    for i in 1..=5u64 {
        let resp = c.get(Q).await;
        assert_eq!(resp.status(), StatusCode::OK, "call {i}");
        assert_eq!(limit_info(&resp), (i, 5));
    }
    let resp = c.get(Q).await;
    assert_eq!(limit_info(&resp).1, 5);
    let e = assert_api_error(resp, StatusCode::FORBIDDEN, "REQUEST_LIMIT_EXCEEDED").await;
    assert_eq!(e["message"], "TotalRequests Limit exceeded.");
    let resp = c.get("/limits").await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Raise the limit: /limits now reports what is left.
    c.org.set_api_limit(10, false);
    let body = c.get_json("/limits").await;
    let remaining = body["DailyApiRequests"]["Remaining"].as_u64().unwrap();
    assert_eq!(body["DailyApiRequests"]["Max"], 10);
    let (used, _) = c.org.api_usage();
    assert_eq!(remaining, 10 - used);
    // Exhaust it again: Remaining 0 is reported while blocked calls are refused.
    c.org.set_api_limit(used + 1, false);
    let body = c.get_json("/limits").await;
    assert_eq!(body["DailyApiRequests"]["Remaining"], 0);
    assert_eq!(c.get(Q).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_is_added() {
    let c = Ctx::new().await;
    c.org.set_latency(Duration::from_millis(300));
    let t = Instant::now();
    assert_eq!(c.get(Q).await.status(), StatusCode::OK);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    c.org.set_latency(Duration::ZERO);
    let t = Instant::now();
    assert_eq!(c.get(Q).await.status(), StatusCode::OK);
    assert!(t.elapsed() < Duration::from_millis(300));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expire_tokens_gives_401() {
    let c = Ctx::new().await;
    assert_eq!(c.get(Q).await.status(), StatusCode::OK);
    c.org.expire_tokens();
    let resp = c.get(Q).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Json = resp.json().await.unwrap();
    assert_eq!(body[0]["errorCode"], "INVALID_SESSION_ID");
    assert_eq!(c.org.state()["tokens"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_token_and_query() {
    let org = start_with(FakeOrgConfig {
        tls: true,
        ..config()
    })
    .await;
    assert!(org.base_url.starts_with("https://"));
    assert!(
        org.cert_pem
            .as_deref()
            .unwrap_or("")
            .contains("BEGIN CERTIFICATE")
    );
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let token = token(&http, &org).await;
    let resp = http
        .get(api(&org, Q))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Json = resp.json().await.unwrap();
    assert_eq!(body["totalSize"], 1);
    let resp = token_request(
        &http,
        &org,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "orgpool-fake-client"),
            ("client_secret", "orgpool-fake-secret"),
        ],
    )
    .await;
    let body: Json = resp.json().await.unwrap();
    assert_eq!(body["instance_url"], org.base_url);
}
