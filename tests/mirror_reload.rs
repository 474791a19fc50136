//! Reconcile and reload through the job system: records hard-deleted in the org (gone
//! from the recycle bin, so no resync can see them) are removed by a reconcile; a column
//! whose type no longer fits puts the mapping in an error state that `status` shows
//! with the fix, and a reload (load beside, then swap) repairs it.

mod jobs_common;

use std::time::Duration;

use jobs_common::Env;
use orgpool::fake_org::ids::RecordId;
use orgpool::fake_org::{FakeOrgConfig, SeedConfig};

const FIELDS: &[&str] = &["Id", "SystemModstamp", "IsDeleted", "Name", "Amount"];
const COLUMNS: &[&str] = &["sfid", "systemmodstamp", "isdeleted", "name", "amount"];

const MAPPINGS: &str = r#"
[[mapping]]
object = "Opportunity"
fields = ["Name", "Amount"]
chunk_size = 1000
"#;

fn org() -> FakeOrgConfig {
    FakeOrgConfig {
        seed: SeedConfig {
            accounts: 20,
            opportunities: 5_000,
            lines_per_opportunity: 0,
            ..Default::default()
        },
        bulk_delay: Duration::from_millis(10),
        ..Default::default()
    }
}

async fn assert_equal(env: &Env) {
    let mirror = env.mirror_snapshot("opportunity", COLUMNS).await;
    let org = env
        .org_snapshot("Opportunity", "opportunity", FIELDS, COLUMNS)
        .await;
    assert_eq!(mirror, org, "mirror differs from the org\n{}", env.logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_removes_rows_of_hard_deleted_records() {
    let mut env = Env::new("reconcile", org(), MAPPINGS).await;
    env.spawn(&["worker"], &[]);
    env.ok(&["enqueue", "initial-load", "Opportunity", "--wait"]);
    let gone: Vec<String> = sqlx::query_as::<_, (String,)>(
        "SELECT sfid FROM salesforce.opportunity ORDER BY sfid COLLATE \"C\" OFFSET 1500 LIMIT 3",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap()
    .into_iter()
    .map(|r| r.0)
    .collect();
    env.org.with_store_mut(|s| {
        let obj = s.schema.index("Opportunity").unwrap();
        for id in &gone {
            s.hard_delete(obj, RecordId::parse(id).unwrap()).unwrap();
        }
    });
    let out = env.ok(&["enqueue", "reconcile", "Opportunity", "--wait"]);
    assert!(out.contains("succeeded"), "{out}");
    assert!(
        out.contains("1/1 chunks"),
        "only the range that differs is re-loaded: {out}"
    );
    assert_equal(&env).await;
    let (left,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM salesforce.opportunity WHERE sfid = ANY($1)")
            .bind(&gone)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(left, 0);
    // Nothing differs now: a second reconcile plans no chunks.
    let out = env.ok(&["enqueue", "reconcile", "Opportunity", "--wait"]);
    assert!(out.contains("0/0 chunks"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incompatible_column_stops_the_mapping_until_a_reload_swaps_in_a_new_table() {
    let mut env = Env::new("reload", org(), MAPPINGS).await;
    env.spawn(&["worker"], &[]);
    env.ok(&["enqueue", "initial-load", "Opportunity", "--wait"]);
    // As if the org's Name had grown beyond what the column holds.
    sqlx::query("ALTER TABLE salesforce.opportunity ALTER COLUMN name TYPE varchar(200)")
        .execute(&env.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE salesforce.opportunity SET name = left(name, 5)")
        .execute(&env.pool)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE salesforce.opportunity ALTER COLUMN name TYPE varchar(5)")
        .execute(&env.pool)
        .await
        .unwrap();
    let out = env.run(&["enqueue", "resync", "Opportunity", "--wait"]);
    assert!(!out.status.success(), "the resync must fail");
    let st: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).unwrap();
    let m = &st["mappings"][0];
    assert_eq!(m["state"], "error", "{st}");
    assert!(m["error"].as_str().unwrap().contains("varchar(5)"), "{st}");
    assert!(
        m["fix"]
            .as_str()
            .unwrap()
            .contains("orgpool enqueue reload Opportunity"),
        "{st}"
    );

    let dead = env.ok(&["jobs", "dead"]);
    assert!(
        dead.contains("varchar(5)") && dead.contains("orgpool jobs retry"),
        "{dead}"
    );

    let out = env.ok(&["enqueue", "reload", "Opportunity", "--wait"]);
    assert!(out.contains("succeeded"), "{out}");
    assert_equal(&env).await;

    // The failed resync can now be retried from the dead list and succeeds.
    let out = env.ok(&["jobs", "retry"]);
    assert!(out.contains("1 chunk(s) queued again"), "{out}");
    env.eventually(
        "the retried resync to succeed",
        Duration::from_secs(60),
        || async {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM orgpool.runs WHERE kind = 'resync' AND state = 'succeeded'",
            )
            .fetch_one(&env.pool)
            .await
            .unwrap();
            n == 1
        },
    )
    .await;
    assert!(env.ok(&["jobs", "dead"]).contains("no failed chunks"));
    let st: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).unwrap();
    assert_eq!(st["mappings"][0]["state"], "ready", "{st}");
    let (shadow,): (Option<String>,) =
        sqlx::query_as("SELECT to_regclass('salesforce.opportunity__reload')::text")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(shadow, None, "the shadow table is gone after the swap");
    let out = env.ok(&["enqueue", "resync", "Opportunity", "--wait"]);
    assert!(out.contains("succeeded"), "{out}");
}
