//! The enqueue API over HTTP with an object busy: `all` reports every object's outcome
//! (a run id or the error), a conflict answers 409 (not 503); and `enqueue --wait`
//! says when no worker is alive instead of waiting silently.

mod jobs_common;

use std::time::Duration;

use jobs_common::{Env, free_port, opportunities_org};
use serde_json::{Value, json};

const TOKEN: &str = "a-test-token-of-enough-length";

const MAPPINGS: &str = "[[mapping]]\nobject = \"Account\"\nfields = [\"Name\"]\n\n[[mapping]]\nobject = \"Contact\"\nfields = [\"LastName\"]\n";

async fn post(url: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(url)
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_reports_each_object_and_a_busy_object_is_a_conflict() {
    let mut env = Env::new("webenqueue", opportunities_org(0, Duration::ZERO), MAPPINGS).await;
    let port = free_port();
    env.spawn(
        &["web", "--port", &port.to_string()],
        &[("ORGPOOL_WEB_TOKEN", TOKEN)],
    );
    let base = format!("http://127.0.0.1:{port}");
    env.wait_http_ok(&format!("{base}/healthz")).await;
    let runs = format!("{base}/api/runs");

    // No worker runs, so Account's initial load stays in progress.
    let (code, body) = post(&runs, json!({"kind": "initial_load", "object": "Account"})).await;
    assert_eq!(code, 201, "{body}");
    let account_run = body["runs"][0]["run_id"].as_i64().unwrap();

    // `all` of another kind: Contact's run starts, Account's is refused; both reported.
    let (code, body) = post(&runs, json!({"kind": "reconcile", "all": true})).await;
    assert_eq!(code, 409, "{body}");
    let list = body["runs"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{body}");
    let of = |o: &str| list.iter().find(|r| r["object"] == o).unwrap().clone();
    assert!(of("Contact")["run_id"].as_i64().is_some(), "{body}");
    let account = of("Account");
    assert!(account["run_id"].is_null(), "{body}");
    assert!(
        account["error"].as_str().unwrap().contains(&format!(
            "Account already has run {account_run} (initial_load)"
        )),
        "{body}"
    );
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("1 of 2 run(s) not started"),
        "{body}"
    );

    // One busy object: 409 with the reason.
    let (code, body) = post(&runs, json!({"kind": "reload", "object": "Account"})).await;
    assert_eq!(code, 409, "{body}");
    assert!(
        body["runs"][0]["error"]
            .as_str()
            .unwrap()
            .contains("already has run"),
        "{body}"
    );

    // `enqueue --wait` with no worker alive says so, then finishes once one starts.
    let waiting = env.spawn(&["enqueue", "initial-load", "Account", "--wait"], &[]);
    env.eventually("the no-worker notice", Duration::from_secs(30), || async {
        env.log_of("enqueue", 1).contains("no worker is alive")
    })
    .await;
    env.spawn(&["worker"], &[]);
    assert!(
        env.wait_exit(waiting, Duration::from_secs(60)),
        "enqueue --wait ends once a worker runs the load\n{}",
        env.logs()
    );
    let log = env.log_of("enqueue", 1);
    assert!(log.contains("succeeded"), "{log}");
    // A run waiting for its plan says "planning", not a full bar.
    assert!(log.contains(": planning"), "{log}");
    assert!(log.contains(": planned, "), "{log}");
}
