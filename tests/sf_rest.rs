//! The Salesforce client's REST calls against the fake org: describe revalidated with
//! `If-Modified-Since`, query and queryAll streams across pages, `COUNT()`, Collections
//! in batches of 200, `/limits`, and Salesforce's own message for bad SOQL. Requests are
//! counted on each test's own org and Redis prefix: the metrics recorder is
//! process-wide and every test in this binary raises the same counters.

mod sf_common;

use futures::TryStreamExt;
use orgpool::classify::Classify;
use orgpool::salesforce::{ErrorClass, Scope, SfError};
use serde_json::json;
use sf_common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_is_cached_and_revalidated() {
    let org = start(org_config(10)).await;
    let client = client(&org, "describe").await;
    let first = client.describe("Opportunity").await.unwrap();
    assert_eq!(first.name, "Opportunity");
    let amount = first.field("amount").expect("Amount");
    assert_eq!(
        (amount.field_type.as_str(), amount.precision, amount.scale),
        ("currency", 18, 2)
    );
    let (before, _) = org.api_usage();
    let second = client.describe("Opportunity").await.unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&first, &second),
        "304 reuses the cached describe"
    );
    assert_eq!(
        org.api_usage().0 - before,
        1,
        "the cached describe was revalidated with one request"
    );
    let err = client.describe("NoSuchObject__c").await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent, "{err}");
    client.fleet().clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_streams_every_page_and_count_agrees() {
    let org = start(org_config(4_500)).await;
    let client = client(&org, "query").await;
    let total = client
        .count("SELECT COUNT() FROM Opportunity")
        .await
        .unwrap();
    assert_eq!(total, 4_500);
    let rows: Vec<_> = client
        .query(
            "SELECT Id, Name, Account.Name FROM Opportunity",
            Scope::Live,
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 4_500);
    let mut ids: Vec<&str> = rows.iter().map(|r| r["Id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4_500, "no record twice across pages");

    // Deleted records show in queryAll only.
    let doomed: Vec<String> = ids[..10].iter().map(|s| s.to_string()).collect();
    let results = client.delete_records(&doomed).await.unwrap();
    assert!(results.iter().all(|r| r.success));
    assert_eq!(
        client
            .count("SELECT COUNT() FROM Opportunity")
            .await
            .unwrap(),
        4_490
    );
    let all: Vec<_> = client
        .query("SELECT Id, IsDeleted FROM Opportunity", Scope::All)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 4_500);
    assert_eq!(
        all.iter().filter(|r| r["IsDeleted"] == json!(true)).count(),
        10
    );
    client.fleet().clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collections_send_batches_of_200_and_report_each_record() {
    let org = start(org_config(300)).await;
    let client = client(&org, "collections").await;
    let contacts: Vec<_> = (0..450)
        .map(|i| json!({"LastName": format!("Batch-{i}"), "Email": format!("b{i}@example.com")}))
        .collect();
    // The first call of a client asks for /limits; make it now so only the batches count.
    client.limits().await.unwrap();
    let (org_before, _) = org.api_usage();
    let (fleet_before, _, _) = client.fleet().usage().await.unwrap();
    let created = client.create_records("Contact", &contacts).await.unwrap();
    assert_eq!(created.len(), 450);
    assert!(created.iter().all(|r| r.success && r.id.is_some()));
    assert_eq!(
        org.api_usage().0 - org_before,
        3,
        "three requests of at most 200 reached the org"
    );
    let (fleet_after, _, _) = client.fleet().usage().await.unwrap();
    assert_eq!(
        fleet_after - fleet_before,
        3,
        "the fleet budget counted each"
    );
    let ids: Vec<String> = created.iter().map(|r| r.id.clone().unwrap()).collect();

    let updates: Vec<_> = ids
        .iter()
        .map(|id| json!({"Id": id, "Title": "Updated"}))
        .collect();
    let updated = client.update_records("Contact", &updates).await.unwrap();
    assert!(updated.iter().all(|r| r.success));
    assert_eq!(
        org.field("Contact", &ids[449], "Title"),
        Some(json!("Updated"))
    );

    // A record without its required field fails alone, with Salesforce's error.
    let mixed = vec![
        json!({"LastName": "Fine"}),
        json!({"FirstName": "No last name"}),
    ];
    let r = client.create_records("Contact", &mixed).await.unwrap();
    assert!(r[0].success);
    assert!(!r[1].success);
    assert_eq!(r[1].errors[0].status_code, "REQUIRED_FIELD_MISSING");

    // Upsert by external Id: created once, updated after.
    let opps: Vec<String> = client
        .query("SELECT Id FROM Opportunity LIMIT 250", Scope::Live)
        .map_ok(|r| r["Id"].as_str().unwrap().to_string())
        .try_collect()
        .await
        .unwrap();
    let quotes: Vec<_> = opps
        .iter()
        .map(|o| json!({"Orgpool_Key__c": format!("k-{o}"), "Name": "Q", "OpportunityId": o}))
        .collect();
    let first = client
        .upsert_records("Quote", "Orgpool_Key__c", &quotes)
        .await
        .unwrap();
    assert!(
        first.iter().all(|r| r.success && r.created == Some(true)),
        "{:?}",
        first[0]
    );
    let again = client
        .upsert_records("Quote", "Orgpool_Key__c", &quotes)
        .await
        .unwrap();
    assert!(again.iter().all(|r| r.success && r.created == Some(false)));
    assert_eq!(
        client.count("SELECT COUNT() FROM Quote").await.unwrap(),
        250
    );

    let deleted = client.delete_records(&ids).await.unwrap();
    assert_eq!(deleted.iter().filter(|r| r.success).count(), 450);
    client.fleet().clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_teach_the_fleet_the_org_allowance() {
    let org = start(org_config(10)).await;
    let client = client(&org, "limits").await;
    let limits = client.limits().await.unwrap();
    assert_eq!(limits["DailyApiRequests"]["Max"], json!(100_000));
    let (fleet_used, org_used, org_limit) = client.fleet().usage().await.unwrap();
    assert_eq!(org_limit, 100_000);
    // Both figures live under this client's own prefix (the api_used gauge does not:
    // every test in the binary sets it).
    assert!(fleet_used >= 1 && org_used >= 1, "{fleet_used} {org_used}");
    client.fleet().clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_soql_and_unknown_fields_keep_salesforces_message() {
    let org = start(org_config(10)).await;
    let client = client(&org, "bad-soql").await;
    let permanent = |e: SfError| match e {
        SfError::Permanent { code, message, .. } => (code, message),
        other => panic!("expected Permanent, got {other:?}"),
    };
    let (code, message) = permanent(
        client
            .count("SELECT COUNT( FROM Account")
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "MALFORMED_QUERY");
    assert!(!message.is_empty());
    let (code, message) = permanent(
        client
            .query("SELECT Id, NoSuchField__c FROM Account", Scope::Live)
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "INVALID_FIELD");
    assert!(message.contains("NoSuchField__c"), "{message}");
    // Bulk jobs report the same.
    let (code, message) = permanent(
        client
            .bulk_query("SELECT Id, NoSuchField__c FROM Account", Scope::Live)
            .await
            .unwrap_err(),
    );
    assert!(message.contains("NoSuchField__c"), "{code}: {message}");
    let err = client
        .bulk_query("SELEKT Id FROM Account", Scope::Live)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent, "{err}");
    assert_eq!(err.disposition(), orgpool::classify::Disposition::Fail);
    client.fleet().clear().await.unwrap();
}
