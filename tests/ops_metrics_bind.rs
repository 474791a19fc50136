//! `ORGPOOL_METRICS_BIND`: a worker's own `/metrics` listens where it is told (every
//! interface by default, or one address), and a value that is not an IP address stops
//! the process with an error naming the setting.

mod jobs_common;

use std::time::Duration;

use jobs_common::{Env, free_port, wait_port};

async fn answers(host: &str, port: u16) -> bool {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    client
        .get(format!("http://{host}:{port}/metrics"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_listener_binds_where_it_is_told() {
    let mut env = Env::new("metrics_bind", jobs_common::seeded_org(1, 0, 0), "").await;
    let only_here = free_port();
    env.spawn(
        &["worker"],
        &[
            ("METRICS_PORT", &only_here.to_string()),
            ("ORGPOOL_METRICS_BIND", "127.0.0.1"),
        ],
    );
    wait_port(only_here, "the worker's metrics on 127.0.0.1");
    let everywhere = free_port();
    env.spawn(&["worker"], &[("METRICS_PORT", &everywhere.to_string())]);
    wait_port(everywhere, "the worker's metrics on every interface");
    assert!(
        answers("127.0.0.1", only_here).await,
        "bound to 127.0.0.1, it answers there"
    );
    assert!(
        !answers("127.0.0.2", only_here).await,
        "bound to 127.0.0.1, it does not answer on 127.0.0.2"
    );
    assert!(
        answers("127.0.0.2", everywhere).await,
        "by default it answers on every interface"
    );

    let out = env
        .command(&["worker"])
        .env("METRICS_PORT", free_port().to_string())
        .env("ORGPOOL_METRICS_BIND", "localhost:9100")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("ORGPOOL_METRICS_BIND") && stderr.contains("127.0.0.1"),
        "{stderr}"
    );
}
