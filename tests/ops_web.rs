//! The web process against real Postgres and Redis: `/healthz` open, pages behind the
//! token, the enqueue API refusing requests without the right token (401) and creating
//! a run with it, the run's progress visible on the status page, in `/api/runs/{id}`
//! and in `/metrics`, and no secret on any page.

mod jobs_common;

use std::time::Duration;

use jobs_common::{Env, OPPORTUNITY_MAPPING, free_port, opportunities_org};
use serde_json::json;

const TOKEN: &str = "test-token-0123456789abcdef";

async fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn post(url: &str, token: Option<&str>, body: serde_json::Value) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new().post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(json!(null)))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_enqueue_api_needs_the_token_and_its_run_shows_on_the_page_and_in_metrics() {
    let org = opportunities_org(20_000, Duration::from_millis(400));
    let mut env = Env::new("web", org, OPPORTUNITY_MAPPING).await;
    let secret = env.org.config().client_secret.clone();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    env.spawn(
        &["web", "--port", &port.to_string()],
        &[("ORGPOOL_WEB_TOKEN", TOKEN)],
    );
    let open_port = free_port();
    let open = format!("http://127.0.0.1:{open_port}");
    env.spawn(&["web", "--port", &open_port.to_string()], &[]);
    let reads_port = free_port();
    let open_reads = format!("http://127.0.0.1:{reads_port}");
    env.spawn(
        &["web", "--port", &reads_port.to_string()],
        &[
            ("ORGPOOL_WEB_TOKEN", TOKEN),
            ("ORGPOOL_WEB_PROTECT_READS", "false"),
        ],
    );
    env.spawn(&["worker"], &[("WORKER_CONCURRENCY", "1")]);
    for b in [&base, &open, &open_reads] {
        env.wait_http_ok(&format!("{b}/healthz")).await;
    }

    // Reads: open health check, token for pages (bearer or basic), 401 otherwise.
    let (code, body) = get(&format!("{base}/healthz"), None).await;
    assert_eq!(
        (code, body.contains("\"postgres\":\"ok\"")),
        (200, true),
        "{body}"
    );
    let (code, _) = get(&format!("{base}/"), None).await;
    assert_eq!(code, 401);
    let (code, _) = get(&format!("{base}/metrics"), Some("wrong-token-0123456789")).await;
    assert_eq!(code, 401);
    let basic = reqwest::Client::new()
        .get(format!("{base}/"))
        .basic_auth("ops", Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status().as_u16(), 200);
    // ORGPOOL_WEB_PROTECT_READS=false opens the pages but not the enqueue API.
    let (code, _) = get(&format!("{open_reads}/metrics"), None).await;
    assert_eq!(code, 200);
    let (code, _) = post(
        &format!("{open_reads}/api/runs"),
        None,
        json!({"kind": "resync", "object": "Opportunity"}),
    )
    .await;
    assert_eq!(code, 401);

    // Writes: 401 without a token, with a wrong one, and on a process without one.
    let req = json!({"kind": "initial_load", "object": "Opportunity"});
    let (code, body) = post(&format!("{base}/api/runs"), None, req.clone()).await;
    assert_eq!(code, 401, "{body}");
    let (code, _) = post(
        &format!("{base}/api/runs"),
        Some("test-token-0123456789abcdeX"),
        req.clone(),
    )
    .await;
    assert_eq!(code, 401);
    let (code, body) = post(&format!("{open}/api/runs"), Some(TOKEN), req.clone()).await;
    assert_eq!(code, 401);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("ORGPOOL_WEB_TOKEN"),
        "{body}"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM orgpool.runs").await,
        0,
        "nothing started"
    );

    // Bad requests name the problem and start nothing.
    let (code, body) = post(
        &format!("{base}/api/runs"),
        Some(TOKEN),
        json!({"kind": "initial_lod", "object": "Opportunity"}),
    )
    .await;
    assert_eq!(code, 422, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("initial_load"),
        "{body}"
    );
    let (code, body) = post(
        &format!("{base}/api/runs"),
        Some(TOKEN),
        json!({"kind": "resync", "object": "Contract"}),
    )
    .await;
    assert_eq!(code, 422, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("not mapped"),
        "{body}"
    );
    let (code, body) = post(
        &format!("{base}/api/runs"),
        Some(TOKEN),
        json!({"kind": "resync", "objekt": "Account"}),
    )
    .await;
    assert_eq!(code, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("objekt"), "{body}");
    assert_eq!(
        env.count("SELECT count(*) FROM orgpool.runs").await,
        0,
        "nothing started"
    );

    // The run.
    let (code, body) = post(&format!("{base}/api/runs"), Some(TOKEN), req).await;
    assert_eq!(code, 201, "{body}");
    let id = body["runs"][0]["run_id"].as_i64().expect("a run id");
    assert_eq!(body["runs"][0]["kind"], "initial_load");

    // Progress while it runs: the page lists it, /metrics counts its chunks.
    let page_url = format!("{base}/");
    env.eventually(
        "the status page to show the run in progress",
        Duration::from_secs(60),
        || {
            let url = page_url.clone();
            async move {
                let (_, page) = get(&url, Some(TOKEN)).await;
                page.contains("<progress") && page.contains("initial_load")
            }
        },
    )
    .await;
    // The ledger's own table sizes, which retention bounds.
    let (_, page) = get(&page_url, Some(TOKEN)).await;
    assert!(
        page.contains("Ledger tables") && page.contains("orgpool.runs"),
        "the status page shows the ledger's table sizes:\n{page}"
    );
    env.wait_succeeded(id, Duration::from_secs(180)).await;
    let (code, run) = get(&format!("{base}/api/runs/{id}"), Some(TOKEN)).await;
    let run: serde_json::Value = serde_json::from_str(&run).unwrap();
    assert_eq!(
        (code, run["state"].as_str()),
        (200, Some("succeeded")),
        "{run}"
    );
    assert_eq!(run["chunks_done"], run["chunks_total"]);
    assert_eq!(run["rows"], 20_000);

    let (code, metrics) = get(&format!("{base}/metrics"), Some(TOKEN)).await;
    assert_eq!(code, 200);
    let total = run["chunks_total"].as_i64().unwrap();
    for want in [
        format!(
            "orgpool_run_chunks{{job_kind=\"initial_load\",object=\"Opportunity\",state=\"done\"}} {total}"
        ),
        format!("orgpool_ledger_chunks_done_total{{job_kind=\"initial_load\"}} {total}"),
        "orgpool_mirror_table_rows{object=\"Opportunity\"} 20000".to_string(),
        "orgpool_runs{job_kind=\"initial_load\",state=\"succeeded\"} 1".to_string(),
        "orgpool_fleet_salesforce_outage 0".to_string(),
        "orgpool_quotes{state=\"pushed\"} 0".to_string(),
    ] {
        assert!(metrics.contains(&want), "/metrics has {want}\n{metrics}");
    }
    assert!(metrics.contains("orgpool_fleet_workers 1"), "{metrics}");
    assert!(!metrics.contains("run_id="), "no label per run: {metrics}");
    // The web process's own process metrics.
    for want in ["process_resident_memory_bytes", "process_cpu_seconds_total"] {
        assert!(metrics.contains(want), "/metrics has {want}\n{metrics}");
    }
    assert!(
        metrics.contains("# TYPE orgpool_ledger_chunks_done_total counter"),
        "{metrics}"
    );

    // No secret anywhere.
    let (_, page) = get(&format!("{base}/"), Some(TOKEN)).await;
    let (_, status) = get(&format!("{base}/api/status"), Some(TOKEN)).await;
    for (what, text) in [
        ("page", &page),
        ("metrics", &metrics),
        ("status", &status),
        ("logs", &env.logs()),
    ] {
        assert!(!text.contains(TOKEN), "the token leaks into the {what}");
        assert!(
            !text.contains(&secret),
            "the client secret leaks into the {what}"
        );
    }
}
