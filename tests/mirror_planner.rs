//! The chunk planner against an in-process fake org: Id ranges are contiguous, cover
//! every record, stay within 2x of the target for several targets, and put each record
//! in the same range the org does; a change backlog is split into time windows the
//! same way.

use std::collections::HashSet;

use futures::TryStreamExt;
use orgpool::fake_org::{FakeOrgConfig, SeedConfig};
use orgpool::mirror::planner::{plan_ranges, plan_windows, range_where};
use orgpool::salesforce::{Client, SalesforceConfig, Scope};

async fn client(org: &orgpool::fake_org::FakeOrg) -> Client {
    let c = org.config();
    let cfg = SalesforceConfig::new(&org.base_url, &c.client_id, &c.client_secret);
    let redis = orgpool::redis_conn::connect(&orgpool::redis_conn::url_from_env())
        .await
        .unwrap();
    Client::new(
        cfg,
        redis,
        &format!(
            "orgpool-test:planner:{}:{}",
            std::process::id(),
            rand::random::<u32>()
        ),
    )
    .unwrap()
}

async fn start(opportunities: u64) -> (orgpool::fake_org::FakeOrg, Client) {
    let org = orgpool::fake_org::start(FakeOrgConfig {
        seed: SeedConfig {
            accounts: 50,
            opportunities,
            lines_per_opportunity: 0,
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let c = client(&org).await;
    (org, c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_ranges_are_balanced_and_cover_everything_once() {
    let (_org, client) = start(30_000).await;
    for target in [1_000u64, 7_000, 50_000] {
        let ranges = plan_ranges(&client, "Opportunity", target).await.unwrap();
        assert_eq!(ranges.first().unwrap().lo, None);
        assert_eq!(ranges.last().unwrap().hi, None);
        for w in ranges.windows(2) {
            assert_eq!(w[0].hi, w[1].lo, "contiguous");
        }
        assert_eq!(ranges.iter().map(|r| r.count).sum::<u64>(), 30_000);
        for r in &ranges {
            assert!(
                r.count <= target * 2,
                "target {target}: range {r:?} over 2x"
            );
        }
        if target < 30_000 {
            let small = ranges.iter().filter(|r| r.count < target / 2).count();
            assert!(
                small <= 1,
                "target {target}: {small} ranges under half the target: {ranges:?}"
            );
        }
    }
    // Each range's query returns exactly its records, disjoint, covering all.
    let ranges = plan_ranges(&client, "Opportunity", 7_000).await.unwrap();
    let mut seen = HashSet::new();
    for r in &ranges {
        let mut soql = "SELECT Id FROM Opportunity".to_string();
        if let Some(w) = range_where(r.lo.as_deref(), r.hi.as_deref()) {
            soql = format!("{soql} WHERE {w}");
        }
        let rows: Vec<serde_json::Value> = client
            .query(&soql, Scope::Live)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(rows.len() as u64, r.count);
        for row in rows {
            let id = row["Id"].as_str().unwrap().to_string();
            // Postgres compares sfid with byte order (COLLATE "C"): same bucket.
            assert!(r.lo.as_deref().is_none_or(|lo| id.as_str() >= lo));
            assert!(r.hi.as_deref().is_none_or(|hi| id.as_str() < hi));
            assert!(seen.insert(id), "a record in two ranges");
        }
    }
    assert_eq!(seen.len(), 30_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_backlog_splits_into_balanced_windows() {
    let (_org, client) = start(20_000).await;
    let since = chrono::Utc::now() - chrono::Duration::days(3 * 365);
    let until = chrono::Utc::now() + chrono::Duration::seconds(5);
    let windows = plan_windows(&client, "Opportunity", since, until, 3_000)
        .await
        .unwrap();
    assert!(windows.len() > 1, "{windows:?}");
    assert_eq!(windows.first().unwrap().since, since);
    assert_eq!(windows.last().unwrap().until, until);
    for w in windows.windows(2) {
        assert_eq!(w[0].until, w[1].since);
    }
    let total: u64 = windows.iter().map(|w| w.count).sum();
    assert_eq!(total, 20_000);
    for w in &windows {
        assert!(
            w.count <= 6_000 || (w.until - w.since).num_seconds() <= 1,
            "{w:?}"
        );
    }
}
