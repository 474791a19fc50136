//! The parts of the fake org driven from outside a request: the churn generator, the
//! `/__admin` endpoints (off by default), and deterministic seeding.

mod fake_org_common;

use std::time::Duration;

use fake_org_common::{api, client, config, start, start_with, token};
use orgpool::fake_org::{ChurnSpec, FakeOrgConfig, SeedConfig, build_store};
use reqwest::StatusCode;
use serde_json::{Value as Json, json};

fn live_deleted(state: &Json, object: &str) -> (u64, u64) {
    let o = &state["objects"][object];
    (
        o["live"].as_u64().unwrap_or(0),
        o["deleted"].as_u64().unwrap_or(0),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_inserts_updates_and_deletes() {
    let org = start().await;
    let (live0, deleted0) = live_deleted(&org.state(), "Opportunity");
    assert_eq!(deleted0, 0);
    org.set_churn(vec![
        ChurnSpec::parse("Opportunity:inserts=40,updates=40,deletes=20").unwrap(),
    ]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    org.set_churn(Vec::new());
    let (live1, deleted1) = live_deleted(&org.state(), "Opportunity");
    assert!(deleted1 > 0, "no deletes happened");
    // Inserts outnumber deletes two to one.
    assert!(live1 > live0, "live went {live0} -> {live1}");

    let http = client();
    let tok = token(&http, &org).await;
    let soql = "SELECT COUNT() FROM Opportunity WHERE Description LIKE 'churn update%'";
    let updated: Json = http
        .get(api(&org, "/query"))
        .query(&[("q", soql)])
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(updated["totalSize"].as_u64().unwrap() > 0, "{updated}");
    let all: Json = http
        .get(api(&org, "/queryAll"))
        .query(&[(
            "q",
            "SELECT COUNT() FROM Opportunity WHERE IsDeleted = true",
        )])
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["totalSize"].as_u64().unwrap(), deleted1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_is_off_by_default() {
    let org = start().await;
    let resp = client()
        .get(format!("{}/__admin/state", org.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_sets_faults_and_churn() {
    let org = start_with(FakeOrgConfig {
        admin: true,
        ..config()
    })
    .await;
    let http = client();
    let faults = format!("{}/__admin/faults", org.base_url);

    let state: Json = http
        .get(format!("{}/__admin/state", org.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(live_deleted(&state, "Opportunity").0, 300);

    let tok = token(&http, &org).await;
    let resp = http
        .post(&faults)
        .json(&json!({"api_limit": 7, "ingest_failure_rate": 0.25, "latency_ms": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let limits: Json = http
        .get(api(&org, "/limits"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(limits["DailyApiRequests"]["Max"], 7);

    let resp = http
        .post(&faults)
        .json(&json!({"outage_seconds": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = http
        .get(api(&org, "/limits"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let resp = http
        .post(&faults)
        .json(&json!({"outage_seconds": 0, "expire_tokens": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = http
        .get(api(&org, "/limits"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // Refusals name the problem.
    let resp = http
        .post(&faults)
        .json(&json!({"bogus": 1}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error());
    assert!(resp.text().await.unwrap().contains("bogus"));
    let resp = http
        .post(&faults)
        .json(&json!({"churn": ["Nope__c:inserts=1"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("Nope__c"));
    let resp = http
        .post(&faults)
        .json(&json!({"ingest_failure_rate": 2.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    let resp = http
        .post(&faults)
        .json(&json!({"churn": ["Account:inserts=50"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(org.count("Account") > 50, "churn did not insert accounts");
}

#[test]
fn same_seed_same_data_other_seed_other_data() {
    let cfg = |seed| FakeOrgConfig {
        seed: SeedConfig {
            seed,
            accounts: 20,
            opportunities: 50,
            ..Default::default()
        },
        ..Default::default()
    };
    let rows = |seed| {
        let (store, _) = build_store(&cfg(seed)).unwrap();
        ["Account", "Opportunity", "OpportunityLineItem"]
            .iter()
            .map(|o| {
                let obj = store.schema.index(o).unwrap();
                let t = store.table(obj);
                (1..=t.issued())
                    .map(|s| format!("{:?}", t.get(s).map(|r| &r.values)))
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
    };
    let a = rows(7);
    assert_eq!(a, rows(7));
    assert_ne!(a, rows(8));
    assert_eq!(a[2].len(), 150);
}
