//! Change events through failures, with the real binaries: a scheduler killed with
//! SIGKILL resumes from the replay id stored with the applied changes (no event lost,
//! no resync needed); a subscription the server drops resumes; a token that expires
//! mid-stream is replaced and the stream goes on; of two schedulers one subscribes,
//! and the other takes over when it dies.

mod events_common;
mod jobs_common;

use std::time::Duration;

use events_common::*;
use reqwest::Method;
use serde_json::json;

const SOON: Duration = Duration::from_secs(30);

async fn rename(env: &jobs_common::Env, id: &str, name: &str) {
    rest(
        env,
        Method::PATCH,
        &format!("/sobjects/Account/{id}"),
        Some(json!({"Name": name})),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_scheduler_resumes_from_the_stored_replay_id() {
    let mut env = started("events_restart", 1).await;
    let ids = accounts(&env, 3).await;
    rename(&env, &ids[0], "before the kill").await;
    until_cell(
        &env,
        "the first change mirrored",
        &ids[0],
        "name",
        Some(Some("before the kill")),
        SOON,
    )
    .await;
    let stored: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT replay_id FROM orgpool.subscriptions WHERE object = 'Account'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert!(
        stored.is_some_and(|r| r.len() == 8),
        "an 8-byte replay id is stored with the applied change"
    );
    let polls = resyncs(&env).await;

    let scheduler = env.pid_of(0);
    env.signal(scheduler, "KILL");
    assert!(env.wait_exit(scheduler, Duration::from_secs(10)));
    // Changes while nobody listens.
    rename(&env, &ids[1], "while down 1").await;
    rename(&env, &ids[2], "while down 2").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.spawn(&["scheduler", "--tick-seconds", "1"], &[]);
    until_cell(
        &env,
        "a change made while down mirrored",
        &ids[1],
        "name",
        Some(Some("while down 1")),
        SOON,
    )
    .await;
    until_cell(
        &env,
        "the other one too",
        &ids[2],
        "name",
        Some(Some("while down 2")),
        SOON,
    )
    .await;
    assert_eq!(
        resyncs(&env).await,
        polls,
        "the replay carried them, not a resync"
    );
    // Received once each: the replay started after the stored id.
    assert_eq!(
        env.count("SELECT received FROM orgpool.subscriptions WHERE object = 'Account'")
            .await,
        env.count("SELECT applied FROM orgpool.subscriptions WHERE object = 'Account'")
            .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_subscription_and_an_expired_token_are_survived() {
    // Two events of credit, so the stream asks again (and shows its token) often.
    let env = started_with(
        "events_drop",
        1,
        MAPPINGS,
        &[("ORGPOOL_EVENTS_CREDIT", "2")],
    )
    .await;
    let ids = accounts(&env, 2).await;

    env.org.pubsub().bus.drop_subscriptions();
    env.eventually("the subscriber sees the drop", SOON, || async {
        env.count("SELECT gaps FROM orgpool.subscriptions WHERE object = 'Account'")
            .await
            >= 1
    })
    .await;
    live(&env).await;
    rename(&env, &ids[0], "after the drop").await;
    until_cell(
        &env,
        "a change after the drop mirrored",
        &ids[0],
        "name",
        Some(Some("after the drop")),
        SOON,
    )
    .await;

    assert!(env.org.expire_tokens() >= 1, "sessions expired");
    for i in 0..5 {
        rename(&env, &ids[1], &format!("after expiry {i}")).await;
    }
    until_cell(
        &env,
        "changes after the token expired mirrored",
        &ids[1],
        "name",
        Some(Some("after expiry 4")),
        SOON,
    )
    .await;
    live(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_schedulers_one_subscribes_and_the_other_takes_over() {
    let mut env = started("events_two", 1).await;
    env.spawn(&["scheduler", "--tick-seconds", "1"], &[]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let leading =
        |env: &jobs_common::Env, i: usize| env.log_of("scheduler", i).contains("leading=true");
    // Children: scheduler 0, worker 1, scheduler 2.
    assert!(
        leading(&env, 0),
        "the first scheduler subscribes\n{}",
        env.logs()
    );
    assert!(!leading(&env, 2), "the second one waits\n{}", env.logs());

    let first = env.pid_of(0);
    env.signal(first, "KILL");
    assert!(env.wait_exit(first, Duration::from_secs(10)));
    env.eventually(
        "the second scheduler takes over",
        Duration::from_secs(40),
        || async { env.log_of("scheduler", 2).contains("leading=true") },
    )
    .await;
    let ids = accounts(&env, 1).await;
    rename(&env, &ids[0], "after the hand-over").await;
    until_cell(
        &env,
        "a change after the hand-over mirrored",
        &ids[0],
        "name",
        Some(Some("after the hand-over")),
        SOON,
    )
    .await;
}
