//! Change events on a read_write mapping, with the real binaries: orgpool's own
//! write-back changes come back as events (`changeOrigin` names `client=orgpool`) and
//! neither duplicate the app's row nor overwrite a newer local edit; an event for a
//! record whose local change is still waiting is held, and the row ends as Salesforce
//! decided once write-back settles.

mod jobs_common;
mod writeback_common;

use std::time::Duration;

use jobs_common::Env;
use serde_json::json;
use writeback_common::*;

const MAPPINGS: &str = r#"
[[mapping]]
object = "Account"
fields = ["Name", "Industry", "Ext_Key__c"]
access = "read_write"
upsert_field = "Ext_Key__c"
events = true
poll_interval = "1h"
"#;

async fn world(name: &str) -> (Env, u32) {
    let mut env = Env::new(name, org(), MAPPINGS).await;
    env.spawn(&["scheduler", "--tick-seconds", "1"], &[]);
    let worker = env.spawn(&["worker"], &[]);
    let e = &env;
    e.eventually("Account loaded and its events live", Duration::from_secs(60), || async move {
        e.count("SELECT count(*) FROM orgpool.mappings WHERE state = 'ready'").await == 1
            && e.count("SELECT count(*) FROM orgpool.subscriptions WHERE state = 'live'").await == 1
            && e.count("SELECT count(*) FROM orgpool.runs WHERE kind = 'resync' AND state = 'succeeded'").await >= 1
    })
    .await;
    (env, worker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_inserts_come_back_as_events_without_a_second_row() {
    let (env, _) = world("events_wb_insert").await;
    let applied = env.count("SELECT applied FROM orgpool.subscriptions").await;
    app(&env, "INSERT INTO salesforce.account (name, ext_key__c) VALUES ('Own 1', 'EVW-1'), ('Own 2', 'EVW-2')").await;
    drained(&env, Duration::from_secs(30)).await;
    // The CREATE events of those inserts arrive and are consumed...
    env.eventually(
        "the own CREATE events consumed",
        Duration::from_secs(30),
        || async {
            env.count("SELECT applied FROM orgpool.subscriptions").await > applied
                && env
                    .count("SELECT count(*) FROM orgpool.change_events")
                    .await
                    == 0
        },
    )
    .await;
    // ...and the app's rows are the records, once each.
    one_record_per_row(&env, "Account", "EVW-", 2, &["INSERTED", "SYNCED"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_never_overwrites_a_local_change_still_waiting() {
    let (mut env, worker) = world("events_wb_held").await;
    let (sfid,): (String,) =
        sqlx::query_as("SELECT sfid::text FROM salesforce.account ORDER BY sfid LIMIT 1")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    stop(&mut env, worker);
    // The app edits the row (captured, not sent: no worker), then someone edits the
    // record in Salesforce: its event is stored, and the later writer is Salesforce.
    app(
        &env,
        &format!("UPDATE salesforce.account SET name = 'local' WHERE sfid = '{sfid}'"),
    )
    .await;
    // Salesforce keeps times to the second: a second later, it is the later writer.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let client = env.client().await;
    client
        .send(
            &orgpool::salesforce::Request::new(
                orgpool::salesforce::Api::Rest,
                reqwest::Method::PATCH,
                format!("/sobjects/Account/{sfid}"),
            )
            .json(json!({"Name": "remote"})),
        )
        .await
        .expect("PATCH");
    env.eventually(
        "the remote change's event stored",
        Duration::from_secs(30),
        || async {
            env.count("SELECT count(*) FROM orgpool.change_events")
                .await
                >= 1
        },
    )
    .await;
    env.spawn(&["worker"], &[]);
    // While the local change waits, the row keeps it.
    let started = std::time::Instant::now();
    loop {
        let (name, waiting): (String, i64) = sqlx::query_as(
            "SELECT (SELECT name::text FROM salesforce.account WHERE sfid = $1),
                    (SELECT count(*) FROM salesforce._trigger_log WHERE state IN ('NEW', 'PENDING'))",
        )
        .bind(&sfid)
        .fetch_one(&env.pool)
        .await
        .unwrap();
        if waiting == 0 {
            break;
        }
        assert_eq!(
            name, "local",
            "an event overwrote a local change still waiting to be sent"
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "write-back did not settle\n{}",
            env.logs()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Salesforce wrote last, so its value stands, in the org and in the row.
    until(
        &env,
        "the row shows what Salesforce decided",
        &format!(
            "SELECT count(*) FROM salesforce.account WHERE sfid = '{sfid}' AND name = 'remote'"
        ),
        1,
    )
    .await;
    let org_name = org_query(
        &env,
        &format!("SELECT Name FROM Account WHERE Id = '{sfid}'"),
    )
    .await;
    assert_eq!(org_name[0]["Name"], "remote");
}
