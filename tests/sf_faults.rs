//! The client under faults: an outage during a query (the call waits and completes, the
//! outage is counted and flagged for the fleet; a longer one ends in `Outage`), and the
//! API budget shared by two clients through Redis (calls pause, nothing is lost, the cap
//! and the org share are never exceeded, the org's own limit is a `Limit` error).

mod sf_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use orgpool::classify::Classify;
use orgpool::fake_org::{FakeOrgConfig, OutageMode};
use orgpool::salesforce::{BudgetConfig, ErrorClass, Scope, SfError};
use parking_lot::Mutex;
use sf_common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_during_a_bulk_query_is_waited_out() {
    let org = start(org_config(5_000)).await;
    let mut cfg = sf_config(&org);
    cfg.bulk_page_rows = 1_000;
    let client = client_with(cfg, &prefix("outage-bulk")).await;
    let mut results = client
        .bulk_query("SELECT Id, Name FROM Opportunity", Scope::Live)
        .await
        .unwrap();
    let outages = || {
        counter(
            "orgpool_salesforce_requests_total",
            &[r#"api="bulk_query""#, r#"outcome="outage""#],
        )
    };
    let before = outages();
    let started = Instant::now();
    let mut chunks = 0;
    while let Some(_c) = results
        .next_chunk()
        .await
        .expect("waits instead of failing")
    {
        chunks += 1;
        if chunks == 1 {
            org.outage(Duration::from_secs(2), OutageMode::Unavailable);
        }
    }
    assert_eq!(results.rows(), 5_000);
    assert!(
        started.elapsed() >= Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );
    assert!(outages() > before, "the outage was counted as outage");
    assert_eq!(
        client.fleet().outage().await.unwrap(),
        None,
        "a probe cleared the flag"
    );
    client.fleet().clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_pause_the_fleet_until_a_probe_succeeds() {
    let org = start(org_config(3_000)).await;
    let name = prefix("outage-fleet");
    // The fake org refuses new connections; fresh clients have none pooled, so their
    // first contact (the login) meets the outage.
    org.outage(Duration::from_secs(2), OutageMode::Refuse);
    let a = client_with(sf_config(&org), &name).await;
    let b = client_with(sf_config(&org), &name).await;
    let call_a = tokio::spawn({
        let a = a.clone();
        async move {
            a.query("SELECT Id FROM Opportunity", Scope::Live)
                .try_collect::<Vec<_>>()
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let flag = b.fleet().outage().await.unwrap();
    assert!(flag.is_some(), "A's outage is visible to B through Redis");
    let n = b
        .count("SELECT COUNT() FROM Opportunity")
        .await
        .expect("B waits, then completes");
    assert_eq!(n, 3_000);
    assert_eq!(call_a.await.unwrap().unwrap().len(), 3_000);
    assert_eq!(a.fleet().outage().await.unwrap(), None);
    a.fleet().clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_longer_outage_ends_in_an_outage_error() {
    let org = start(org_config(10)).await;
    let mut cfg = sf_config(&org);
    cfg.outage_wait = Duration::from_millis(800);
    let client = client_with(cfg, &prefix("outage-long")).await;
    client.login().await.unwrap();
    org.outage(Duration::from_secs(30), OutageMode::Unavailable);
    let started = Instant::now();
    let err = client
        .count("SELECT COUNT() FROM Account")
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Outage, "{err}");
    assert!(matches!(
        err.disposition(),
        orgpool::classify::Disposition::Wait(_)
    ));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    org.end_outage();
    client.fleet().clear().await.unwrap();
}

/// `(when, org api usage)` every 20 ms while `f` runs.
async fn sample_usage<F: std::future::Future>(
    org: &orgpool::fake_org::FakeOrg,
    f: F,
) -> (F::Output, Vec<(Instant, u64)>) {
    let samples = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let out = {
        let sampler = async {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                samples.lock().push((Instant::now(), org.api_usage().0));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        let work = async {
            let r = f.await;
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            r
        };
        tokio::join!(sampler, work).1
    };
    let s = samples.lock().clone();
    (out, s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_share_one_budget_and_never_exceed_it() {
    let org = start(org_config(10)).await;
    let name = prefix("budget-cap");
    let budget = BudgetConfig {
        share: 0.8,
        cap: Some(15),
        window: Duration::from_secs(3),
        ..Default::default()
    };
    let make = || {
        let mut cfg = sf_config(&org);
        cfg.budget = budget.clone();
        client_with(cfg, &name)
    };
    let (a, b) = (make().await, make().await);
    let started = Instant::now();
    let (results, samples) = sample_usage(&org, async {
        let calls: Vec<_> = (0..40)
            .map(|i| {
                let c = if i % 2 == 0 { a.clone() } else { b.clone() };
                tokio::spawn(async move { c.count("SELECT COUNT() FROM Account").await })
            })
            .collect();
        let mut out = Vec::new();
        for c in calls {
            out.push(c.await.unwrap());
        }
        out
    })
    .await;
    assert!(
        results.iter().all(|r| r.as_ref().is_ok_and(|n| *n == 50)),
        "nothing lost: {results:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "calls paused for the window: {:?}",
        started.elapsed()
    );
    for (i, (t1, u1)) in samples.iter().enumerate() {
        for (t2, u2) in &samples[i..] {
            if t2.duration_since(*t1) <= Duration::from_millis(2_500) {
                assert!(
                    u2 - u1 <= 15,
                    "{} requests within {:?}",
                    u2 - u1,
                    t2.duration_since(*t1)
                );
            }
        }
    }
    let waits = counter(
        "orgpool_salesforce_budget_waits_total",
        &[r#"reason="fleet""#],
    );
    assert!(waits >= 1.0);
    a.fleet().clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_stops_at_its_share_of_the_org_allowance() {
    let org = start(FakeOrgConfig {
        api_limit: 40,
        ..org_config(10)
    })
    .await;
    let name = prefix("budget-share");
    let make = || {
        let mut cfg = sf_config(&org);
        cfg.budget.share = 0.5;
        cfg.limit_wait = Duration::from_millis(300);
        client_with(cfg, &name)
    };
    let (a, b) = (make().await, make().await);
    let calls: Vec<_> = (0..30)
        .map(|i| {
            let c = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { c.count("SELECT COUNT() FROM Account").await })
        })
        .collect();
    let mut ok = 0;
    for c in calls {
        match c.await.unwrap() {
            Ok(_) => ok += 1,
            Err(SfError::Limit { retry_after, .. }) => assert!(retry_after.is_some()),
            Err(e) => panic!("{e:?}"),
        }
    }
    let (used, limit) = org.api_usage();
    assert_eq!(limit, 40);
    // The share is 20; while it is spent the fleet re-checks the org's /limits once per
    // ORGPOOL_API_BUDGET_RECHECK_SECS (one call in a test this short).
    assert!(
        used <= 21,
        "the org saw {used} requests; the share is 20, plus one re-check"
    );
    assert!((15..30).contains(&ok), "{ok} calls went through");
    a.fleet().clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_orgs_own_limit_is_a_limit_error() {
    let org = start(org_config(10)).await;
    let mut cfg = sf_config(&org);
    cfg.limit_wait = Duration::from_millis(300);
    let client = client_with(cfg, &prefix("org-limit")).await;
    client.count("SELECT COUNT() FROM Account").await.unwrap();
    // Another app spends the org's allowance.
    org.set_api_limit(org.api_usage().0, false);
    let err = client
        .count("SELECT COUNT() FROM Account")
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Limit, "{err}");
    let (used, limit) = org.api_usage();
    assert!(used <= limit, "refused requests are not counted by the org");
    let (_, org_used, org_limit) = client.fleet().usage().await.unwrap();
    assert!(
        org_used >= org_limit,
        "the fleet now knows the org is spent"
    );
    client.fleet().clear().await.unwrap();
}
