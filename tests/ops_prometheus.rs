//! The Grafana dashboard against a real Prometheus server: `promtool check config`
//! accepts `grafana/prometheus.yml`; then a Prometheus of the test's own scrapes the web
//! process and a worker (`METRICS_PORT`) through a short run (an initial load, the
//! app's writes to a read_write Account table sent back by a scheduler-started
//! write-back, one of them meeting a newer change in the org (a conflict), and a quote
//! run; the Account mapping has `events = true`, so its stream applies the write-back's own changes and heals one gap), and every PromQL expression in `grafana/dashboards/orgpool.json` (its variables
//! at "All") must parse and return data through the HTTP API; the "Dead chunks" panel
//! then follows the ledger's count, and the alerting rules (`grafana/alerts.yml`) load
//! and evaluate without error. The dashboard takes its datasource and object from
//! variables, never a hard-coded datasource uid.

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
events = true
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

/// The dashboard's variables (`$name` in expressions) and what "All" stands for.
fn variables(dashboard: &serde_json::Value) -> Vec<(String, String)> {
    dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["type"] == "query")
        .map(|v| {
            (
                v["name"].as_str().unwrap_or_default().to_string(),
                v["allValue"].as_str().unwrap_or(".*").to_string(),
            )
        })
        .collect()
}

/// `expr` with every variable at "All".
fn at_all(expr: &str, vars: &[(String, String)]) -> String {
    let mut e = expr.to_string();
    for (name, all) in vars {
        e = e
            .replace(&format!("${{{name}}}"), all)
            .replace(&format!("${name}"), all);
    }
    e
}

fn dashboard() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/grafana/dashboards/orgpool.json"
        ))
        .unwrap(),
    )
    .expect("the dashboard is JSON")
}

/// Every `datasource` object's uid in the dashboard.
fn datasource_uids(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                if k == "datasource" {
                    out.push(x["uid"].as_str().unwrap_or("<none>").to_string());
                }
                datasource_uids(x, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| datasource_uids(x, out)),
        _ => {}
    }
}

/// The Prometheus query API's answer to `query`.
async fn query(prom: u16, query: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("http://127.0.0.1:{prom}/api/v1/query"))
        .query(&[("query", query)])
        .send()
        .await
        .map(|r| r.json())
        .expect("prometheus answers")
        .await
        .unwrap_or_default()
}

#[test]
fn the_dashboard_takes_its_datasource_and_object_from_variables() {
    let d = dashboard();
    let list = d["templating"]["list"].as_array().expect("variables");
    let var = |name: &str| {
        list.iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no ${name} variable"))
    };
    assert_eq!(var("datasource")["type"], "datasource");
    assert_eq!(var("datasource")["query"], "prometheus");
    let object = var("object");
    assert_eq!(object["type"], "query");
    assert_eq!(object["includeAll"], true);
    assert!(
        object["query"]
            .as_str()
            .is_some_and(|q| q.starts_with("label_values(orgpool_mirror_table_rows, object)")),
        "{object}"
    );
    let mut uids = Vec::new();
    datasource_uids(&d, &mut uids);
    assert!(uids.len() > 20, "{uids:?}");
    assert!(
        uids.iter().all(|u| u == "${datasource}"),
        "a datasource uid is hard-coded: {uids:?}"
    );
    let mut all = Vec::new();
    exprs(&d, &mut all);
    let per_object = all.iter().filter(|e| e.contains("$object")).count();
    assert!(per_object >= 6, "per-object panels use $object: {all:#?}");
    let dead = d["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["title"] == "Dead chunks")
        .expect("a Dead chunks panel");
    assert_eq!(
        dead["targets"][0]["expr"],
        "max(orgpool_ledger_dead_chunks)"
    );
}

/// The app inserts an Account and renames one the org renamed a moment earlier (a
/// conflict the app's later write wins); a scheduler's write-back sends both.
async fn app_writes_with_a_conflict(env: &mut Env, metrics_port: u16) {
    env.spawn(
        &["scheduler", "--tick-seconds", "1"],
        &[("METRICS_PORT", &metrics_port.to_string())],
    );
    // Account has events = true: its stream is live before the app writes, so the
    // write-back's own changes come back as change events.
    let e = &*env;
    e.eventually(
        "the Account event stream live",
        Duration::from_secs(60),
        || async move {
            e.count("SELECT count(*) FROM orgpool.subscriptions WHERE state = 'live'")
                .await
                == 1
        },
    )
    .await;
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
    e.eventually(
        "their change events applied",
        Duration::from_secs(60),
        || async move { e.count("SELECT applied FROM orgpool.subscriptions").await >= 2 },
    )
    .await;
    // And a gap, healed by reading the record by Id and a resync.
    assert!(e.org.emit_gap("Account", "GAP_UPDATE", vec![sfid.clone()]));
    e.eventually("the gap counted", Duration::from_secs(60), || async move {
        e.count("SELECT gaps FROM orgpool.subscriptions").await >= 1
    })
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
    let (web, worker, prom, scheduler) = (free_port(), free_port(), free_port(), free_port());
    env.spawn(&["web", "--port", &web.to_string()], &[]);
    env.spawn(&["worker"], &[("METRICS_PORT", &worker.to_string())]);

    let dir = std::env::temp_dir().join(format!("{}-prometheus", env.db));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: orgpool_web\n    static_configs:\n      - targets: ['127.0.0.1:{web}']\n  - job_name: orgpool_workers\n    static_configs:\n      - targets: ['127.0.0.1:{worker}']\n  - job_name: orgpool_scheduler\n    static_configs:\n      - targets: ['127.0.0.1:{scheduler}']\n",
            concat!(env!("CARGO_MANIFEST_DIR"), "/grafana/alerts.yml")
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
    app_writes_with_a_conflict(&mut env, scheduler).await;
    let id = run_id(&env.ok(&["enqueue", "quotes"]));
    env.wait_succeeded(id, Duration::from_secs(120)).await;

    let dashboard = dashboard();
    let vars = variables(&dashboard);
    let mut all = Vec::new();
    exprs(&dashboard, &mut all);
    assert!(all.len() >= 14, "the dashboard has its panels: {all:?}");
    let all: Vec<String> = all.iter().map(|e| at_all(e, &vars)).collect();

    let start = Instant::now();
    let mut empty: Vec<String>;
    loop {
        empty = Vec::new();
        for e in &all {
            let r = query(prom, e).await;
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
    // Each process's own process_* metrics, not only the web process's.
    for job in ["orgpool_web", "orgpool_workers", "orgpool_scheduler"] {
        let r = query(
            prom,
            &format!("process_resident_memory_bytes{{job=\"{job}\"}}"),
        )
        .await;
        assert!(
            r["data"]["result"]
                .as_array()
                .is_some_and(|a| !a.is_empty()),
            "{job} exports process_resident_memory_bytes: {r}"
        );
    }

    // The "Dead chunks" panel shows the ledger's figure: mark three chunks failed for
    // good (as a run whose chunks ran out of attempts leaves them) and watch it follow.
    sqlx::query(
        "UPDATE orgpool.chunks SET state = 'failed' WHERE id IN
         (SELECT id FROM orgpool.chunks WHERE run_id = $1 AND state = 'done' ORDER BY id LIMIT 3)",
    )
    .bind(id)
    .execute(&env.pool)
    .await
    .unwrap();
    let (ledger,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM orgpool.chunks WHERE state = 'failed'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert!(ledger >= 3, "{ledger}");
    let status: serde_json::Value =
        serde_json::from_str(&env.ok(&["status", "--json"])).expect("status --json");
    assert_eq!(status["dead_chunks"], ledger, "orgpool status counts them");
    let want = ledger.to_string();
    let start = Instant::now();
    loop {
        let r = query(prom, "max(orgpool_ledger_dead_chunks)").await;
        if r["data"]["result"][0]["value"][1].as_str() == Some(want.as_str()) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the Dead chunks panel does not show the ledger's {ledger}: {r}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // The alerting rules load into this Prometheus and evaluate on its data.
    let rules: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{prom}/api/v1/rules"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let loaded: Vec<&serde_json::Value> = rules["data"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .collect();
    assert!(loaded.len() >= 7, "alerts.yml is loaded: {rules}");
    for r in loaded {
        assert_eq!(r["health"], "ok", "{} does not evaluate: {r}", r["name"]);
    }
}
