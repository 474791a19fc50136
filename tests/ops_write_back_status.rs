//! Write-back where operators look, through the real binary (scheduler, worker and web
//! processes), real Postgres and Redis and the fake org: after the app's writes (one
//! sent, one refused by a validation rule) the status page's write-back section, the
//! web process's `/metrics` (`orgpool_write_back_backlog`,
//! `orgpool_write_back_oldest_seconds`), `orgpool status` and `orgpool jobs failures`
//! all show the read_write tables' log by state and the refused change with
//! Salesforce's message.

mod jobs_common;
mod writeback_common;

use jobs_common::free_port;
use writeback_common::{app, started, until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_metrics_status_and_failures_show_write_back() {
    let mut env = started("wbd_status", 1).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    env.spawn(&["web", "--port", &port.to_string()], &[]);
    env.org
        .set_validation_rules(&[serde_json::from_value(serde_json::json!({
            "object": "Account", "name": "No_Rejects", "field": "Name",
            "rule": "not_equal", "value": "Reject Me", "message": "Name cannot be Reject Me"
        }))
        .unwrap()])
        .unwrap();
    app(
        &env,
        "INSERT INTO salesforce.account (name, ext_key__c) VALUES ('Accepted', 'S-1');
         INSERT INTO salesforce.account (name, ext_key__c) VALUES ('Reject Me', 'S-2');",
    )
    .await;
    until(
        &env,
        "one change sent and one refused",
        "SELECT count(*) FROM salesforce._trigger_log WHERE table_name = 'account' AND state IN ('SUCCESS', 'FAILED')",
        2,
    )
    .await;
    let (log_id,): (i32,) =
        sqlx::query_as("SELECT id FROM salesforce._trigger_log WHERE state = 'FAILED'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    env.wait_http_ok(&format!("{base}/healthz")).await;

    let page = reqwest::get(format!("{base}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let section = page
        .split("<h2>Write-back</h2>")
        .nth(1)
        .unwrap_or_else(|| panic!("the page has a write-back section: {page}"));
    let section = section.split("<h2>").next().unwrap();
    for want in [
        "salesforce.account",
        "salesforce.contact",
        "Name cannot be Reject Me",
        &format!("<td class=\"num\">{log_id}</td>"),
        "orgpool writes retry",
    ] {
        assert!(
            section.contains(want),
            "the section shows {want}: {section}"
        );
    }

    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for want in [
        "orgpool_write_back_backlog{object=\"Account\",state=\"FAILED\"} 1",
        "orgpool_write_back_backlog{object=\"Account\",state=\"NEW\"} 0",
        "orgpool_write_back_backlog{object=\"Contact\",state=\"PENDING\"} 0",
        "orgpool_write_back_oldest_seconds{object=\"Account\"} 0",
    ] {
        assert!(metrics.contains(want), "/metrics has {want}\n{metrics}");
    }

    let status = env.ok(&["status"]);
    assert!(status.contains("WRITE-BACK"), "{status}");
    assert!(
        status.contains(&format!("FAILED salesforce.account log id {log_id}")),
        "{status}"
    );
    assert!(status.contains("FAILED 1, SUCCESS 1"), "{status}");
    let json: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).unwrap();
    assert_eq!(json["write_back"]["tables"][0]["states"]["FAILED"], 1);
    assert_eq!(json["write_back"]["failed"][0]["log_id"], log_id);

    let failures = env.ok(&["jobs", "failures"]);
    let line = failures
        .lines()
        .find(|l| {
            l.starts_with(&format!(
                "write-back salesforce.account log id {log_id} INSERT"
            ))
        })
        .unwrap_or_else(|| panic!("jobs failures lists the refused change: {failures}"));
    assert!(line.contains("Name cannot be Reject Me"), "{line}");
}
