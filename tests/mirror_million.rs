//! An initial load of 1,000,000 Opportunities by two worker processes through the job
//! system: the mirror equals the org by row count and by an md5 over every mapped
//! column in Id order, computed on both sides.

mod jobs_common;

use std::time::Duration;

use jobs_common::Env;
use orgpool::fake_org::{FakeOrgConfig, SeedConfig};

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
    "IsClosed",
];
const COLUMNS: &[&str] = &[
    "sfid",
    "systemmodstamp",
    "isdeleted",
    "name",
    "amount",
    "closedate",
    "stagename",
    "probability",
    "accountid",
    "isclosed",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_opportunities_load_exactly_with_two_workers() {
    let org = FakeOrgConfig {
        seed: SeedConfig {
            accounts: 1_000,
            opportunities: 1_000_000,
            lines_per_opportunity: 0,
            ..Default::default()
        },
        bulk_delay: Duration::from_millis(10),
        ..Default::default()
    };
    let mappings = r#"
[[mapping]]
object = "Opportunity"
fields = ["Name", "Amount", "CloseDate", "StageName", "Probability", "AccountId", "IsClosed"]
chunk_size = 50000
"#;
    let mut env = Env::new("million", org, mappings).await;
    env.spawn(&["worker"], &[("RUST_LOG", "warn")]);
    env.spawn(&["worker"], &[("RUST_LOG", "warn")]);
    let out = env.ok(&["enqueue", "initial-load", "Opportunity", "--wait"]);
    assert!(out.contains("succeeded"), "{out}");
    let (workers,): (i64,) = sqlx::query_as(
        "SELECT count(DISTINCT split_part(worker, ':', 1)) FROM orgpool.chunks WHERE step = 'work'",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        workers,
        2,
        "both worker processes took chunks\n{}",
        env.logs()
    );
    let mirror = env.mirror_snapshot("opportunity", COLUMNS).await;
    assert_eq!(mirror.0, 1_000_000);
    let org = env
        .org_snapshot("Opportunity", "opportunity", FIELDS, COLUMNS)
        .await;
    assert_eq!(mirror, org, "{}", env.logs());
}
