//! Mirror sync through the job system: real worker processes, `enqueue --wait`, the
//! ledger in Postgres and the queues in Redis, against an in-process fake org. Each test
//! has its own database and Redis prefix.

mod jobs_common;

use std::time::Duration;

use jobs_common::Env;
use orgpool::fake_org::{FakeOrgConfig, SeedConfig};
use serde_json::json;

const FIELDS: &[&str] = &[
    "Id",
    "SystemModstamp",
    "IsDeleted",
    "Name",
    "Amount",
    "CloseDate",
    "StageName",
    "Probability",
    "AccountId",
];

fn columns() -> Vec<String> {
    FIELDS
        .iter()
        .map(|f| {
            if *f == "Id" {
                "sfid".to_string()
            } else {
                f.to_ascii_lowercase()
            }
        })
        .collect()
}

fn org(opportunities: u64) -> FakeOrgConfig {
    FakeOrgConfig {
        seed: SeedConfig {
            accounts: 100,
            opportunities,
            lines_per_opportunity: 0,
            ..Default::default()
        },
        bulk_delay: std::time::Duration::from_millis(20),
        ..Default::default()
    }
}

const MAPPINGS: &str = r#"
[[mapping]]
object = "Opportunity"
fields = ["Name", "Amount", "CloseDate", "StageName", "Probability", "AccountId"]
chunk_size = 2000
poll_interval = "2m"
"#;

async fn assert_equal(env: &Env) {
    let cols = columns();
    let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
    let mirror = env.mirror_snapshot("opportunity", &cols).await;
    let org = env
        .org_snapshot("Opportunity", "opportunity", FIELDS, &cols)
        .await;
    assert_eq!(mirror, org, "mirror differs from the org\n{}", env.logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_load_then_resync_catches_inserts_updates_and_deletes() {
    let mut env = Env::new("load_resync", org(12_000), MAPPINGS).await;
    env.spawn(&["worker"], &[]);
    env.spawn(&["worker"], &[]);
    let out = env.ok(&["enqueue", "initial-load", "Opportunity", "--wait"]);
    assert!(out.contains("succeeded"), "{out}");
    assert_equal(&env).await;
    let (chunks,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM orgpool.chunks WHERE step = 'work' AND state = 'done'",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert!(
        chunks >= 4,
        "12,000 rows at 2,000 a chunk should make several chunks, got {chunks}"
    );

    // Churn: an insert, an update and a delete through the API.
    let client = env.client().await;
    let some: Vec<serde_json::Value> = {
        use futures::TryStreamExt;
        client
            .query(
                "SELECT Id, Name FROM Opportunity ORDER BY Id LIMIT 2",
                orgpool::salesforce::Scope::Live,
            )
            .try_collect()
            .await
            .unwrap()
    };
    let (a, b) = (
        some[0]["Id"].as_str().unwrap(),
        some[1]["Id"].as_str().unwrap(),
    );
    client
        .update_records(
            "Opportunity",
            &[json!({"Id": a, "Name": "Renamed, \"quoted\"\nline"})],
        )
        .await
        .unwrap();
    client.delete_records(&[b.to_string()]).await.unwrap();
    client
        .create_records(
            "Opportunity",
            &[json!({"Name": "Brand new", "StageName": "Prospecting", "CloseDate": "2027-01-31", "Amount": 12.5})],
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let out = env.ok(&["enqueue", "resync", "Opportunity", "--wait"]);
    assert!(out.contains("succeeded"), "{out}");
    assert_equal(&env).await;
    let (name,): (String,) =
        sqlx::query_as("SELECT name FROM salesforce.opportunity WHERE sfid = $1")
            .bind(a)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(name, "Renamed, \"quoted\"\nline");

    let status = env.ok(&["status", "--json"]);
    let st: serde_json::Value = serde_json::from_str(&status).unwrap();
    let m = &st["mappings"][0];
    assert_eq!(m["state"], "ready", "{st}");
    assert_eq!(m["rows"], 12_000, "{st}");
}
