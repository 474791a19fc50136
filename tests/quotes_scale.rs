//! Quote generation at scale: 100,000 Opportunities priced by two worker processes;
//! every selected Opportunity has exactly one Quote and every line one QuoteLineItem.

mod jobs_common;

use std::time::Duration;

use jobs_common::{Env, QUOTE_MAPPINGS};
use orgpool::fake_org::{FakeOrgConfig, SeedConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_opportunities_get_exactly_one_quote_each() {
    let org = FakeOrgConfig {
        seed: SeedConfig {
            accounts: 5_000,
            opportunities: 100_000,
            lines_per_opportunity: 2,
            ..Default::default()
        },
        bulk_delay: Duration::from_millis(5),
        ..Default::default()
    };
    let mut env = Env::new("quotes_scale", org, QUOTE_MAPPINGS).await;
    std::fs::write(&env.quotes, "[selection]\nwhere = \"Name != null\"\nchunk_size = 5000\n[pricing]\n[[pricing.family]]\nfamily = \"Hardware\"\ndiscount = 3\n").unwrap();
    env.spawn(&["worker"], &[("RUST_LOG", "warn")]);
    env.spawn(&["worker"], &[("RUST_LOG", "warn")]);
    let out = env.ok(&["enqueue", "initial-load", "--all", "--wait"]);
    assert_eq!(out.matches("succeeded").count(), 6, "{out}");
    let started = std::time::Instant::now();
    let out = env.ok(&["enqueue", "quotes", "--wait"]);
    assert!(out.contains("succeeded"), "{out}\n{}", env.logs());
    eprintln!(
        "quoted 100,000 Opportunities in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(env.org.count("Quote"), 100_000);
    assert_eq!(env.org.count("QuoteLineItem"), 200_000);
    let (workers,): (i64,) = sqlx::query_as(
        "SELECT count(DISTINCT split_part(worker, ':', 1)) FROM orgpool.chunks WHERE kind = 'quote_generation' AND step = 'work'",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(workers, 2, "both workers quoted");
    let client = env.client().await;
    let distinct = client
        .count("SELECT COUNT() FROM Quote WHERE Orgpool_Key__c != null")
        .await
        .unwrap();
    assert_eq!(distinct, 100_000);
}
