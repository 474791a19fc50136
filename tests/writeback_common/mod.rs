//! Shared by the write-back tests: a fake org with External IDs on Account and Contact,
//! read_write mappings of both, and helpers to read the org and the log.
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
    let mut env = Env::new(name, org(), MAPPINGS).await;
    env.spawn(&["scheduler", "--tick-seconds", "1"], &[]);
    for _ in 0..workers {
        env.spawn(&["worker"], &[]);
    }
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
    env
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
