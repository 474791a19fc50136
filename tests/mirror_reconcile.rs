//! `reconcile` follows the mapping's `deleted` setting, through the real job path (the
//! in-process harness: the kinds' own plan and work steps against real Postgres, Redis
//! and the fake org). With `deleted = "keep"`, rows kept with `isdeleted = true` for
//! records in the org's recycle bin survive a reconcile; only records gone for good (a
//! hard delete, a purge from the recycle bin) leave the mirror.

mod jobs_common;

use std::time::Duration;

use jobs_common::harness::Harness;
use orgpool::fake_org::ids::RecordId;
use orgpool::fake_org::{FakeOrgConfig, SeedConfig};
use orgpool::jobs::registry::{INITIAL_LOAD, RECONCILE, RESYNC};

const KEEP: &str = r#"
[[mapping]]
object = "Contact"
fields = ["LastName"]
chunk_size = 1000
poll_interval = "60m"
deleted = "keep"
"#;

fn org() -> FakeOrgConfig {
    FakeOrgConfig {
        seed: SeedConfig {
            accounts: 10,
            contacts_per_account: 3,
            opportunities: 0,
            lines_per_opportunity: 0,
            ..Default::default()
        },
        bulk_delay: Duration::from_millis(5),
        ..Default::default()
    }
}

async fn ids(h: &Harness) -> Vec<String> {
    sqlx::query_scalar("SELECT sfid FROM salesforce.contact ORDER BY sfid")
        .fetch_all(&h.pool)
        .await
        .unwrap()
}

/// `(rows, rows flagged isdeleted)` of the mirror.
async fn rows(h: &Harness) -> (i64, i64) {
    (
        h.count("SELECT count(*) FROM salesforce.contact").await,
        h.count("SELECT count(*) FROM salesforce.contact WHERE isdeleted")
            .await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_keeps_soft_deleted_rows_and_removes_only_records_gone_for_good() {
    let h = Harness::new("reconcile_keep", org(), KEEP).await;
    let run = h.start(&INITIAL_LOAD, "Contact").await;
    assert_eq!(h.drive(run).await, "succeeded");
    let all = ids(&h).await;
    assert_eq!(all.len(), 30);

    // Five records go to the recycle bin; resync keeps their rows, flagged.
    let binned: Vec<String> = all[..5].to_vec();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    h.org.with_store_mut(|s| {
        let obj = s.schema.index("Contact").unwrap();
        for id in &binned {
            s.delete(obj, RecordId::parse(id).unwrap()).unwrap();
        }
    });
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let run = h.start(&RESYNC, "Contact").await;
    assert_eq!(h.drive(run).await, "succeeded");
    assert_eq!(rows(&h).await, (30, 5));

    // Then one of them is purged from the recycle bin and one live record is hard
    // deleted: neither exists in the org any more, not even for queryAll.
    let purged = binned[0].clone();
    let hard = all[10].clone();
    h.org.with_store_mut(|s| {
        let obj = s.schema.index("Contact").unwrap();
        s.hard_delete(obj, RecordId::parse(&purged).unwrap())
            .unwrap();
        s.hard_delete(obj, RecordId::parse(&hard).unwrap()).unwrap();
    });

    let run = h.start(&RECONCILE, "Contact").await;
    assert_eq!(h.drive(run).await, "succeeded");
    assert_eq!(
        rows(&h).await,
        (28, 4),
        "the four records still in the recycle bin keep their rows"
    );
    let left = ids(&h).await;
    assert!(!left.contains(&purged) && !left.contains(&hard), "{left:?}");
    for id in &binned[1..] {
        let (deleted,): (bool,) =
            sqlx::query_as("SELECT isdeleted FROM salesforce.contact WHERE sfid = $1")
                .bind(id)
                .fetch_one(&h.pool)
                .await
                .unwrap();
        assert!(deleted, "{id} is kept flagged");
    }

    // The mirror now matches the org, recycle bin included: a second reconcile
    // re-reads nothing and changes nothing.
    let run = h.start(&RECONCILE, "Contact").await;
    assert_eq!(h.drive(run).await, "succeeded");
    let (chunks,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM orgpool.chunks WHERE run_id = $1 AND spec ? 'range'")
            .bind(run)
            .fetch_one(&h.pool)
            .await
            .unwrap();
    assert_eq!(chunks, 0, "no range differs");
    assert_eq!(rows(&h).await, (28, 4));
    h.close().await;
}
