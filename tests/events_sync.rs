//! Change Data Capture end to end, through the real binaries: the scheduler subscribes
//! to the fake org's Pub/Sub API for the Account mapping (`events = true`, polled only
//! hourly) and workers apply the events. Creates, updates (a nulled field too) and
//! deletes through REST, sObject Collections, Bulk ingest and the org's churn reach the
//! mirror without a resync, and `orgpool status` shows the stream.

mod events_common;
mod jobs_common;

use std::time::Duration;

use events_common::*;
use reqwest::Method;
use serde_json::json;

const SOON: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_collections_and_bulk_changes_arrive_by_event() {
    let env = started("events_paths", 1).await;
    let polls = resyncs(&env).await;

    // REST create, update with a nulled field, delete.
    let id = create_account(&env, "Evented").await;
    until_cell(
        &env,
        "the created Account mirrored",
        &id,
        "name",
        Some(Some("Evented")),
        SOON,
    )
    .await;
    assert_eq!(
        account_cell(&env, &id, "phone").await,
        Some(Some("555-0100".into()))
    );
    rest(
        &env,
        Method::PATCH,
        &format!("/sobjects/Account/{id}"),
        Some(json!({"Name": "Renamed", "Phone": null})),
    )
    .await;
    until_cell(
        &env,
        "the update mirrored",
        &id,
        "name",
        Some(Some("Renamed")),
        SOON,
    )
    .await;
    assert_eq!(
        account_cell(&env, &id, "phone").await,
        Some(None),
        "the nulled field is null"
    );
    assert_eq!(
        account_cell(&env, &id, "industry").await,
        Some(Some("Energy".into())),
        "an unchanged field stays"
    );
    rest(
        &env,
        Method::DELETE,
        &format!("/sobjects/Account/{id}"),
        None,
    )
    .await;
    until_cell(&env, "the delete mirrored", &id, "name", None, SOON).await;

    // sObject Collections: one call, three records, one event.
    let r = rest(
        &env,
        Method::POST,
        "/composite/sobjects",
        Some(json!({"allOrNone": true, "records": [
            {"attributes": {"type": "Account"}, "Name": "Col 1"},
            {"attributes": {"type": "Account"}, "Name": "Col 2"},
            {"attributes": {"type": "Account"}, "Name": "Col 3"},
        ]})),
    )
    .await;
    let ids: Vec<String> = r
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect();
    for id in &ids {
        until_cell(
            &env,
            "a Collections insert mirrored",
            id,
            "name",
            Some(Some(&format!(
                "Col {}",
                1 + ids.iter().position(|x| x == id).unwrap()
            ))),
            SOON,
        )
        .await;
    }

    // Bulk API 2.0 ingest: update them all.
    let client = env.client().await;
    let header = vec!["Id".to_string(), "Industry".to_string()];
    let rows = ids.iter().map(|i| vec![i.clone(), "Banking".to_string()]);
    let outcome = client
        .bulk_ingest(
            "Account",
            &orgpool::salesforce::Operation::Update,
            &header,
            rows,
        )
        .await
        .expect("bulk ingest");
    assert_eq!(outcome.failed.len(), 0, "{outcome:?}");
    for id in &ids {
        until_cell(
            &env,
            "a Bulk update mirrored",
            id,
            "industry",
            Some(Some("Banking")),
            SOON,
        )
        .await;
    }

    assert_eq!(
        resyncs(&env).await,
        polls,
        "no resync ran: the changes came by event"
    );
    assert!(
        applied(&env).await >= 6,
        "events applied: {}",
        applied(&env).await
    );
}
