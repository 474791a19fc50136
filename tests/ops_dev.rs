//! `orgpool dev` end to end: the repository's Procfile run with three workers against
//! a fake org, real Postgres and Redis; the three worker processes share an initial
//! load (each finishes at least one chunk), and SIGINT to `orgpool dev` leaves no child
//! process running. The demo (`orgpool dev --demo --exit`, what `orgpool demo` and
//! `scripts/demo` run) goes end to end on its in-process fake org with the repository's
//! jobs files, the app's writes to the read_write Account table included.

mod jobs_common;

use std::time::{Duration, Instant};

use jobs_common::{Env, OPPORTUNITY_MAPPING, free_port, opportunities_org, run_id, seeded_org};

fn alive(pid: i32) -> bool {
    // A zombie still has a /proc entry; its state letter is Z.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_scales_workers_that_share_the_work_and_sigint_stops_every_child() {
    let org = opportunities_org(40_000, Duration::from_millis(50));
    let mut env = Env::new("dev", org, OPPORTUNITY_MAPPING).await;
    let port = free_port();
    let procfile = concat!(env!("CARGO_MANIFEST_DIR"), "/Procfile");
    let dev = env.spawn(
        &[
            "dev",
            "--scale",
            "worker=3",
            "--procfile",
            procfile,
            "--port",
            &port.to_string(),
            "--metrics-port",
            "0",
        ],
        &[("WORKER_CONCURRENCY", "1")],
    );
    env.wait_http_ok(&format!("http://127.0.0.1:{port}/healthz"))
        .await;
    let id = run_id(&env.ok(&["enqueue", "initial-load", "Opportunity"]));
    env.wait_succeeded(id, Duration::from_secs(180)).await;

    let per_worker: Vec<(String, i64)> = sqlx::query_as(
        "SELECT split_part(worker, ':', 1), count(*) FROM orgpool.chunks
         WHERE run_id = $1 AND step = 'work' AND state = 'done' GROUP BY 1 ORDER BY 1",
    )
    .bind(id)
    .fetch_all(&env.pool)
    .await
    .unwrap();
    let log = env.log_of("dev", 0);
    assert_eq!(
        per_worker.len(),
        3,
        "each of the three workers finishes at least one chunk: {per_worker:?}\n{log}"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM salesforce.opportunity")
            .await,
        40_000
    );

    // Every child `orgpool dev` reported, then SIGINT (Ctrl-C) to `orgpool dev` alone.
    let pids: Vec<i32> = log
        .lines()
        .filter_map(|l| l.split(" started, pid ").nth(1))
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    assert_eq!(pids.len(), 5, "web, scheduler and three workers: {log}");
    assert!(
        pids.iter().all(|p| alive(*p)),
        "all children run before Ctrl-C"
    );
    for want in ["web.1 ", "scheduler.1 ", "worker.3 "] {
        assert!(
            log.contains(want),
            "output is prefixed by process ({want}): {log}"
        );
    }
    env.signal(dev, "INT");
    assert!(
        env.wait_exit(dev, Duration::from_secs(45)),
        "orgpool dev exits after SIGINT\n{}",
        env.log_of("dev", 0)
    );
    let start = Instant::now();
    while pids.iter().any(|p| alive(*p)) && start.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let left: Vec<&i32> = pids.iter().filter(|p| alive(**p)).collect();
    assert!(
        left.is_empty(),
        "children still running after Ctrl-C: {left:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_runs_end_to_end_with_the_apps_writes_reaching_the_org() {
    // The Env only supplies Postgres and Redis; the demo starts its own fake org.
    let env = Env::new("wbd_demo", seeded_org(1, 0, 0), "").await;
    let root = env!("CARGO_MANIFEST_DIR");
    let port = free_port().to_string();
    let out = env
        .command(&[
            "dev",
            "--demo",
            "--exit",
            "--scale",
            "worker=2",
            "--procfile",
            &format!("{root}/Procfile"),
            "--port",
            &port,
            "--metrics-port",
            "0",
            "--opportunities",
            "200",
        ])
        .current_dir(root)
        .env_remove("SALESFORCE_LOGIN_URL")
        .env_remove("SALESFORCE_CLIENT_ID")
        .env_remove("SALESFORCE_CLIENT_SECRET")
        .env("ORGPOOL_MAPPINGS", format!("{root}/jobs/mappings.toml"))
        .env("ORGPOOL_QUOTES", format!("{root}/jobs/quotes.toml"))
        .env("RUST_LOG", "warn")
        .output()
        .expect("orgpool dev runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let all = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the demo succeeds:\n{all}");
    for want in [
        "(Account made read_write for the demo)",
        "the app writes to salesforce.account (read_write)",
        "write-back: 5 app change(s) to salesforce.account reached the org",
        "Renamed by the app",
        "change events: Opportunity received",
        "Demo Rocket Co (renamed)     Demo_Key__c DEMO-1   live",
        "Demo Pop-up Shop             Demo_Key__c DEMO-2   deleted",
        "Quotes with",
    ] {
        assert!(stdout.contains(want), "the demo prints {want:?}:\n{all}");
    }
    assert!(
        !stdout.contains("(differs)"),
        "org and mirror agree:\n{all}"
    );
}
