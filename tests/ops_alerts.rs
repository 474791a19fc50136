//! The alerting rules in `grafana/alerts.yml`: `promtool check rules` accepts them,
//! `promtool test rules grafana/alerts.test.yml` passes (series that make each alert
//! fire and series that leave it silent), every alert has both kinds of case there,
//! every series they read is one orgpool exports (a metric name constant in
//! `src/telemetry/`), `grafana/prometheus.yml` loads them, and a real scheduler
//! reports the poll intervals the lag rule compares with. promtool comes from Debian's
//! prometheus package (scripts/test installs it).

mod jobs_common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use jobs_common::{Env, free_port, seeded_org};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn promtool(args: &[&str]) -> (bool, String) {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(ROOT)
        .output()
        .expect("promtool is installed (scripts/test installs the prometheus package)");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The alert names of `grafana/alerts.yml`.
fn alerts() -> Vec<String> {
    read("grafana/alerts.yml")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert:"))
        .map(|n| n.trim().to_string())
        .collect()
}

#[test]
fn promtool_accepts_the_rules() {
    let (ok, out) = promtool(&["check", "rules", "grafana/alerts.yml"]);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("{} rules found", alerts().len())),
        "{out}"
    );
}

#[test]
fn the_rule_tests_pass() {
    let (ok, out) = promtool(&["test", "rules", "grafana/alerts.test.yml"]);
    assert!(ok, "{out}");
}

#[test]
fn every_alert_has_a_case_that_fires_and_one_that_stays_silent() {
    let tests = read("grafana/alerts.test.yml");
    let lines: Vec<&str> = tests.lines().map(str::trim).collect();
    let (mut fires, mut silent) = (BTreeSet::new(), BTreeSet::new());
    for (i, l) in lines.iter().enumerate() {
        let Some(name) = l.strip_prefix("alertname:") else {
            continue;
        };
        let name = name.trim().to_string();
        match lines.get(i + 1).copied() {
            Some("exp_alerts: []") => silent.insert(name),
            Some("exp_alerts:") => fires.insert(name),
            other => panic!("{name}: expected exp_alerts after alertname, got {other:?}"),
        };
    }
    let all = alerts();
    assert!(all.len() >= 7, "the rules: {all:?}");
    for a in &all {
        assert!(fires.contains(a), "{a} has no case where it fires");
        assert!(silent.contains(a), "{a} has no case where it stays silent");
    }
}

#[test]
fn every_series_the_rules_read_is_one_orgpool_exports() {
    let mut exported = String::new();
    for e in std::fs::read_dir(format!("{ROOT}/src/telemetry")).unwrap() {
        exported.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    let rules = read("grafana/alerts.yml");
    let used: BTreeSet<&str> = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("orgpool_"))
        .collect();
    assert!(used.len() >= 10, "{used:?}");
    for name in used {
        assert!(
            exported.contains(&format!("\"{name}\"")),
            "grafana/alerts.yml reads {name}, which src/telemetry/ does not define"
        );
    }
}

#[test]
fn prometheus_yml_loads_the_rules() {
    let config = read("grafana/prometheus.yml");
    assert!(
        config.contains("rule_files:\n  - alerts.yml"),
        "grafana/prometheus.yml does not load alerts.yml"
    );
    let (ok, out) = promtool(&["check", "config", "grafana/prometheus.yml"]);
    assert!(ok && out.contains("1 rule files found"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_scheduler_reports_each_mappings_poll_interval() {
    let mappings = "[[mapping]]\nobject = \"Account\"\npoll_interval = \"15m\"\n\n[[mapping]]\nobject = \"Opportunity\"\npoll_interval = \"60m\"\n";
    let mut env = Env::new("alerts_interval", seeded_org(5, 5, 0), mappings).await;
    let port = free_port();
    env.spawn(
        &["scheduler"],
        &[
            ("METRICS_PORT", &port.to_string()),
            ("ORGPOOL_METRICS_BIND", "127.0.0.1"),
        ],
    );
    let url = format!("http://127.0.0.1:{port}/metrics");
    let e = &env;
    e.eventually(
        "the scheduler's poll intervals",
        Duration::from_secs(60),
        || {
            let url = url.clone();
            async move {
                let body = match reqwest::get(&url).await {
                    Ok(r) => r.text().await.unwrap_or_default(),
                    Err(_) => return false,
                };
                body.contains("orgpool_mirror_poll_interval_seconds{object=\"Account\"} 900")
                    && body.contains(
                        "orgpool_mirror_poll_interval_seconds{object=\"Opportunity\"} 3600",
                    )
            }
        },
    )
    .await;
}
