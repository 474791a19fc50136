//! Shared helpers for the Salesforce client tests: an in-process fake org, a client
//! against it with fast retries, an isolated Redis key prefix per test, and the metrics
//! recorder.
#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use orgpool::fake_org::{FakeOrg, FakeOrgConfig, SeedConfig};
use orgpool::salesforce::{Client, SalesforceConfig};

/// A small org with fast Bulk processing.
pub fn org_config(opportunities: u64) -> FakeOrgConfig {
    FakeOrgConfig {
        seed: SeedConfig {
            accounts: 50,
            opportunities,
            lines_per_opportunity: 1,
            ..Default::default()
        },
        bulk_delay: Duration::from_millis(20),
        ..Default::default()
    }
}

/// Starts an org.
pub async fn start(cfg: FakeOrgConfig) -> FakeOrg {
    orgpool::fake_org::start(cfg)
        .await
        .expect("fake org starts")
}

/// Client settings for `org` (client credentials) with short waits for tests.
pub fn sf_config(org: &FakeOrg) -> SalesforceConfig {
    let c = org.config();
    let mut cfg = SalesforceConfig::new(&org.base_url, &c.client_id, &c.client_secret);
    cfg.backoff_base = Duration::from_millis(20);
    cfg.backoff_max = Duration::from_millis(300);
    cfg.outage_wait = Duration::from_secs(30);
    cfg.limit_wait = Duration::from_secs(10);
    cfg
}

/// A key prefix no other test uses.
pub fn prefix(name: &str) -> String {
    format!(
        "orgpool-test:{name}:{}:{}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// A Redis connection.
pub async fn redis() -> redis::aio::ConnectionManager {
    orgpool::redis_conn::connect(&orgpool::redis_conn::url_from_env())
        .await
        .expect("Redis is running (scripts/test starts it)")
}

/// A client for `cfg` under `prefix`.
pub async fn client_with(cfg: SalesforceConfig, prefix: &str) -> Client {
    metrics();
    Client::new(cfg, redis().await, prefix).expect("client")
}

/// A client for `org` with the test settings under a fresh prefix.
pub async fn client(org: &FakeOrg, name: &str) -> Client {
    client_with(sf_config(org), &prefix(name)).await
}

/// The process-wide metrics recorder (installed once per test binary).
pub fn metrics() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .install_recorder()
            .expect("metrics recorder")
    })
}

/// The value of a metric line with `name` and every one of `labels` (like
/// `outcome="ok"`) in the rendered metrics; 0 when absent.
pub fn counter(name: &str, labels: &[&str]) -> f64 {
    metrics()
        .render()
        .lines()
        .find(|l| {
            (l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
                && labels.iter().all(|x| l.contains(x))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}
