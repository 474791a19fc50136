//! Postgres connections a formation holds: each long-running process sizes its pool
//! from its own setting or the default formula (a worker: concurrency + 2) and says so
//! in its first lines; a pool setting out of range stops the process naming it; and
//! `orgpool dev` prints the formation's total and warns when it exceeds the server's
//! `max_connections` (and only then). Real processes, Postgres, Redis and a fake org.

mod jobs_common;

use std::time::Duration;

use jobs_common::{Env, OPPORTUNITY_MAPPING, free_port, seeded_org};

/// Waits until the log of the `index`-th spawned process (a `command`) holds `want`.
async fn wait_log(env: &Env, command: &str, index: usize, want: &str) {
    env.eventually(
        &format!("{command} #{index} to log {want:?}"),
        Duration::from_secs(60),
        || async { env.log_of(command, index).contains(want) },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn each_process_logs_the_pool_its_settings_or_the_formula_give_it() {
    let mut env = Env::new("pgpool", seeded_org(10, 10, 0), OPPORTUNITY_MAPPING).await;
    env.spawn(&["worker"], &[]);
    env.spawn(&["worker", "--concurrency", "5"], &[]);
    env.spawn(&["worker"], &[("WORKER_CONCURRENCY", "3")]);
    env.spawn(&["worker"], &[("ORGPOOL_WORKER_PG_POOL", "9")]);
    env.spawn(&["web", "--port", &free_port().to_string()], &[]);
    env.spawn(&["scheduler"], &[("ORGPOOL_SCHEDULER_PG_POOL", "5")]);

    let pool = |n: u32| format!("Postgres pool: at most {n} connections");
    wait_log(&env, "worker", 0, &pool(4)).await;
    wait_log(&env, "worker", 0, "chosen_by=default: concurrency + 2").await;
    wait_log(&env, "worker", 1, &pool(7)).await;
    wait_log(&env, "worker", 2, &pool(5)).await;
    wait_log(&env, "worker", 3, &pool(9)).await;
    wait_log(&env, "worker", 3, "chosen_by=ORGPOOL_WORKER_PG_POOL").await;
    wait_log(&env, "web", 4, &pool(4)).await;
    wait_log(&env, "scheduler", 5, &pool(5)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pool_setting_out_of_range_stops_the_process_naming_it() {
    let env = Env::new("pgpool_bad", seeded_org(1, 0, 0), OPPORTUNITY_MAPPING).await;
    for (args, name) in [
        (&["worker"][..], "ORGPOOL_WORKER_PG_POOL"),
        (&["scheduler"][..], "ORGPOOL_SCHEDULER_PG_POOL"),
        (&["web", "--port", "0"][..], "ORGPOOL_WEB_PG_POOL"),
    ] {
        let out = env.command(args).env(name, "1").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} with {name}=1 starts");
        assert!(
            stderr.contains(&format!(
                "{name} is invalid: \"1\" is not a whole number from 2 to 1000"
            )),
            "{args:?}: {stderr}"
        );
    }
}

async fn max_connections(env: &Env) -> u32 {
    let (v,): (String,) = sqlx::query_as("SHOW max_connections")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    v.parse().unwrap()
}

/// Runs `orgpool dev` (the `index`-th process the test spawns) on the repository's
/// Procfile until its output holds every one of `want`, then stops it with SIGINT;
/// returns its output.
async fn dev_until(env: &mut Env, index: usize, extra: &[(&str, &str)], want: &[&str]) -> String {
    let procfile = concat!(env!("CARGO_MANIFEST_DIR"), "/Procfile");
    let port = free_port().to_string();
    let pid = env.spawn(
        &[
            "dev",
            "--scale",
            "worker=2",
            "--procfile",
            procfile,
            "--port",
            &port,
            "--metrics-port",
            "0",
        ],
        extra,
    );
    for w in want {
        wait_log(env, "dev", index, w).await;
    }
    // Everything it prints about connections comes before the processes start.
    wait_log(env, "dev", index, "orgpool dev: started").await;
    env.signal(pid, "INT");
    assert!(env.wait_exit(pid, Duration::from_secs(45)), "dev stops");
    env.log_of("dev", index)
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_prints_the_formations_total_and_warns_only_over_max_connections() {
    let mut env = Env::new("pgpool_dev", seeded_org(10, 10, 0), OPPORTUNITY_MAPPING).await;
    let max = max_connections(&env).await;

    // web 4 + scheduler 3 + 2 workers at concurrency 2 (+ 2 each).
    let out = dev_until(
        &mut env,
        0,
        &[],
        &[
            "may hold up to 15 Postgres connections (web 1×4 + scheduler 1×3 + worker 2×4)",
            &format!("the server allows {max} (max_connections)"),
        ],
    )
    .await;
    assert!(
        !out.contains("warning"),
        "no warning under the limit:\n{out}"
    );

    // Workers sized past what the server accepts (two of them).
    let per_worker = (max / 2 + 1).min(1000);
    let total = 4 + 3 + 2 * u64::from(per_worker);
    let out = dev_until(
        &mut env,
        1,
        &[("ORGPOOL_WORKER_PG_POOL", &per_worker.to_string())],
        &[
            &format!(
                "may hold up to {total} Postgres connections (web 1×4 + scheduler 1×3 + worker 2×{per_worker})"
            ),
            &format!(
                "orgpool dev: warning: {total} connections exceed the server's max_connections ({max})"
            ),
        ],
    )
    .await;
    assert!(
        out.contains("ORGPOOL_*_PG_POOL"),
        "the warning names the fix:\n{out}"
    );
}
