//! The scheduler drives sync by itself: new mappings get an initial load, then resyncs
//! on their interval; two schedulers at once never start the same run twice; a field
//! added to a mapping gets its column and a backfill while the other mapping keeps
//! syncing; and two records stamped in the same second at a window boundary are both
//! caught.

mod jobs_common;

use std::time::Duration;

use jobs_common::Env;
use orgpool::fake_org::{FakeOrgConfig, SeedConfig};
use serde_json::json;

fn org() -> FakeOrgConfig {
    FakeOrgConfig {
        seed: SeedConfig {
            accounts: 200,
            opportunities: 3_000,
            lines_per_opportunity: 0,
            ..Default::default()
        },
        bulk_delay: Duration::from_millis(20),
        ..Default::default()
    }
}

fn mappings(opportunity_fields: &str) -> String {
    format!(
        r#"
[[mapping]]
object = "Account"
fields = ["Name"]
poll_interval = "2s"
allow_fast_poll = true

[[mapping]]
object = "Opportunity"
fields = {opportunity_fields}
poll_interval = "2s"
allow_fast_poll = true
chunk_size = 1000
"#
    )
}

async fn count(env: &Env, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&env.pool)
        .await
        .unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schedulers_load_resync_and_backfill_an_added_field() {
    let mut env = Env::new("schedule", org(), &mappings(r#"["Name", "Amount"]"#)).await;
    env.spawn(&["scheduler", "--tick-seconds", "1"], &[]);
    env.spawn(&["scheduler", "--tick-seconds", "1"], &[]);
    env.spawn(&["worker"], &[]);
    env.eventually("both mappings loaded and resynced twice", Duration::from_secs(90), || async {
        count(&env, "SELECT count(*) FROM orgpool.mappings WHERE state = 'ready'").await == 2
            && count(&env, "SELECT count(*) FROM orgpool.runs WHERE kind = 'resync' AND state = 'succeeded' AND object = 'Account'").await >= 2
            && count(&env, "SELECT count(*) FROM orgpool.runs WHERE kind = 'resync' AND state = 'succeeded' AND object = 'Opportunity'").await >= 2
    })
    .await;
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM orgpool.runs WHERE kind = 'initial_load'"
        )
        .await,
        2,
        "one initial load per mapping, whatever the number of schedulers\n{}",
        env.logs()
    );

    // Add StageName to Opportunity: the scheduler picks up the edit, the next resync
    // adds the column and backfills it, and Account keeps syncing meanwhile.
    let account_resyncs = count(&env, "SELECT count(*) FROM orgpool.runs WHERE kind = 'resync' AND object = 'Account' AND state = 'succeeded'").await;
    std::fs::write(
        &env.mappings,
        mappings(r#"["Name", "Amount", "StageName"]"#),
    )
    .unwrap();
    env.eventually("StageName backfilled", Duration::from_secs(90), || async {
        count(&env, "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'salesforce' AND table_name = 'opportunity' AND column_name = 'stagename'").await == 1
            && count(&env, "SELECT count(*) FROM salesforce.opportunity WHERE stagename IS NULL").await == 0
    })
    .await;
    env.eventually("Account still syncing", Duration::from_secs(30), || async {
        count(&env, "SELECT count(*) FROM orgpool.runs WHERE kind = 'resync' AND object = 'Account' AND state = 'succeeded'").await > account_resyncs
    })
    .await;
    let cols = [
        "sfid",
        "systemmodstamp",
        "isdeleted",
        "name",
        "amount",
        "stagename",
    ];
    let fields = [
        "Id",
        "SystemModstamp",
        "IsDeleted",
        "Name",
        "Amount",
        "StageName",
    ];
    let mirror = env.mirror_snapshot("opportunity", &cols).await;
    let org = env
        .org_snapshot("Opportunity", "opportunity", &fields, &cols)
        .await;
    assert_eq!(mirror, org, "{}", env.logs());
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM orgpool.chunks WHERE state = 'failed'"
        )
        .await,
        0,
        "{}",
        env.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_stamped_in_the_same_second_at_a_window_boundary_are_both_caught() {
    let mut env = Env::new("boundary", org(), &mappings(r#"["Name", "Amount"]"#)).await;
    env.spawn(&["worker"], &[]);
    env.ok(&["enqueue", "initial-load", "Opportunity", "--wait"]);
    let client = env.client().await;
    let ids: Vec<String> = {
        use futures::TryStreamExt;
        let rows: Vec<serde_json::Value> = client
            .query(
                "SELECT Id FROM Opportunity ORDER BY Id LIMIT 2",
                orgpool::salesforce::Scope::Live,
            )
            .try_collect()
            .await
            .unwrap();
        rows.iter()
            .map(|r| r["Id"].as_str().unwrap().to_string())
            .collect()
    };
    // Salesforce stamps whole seconds here, so A and B share one SystemModstamp. A is
    // written, the resync's window closes at that very second (the end is exclusive),
    // then B is written with the same stamp: the next window must still see it.
    for attempt in 0.. {
        let now = chrono::Utc::now();
        if now.timestamp_subsec_millis() > 300 {
            tokio::time::sleep(Duration::from_millis(
                1_000 - now.timestamp_subsec_millis() as u64 + 10,
            ))
            .await;
        }
        let second = chrono::Utc::now().timestamp();
        client
            .update_records(
                "Opportunity",
                &[json!({"Id": ids[0], "Amount": 1000 + attempt})],
            )
            .await
            .unwrap();
        env.ok(&["enqueue", "resync", "Opportunity", "--wait"]);
        client
            .update_records(
                "Opportunity",
                &[json!({"Id": ids[1], "Amount": 2000 + attempt})],
            )
            .await
            .unwrap();
        let (to,): (chrono::DateTime<chrono::Utc>,) = sqlx::query_as(
            "SELECT window_to FROM orgpool.runs WHERE kind = 'resync' ORDER BY id DESC LIMIT 1",
        )
        .fetch_one(&env.pool)
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        env.ok(&["enqueue", "resync", "Opportunity", "--wait"]);
        let amounts: Vec<(String, f64)> = sqlx::query_as("SELECT sfid, amount::float8 FROM salesforce.opportunity WHERE sfid = ANY($1) ORDER BY sfid")
            .bind(&ids)
            .fetch_all(&env.pool)
            .await
            .unwrap();
        assert_eq!(amounts[0].1, (1000 + attempt) as f64, "{}", env.logs());
        assert_eq!(amounts[1].1, (2000 + attempt) as f64, "{}", env.logs());
        if to.timestamp() == second || attempt >= 4 {
            assert_eq!(
                to.timestamp(),
                second,
                "could not make the window end in the stamped second"
            );
            break;
        }
    }
}
