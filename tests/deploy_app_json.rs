//! `app.json` as Heroku reads it: valid against Heroku's own JSON schema of the file
//! (check-jsonschema, with the schema scripts/test takes from Heroku's npm package;
//! see tests/tools/), and the rules that schema cannot say: one app runs dynos of one
//! tier (Eco, Basic, or the professional Standard and Performance sizes), Eco and Basic
//! run at most one dyno per process type, add-on plans that Heroku sells today, a
//! formation whose process types are the Procfile's, settings orgpool reads, and a
//! formation whose Postgres pools fit the plan's connection limit. The rules are
//! checked on the shipped file and shown to refuse broken ones.

use std::path::{Path, PathBuf};
use std::process::Command;

use orgpool::dev::Procfile;
use orgpool::pg_pool::{self, Process};
use orgpool::settings::Vars;
use serde_json::{Value, json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn shipped() -> Value {
    let text = std::fs::read_to_string(format!("{ROOT}/app.json")).expect("app.json exists");
    serde_json::from_str(&text).expect("app.json is JSON")
}

fn procfile() -> Procfile {
    let text = std::fs::read_to_string(format!("{ROOT}/Procfile")).unwrap();
    Procfile::parse("Procfile", &text).unwrap()
}

fn tool(name: &str) -> PathBuf {
    let path = Path::new(ROOT).join("tests/tools/.venv/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing; scripts/test installs it (ensure_deploy_tools in scripts/lib.sh)",
        path.display()
    );
    path
}

fn heroku_schema() -> PathBuf {
    let path = Path::new(ROOT).join("tests/tools/heroku/app-json.schema.json");
    assert!(
        path.exists(),
        "Heroku's app.json schema is missing at {}; scripts/test installs it (ensure_deploy_tools)",
        path.display()
    );
    path
}

/// check-jsonschema's verdict on `file`: (passed, output).
fn schema_check(file: &Path) -> (bool, String) {
    let out = Command::new(tool("check-jsonschema"))
        .arg("--schemafile")
        .arg(heroku_schema())
        .arg(file)
        .output()
        .expect("check-jsonschema runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Heroku's dyno tier of a size; an app's dynos must all be of one.
fn tier(size: &str) -> Option<&'static str> {
    match size {
        "eco" => Some("eco"),
        "basic" => Some("basic"),
        "standard-1x" | "standard-2x" | "performance-m" | "performance-l" | "performance-l-ram"
        | "performance-xl" | "performance-2xl" => Some("professional"),
        s if s.starts_with("private-") => Some("private"),
        s if s.starts_with("shield-") => Some("shield"),
        _ => None,
    }
}

/// `prefix-N` with N a number.
fn numbered(plan: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| {
        plan.strip_prefix(p)
            .and_then(|n| n.strip_prefix('-'))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Connections a Heroku Postgres plan accepts, for the plans sold today; `None` for a
/// plan name Heroku does not sell (retired ones like `hobby-dev` included).
fn postgres_connections(plan: &str) -> Option<u32> {
    match plan {
        "essential-0" | "essential-1" => Some(20),
        "essential-2" => Some(40),
        p if numbered(p, &["standard", "premium", "private", "shield"]) => Some(120),
        _ => None,
    }
}

fn redis_plan_exists(plan: &str) -> bool {
    plan == "mini" || numbered(plan, &["premium", "private", "shield"])
}

/// Every way `app` breaks the rules beyond the schema, one line each.
fn problems(app: &Value, procfile: &Procfile) -> Vec<String> {
    let mut out = Vec::new();
    let formation = app["formation"].as_object().cloned().unwrap_or_default();
    let mut tiers: Vec<&str> = Vec::new();
    for (name, entry) in &formation {
        let size = entry["size"].as_str().unwrap_or("standard-1x");
        let quantity = entry["quantity"].as_u64().unwrap_or(0);
        match tier(size) {
            None => out.push(format!("{name}: no dyno size {size:?}")),
            Some(t) => {
                if !tiers.contains(&t) {
                    tiers.push(t);
                }
                if matches!(t, "eco" | "basic") && quantity > 1 {
                    out.push(format!(
                        "{name}: {size} dynos run one per process type, not {quantity}"
                    ));
                }
            }
        }
        if name == "release" || procfile.get(name).is_none() {
            out.push(format!("{name}: not a long-running type of the Procfile"));
        }
    }
    if tiers.len() > 1 {
        out.push(format!(
            "the formation mixes dyno tiers ({}); an app runs one tier",
            tiers.join(", ")
        ));
    }
    for t in procfile.types.iter().filter(|t| t.name != "release") {
        if !formation.contains_key(&t.name) {
            out.push(format!(
                "{}: a Procfile type the formation leaves out",
                t.name
            ));
        }
    }

    // Settings: names orgpool reads, values its readers accept.
    let env: Vec<(String, String)> = app["env"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v["value"].as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    for name in app["env"].as_object().into_iter().flat_map(|m| m.keys()) {
        if orgpool::settings::find(name).is_none() {
            out.push(format!("env {name}: not a setting orgpool reads"));
        }
    }
    let vars = Vars::new(env.clone());
    let concurrency = match orgpool::queue::QueueConfig::from_vars(env) {
        Ok(q) => q.concurrency,
        Err(e) => {
            out.push(format!("env: {e}"));
            2
        }
    };

    // Add-ons, and the formation's connections against the Postgres plan's.
    let mut limit = None;
    for addon in app["addons"].as_array().into_iter().flatten() {
        let plan = addon["plan"].as_str().or(addon.as_str()).unwrap_or("");
        match plan.split_once(':') {
            Some(("heroku-postgresql", p)) => match postgres_connections(p) {
                Some(n) => limit = Some(n),
                None => out.push(format!("add-on {plan}: Heroku Postgres has no plan {p:?}")),
            },
            Some(("heroku-redis", p)) if !redis_plan_exists(p) => {
                out.push(format!("add-on {plan}: Heroku Redis has no plan {p:?}"))
            }
            Some(("heroku-redis", _)) => {}
            _ => out.push(format!(
                "add-on {plan:?}: not one orgpool uses, or no plan named"
            )),
        }
    }
    let mut total = 0u64;
    for (name, entry) in &formation {
        let Some(process) = procfile
            .get(name)
            .and_then(|t| Process::of_command(&t.command))
        else {
            continue;
        };
        match pg_pool::size(process, &vars, concurrency) {
            Ok(s) => total += entry["quantity"].as_u64().unwrap_or(0) * u64::from(s.size),
            Err(e) => out.push(format!("env: {e}")),
        }
    }
    // The release phase (one connection) runs while the old dynos still do, and an
    // operator's `heroku run orgpool status` takes a one-off's pool.
    total += 1 + u64::from(pg_pool::COMMAND);
    match limit {
        Some(n) if total > u64::from(n) => out.push(format!(
            "the formation may hold {total} Postgres connections; the plan accepts {n}"
        )),
        Some(_) => {}
        None => out.push("no heroku-postgresql add-on".into()),
    }
    out
}

#[test]
fn app_json_passes_herokus_schema() {
    let (ok, text) = schema_check(&Path::new(ROOT).join("app.json"));
    assert!(ok, "app.json does not match Heroku's schema:\n{text}");
}

#[test]
fn herokus_schema_refuses_a_dyno_size_it_does_not_have() {
    let mut app = shipped();
    app["formation"]["worker"]["size"] = json!("standard-3x");
    app["formation"]["worker"]["replicas"] = json!(2);
    let file = std::env::temp_dir().join(format!("orgpool-app-{}.json", std::process::id()));
    std::fs::write(&file, app.to_string()).unwrap();
    let (ok, text) = schema_check(&file);
    let _ = std::fs::remove_file(&file);
    assert!(!ok, "the schema accepts standard-3x:\n{text}");
    assert!(text.contains("standard-3x"), "{text}");
}

#[test]
fn the_shipped_app_json_keeps_every_rule() {
    let problems = problems(&shipped(), &procfile());
    assert!(problems.is_empty(), "app.json: {problems:#?}");
}

#[test]
fn the_rules_refuse_what_heroku_would() {
    let procfile = procfile();
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut app = shipped();
        f(&mut app);
        problems(&app, &procfile).join("\n")
    };
    // The formation this file had: Basic web and scheduler beside Standard workers.
    let p = broken(&|a| {
        a["formation"]["web"]["size"] = json!("basic");
        a["formation"]["scheduler"]["size"] = json!("basic");
    });
    assert!(p.contains("mixes dyno tiers (basic, professional)"), "{p}");
    let p = broken(&|a| {
        a["formation"] = json!({"web": {"quantity": 1, "size": "basic"},
        "scheduler": {"quantity": 1, "size": "basic"}, "worker": {"quantity": 2, "size": "basic"}})
    });
    assert!(
        p.contains("worker: basic dynos run one per process type, not 2"),
        "{p}"
    );
    let p = broken(&|a| a["formation"]["release"] = json!({"quantity": 1}));
    assert!(p.contains("release: not a long-running type"), "{p}");
    let p = broken(&|a| {
        a["formation"].as_object_mut().unwrap().remove("scheduler");
    });
    assert!(
        p.contains("scheduler: a Procfile type the formation leaves out"),
        "{p}"
    );
    let p = broken(&|a| a["addons"][0]["plan"] = json!("heroku-postgresql:hobby-dev"));
    assert!(
        p.contains("Heroku Postgres has no plan \"hobby-dev\""),
        "{p}"
    );
    let p = broken(&|a| a["addons"][1]["plan"] = json!("heroku-redis:hobby-dev"));
    assert!(p.contains("Heroku Redis has no plan \"hobby-dev\""), "{p}");
    let p = broken(&|a| a["env"]["ORGPOOL_WORKER_CONCURENCY"] = json!({"value": "2"}));
    assert!(
        p.contains("ORGPOOL_WORKER_CONCURENCY: not a setting"),
        "{p}"
    );
    // Four workers at the default pool, on a plan of 20 connections.
    let p = broken(&|a| a["formation"]["worker"]["quantity"] = json!(4));
    assert!(
        p.contains("may hold 26 Postgres connections; the plan accepts 20"),
        "{p}"
    );
    let p = broken(&|a| a["env"]["WORKER_CONCURRENCY"]["value"] = json!("many"));
    assert!(p.contains("WORKER_CONCURRENCY is invalid"), "{p}");
}
