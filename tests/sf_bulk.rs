//! Bulk API 2.0 through the client against the fake org: a query read across pages as
//! one CSV stream (header once, every row once, counts checked), and ingest split into
//! several jobs with per-record failures reported exactly.

mod sf_common;

use std::collections::BTreeSet;

use futures::TryStreamExt;
use orgpool::salesforce::{ErrorClass, Operation, Scope};
use sf_common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_query_streams_every_page_as_one_csv() {
    let org = start(org_config(5_500)).await;
    let mut cfg = sf_config(&org);
    cfg.bulk_page_rows = 1_000;
    let client = client_with(cfg, &prefix("bulk-query")).await;
    let results = client
        .bulk_query(
            "SELECT Id, Name, Amount, Account.Name FROM Opportunity",
            Scope::Live,
        )
        .await
        .unwrap();
    assert_eq!(results.expected_rows(), 5_500);
    let bytes: Vec<u8> = results
        .into_stream()
        .map_ok(|b| b.to_vec())
        .try_concat()
        .await
        .unwrap();
    let mut csv = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(
        csv.headers().unwrap().iter().collect::<Vec<_>>(),
        ["Id", "Name", "Amount", "Account.Name"]
    );
    let ids: Vec<String> = csv.records().map(|r| r.unwrap()[0].to_string()).collect();
    assert_eq!(ids.len(), 5_500, "header once, every row once");
    let rest: BTreeSet<String> = client
        .query("SELECT Id FROM Opportunity", Scope::Live)
        .map_ok(|r| r["Id"].as_str().unwrap().to_string())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), rest);
    assert!(
        counter(
            "orgpool_salesforce_bulk_jobs_total",
            &[r#"operation="query""#, r#"state="job_complete""#]
        ) >= 1.0
    );
    client.fleet().clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_reports_exactly_the_records_that_failed() {
    let org = start(org_config(10)).await;
    org.set_ingest_failure_rate(0.1);
    let mut cfg = sf_config(&org);
    cfg.ingest_max_bytes = 16 * 1024; // forces several jobs
    let client = client_with(cfg, &prefix("ingest")).await;
    let header = vec!["LastName".to_string(), "Description".to_string()];
    let rows: Vec<Vec<String>> = (0..2_000)
        .map(|i| {
            vec![
                format!("Ingest-{i:05}"),
                format!("line one, \"quoted\"\nline {i}"),
            ]
        })
        .collect();
    let outcome = client
        .bulk_ingest("Contact", &Operation::Insert, &header, rows.clone())
        .await
        .unwrap();
    assert!(
        outcome.jobs.len() > 1,
        "split into {} jobs",
        outcome.jobs.len()
    );
    assert!(outcome.jobs.iter().all(|j| j.state == "JobComplete"));
    assert!(outcome.unprocessed.is_empty());
    assert_eq!(outcome.saved.len() + outcome.failed.len(), 2_000);
    assert!(
        !outcome.failed.is_empty(),
        "the 10% failure rate produced failures"
    );
    assert!(
        outcome
            .failed
            .iter()
            .all(|f| f.code == "UNABLE_TO_LOCK_ROW" && !f.message.is_empty())
    );
    // The values come back intact, quotes and line feeds included.
    let sent: BTreeSet<Vec<String>> = rows.into_iter().collect();
    let back: BTreeSet<Vec<String>> = outcome
        .saved
        .iter()
        .map(|s| s.values.clone())
        .chain(outcome.failed.iter().map(|f| f.values.clone()))
        .collect();
    assert_eq!(sent, back);
    // Exactly the saved ones exist in the org.
    let in_org: BTreeSet<String> = client
        .query(
            "SELECT LastName FROM Contact WHERE LastName LIKE 'Ingest-%'",
            Scope::Live,
        )
        .map_ok(|r| r["LastName"].as_str().unwrap().to_string())
        .try_collect()
        .await
        .unwrap();
    let saved: BTreeSet<String> = outcome.saved.iter().map(|s| s.values[0].clone()).collect();
    assert_eq!(in_org, saved);
    // Per-record failures are not an error of the call: they are listed, with codes.
    assert!(
        outcome.failed.iter().all(|f| !f.code.is_empty()),
        "{:?}",
        outcome.failed
    );

    // Retrying just the failed records (the failure rate off) completes the set.
    org.set_ingest_failure_rate(0.0);
    let retry: Vec<Vec<String>> = outcome.failed.iter().map(|f| f.values.clone()).collect();
    let second = client
        .bulk_ingest("Contact", &Operation::Insert, &header, retry)
        .await
        .unwrap();
    assert!(second.failed.is_empty());
    assert_eq!(
        client
            .count("SELECT COUNT() FROM Contact WHERE LastName LIKE 'Ingest-%'")
            .await
            .unwrap(),
        2_000
    );
    client.fleet().clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_by_external_id_is_idempotent() {
    let org = start(org_config(100)).await;
    let client = client(&org, "ingest-upsert").await;
    let opps: Vec<String> = client
        .query("SELECT Id FROM Opportunity", Scope::Live)
        .map_ok(|r| r["Id"].as_str().unwrap().to_string())
        .try_collect()
        .await
        .unwrap();
    let header = vec![
        "Orgpool_Key__c".to_string(),
        "Name".into(),
        "OpportunityId".into(),
    ];
    let rows: Vec<Vec<String>> = opps
        .iter()
        .map(|o| vec![format!("q-{o}"), "Quote".into(), o.clone()])
        .collect();
    let op = Operation::Upsert {
        external_id: "Orgpool_Key__c".into(),
    };
    let first = client
        .bulk_ingest("Quote", &op, &header, rows.clone())
        .await
        .unwrap();
    assert_eq!(first.saved.iter().filter(|s| s.created).count(), 100);
    let second = client
        .bulk_ingest("Quote", &op, &header, rows)
        .await
        .unwrap();
    assert_eq!(second.saved.len(), 100);
    assert!(second.saved.iter().all(|s| !s.created));
    assert_eq!(
        client.count("SELECT COUNT() FROM Quote").await.unwrap(),
        100
    );
    // A bad external Id field fails the request with Salesforce's message.
    let bad = Operation::Upsert {
        external_id: "Name".into(),
    };
    let err = client
        .bulk_ingest(
            "Quote",
            &bad,
            &header,
            vec![vec!["x".into(), "y".into(), opps[0].clone()]],
        )
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent, "{err}");
    client.fleet().clear().await.unwrap();
}
