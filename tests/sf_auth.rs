//! The Salesforce client's login flows against the fake org: each flow works, a wrong
//! credential is an `Auth` error naming the setting (never the secret), an expired token
//! is refreshed once for all concurrent tasks, and a query continues across the refresh.

mod sf_common;

use futures::StreamExt;
use orgpool::fake_org::FakeOrgConfig;
use orgpool::salesforce::{AuthFlow, ErrorClass, Scope, Secret, SfError};
use sf_common::*;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/jwt/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn jwt_org() -> FakeOrgConfig {
    FakeOrgConfig {
        jwt_public_key: Some(fixture("pub.pem")),
        ..org_config(20)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_flow_logs_in_and_calls_the_api() {
    let org = start(jwt_org()).await;
    let c = org.config().clone();
    let flows = [
        AuthFlow::ClientCredentials,
        AuthFlow::Password {
            username: c.username.clone(),
            password: Secret::new(format!("{}{}", c.password, c.security_token)),
        },
        AuthFlow::RefreshToken {
            token: Secret::new(c.refresh_token.clone()),
        },
        AuthFlow::JwtBearer {
            username: c.username.clone(),
            private_key: Secret::new(fixture("key.pem")),
            audience: org.base_url.clone(),
        },
    ];
    for flow in flows {
        let name = flow.name();
        let mut cfg = sf_config(&org);
        cfg.flow = flow;
        if name == "jwt_bearer" {
            cfg.client_secret = None;
        }
        let client = client_with(cfg, &prefix(name)).await;
        assert_eq!(client.login().await.expect(name), org.base_url, "{name}");
        let n = client
            .count("SELECT COUNT() FROM Opportunity")
            .await
            .expect(name);
        assert_eq!(n, 20, "{name}");
        client.fleet().clear().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_name_the_setting_and_never_the_secret() {
    let org = start(jwt_org()).await;
    let mut cfg = sf_config(&org);
    cfg.client_secret = Some(Secret::new("wrong-secret-value"));
    let client = client_with(cfg, &prefix("bad-secret")).await;
    let err = client.login().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Auth);
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("SALESFORCE_CLIENT_SECRET"), "{shown}");
    assert!(!shown.contains("wrong-secret-value"), "{shown}");
    // An API call reports the same class without waiting.
    let err = client
        .count("SELECT COUNT() FROM Account")
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Auth, "{err}");

    let mut cfg = sf_config(&org);
    cfg.client_secret = None;
    cfg.flow = AuthFlow::JwtBearer {
        username: org.config().username.clone(),
        private_key: Secret::new(fixture("other_key.pem")),
        audience: org.base_url.clone(),
    };
    let client = client_with(cfg, &prefix("bad-jwt")).await;
    match client.login().await.unwrap_err() {
        SfError::Auth { fix, .. } => assert!(fix.contains("SALESFORCE_JWT_KEY"), "{fix}"),
        e => panic!("{e:?}"),
    }

    let mut cfg = sf_config(&org);
    cfg.flow = AuthFlow::RefreshToken {
        token: Secret::new("revoked-refresh-token"),
    };
    let client = client_with(cfg, &prefix("bad-refresh")).await;
    let err = client.login().await.unwrap_err();
    assert!(
        err.to_string().contains("SALESFORCE_REFRESH_TOKEN"),
        "{err}"
    );
    assert!(!format!("{err:?}").contains("revoked-refresh-token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refreshed_once_for_all_tasks() {
    let org = start(org_config(50)).await;
    let client = client(&org, "refresh-once").await;
    client.login().await.unwrap();
    assert_eq!(client.logins(), 1);
    org.expire_tokens();
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.count("SELECT COUNT() FROM Opportunity").await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().expect("replayed after refresh"), 50);
    }
    assert_eq!(client.logins(), 2, "one refresh for 16 tasks");
    client.fleet().clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_continues_across_a_token_expiry() {
    let org = start(org_config(5_000)).await;
    let client = client(&org, "expiry-mid-stream").await;
    // REST: pages of 2,000; expire while page 2 is being read.
    let mut stream = client.query("SELECT Id FROM Opportunity", Scope::Live);
    let mut n = 0;
    while let Some(r) = stream.next().await {
        r.expect("record");
        n += 1;
        if n == 2_500 {
            org.expire_tokens();
        }
    }
    assert_eq!(n, 5_000);
    assert_eq!(client.logins(), 2);

    // Bulk: pages of 1,000; expire after the first chunk.
    let mut cfg = sf_config(&org);
    cfg.bulk_page_rows = 1_000;
    let client = client_with(cfg, &prefix("expiry-bulk")).await;
    let mut results = client
        .bulk_query("SELECT Id, Name FROM Opportunity", Scope::Live)
        .await
        .unwrap();
    let mut chunks = 0;
    while let Some(_c) = results.next_chunk().await.expect("chunk") {
        chunks += 1;
        if chunks == 1 {
            org.expire_tokens();
        }
    }
    assert_eq!(results.rows(), 5_000);
    assert_eq!(results.pages(), 5);
    assert_eq!(client.logins(), 2);
    client.fleet().clear().await.unwrap();
}
