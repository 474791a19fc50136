//! The Grafana dashboard against a real Prometheus server: `promtool check config`
//! accepts `grafana/prometheus.yml`; then a Prometheus of the test's own scrapes the web
//! process and a worker (`METRICS_PORT`) through a short run (an initial load, the
//! app's writes to a read_write Account table sent back by a scheduler-started
//! write-back, one of them meeting a newer change in the org (a conflict), and a quote
//! run), and every PromQL expression in `grafana/dashboards/orgpool.json` must parse and
//! return data through the HTTP API.

mod jobs_common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jobs_common::{Env, QUOTE_MAPPINGS, free_port, run_id};
use orgpool::fake_org::ids::RecordId;
use orgpool::fake_org::value::Value;
use orgpool::fake_org::{FakeOrgConfig, SeedConfig};

/// Account read_write, upserting by the External ID the write-back schema gives it.
const READ_WRITE_ACCOUNT: &str = r#"
[[mapping]]
object = "Account"
access = "read_write"
upsert_field = "Ext_Key__c"
"#;

const RULES: &str =
    "[selection]\nwhere = \"Name != null\"\nchunk_size = 500\n[pricing]\nmax_discount = 20\n";

struct Prometheus(Child, std::path::PathBuf);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn exprs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("expr", serde_json::Value::String(e)) => out.push(e.clone()),
                    _ => exprs(x, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| exprs(x, out)),
        _ => {}
    }
}

/// The app inserts an Account and renames one the org renamed a moment earlier (a
/// conflict the app's later write wins); a scheduler's write-back sends both.
async fn app_writes_with_a_conflict(env: &mut Env) {
    env.spawn(&["scheduler", "--tick-seconds", "1"], &[]);
    let (sfid,): (String,) =
        sqlx::query_as("SELECT sfid FROM salesforce.account ORDER BY id LIMIT 1")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    env.org.with_store_mut(|s| {
        let obj = s.schema.index("Account").unwrap();
        let a = s.assigns(obj, &[("Name", Value::text("Renamed in Salesforce"))]);
        s.update(obj, RecordId::parse(&sfid).unwrap(), a, None)
            .unwrap();
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "INSERT INTO salesforce.account (name, ext_key__c) VALUES ('Written by the app', 'P-1');
         UPDATE salesforce.account SET name = 'Renamed by the app' WHERE sfid = '{sfid}';"
    )))
    .execute(&env.pool)
    .await
    .unwrap();
    let e = &*env;
    e.eventually(
        "the app's writes sent",
        Duration::from_secs(60),
        || async move {
            e.count("SELECT count(*) FROM salesforce._trigger_log WHERE state = 'SUCCESS'")
                .await
                == 2
        },
    )
    .await;
}

#[test]
fn promtool_accepts_the_shipped_prometheus_config() {
    let out = Command::new("promtool")
        .args([
            "check",
            "config",
            concat!(env!("CARGO_MANIFEST_DIR"), "/grafana/prometheus.yml"),
        ])
        .output()
        .expect("promtool is installed (scripts/test installs the prometheus package)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_dashboard_expression_returns_data_from_a_real_prometheus() {
    let org = FakeOrgConfig {
        seed: SeedConfig {
            accounts: 50,
            opportunities: 2_000,
            lines_per_opportunity: 2,
            ..Default::default()
        },
        bulk_delay: Duration::from_millis(20),
        schema_file: Some(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/writeback-schema.toml"
            )
            .into(),
        ),
        ..Default::default()
    };
    let mappings = QUOTE_MAPPINGS.replace(
        "[[mapping]]\nobject = \"Account\"\n",
        READ_WRITE_ACCOUNT.trim_start(),
    );
    assert!(mappings.contains("read_write"), "{mappings}");
    let mut env = Env::new("prom", org, &mappings).await;
    std::fs::write(&env.quotes, RULES).unwrap();
    let (web, worker, prom) = (free_port(), free_port(), free_port());
    env.spawn(&["web", "--port", &web.to_string()], &[]);
    env.spawn(&["worker"], &[("METRICS_PORT", &worker.to_string())]);

    let dir = std::env::temp_dir().join(format!("{}-prometheus", env.db));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: orgpool_web\n    static_configs:\n      - targets: ['127.0.0.1:{web}']\n  - job_name: orgpool_workers\n    static_configs:\n      - targets: ['127.0.0.1:{worker}']\n"
        ),
    )
    .unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prom}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus is installed (scripts/test installs it)");
    let _prom = Prometheus(child, dir);

    // A short run for it to watch: load the mirror, then quote.
    for object in [
        "Account",
        "Product2",
        "Pricebook2",
        "PricebookEntry",
        "Opportunity",
        "OpportunityLineItem",
    ] {
        let id = run_id(&env.ok(&["enqueue", "initial-load", object]));
        env.wait_succeeded(id, Duration::from_secs(120)).await;
    }
    app_writes_with_a_conflict(&mut env).await;
    let id = run_id(&env.ok(&["enqueue", "quotes"]));
    env.wait_succeeded(id, Duration::from_secs(120)).await;

    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/grafana/dashboards/orgpool.json"
        ))
        .unwrap(),
    )
    .expect("the dashboard is JSON");
    let mut all = Vec::new();
    exprs(&dashboard, &mut all);
    assert!(all.len() >= 14, "the dashboard has its panels: {all:?}");

    let client = reqwest::Client::new();
    let start = Instant::now();
    let mut empty: Vec<String>;
    loop {
        empty = Vec::new();
        for e in &all {
            let r: serde_json::Value = client
                .get(format!("http://127.0.0.1:{prom}/api/v1/query"))
                .query(&[("query", e.as_str())])
                .send()
                .await
                .map(|r| r.json())
                .expect("prometheus answers")
                .await
                .unwrap_or_default();
            match r["status"].as_str() {
                Some("success") => {
                    if r["data"]["result"].as_array().is_none_or(|a| a.is_empty()) {
                        empty.push(e.clone());
                    }
                }
                Some(_) if !r["errorType"].is_null() && r["errorType"] == "bad_data" => {
                    panic!("{e} does not parse: {}", r["error"])
                }
                _ => empty.push(e.clone()),
            }
        }
        if empty.is_empty() || start.elapsed() > Duration::from_secs(90) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert!(empty.is_empty(), "expressions without data: {empty:#?}");
}
