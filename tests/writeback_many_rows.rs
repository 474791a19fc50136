//! One statement that inserts thousands of rows into a read_write table: every row
//! reaches the org through Bulk ingest (the run is above the Bulk threshold), and the
//! scheduler's listener takes the statement's one-notification-a-row burst at once
//! instead of looking at the log and trying to start a run for each notification.

mod jobs_common;
mod writeback_common;

use writeback_common::{app, started, until};

const ROWS: i64 = 3_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_rows_in_one_statement_go_in_bulk_and_wake_the_scheduler_a_few_times() {
    let env = started("wbb_many_rows", 1).await;
    let (runs_before,): (i64,) = sqlx::query_as("SELECT last_value FROM orgpool.runs_id_seq")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    app(
        &env,
        &format!(
            "INSERT INTO salesforce.account (name, ext_key__c)
             SELECT 'Many ' || g, 'M-' || g FROM generate_series(1, {ROWS}) g"
        ),
    )
    .await;
    until(
        &env,
        "every row inserted in the org",
        "SELECT count(*) FROM salesforce.account WHERE ext_key__c LIKE 'M-%' AND sfid IS NOT NULL AND _hc_lastop = 'INSERTED'",
        ROWS,
    )
    .await;
    let in_org = env
        .client()
        .await
        .count("SELECT COUNT() FROM Account WHERE Ext_Key__c LIKE 'M-%'")
        .await
        .unwrap();
    assert_eq!(in_org, ROWS as u64);
    let (runs_after,): (i64,) = sqlx::query_as("SELECT last_value FROM orgpool.runs_id_seq")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    // Each look that finds the lane busy spends a run id; one per notification spent
    // thousands.
    assert!(
        runs_after - runs_before < 200,
        "{} run ids spent on {ROWS} notifications",
        runs_after - runs_before
    );
}
