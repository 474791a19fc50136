//! Pausing a mapping (the console's Pause button, `orgpool mappings pause`): the
//! scheduler's pass starts no run for it, neither its initial load nor a due resync,
//! and resuming lets the schedule go on where it stood; a paused mapping's change-event
//! stream stops (the subscription says why) and comes back live on resume. Against
//! real Postgres and Redis, the scheduler's own pass (`scheduler::tick`) and the real
//! scheduler process with the fake org's Pub/Sub API.

mod events_common;
mod jobs_common;

use std::time::Duration;

use jobs_common::harness::Harness;
use orgpool::ledger::{self, LedgerError};

const MAPPINGS: &str = r#"
[[mapping]]
object = "Account"
fields = ["Name"]
chunk_size = 1000
poll_interval = "60m"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_skips_a_paused_mapping_and_goes_on_when_it_is_resumed() {
    let h = Harness::new("pause", jobs_common::seeded_org(50, 0, 0), MAPPINGS).await;
    let every = Duration::from_secs(86_400);
    let tick = || orgpool::scheduler::tick(&h.services, &h.mappings.mapping, every);

    // Paused before its first load: no initial load.
    assert_eq!(
        ledger::mappings::set_paused(&h.pool, "account", true)
            .await
            .unwrap(),
        ("Account".to_string(), true),
        "matched without regard to case, named as mapped"
    );
    assert_eq!(
        ledger::mappings::set_paused(&h.pool, "Account", true)
            .await
            .unwrap(),
        ("Account".to_string(), false),
        "pausing twice changes nothing"
    );
    assert!(tick().await.unwrap().started.is_empty());
    assert_eq!(h.count("SELECT count(*) FROM orgpool.runs").await, 0);

    // Resumed: the load starts and is driven to the end.
    ledger::mappings::set_paused(&h.pool, "Account", false)
        .await
        .unwrap();
    let started = tick().await.unwrap().started;
    assert_eq!(started, vec![("initial_load".into(), "Account".into())]);
    let (load,): (i64,) = sqlx::query_as("SELECT max(id) FROM orgpool.runs")
        .fetch_one(&h.pool)
        .await
        .unwrap();
    assert_eq!(h.drive(load).await, "succeeded");

    // A resync is due (its clock set back past the interval), but the mapping is paused.
    sqlx::query("UPDATE orgpool.mappings SET last_resync_at = now() - interval '2 hours'")
        .execute(&h.pool)
        .await
        .unwrap();
    ledger::mappings::set_paused(&h.pool, "Account", true)
        .await
        .unwrap();
    assert!(tick().await.unwrap().started.is_empty());
    assert_eq!(h.count("SELECT count(*) FROM orgpool.runs").await, 1);
    assert_eq!(
        h.count("SELECT count(*) FROM orgpool.mappings WHERE paused AND paused_at IS NOT NULL")
            .await,
        1
    );
    let status = orgpool::status::read(&h.services).await.unwrap();
    assert!(status.mappings[0].paused);

    // Resumed: the resync that was due starts.
    ledger::mappings::set_paused(&h.pool, "Account", false)
        .await
        .unwrap();
    assert_eq!(
        tick().await.unwrap().started,
        vec![("resync".into(), "Account".into())]
    );
    assert_eq!(
        h.count("SELECT count(*) FROM orgpool.mappings WHERE NOT paused AND paused_at IS NULL")
            .await,
        1
    );

    // An object the ledger does not know is an error naming it.
    match ledger::mappings::set_paused(&h.pool, "Contract", true).await {
        Err(LedgerError::NoSuchMapping(o)) => assert_eq!(o, "Contract"),
        other => panic!("{other:?}"),
    }
    h.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_mapping_has_no_change_event_stream_until_it_is_resumed() {
    let env = events_common::started("pause_events", 1).await;
    let sub = |state: &'static str| {
        let env = &env;
        move || async move {
            env.count(&format!(
                "SELECT count(*) FROM orgpool.subscriptions WHERE object = 'Account' AND state = '{state}'"
            ))
            .await
                == 1
        }
    };
    assert!(
        env.ok(&["mappings", "pause", "Account"])
            .contains("Account paused")
    );
    env.eventually(
        "the paused stream stopped",
        Duration::from_secs(30),
        sub("stopped"),
    )
    .await;
    let (detail,): (Option<String>,) =
        sqlx::query_as("SELECT detail FROM orgpool.subscriptions WHERE object = 'Account'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert!(
        detail
            .as_deref()
            .is_some_and(|d| d.contains("mapping paused")),
        "{detail:?}"
    );
    assert!(env.ok(&["status"]).contains("PAUSED"));
    assert!(
        env.ok(&["mappings", "resume", "Account"])
            .contains("resumed")
    );
    events_common::live(&env).await;
}
