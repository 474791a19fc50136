//! A run's life through the real binary: a run with a chunk failed for good never
//! finalizes (a resync keeps its watermark, a reload does not swap its shadow table in),
//! and once `orgpool jobs retry` gets the chunk through, the run finalizes once and the
//! mirror is exact; `orgpool jobs cancel` stops a run, its chunks and its lane.
//!
//! The permanent failure is real: a record whose Amount no longer fits the column
//! (`numeric(18,2)` overflows), so its range's COPY is refused by Postgres.

mod jobs_common;

use std::time::Duration;

use jobs_common::{Env, opportunities_org, run_id};
use orgpool::fake_org::ids::RecordId;
use orgpool::fake_org::value::Value;

const FIELDS: &[&str] = &["Id", "SystemModstamp", "IsDeleted", "Name", "Amount"];
const COLUMNS: &[&str] = &["sfid", "systemmodstamp", "isdeleted", "name", "amount"];

fn mappings(fields: &str) -> String {
    format!(
        "[[mapping]]\nobject = \"Opportunity\"\nfields = [{fields}]\nchunk_size = 1000\npoll_interval = \"60m\"\n"
    )
}

/// Sets one Opportunity's Amount in the org without moving its `SystemModstamp`, so
/// only a range read (a load, a backfill) sees it.
fn set_amount(env: &Env, id: &str, amount: f64) {
    env.org.with_store_mut(|s| {
        let obj = s.schema.index("Opportunity").unwrap();
        let slot = s.schema.objects[obj].slot("Amount");
        let seq = RecordId::parse(id).unwrap().seq();
        s.set_calculated(obj, seq, &[(slot, Value::Num(amount))], false);
    });
}

async fn a_middle_opportunity(env: &Env) -> String {
    let (id,): (String,) = sqlx::query_as(
        "SELECT sfid FROM salesforce.opportunity ORDER BY sfid COLLATE \"C\" OFFSET 2500 LIMIT 1",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    id
}

async fn state_of(env: &Env, run: i64) -> (String, i64) {
    sqlx::query_as(
        "SELECT state, (SELECT count(*) FROM orgpool.chunks WHERE run_id = $1 AND state = 'failed')
         FROM orgpool.runs WHERE id = $1",
    )
    .bind(run)
    .fetch_one(&env.pool)
    .await
    .unwrap()
}

async fn watermark(env: &Env) -> chrono::DateTime<chrono::Utc> {
    let (w,): (Option<chrono::DateTime<chrono::Utc>>,) =
        sqlx::query_as("SELECT watermark FROM orgpool.mappings WHERE object = 'Opportunity'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    w.expect("loaded")
}

async fn assert_exact(env: &Env) {
    let mirror = env.mirror_snapshot("opportunity", COLUMNS).await;
    let org = env
        .org_snapshot("Opportunity", "opportunity", FIELDS, COLUMNS)
        .await;
    assert_eq!(mirror, org, "mirror differs from the org\n{}", env.logs());
}

/// Runs `enqueue ... --wait`, which must fail; returns the run id.
fn enqueue_failing(env: &Env, args: &[&str]) -> i64 {
    let out = env.run(args);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        !out.status.success(),
        "the run should fail: {stdout}\n{}",
        env.logs()
    );
    run_id(&stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_with_a_failed_chunk_keeps_its_watermark_until_retry_completes_it() {
    let org = opportunities_org(5_000, Duration::from_millis(10));
    let mut env = Env::new("life_resync", org, &mappings("\"Name\"")).await;
    env.spawn(&["worker"], &[]);
    env.ok(&["enqueue", "initial-load", "Opportunity", "--wait"]);
    let before = watermark(&env).await;
    // Amount joins the mapping: the resync backfills every Id range, and the range of
    // the record whose Amount cannot be stored fails for good.
    let bad = a_middle_opportunity(&env).await;
    set_amount(&env, &bad, 1e30);
    std::fs::write(&env.mappings, mappings("\"Name\", \"Amount\"")).unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let run = enqueue_failing(&env, &["enqueue", "resync", "Opportunity", "--wait"]);
    let (state, failed) = state_of(&env, run).await;
    assert_eq!((state.as_str(), failed), ("failed", 1), "{}", env.logs());
    let (others,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM orgpool.chunks WHERE run_id = $1 AND step = 'work' AND state = 'done'",
    )
    .bind(run)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert!(
        others >= 4,
        "the other chunks ran to the end: {others}\n{}",
        env.logs()
    );
    assert_eq!(
        watermark(&env).await,
        before,
        "a failed resync must not move the watermark past its window"
    );

    // The data is fixed in the org; the retried chunk completes the run, which then
    // finalizes (once) and moves the watermark.
    set_amount(&env, &bad, 42.0);
    let out = env.ok(&["jobs", "retry", "--run", &run.to_string()]);
    assert!(out.contains("1 chunk(s) queued again"), "{out}");
    env.wait_succeeded(run, Duration::from_secs(60)).await;
    assert!(watermark(&env).await > before);
    assert_exact(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_with_a_failed_chunk_is_not_swapped_in_until_retry_completes_it() {
    let org = opportunities_org(5_000, Duration::from_millis(10));
    let mut env = Env::new("life_reload", org, &mappings("\"Name\", \"Amount\"")).await;
    env.spawn(&["worker"], &[]);
    env.ok(&["enqueue", "initial-load", "Opportunity", "--wait"]);
    let loaded = env.mirror_snapshot("opportunity", COLUMNS).await;
    let bad = a_middle_opportunity(&env).await;
    set_amount(&env, &bad, 1e30);
    let run = enqueue_failing(&env, &["enqueue", "reload", "Opportunity", "--wait"]);
    let (state, failed) = state_of(&env, run).await;
    assert_eq!((state.as_str(), failed), ("failed", 1), "{}", env.logs());
    assert_eq!(
        env.mirror_snapshot("opportunity", COLUMNS).await,
        loaded,
        "a failed reload must leave the live table as it was"
    );
    let (shadow,): (Option<String>,) =
        sqlx::query_as("SELECT to_regclass('salesforce.opportunity__reload')::text")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert!(shadow.is_some(), "the shadow table is kept for the retry");

    set_amount(&env, &bad, 42.0);
    env.ok(&["jobs", "retry"]);
    env.wait_succeeded(run, Duration::from_secs(60)).await;
    assert_exact(&env).await;
    let (amount,): (Option<String>,) =
        sqlx::query_as("SELECT amount::text FROM salesforce.opportunity WHERE sfid = $1")
            .bind(&bad)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(
        amount.as_deref(),
        Some("42.00"),
        "the swapped-in table is the reload's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_stops_its_chunks_and_frees_its_lane() {
    let org = opportunities_org(8_000, Duration::from_millis(10));
    let mut env = Env::new("life_cancel", org, &mappings("\"Name\", \"Amount\"")).await;
    env.org.set_latency(Duration::from_millis(300));
    env.spawn(&["worker", "--concurrency", "1"], &[]);
    let run = run_id(&env.ok(&["enqueue", "initial-load", "Opportunity"]));
    env.eventually(
        "a chunk of the load to be done",
        Duration::from_secs(60),
        || async {
            env.count(&format!(
                "SELECT count(*) FROM orgpool.chunks WHERE run_id = {run} AND step = 'work' AND state = 'done'"
            ))
            .await
                >= 1
        },
    )
    .await;
    let out = env.ok(&["jobs", "cancel", &run.to_string()]);
    assert!(out.contains("cancelled"), "{out}");
    let done_sql =
        format!("SELECT count(*) FROM orgpool.chunks WHERE run_id = {run} AND state = 'done'");
    let done_at_cancel = env.count(&done_sql).await;
    let (state, _) = state_of(&env, run).await;
    assert_eq!(state, "cancelled");
    // A cancelled run cannot be cancelled again, and the error says why.
    let again = env.run(&["jobs", "cancel", &run.to_string()]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already ended (cancelled)"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    env.org.set_latency(Duration::ZERO);
    // No chunk of it commits after the cancel (the one the worker held when it came is
    // dropped or rolled back), and none of it runs again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(env.count(&done_sql).await, done_at_cancel, "{}", env.logs());
    let open = env
        .count(&format!(
            "SELECT count(*) FROM orgpool.chunks WHERE run_id = {run} AND state NOT IN ('done', 'cancelled')"
        ))
        .await;
    assert_eq!(open, 0, "{}", env.logs());
    // The lane is free: a new load runs to the end and the mirror is exact.
    let out = env.ok(&["enqueue", "initial-load", "Opportunity", "--wait"]);
    assert!(out.contains("succeeded"), "{out}");
    assert_ne!(run_id(&out), run);
    assert_exact(&env).await;
}
