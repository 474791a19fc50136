//! Write-back's failure paths through the real binary (scheduler and worker processes),
//! real Postgres and Redis and the fake org, each test in a world of its own:
//! a worker killed with SIGKILL mid-push leaves exactly one record per insert; an
//! outage never blocks the app and loses nothing; two workers never send a log row
//! twice; the conflict rule (the later writer wins, both ways round); and retryable
//! refusals retried with a backoff until they pass, or FAILED after the last attempt.

mod jobs_common;
mod writeback_common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use orgpool::fake_org::OutageMode;
use serde_json::{Value as Json, json};
use writeback_common::{
    app, drained, log_states, one_record_per_row, org_by_key, org_query, started_with, stop, until,
    until_within,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_push_leaves_exactly_one_record_per_insert() {
    let (mut env, workers) = started_with("wbf_kill", 1, &[]).await;
    let seeded = env.org.count("Account");
    // Two Collections requests of 200 and 100 upserts, each held 800 ms by the org:
    // the kill lands after the first is applied and before the chunk is settled.
    env.org.set_latency(Duration::from_millis(800));
    let n = 300;
    app(
        &env,
        &format!(
            "INSERT INTO salesforce.account (name, ext_key__c)
             SELECT 'Killed ' || g, 'K-' || lpad(g::text, 3, '0') FROM generate_series(1, {n}) g"
        ),
    )
    .await;
    let start = Instant::now();
    while env.org.count("Account") == seeded {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no upsert reached the org\n{}",
            env.logs()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    env.signal(workers[0], "KILL");
    assert!(env.wait_exit(workers[0], Duration::from_secs(10)));
    let reached = env.org.count("Account") - seeded;
    assert!(reached < n, "the kill came after every upsert ({reached})");
    assert_eq!(
        env.count("SELECT count(*) FROM salesforce._trigger_log WHERE state = 'PENDING'")
            .await,
        n as i64,
        "the killed worker's chunk is unsettled: {:?}",
        log_states(&env).await
    );
    env.org.set_latency(Duration::ZERO);
    let killed = Instant::now();
    env.spawn(&["worker"], &[]);
    until_within(
        &env,
        "the inserts settled by another worker",
        "SELECT count(*) FROM salesforce._trigger_log WHERE state = 'SUCCESS'",
        n as i64,
        Duration::from_secs(120),
    )
    .await;
    eprintln!(
        "{reached} of {n} upserts had reached the org at the kill; all settled {:.1} s after it",
        killed.elapsed().as_secs_f64()
    );
    assert_eq!(
        env.org.count("Account") - seeded,
        n,
        "no record without a key"
    );
    one_record_per_row(&env, "Account", "K-", n, &["INSERTED"]).await;
    assert_eq!(
        log_states(&env).await,
        vec![("SUCCESS".to_string(), n as i64)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_never_blocks_the_app_and_loses_nothing() {
    let (env, _) = started_with("wbf_outage", 1, &[]).await;
    let seeded = env.org.count("Account");
    app(
        &env,
        "INSERT INTO salesforce.account (name, ext_key__c)
         SELECT 'Before ' || g, 'O-' || lpad(g::text, 2, '0') FROM generate_series(1, 20) g",
    )
    .await;
    drained(&env, Duration::from_secs(30)).await;
    let boundary = env
        .count("SELECT max(id)::int8 FROM salesforce._trigger_log")
        .await;

    env.org
        .outage(Duration::from_secs(300), OutageMode::Unavailable);
    let rounds = 8;
    for round in 1..=rounds {
        let t = Instant::now();
        // Updates of records Salesforce has, and a new parent with its child.
        app(
            &env,
            &format!(
                "UPDATE salesforce.account SET name = 'Round {round}' WHERE ext_key__c LIKE 'O-%'"
            ),
        )
        .await;
        app(
            &env,
            &format!(
                "BEGIN;
                 INSERT INTO salesforce.account (name, ext_key__c) VALUES ('New {round}', 'ON-{round}');
                 INSERT INTO salesforce.contact (lastname, ext_key__c, account__r__ext_key__c)
                   VALUES ('Child {round}', 'OC-{round}', 'ON-{round}');
                 COMMIT;"
            ),
        )
        .await;
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "the app's writes took {:?} during the outage",
            t.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    // Write-back has been trying all along: nothing it took is lost or failed.
    let during = format!(
        "SELECT count(*) FROM salesforce._trigger_log WHERE id > {boundary} AND state NOT IN ('NEW', 'PENDING')"
    );
    assert_eq!(env.count(&during).await, 0, "{:?}", log_states(&env).await);
    let logged = env
        .count(&format!(
            "SELECT count(*) FROM salesforce._trigger_log WHERE id > {boundary}"
        ))
        .await;
    assert_eq!(logged, rounds * (20 + 2));
    assert!(
        env.count("SELECT count(*) FROM orgpool.runs WHERE kind = 'write_back' AND state IN ('planning', 'running')")
            .await
            > 0,
        "a write-back run is waiting out the outage"
    );

    env.org.end_outage();
    drained(&env, Duration::from_secs(60)).await;
    assert_eq!(
        env.count("SELECT count(*) FROM salesforce._trigger_log WHERE state <> 'SUCCESS'")
            .await,
        0,
        "{:?}",
        log_states(&env).await
    );
    assert!(
        env.count("SELECT count(*) FROM orgpool.chunks WHERE kind = 'write_back' AND waits > 0")
            .await
            > 0,
        "write-back met the outage and waited it out"
    );
    // The last values written, once each, children pointing at their parents.
    let last = Json::from(format!("Round {rounds}"));
    let old = org_by_key(&env, "Account", "Name", "O-").await;
    assert_eq!(old.len(), 20);
    assert!(old.iter().all(|(_, _, name)| *name == last), "{old:?}");
    let new = org_by_key(&env, "Account", "Name", "ON-").await;
    assert_eq!(new.len(), rounds as usize);
    for (key, _, name) in &new {
        assert_eq!(*name, Json::from(format!("New {}", &key[3..])));
    }
    let parents: BTreeMap<String, String> = new
        .into_iter()
        .map(|(k, id, _)| (k[3..].to_string(), id))
        .collect();
    let children = org_by_key(&env, "Contact", "AccountId", "OC-").await;
    assert_eq!(children.len(), rounds as usize);
    for (key, _, account) in &children {
        assert_eq!(
            account.as_str(),
            parents.get(&key[3..]).map(String::as_str),
            "{key}"
        );
    }
    assert_eq!(env.org.count("Account") - seeded, 20 + rounds as usize);
    one_record_per_row(&env, "Account", "ON-", rounds as usize, &["INSERTED"]).await;
    one_record_per_row(&env, "Contact", "OC-", rounds as usize, &["INSERTED"]).await;
    one_record_per_row(&env, "Account", "O-", 20, &["UPDATED"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_never_send_a_log_row_twice() {
    let (env, _) = started_with("wbf_two", 2, &[]).await;
    let seeded = (env.org.count("Account"), env.org.count("Contact"));
    let n = 60;
    // Separate transactions, so the runs and chunks are many and small.
    for i in 1..=n {
        app(
            &env,
            &format!(
                "INSERT INTO salesforce.account (name, ext_key__c) VALUES ('Two {i}', 'T-{i:02}')"
            ),
        )
        .await;
    }
    for i in 1..=n {
        app(
            &env,
            &format!(
                "INSERT INTO salesforce.contact (lastname, ext_key__c, account__r__ext_key__c)
                 VALUES ('Pair {i}', 'TC-{i:02}', 'T-{i:02}')"
            ),
        )
        .await;
        app(
            &env,
            &format!(
                "UPDATE salesforce.account SET industry = 'Energy' WHERE ext_key__c = 'T-{i:02}'"
            ),
        )
        .await;
    }
    for i in 1..=n {
        app(
            &env,
            &format!("UPDATE salesforce.contact SET email = 'pair{i}@example.com' WHERE ext_key__c = 'TC-{i:02}'"),
        )
        .await;
    }
    drained(&env, Duration::from_secs(60)).await;
    let total = 4 * n as i64;
    assert_eq!(
        env.count("SELECT count(*) FROM salesforce._trigger_log")
            .await,
        total
    );
    // Sent once each: no refusal happened, so every row took exactly one send.
    assert_eq!(
        env.count(
            "SELECT count(*) FROM salesforce._trigger_log WHERE state = 'SUCCESS' AND sf_result = 1"
        )
        .await,
        total,
        "{:?}",
        log_states(&env).await
    );
    // Each log row was in one work chunk only, and each chunk ran once; both workers
    // took part.
    let (listed, distinct): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT id) FROM (
           SELECT jsonb_array_elements(spec -> 'log_ids') AS id FROM orgpool.chunks
           WHERE kind = 'write_back' AND step = 'work') x",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!((listed, distinct), (total, total));
    let chunks: Vec<(String, i32, Option<String>)> = sqlx::query_as(
        "SELECT state, attempts, worker FROM orgpool.chunks WHERE kind = 'write_back'",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert!(
        chunks.iter().all(|(s, a, _)| s == "done" && *a <= 1),
        "{chunks:?}"
    );
    // Which worker took which chunk is up to the queue (on a loaded machine one may
    // take them all); what counts is that no row went twice.
    let accounts = org_by_key(&env, "Account", "Industry", "T-").await;
    assert_eq!(accounts.len(), n);
    assert!(
        accounts.iter().all(|(_, _, i)| *i == json!("Energy")),
        "{accounts:?}"
    );
    let ids: BTreeMap<String, String> = accounts
        .into_iter()
        .map(|(k, id, _)| (k[2..].to_string(), id))
        .collect();
    let contacts = org_query(
        &env,
        "SELECT Ext_Key__c, AccountId, Email FROM Contact WHERE Ext_Key__c LIKE 'TC-%'",
    )
    .await;
    assert_eq!(contacts.len(), n);
    for c in &contacts {
        let key = c["Ext_Key__c"].as_str().unwrap();
        assert_eq!(
            c["AccountId"].as_str(),
            ids.get(&key[3..]).map(String::as_str),
            "{key}"
        );
        assert_eq!(
            c["Email"],
            json!(format!(
                "pair{}@example.com",
                key[3..].trim_start_matches('0')
            ))
        );
    }
    assert_eq!(
        (env.org.count("Account"), env.org.count("Contact")),
        (seeded.0 + n, seeded.1 + n)
    );
    // A record's insert and its update are one insert when a run takes both.
    one_record_per_row(&env, "Account", "T-", n, &["INSERTED", "UPDATED"]).await;
    one_record_per_row(&env, "Contact", "TC-", n, &["INSERTED", "UPDATED"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_later_write_wins_a_conflict_either_way_round() {
    let (mut env, workers) = started_with("wbf_conflict", 1, &[]).await;
    // No worker while the two sides write, so both land before write-back looks.
    stop(&mut env, workers[0]);
    let seeded: Vec<(i32, String)> =
        sqlx::query_as("SELECT id, sfid::text FROM salesforce.account ORDER BY id LIMIT 2")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    let [(row_a, sf_a), (row_b, sf_b)] = &seeded[..] else {
        panic!("two seeded accounts: {seeded:?}");
    };
    // (a) The app writes, then Salesforce does (a later SystemModstamp, which counts in
    // whole seconds): Salesforce wins.
    app(
        &env,
        &format!("UPDATE salesforce.account SET name = 'App A' WHERE id = {row_a}"),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let saved = env
        .client()
        .await
        .update_records(
            "Account",
            &[
                json!({"Id": sf_a, "Name": "Salesforce A"}),
                json!({"Id": sf_b, "Name": "Salesforce B"}),
            ],
        )
        .await
        .unwrap();
    assert!(saved.iter().all(|s| s.success), "{saved:?}");
    // (b) Salesforce wrote, then the app does: the app wins.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    app(
        &env,
        &format!("UPDATE salesforce.account SET name = 'App B' WHERE id = {row_b}"),
    )
    .await;

    env.spawn(&["worker"], &[]);
    drained(&env, Duration::from_secs(30)).await;
    let log: BTreeMap<i32, (String, Option<String>)> = sqlx::query_as::<_, (i32, String, Option<String>)>(
        "SELECT record_id, state::text, sf_message FROM salesforce._trigger_log WHERE table_name = 'account'",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap()
    .into_iter()
    .map(|(r, s, m)| (r, (s, m)))
    .collect();
    assert_eq!(log.len(), 2, "{log:?}");
    let (state, message) = &log[row_a];
    assert_eq!(state, "IGNORED", "{message:?}");
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.starts_with("conflict:")),
        "{message:?}"
    );
    assert_eq!(log[row_b], ("SUCCESS".to_string(), None));
    let name = |id: &str| {
        let id = id.to_string();
        let env = &env;
        async move {
            org_query(env, &format!("SELECT Name FROM Account WHERE Id = '{id}'")).await[0]["Name"]
                .clone()
        }
    };
    assert_eq!(name(sf_a).await, json!("Salesforce A"));
    assert_eq!(name(sf_b).await, json!("App B"));
    assert_eq!(
        env.count(&format!(
            "SELECT count(*) FROM salesforce.account WHERE id = {row_b} AND _hc_lastop = 'UPDATED'"
        ))
        .await,
        1
    );

    // A resync brings Salesforce's winning value into the app's row. One the scheduler
    // started while no worker ran may still be on: its window can end before the
    // write-back reached the org, so wait for it and start a fresh one.
    until_within(
        &env,
        "no mirror run of Account active",
        "SELECT count(*) FROM orgpool.runs WHERE lane = 'mirror:account' AND state IN ('planning', 'running')",
        0,
        Duration::from_secs(60),
    )
    .await;
    env.ok(&["enqueue", "resync", "Account", "--wait"]);
    let rows: Vec<(i32, String)> = sqlx::query_as(
        "SELECT id, name::text FROM salesforce.account WHERE id = ANY($1) ORDER BY id",
    )
    .bind(vec![*row_a, *row_b])
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            (*row_a, "Salesforce A".to_string()),
            (*row_b, "App B".to_string())
        ]
    );
    let lastops: Vec<(i32, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, _hc_lastop::text, systemmodstamp::text FROM salesforce.account WHERE id = ANY($1) ORDER BY id",
    )
    .bind(vec![*row_a, *row_b])
    .fetch_all(&env.pool)
    .await
    .unwrap();
    // The row Salesforce won is SYNCED now. (The app's winning row is left out: on a
    // loaded machine a resync whose window ended just before the write-back's stamp
    // leaves it UPDATED until the next one, with the right values either way.)
    assert!(
        lastops
            .iter()
            .any(|(id, l, _)| id == row_a && l.as_deref() == Some("SYNCED")),
        "{lastops:?}\n{}",
        env.logs()
    );
    // The resync's writes are orgpool's own: nothing new to send.
    assert_eq!(
        env.count("SELECT count(*) FROM salesforce._trigger_log")
            .await,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retryable_refusal_is_retried_with_a_backoff_until_it_passes() {
    // Whole seconds are the finest retry base the setting takes.
    let (env, _) = started_with("wbf_retry", 1, &[("ORGPOOL_WRITE_BACK_RETRY_BASE", "1s")]).await;
    env.org.set_ingest_failure_rate(1.0);
    let n = 10;
    app(
        &env,
        &format!(
            "INSERT INTO salesforce.account (name, ext_key__c)
             SELECT 'Locked ' || g, 'R-' || lpad(g::text, 2, '0') FROM generate_series(1, {n}) g"
        ),
    )
    .await;
    // Refused (UNABLE_TO_LOCK_ROW): back to NEW, snoozed until the backoff is over.
    until(
        &env,
        "the first refusal snoozed",
        "SELECT count(*) FROM salesforce._trigger_log WHERE state = 'NEW' AND sf_result = 1 AND updated_at > now() AND sf_message LIKE 'UNABLE_TO_LOCK_ROW%'",
        n,
    )
    .await;
    until(
        &env,
        "a second refusal",
        "SELECT count(*) FROM salesforce._trigger_log WHERE state = 'NEW' AND sf_result >= 2",
        n,
    )
    .await;
    env.org.set_ingest_failure_rate(0.0);
    drained(&env, Duration::from_secs(30)).await;
    assert_eq!(
        env.count("SELECT count(*) FROM salesforce._trigger_log WHERE state = 'SUCCESS' AND sf_result BETWEEN 3 AND 5 AND sf_message IS NULL")
            .await,
        n,
        "{:?}",
        log_states(&env).await
    );
    one_record_per_row(&env, "Account", "R-", n as usize, &["INSERTED"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retryable_refusal_fails_after_the_last_attempt() {
    let (env, _) = started_with("wbf_attempts", 1, &[("ORGPOOL_WRITE_BACK_ATTEMPTS", "1")]).await;
    env.org.set_ingest_failure_rate(1.0);
    let n = 5;
    app(
        &env,
        &format!(
            "INSERT INTO salesforce.account (name, ext_key__c)
             SELECT 'Locked ' || g, 'F-' || g FROM generate_series(1, {n}) g"
        ),
    )
    .await;
    until(
        &env,
        "the refusals failed",
        "SELECT count(*) FROM salesforce.account WHERE ext_key__c LIKE 'F-%' AND _hc_lastop = 'FAILED' AND _hc_err LIKE '%UNABLE_TO_LOCK_ROW%'",
        n,
    )
    .await;
    assert_eq!(
        env.count("SELECT count(*) FROM salesforce._trigger_log WHERE state = 'FAILED' AND sf_result = 1 AND sf_message LIKE 'UNABLE_TO_LOCK_ROW%'")
            .await,
        n,
        "{:?}",
        log_states(&env).await
    );
    assert!(org_by_key(&env, "Account", "Name", "F-").await.is_empty());
    // When the locks are gone, `writes retry` sends them.
    env.org.set_ingest_failure_rate(0.0);
    let out = env.ok(&["writes", "retry"]);
    assert!(
        out.starts_with(&format!("{n} failed change(s) set back to NEW")),
        "{out}"
    );
    until(
        &env,
        "the retried inserts",
        "SELECT count(*) FROM salesforce._trigger_log WHERE state = 'SUCCESS'",
        n,
    )
    .await;
    one_record_per_row(&env, "Account", "F-", n as usize, &["INSERTED"]).await;
}
