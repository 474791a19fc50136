//! Gaps in the change-event stream heal, with the real binaries: a GAP_OVERFLOW (too
//! many changes in one transaction for events) and a replay id past the retention
//! window each make a resync due, which reads what the stream could not deliver; a
//! GAP_UPDATE naming records has them read by Id. Changes to fields the mapping does
//! not name and objects it does not map change nothing.

mod events_common;
mod jobs_common;

use std::time::Duration;

use events_common::*;
use reqwest::Method;
use serde_json::json;

const SOON: Duration = Duration::from_secs(30);

async fn gaps(env: &jobs_common::Env) -> i64 {
    env.count("SELECT gaps FROM orgpool.subscriptions WHERE object = 'Account'")
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overflow_and_a_gap_event_heal() {
    let env = started("events_overflow", 1).await;
    let ids = accounts(&env, 3).await;
    let polls = resyncs(&env).await;

    // One Collections update of two records past a threshold of one: a GAP_OVERFLOW
    // event instead of the changes.
    env.org
        .pubsub()
        .bus
        .update_settings(|s| s.overflow_threshold = 1);
    rest(
        &env,
        Method::PATCH,
        "/composite/sobjects",
        Some(json!({"allOrNone": true, "records": [
            {"attributes": {"type": "Account"}, "id": ids[0], "Name": "overflowed 0"},
            {"attributes": {"type": "Account"}, "id": ids[1], "Name": "overflowed 1"},
        ]})),
    )
    .await;
    env.org
        .pubsub()
        .bus
        .update_settings(|s| s.overflow_threshold = 100_000);
    until_cell(
        &env,
        "the overflowed change healed",
        &ids[0],
        "name",
        Some(Some("overflowed 0")),
        SOON,
    )
    .await;
    until_cell(
        &env,
        "both of them",
        &ids[1],
        "name",
        Some(Some("overflowed 1")),
        SOON,
    )
    .await;
    assert!(resyncs(&env).await > polls, "a resync healed the overflow");
    assert!(gaps(&env).await >= 1);

    // A gap event naming a record: it is read by Id, so a row that went wrong is put
    // right even though nothing changed it in the org lately (no resync window has it).
    sqlx::query("UPDATE salesforce.account SET name = 'wrong' WHERE sfid = $1")
        .bind(&ids[2])
        .execute(&env.pool)
        .await
        .unwrap();
    let truth = env.org.field("Account", &ids[2], "Name").unwrap();
    assert!(
        env.org
            .emit_gap("Account", "GAP_UPDATE", vec![ids[2].clone()])
    );
    until_cell(
        &env,
        "the gap's record read by Id",
        &ids[2],
        "name",
        Some(truth.as_str()),
        SOON,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_id_past_retention_heals_by_resync_and_resubscribes() {
    let mut env = started("events_retention", 1).await;
    let ids = accounts(&env, 2).await;
    rest(
        &env,
        Method::PATCH,
        &format!("/sobjects/Account/{}", ids[0]),
        Some(json!({"Name": "stored"})),
    )
    .await;
    until_cell(
        &env,
        "a first change mirrored",
        &ids[0],
        "name",
        Some(Some("stored")),
        SOON,
    )
    .await;

    let scheduler = env.pid_of(0);
    env.signal(scheduler, "KILL");
    assert!(env.wait_exit(scheduler, Duration::from_secs(10)));
    rest(
        &env,
        Method::PATCH,
        &format!("/sobjects/Account/{}", ids[1]),
        Some(json!({"Name": "missed"})),
    )
    .await;
    // The events after the stored replay id are gone before the subscriber is back.
    env.org
        .pubsub()
        .bus
        .update_settings(|s| s.retention = Duration::from_millis(1));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(env.org.pubsub().bus.earliest().is_none(), "events purged");
    env.org
        .pubsub()
        .bus
        .update_settings(|s| s.retention = Duration::from_secs(3600));
    let polls = resyncs(&env).await;
    env.spawn(&["scheduler", "--tick-seconds", "1"], &[]);
    until_cell(
        &env,
        "the missed change healed",
        &ids[1],
        "name",
        Some(Some("missed")),
        SOON,
    )
    .await;
    assert!(resyncs(&env).await > polls, "by a resync");
    assert!(gaps(&env).await >= 1);
    live(&env).await;
    rest(
        &env,
        Method::PATCH,
        &format!("/sobjects/Account/{}", ids[0]),
        Some(json!({"Name": "after"})),
    )
    .await;
    until_cell(
        &env,
        "events flow again",
        &ids[0],
        "name",
        Some(Some("after")),
        SOON,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmapped_fields_and_objects_change_nothing() {
    let env = started("events_unmapped", 1).await;
    let ids = accounts(&env, 1).await;
    let before: (String, Option<String>) =
        sqlx::query_as("SELECT name::text, industry::text FROM salesforce.account WHERE sfid = $1")
            .bind(&ids[0])
            .fetch_one(&env.pool)
            .await
            .unwrap();
    let applied_before = applied(&env).await;
    // Fax is not mapped; Contact has no mapping at all.
    rest(
        &env,
        Method::PATCH,
        &format!("/sobjects/Account/{}", ids[0]),
        Some(json!({"Fax": "555-0199"})),
    )
    .await;
    rest(
        &env,
        Method::POST,
        "/sobjects/Contact",
        Some(json!({"LastName": "Unmapped"})),
    )
    .await;
    env.eventually("the Fax change's event applied", SOON, || async {
        applied(&env).await > applied_before
    })
    .await;
    let after: (String, Option<String>) =
        sqlx::query_as("SELECT name::text, industry::text FROM salesforce.account WHERE sfid = $1")
            .bind(&ids[0])
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(before, after, "mapped columns unchanged");
    assert_eq!(
        env.count("SELECT count(*) FROM orgpool.subscriptions WHERE object <> 'Account'")
            .await,
        0,
        "no stream for objects without events = true"
    );
    assert_eq!(
        env.count(
            "SELECT count(*) FROM orgpool.runs WHERE kind = 'change_events' AND state = 'failed'"
        )
        .await,
        0
    );
}
