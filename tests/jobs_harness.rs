//! Unit-level tests of `jobs/`, `ledger/` and `scheduler/` on the in-process harness
//! (real Postgres and Redis, the fake org in process, chunks driven one at a time):
//! a load and a resync to an exact mirror, a run that finalizes only once every chunk
//! succeeded, a stored chunk spec that no longer decodes, cancel's rules, and the
//! scheduler's first pass.

mod jobs_common;

use std::time::Duration;

use jobs_common::harness::{Harness, WORKER};
use orgpool::fake_org::{FakeOrgConfig, SeedConfig};
use orgpool::jobs::registry::{INITIAL_LOAD, RESYNC};
use orgpool::ledger::{self, Claim, LedgerError};

const MAPPINGS: &str = r#"
[[mapping]]
object = "Account"
fields = ["Name", "AnnualRevenue"]
chunk_size = 1000
poll_interval = "60m"
"#;

fn org(accounts: u64) -> FakeOrgConfig {
    FakeOrgConfig {
        seed: SeedConfig {
            accounts,
            opportunities: 0,
            lines_per_opportunity: 0,
            ..Default::default()
        },
        bulk_delay: Duration::from_millis(5),
        ..Default::default()
    }
}

async fn watermark(h: &Harness) -> Option<chrono::DateTime<chrono::Utc>> {
    let (w,) = sqlx::query_as("SELECT watermark FROM orgpool.mappings WHERE object = 'Account'")
        .fetch_one(&h.pool)
        .await
        .unwrap();
    w
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_then_a_resync_bring_the_mirror_to_the_org() {
    let h = Harness::new("load", org(2_500), MAPPINGS).await;
    let run = h.start(&INITIAL_LOAD, "Account").await;
    assert_eq!(h.drive(run).await, "succeeded");
    assert_eq!(
        h.count("SELECT count(*) FROM salesforce.account").await,
        2_500
    );
    let loaded = watermark(&h).await.expect("the load sets the watermark");

    // A change in the org reaches the mirror through a resync, which moves the mark.
    let (id,): (String,) =
        sqlx::query_as("SELECT sfid FROM salesforce.account ORDER BY sfid LIMIT 1")
            .fetch_one(&h.pool)
            .await
            .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    h.org.with_store_mut(|s| {
        let obj = s.schema.index("Account").unwrap();
        let id = orgpool::fake_org::ids::RecordId::parse(&id).unwrap();
        let pairs = s.assigns(
            obj,
            &[(
                "Name",
                orgpool::fake_org::value::Value::Text("Renamed".into()),
            )],
        );
        s.update(obj, id, pairs, None).unwrap();
    });
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let run = h.start(&RESYNC, "Account").await;
    assert_eq!(h.drive(run).await, "succeeded");
    let (name,): (String,) = sqlx::query_as("SELECT name FROM salesforce.account WHERE sfid = $1")
        .bind(&id)
        .fetch_one(&h.pool)
        .await
        .unwrap();
    assert_eq!(name, "Renamed");
    assert!(watermark(&h).await.unwrap() > loaded);
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_finalizes_only_after_every_chunk_succeeded() {
    let h = Harness::new("final", org(3_000), MAPPINGS).await;
    let run = h.start(&INITIAL_LOAD, "Account").await;
    // The plan step, alone.
    let (plan, queue) = h.runnable(run).await.remove(0);
    h.run_chunk(plan, &queue).await;
    let chunks = h.runnable(run).await;
    assert!(chunks.len() >= 3, "{chunks:?}");
    // The first work chunk fails for good (as a permanent error would fail it).
    let Claim::Claimed(first) = ledger::chunks::claim(&h.pool, chunks[0].0, WORKER)
        .await
        .unwrap()
    else {
        panic!("claimable")
    };
    ledger::lifecycle::chunk_failed(&h.pool, &first, WORKER, "permanent", "refused")
        .await
        .unwrap();
    assert_eq!(h.drive(run).await, "failed");
    assert_eq!(
        watermark(&h).await,
        None,
        "no finalize: the watermark is not set"
    );
    let (state,): (String,) =
        sqlx::query_as("SELECT state FROM orgpool.mappings WHERE object = 'Account'")
            .fetch_one(&h.pool)
            .await
            .unwrap();
    assert_eq!(state, "loading");

    // Retry re-opens the run; its last chunk finalizes it, once.
    let again = ledger::lifecycle::retry(&h.pool, None, Some(run))
        .await
        .unwrap();
    assert_eq!(again, vec![first.id]);
    assert_eq!(h.state(run).await, "running");
    assert_eq!(h.drive(run).await, "succeeded");
    assert!(watermark(&h).await.is_some());
    assert_eq!(
        h.count("SELECT count(*) FROM salesforce.account").await,
        3_000
    );
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_spec_that_no_longer_decodes_fails_naming_the_run_and_chunk() {
    let h = Harness::new("decode", org(1_500), MAPPINGS).await;
    let run = h.start(&INITIAL_LOAD, "Account").await;
    let (plan, queue) = h.runnable(run).await.remove(0);
    h.run_chunk(plan, &queue).await;
    let (bad, _) = h.runnable(run).await.remove(0);
    sqlx::query("UPDATE orgpool.chunks SET spec = '{\"span\": [1, 2]}' WHERE id = $1")
        .bind(bad)
        .execute(&h.pool)
        .await
        .unwrap();
    assert_eq!(h.drive(run).await, "failed");
    let (class, error): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT error_class, error FROM orgpool.chunks WHERE id = $1")
            .bind(bad)
            .fetch_one(&h.pool)
            .await
            .unwrap();
    let error = error.unwrap();
    assert_eq!(class.as_deref(), Some("decode"));
    assert!(error.contains(&format!("run {run}")), "{error}");
    assert!(
        error.contains(&format!("chunk spec of chunk {bad}")),
        "{error}"
    );
    assert!(
        error.contains("jobs cancel"),
        "the error names the fix: {error}"
    );
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_an_active_run_once_and_a_held_chunk_cannot_commit() {
    let h = Harness::new("cancel", org(3_000), MAPPINGS).await;
    let run = h.start(&INITIAL_LOAD, "Account").await;
    let (plan, queue) = h.runnable(run).await.remove(0);
    h.run_chunk(plan, &queue).await;
    let chunks = h.runnable(run).await;
    // A worker holds the first chunk when the run is cancelled.
    let Claim::Claimed(held) = ledger::chunks::claim(&h.pool, chunks[0].0, WORKER)
        .await
        .unwrap()
    else {
        panic!("claimable")
    };
    let n = ledger::lifecycle::cancel(&h.pool, run, "test")
        .await
        .unwrap();
    assert_eq!(n as usize, chunks.len());
    assert_eq!(h.state(run).await, "cancelled");
    let mut tx = h.pool.begin().await.unwrap();
    let ended = ledger::lifecycle::chunk_done(&mut tx, &held, WORKER, 10)
        .await
        .unwrap();
    assert!(matches!(ended, ledger::Ended::NotOurs), "{ended:?}");
    drop(tx);
    assert!(
        !ledger::chunks::heartbeat(&h.pool, held.id, WORKER)
            .await
            .unwrap()
    );
    match ledger::lifecycle::cancel(&h.pool, run, "again").await {
        Err(LedgerError::RunEnded { state, .. }) => assert_eq!(state, "cancelled"),
        other => panic!("{other:?}"),
    }
    // Claiming a cancelled chunk finds it finished (a late delivery does nothing).
    assert!(matches!(
        ledger::chunks::claim(&h.pool, chunks[1].0, WORKER)
            .await
            .unwrap(),
        Claim::Finished
    ));
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedulers_first_pass_starts_one_initial_load_per_new_mapping() {
    let h = Harness::new("tick", org(100), MAPPINGS).await;
    let every = Duration::from_secs(86_400);
    let first = orgpool::scheduler::tick::tick(&h.services, &h.mappings.mapping, every)
        .await
        .unwrap();
    assert_eq!(
        first.started,
        vec![("initial_load".to_string(), "Account".to_string())]
    );
    let second = orgpool::scheduler::tick::tick(&h.services, &h.mappings.mapping, every)
        .await
        .unwrap();
    assert!(second.started.is_empty(), "{second:?}");
    assert_eq!(h.count("SELECT count(*) FROM orgpool.runs").await, 1);
    h.close().await;
}
