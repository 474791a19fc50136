//! Shared by the write-back tests: a fake org with External IDs on Account and Contact,
//! read_write mappings of both, and helpers to read the org and the log, and to start,
//! stop and wait on the processes (the failure-path tests stop workers on purpose).
#![allow(dead_code)]

use std::time::Duration;

use orgpool::fake_org::FakeOrgConfig;
use serde_json::Value as Json;

use crate::jobs_common::{self, Env};

/// Accounts and Contacts, both read_write with an External ID as upsert key; a Contact
/// names its Account by External ID too (`account__r__ext_key__c`).
pub const MAPPINGS: &str = r#"
[[mapping]]
object = "Account"
fields = ["Name", "Industry", "Ext_Key__c"]
access = "read_write"
upsert_field = "Ext_Key__c"
poll_interval = "1h"

[[mapping]]
object = "Contact"
fields = ["LastName", "Email", "AccountId", "Ext_Key__c", "Account.Ext_Key__c"]
access = "read_write"
upsert_field = "Ext_Key__c"
poll_interval = "1h"

[[mapping]]
object = "Opportunity"
fields = ["Name", "StageName", "Amount"]
poll_interval = "1h"
"#;

/// A small org with the write-back schema.
pub fn org() -> FakeOrgConfig {
    FakeOrgConfig {
        schema_file: Some(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/writeback-schema.toml"
            )
            .into(),
        ),
        ..jobs_common::seeded_org(3, 3, 0)
    }
}

/// A world with a scheduler and `workers` workers whose mappings are loaded.
pub async fn started(name: &str, workers: usize) -> Env {
    started_with(name, workers, &[]).await.0
}

/// Runs `sql` as the app would (a plain session).
pub async fn app(env: &Env, sql: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&env.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Records the org returns for `soql` (through the REST query API).
pub async fn org_query(env: &Env, soql: &str) -> Vec<Json> {
    use futures::TryStreamExt;
    env.client()
        .await
        .query(soql, orgpool::salesforce::Scope::Live)
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("{soql}: {e}"))
}

/// Waits until `sql` (a count) is `want`.
pub async fn until(env: &Env, what: &str, sql: &str, want: i64) {
    env.eventually(what, Duration::from_secs(30), || async move {
        env.count(sql).await == want
    })
    .await;
}

/// A world like [`started`] whose scheduler and workers also get `extra` environment
/// (write-back settings); returns it with the workers' pids.
pub async fn started_with(name: &str, workers: usize, extra: &[(&str, &str)]) -> (Env, Vec<u32>) {
    let mut env = Env::new(name, org(), MAPPINGS).await;
    env.spawn(&["scheduler", "--tick-seconds", "1"], extra);
    let pids = (0..workers)
        .map(|_| env.spawn(&["worker"], extra))
        .collect();
    let e = &env;
    e.eventually(
        "every mapping loaded",
        Duration::from_secs(60),
        || async move {
            e.count("SELECT count(*) FROM orgpool.mappings WHERE state = 'ready'")
                .await
                == 3
        },
    )
    .await;
    // The scheduler resyncs each mapping once right after its load; a test's writes
    // come after those, so that a resync reading the org mid-test does not race them.
    e.eventually(
        "the first resyncs done",
        Duration::from_secs(60),
        || async move {
            e.count(
                "SELECT count(*) FROM orgpool.runs WHERE kind = 'resync' AND state = 'succeeded'",
            )
            .await
                >= 3
                && e.count(
                    "SELECT count(*) FROM orgpool.runs WHERE state IN ('planning', 'running')",
                )
                .await
                    == 0
        },
    )
    .await;
    (env, pids)
}

/// Stops worker `pid` with SIGTERM and waits for it to exit, so nothing sends while
/// the test sets a situation up.
pub fn stop(env: &mut Env, pid: u32) {
    env.signal(pid, "TERM");
    assert!(
        env.wait_exit(pid, Duration::from_secs(30)),
        "worker {pid} did not stop on SIGTERM\n{}",
        env.logs()
    );
}

/// Like [`until`], waiting up to `limit`.
pub async fn until_within(env: &Env, what: &str, sql: &str, want: i64, limit: Duration) {
    env.eventually(what, limit, || async move { env.count(sql).await == want })
        .await;
}

/// Waits until no log row is `NEW` or `PENDING` (everything captured was settled).
pub async fn drained(env: &Env, limit: Duration) {
    until_within(
        env,
        "every captured change settled",
        "SELECT count(*) FROM salesforce._trigger_log WHERE state IN ('NEW', 'PENDING')",
        0,
        limit,
    )
    .await;
}

/// The log's rows per state, for assertion messages.
pub async fn log_states(env: &Env) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT state::text, count(*) FROM salesforce._trigger_log GROUP BY state ORDER BY state",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap()
}

/// `(Ext_Key__c, Id, value of field)` of every live `object` record whose External ID
/// starts with `prefix`, by key.
pub async fn org_by_key(
    env: &Env,
    object: &str,
    field: &str,
    prefix: &str,
) -> Vec<(String, String, Json)> {
    let mut out: Vec<(String, String, Json)> = org_query(
        env,
        &format!("SELECT Id, Ext_Key__c, {field} FROM {object} WHERE Ext_Key__c LIKE '{prefix}%'"),
    )
    .await
    .into_iter()
    .map(|r| {
        (
            r["Ext_Key__c"].as_str().unwrap_or_default().to_string(),
            r["Id"].as_str().unwrap_or_default().to_string(),
            r[field].clone(),
        )
    })
    .collect();
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out
}

/// `(ext_key__c, sfid, _hc_lastop)` of the table rows whose key starts with `prefix`.
pub async fn rows_by_key(
    env: &Env,
    table: &str,
    prefix: &str,
) -> Vec<(String, Option<String>, String)> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT ext_key__c::text, sfid::text, _hc_lastop::text FROM salesforce.{table}
         WHERE ext_key__c LIKE $1 ORDER BY ext_key__c"
    )))
    .bind(format!("{prefix}%"))
    .fetch_all(&env.pool)
    .await
    .unwrap()
}

/// Every table row with the key `prefix` has the Id of the one org record with its key,
/// and `_hc_lastop` one of `lastops`; there are `n` of each.
pub async fn one_record_per_row(env: &Env, object: &str, prefix: &str, n: usize, lastops: &[&str]) {
    let table = object.to_lowercase();
    let org = org_by_key(env, object, "Id", prefix).await;
    assert_eq!(
        org.len(),
        n,
        "{object} records in the org with keys {prefix}*"
    );
    let keys: std::collections::BTreeSet<&str> = org.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(keys.len(), n, "one {object} record per key");
    let ids: std::collections::BTreeMap<&str, &str> = org
        .iter()
        .map(|(k, id, _)| (k.as_str(), id.as_str()))
        .collect();
    let rows = rows_by_key(env, &table, prefix).await;
    assert_eq!(rows.len(), n);
    for (key, sfid, op) in &rows {
        assert_eq!(
            sfid.as_deref(),
            ids.get(key.as_str()).copied(),
            "sfid of {key}"
        );
        assert!(lastops.contains(&op.as_str()), "_hc_lastop of {key}: {op}");
    }
}
