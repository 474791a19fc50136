//! The operations console against the real `orgpool web` binary, real Postgres and
//! Redis and the fake org: every page loads with what it is for, and each action
//! changes the ledger as it should (start a run, retry a run and one chunk, cancel,
//! pause and resume, also from the CLI). Refusals are in `ops_console_refusals.rs`.

mod jobs_common;
mod ops_console_common;

use std::time::Duration;

use jobs_common::{Env, OPPORTUNITY_MAPPING, free_port, opportunities_org};
use ops_console_common::*;

#[tokio::test(flavor = "multi_thread")]
async fn the_console_shows_every_page_and_its_actions_change_the_ledger() {
    let org = opportunities_org(1_500, Duration::from_millis(50));
    let mut env = Env::new("console", org, OPPORTUNITY_MAPPING).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    env.spawn(
        &["web", "--port", &port.to_string()],
        &[
            ("ORGPOOL_WEB_TOKEN", TOKEN),
            ("ORGPOOL_WEB_READ_TOKEN", READ),
        ],
    );
    let worker = env.spawn(&["worker"], &[("WORKER_CONCURRENCY", "1")]);
    env.wait_http_ok(&format!("{base}/healthz")).await;

    // Without a credential a browser gets the login form, anything else the challenge.
    let (code, body) = get(&format!("{base}/runs"), None).await;
    assert_eq!(code, 401);
    assert!(body.contains("action=\"/login\""), "{body}");

    // Start a run from the console's form, as `orgpool enqueue initial_load` would.
    let (code, runs_page) = get(&format!("{base}/runs"), Some(TOKEN)).await;
    assert_eq!(code, 200, "{runs_page}");
    let csrf = csrf_of(&runs_page);
    let (code, location, body) = post(
        &format!("{base}/runs"),
        Some(TOKEN),
        &[
            ("csrf", &csrf),
            ("kind", "initial_load"),
            ("object", "Opportunity"),
        ],
    )
    .await;
    assert_eq!(code, 303, "{body}");
    let load: i64 = location
        .trim_start_matches("/runs/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("a run's page: {location}"));
    env.wait_succeeded(load, Duration::from_secs(120)).await;
    // The rest is about the ledger alone: no worker picks up what is retried.
    env.signal(worker, "KILL");
    assert!(env.wait_exit(worker, Duration::from_secs(10)));

    // Every page loads, with what it is for.
    for (path, wants) in [
        ("/", vec!["Mappings", "/mappings/Opportunity"]),
        (
            "/runs",
            vec!["initial_load", "Start a run", "<time datetime="],
        ),
        (
            "/runs?kind=initial_load&object=opportunity&state=succeeded&window=1h",
            vec![&format!("/runs/{load}\"") as &str, "1 run(s) match"],
        ),
        (
            "/runs?state=failed",
            vec!["0 run(s) match", "No run matches."],
        ),
        (
            &format!("/runs/{load}") as &str,
            vec![
                "succeeded",
                "Chunks",
                "Parameters",
                "Plan summary",
                "Records Salesforce refused",
            ],
        ),
        (
            "/mappings/Opportunity",
            vec![
                "1500 rows",
                "watermark",
                "Recent runs",
                "Lag history",
                "no subscription",
                "Pause",
            ],
        ),
    ] {
        let (code, page) = get(&format!("{base}{path}"), Some(TOKEN)).await;
        assert_eq!(code, 200, "{path}: {page}");
        for w in wants {
            assert!(page.contains(w), "{path} shows {w:?}\n{page}");
        }
        assert!(
            !page.contains(TOKEN) && !page.contains(READ),
            "{path} leaks a token"
        );
    }

    // Retry a failed run: its failed chunk is pending again with fresh attempts.
    let (run, chunk) = failed_run(&env).await;
    let (code, page) = get(&format!("{base}/runs/{run}"), Some(TOKEN)).await;
    assert_eq!(code, 200);
    assert!(
        page.contains("Retry 1 failed chunk(s)") && page.contains("the org said no"),
        "{page}"
    );
    let (code, location, body) = post(
        &format!("{base}/runs/{run}/retry"),
        Some(TOKEN),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        (code, location.as_str()),
        (303, format!("/runs/{run}?done=retried").as_str()),
        "{body}"
    );
    assert_eq!(state_of(&env, "runs", run).await, "running");
    assert!(matches!(
        state_of(&env, "chunks", chunk).await.as_str(),
        "pending" | "queued"
    ));
    assert_eq!(
        env.count(&format!(
            "SELECT attempts::bigint FROM orgpool.chunks WHERE id = {chunk}"
        ))
        .await,
        0
    );
    // A run with nothing failed is refused, saying so.
    let (code, _, body) = post(
        &format!("{base}/runs/{load}/retry"),
        Some(TOKEN),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(code, 409);
    assert!(body.contains("has no failed chunk"), "{body}");

    // Cancel it: the run ends cancelled, its open chunks too; again is a 409.
    let (code, location, _) = post(
        &format!("{base}/runs/{run}/cancel"),
        Some(TOKEN),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        (code, location),
        (303, format!("/runs/{run}?done=cancelled"))
    );
    assert_eq!(state_of(&env, "runs", run).await, "cancelled");
    assert_eq!(state_of(&env, "chunks", chunk).await, "cancelled");
    let (code, _, body) = post(
        &format!("{base}/runs/{run}/cancel"),
        Some(TOKEN),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(code, 409);
    assert!(body.contains("already ended"), "{body}");

    // Retry one chunk of another failed run.
    let (run2, chunk2) = failed_run(&env).await;
    let (code, location, body) = post(
        &format!("{base}/chunks/{chunk2}/retry"),
        Some(TOKEN),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        (code, location),
        (303, format!("/runs/{run2}?done=retried")),
        "{body}"
    );
    assert_eq!(state_of(&env, "runs", run2).await, "running");

    // Pause and resume, from the console and from the CLI; status shows it.
    let (code, location, _) = post(
        &format!("{base}/mappings/opportunity/pause"),
        Some(TOKEN),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        (code, location.as_str()),
        (303, "/mappings/Opportunity?done=paused")
    );
    assert!(paused(&env).await);
    let (_, page) = get(&format!("{base}/mappings/Opportunity"), Some(TOKEN)).await;
    assert!(page.contains("PAUSED") && page.contains("Resume"), "{page}");
    let (_, status) = get(&format!("{base}/api/status"), Some(TOKEN)).await;
    assert!(status.contains("\"paused\":true"), "{status}");
    assert!(env.ok(&["status"]).contains("PAUSED"));
    let (code, _, _) = post(
        &format!("{base}/mappings/Opportunity/resume"),
        Some(TOKEN),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(code, 303);
    assert!(!paused(&env).await);
    assert!(
        env.ok(&["mappings", "pause", "Opportunity"])
            .contains("paused")
    );
    assert!(paused(&env).await);
    assert!(
        env.ok(&["mappings", "pause", "Opportunity"])
            .contains("already paused")
    );
    assert!(
        env.ok(&["mappings", "resume", "Opportunity"])
            .contains("resumed")
    );
    assert!(!paused(&env).await);
    let out = env.run(&["mappings", "pause", "Contract"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no mapping for Contract"));
    let logs = env.logs();
    assert!(!logs.contains(TOKEN), "the token leaks into the logs");
}
