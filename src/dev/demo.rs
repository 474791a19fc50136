//! `orgpool dev --demo`: once the Procfile's processes are up, drives the main job end
//! to end through them: a fresh database (`orgpool_demo`) and Redis prefix, an initial
//! load of every mapping and then a resync started through the web process's enqueue
//! API (as an operator would), the app writing to the read_write Account table with
//! plain SQL and those changes reaching the org ([`super::demo_writes`], on the
//! in-process fake org), the org changing, counts of org against mirror, and a quote
//! run whose results it summarises with the write-back's.

use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};

use super::DevError;
use super::demo_writes::{self, Written};
use crate::app::Services;
use crate::jobs::JobSettings;
use crate::jobs::enqueue::{self, Request};
use crate::mirror::{Mapping, quote_ident};
use crate::queue::{QueueConfig, Queues};
use crate::salesforce::{Client, SalesforceConfig};
use crate::web::WebConfig;

/// What the demo asks of an org it can look into: the in-process fake org answers; a
/// real org at `SALESFORCE_LOGIN_URL` is not one (its counts show as `-` and it is not
/// made to change).
pub trait LocalOrg: Send + Sync {
    /// Live (not deleted) records of `object`.
    fn count(&self, object: &str) -> usize;
    /// Starts (`true`) or stops inserts, updates and deletes of Opportunities.
    fn churn_opportunities(&self, on: bool);
}

#[cfg(feature = "fake-org")]
impl LocalOrg for crate::fake_org::FakeOrg {
    fn count(&self, object: &str) -> usize {
        crate::fake_org::FakeOrg::count(self, object)
    }

    fn churn_opportunities(&self, on: bool) {
        let spec = crate::fake_org::ChurnSpec {
            object: "Opportunity".into(),
            inserts: 20.0,
            updates: 50.0,
            deletes: 5.0,
        };
        self.set_churn(if on { vec![spec] } else { vec![] });
    }
}

/// What the demo set up before the processes started.
pub struct DemoSetup {
    services: Services,
    token: String,
    prefix: String,
    mappings: Vec<Mapping>,
    /// A client on the in-process fake org, for the write-back step (none on a real org).
    org_client: Option<Client>,
}

/// Creates the demo database and prefix and adds their settings to `env`. With
/// `local_org` (the in-process fake org, started with [`demo_writes::schema_file`]),
/// the processes get a copy of the mappings with Account read_write.
pub async fn prepare(
    env: &mut Vec<(String, String)>,
    local_org: bool,
) -> Result<DemoSetup, DevError> {
    let settings = JobSettings::from_env()?;
    let mut mappings_path = settings.mappings_path.clone();
    if local_org {
        let text = std::fs::read_to_string(&mappings_path).map_err(|e| {
            DevError::other(format!(
                "cannot read the mappings file {mappings_path}: {e}; run from the project folder or set ORGPOOL_MAPPINGS"
            ))
        })?;
        let copy = demo_writes::mappings_file(&mappings_path, &text)?;
        mappings_path = copy.display().to_string();
        env.push(("ORGPOOL_MAPPINGS".into(), mappings_path.clone()));
    }
    let file = crate::scheduler::catalog::read(&mappings_path).map_err(DevError::other)?;
    let admin_url = crate::app::database_url();
    let mut admin =
        PgConnection::connect(&admin_url)
            .await
            .map_err(|source| DevError::ConnectPostgres {
                url: crate::migrate::redact(&admin_url),
                source,
            })?;
    sqlx::query("DROP DATABASE IF EXISTS orgpool_demo WITH (FORCE)")
        .execute(&mut admin)
        .await?;
    sqlx::query("CREATE DATABASE orgpool_demo")
        .execute(&mut admin)
        .await?;
    let mut url = url::Url::parse(&admin_url)?;
    url.set_path("/orgpool_demo");
    let db_url = url.to_string();
    let prefix = format!("orgpool-demo:{}", std::process::id());
    let token = match WebConfig::from_env()?.token {
        Some(t) => t.expose().to_string(),
        None => format!("{:032x}", rand::random::<u128>()),
    };
    for (k, v) in [
        ("DATABASE_URL", db_url.as_str()),
        ("ORGPOOL_REDIS_PREFIX", prefix.as_str()),
        ("ORGPOOL_WEB_TOKEN", token.as_str()),
        ("ORGPOOL_WEB_PROTECT_READS", "false"),
        ("ORGPOOL_RESYNC_LAG", "0"),
        ("ORGPOOL_RESYNC_OVERLAP", "2s"),
    ] {
        env.push((k.into(), v.into()));
    }
    let redis = crate::redis_conn::connect(&crate::redis_conn::url_from_env())
        .await
        .map_err(DevError::other)?;
    let queues = Queues::new(
        redis,
        QueueConfig {
            prefix: prefix.clone(),
            ..Default::default()
        },
    );
    println!(
        "orgpool dev: demo database orgpool_demo (fresh), Redis prefix {prefix}, {} mappings from {}{}",
        file.mapping.len(),
        settings.mappings_path,
        if local_org {
            " (Account made read_write for the demo)"
        } else {
            ""
        }
    );
    let var = |k: &str| {
        env.iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let org_client = if local_org {
        let cfg = SalesforceConfig::new(
            &var("SALESFORCE_LOGIN_URL"),
            &var("SALESFORCE_CLIENT_ID"),
            &var("SALESFORCE_CLIENT_SECRET"),
        );
        Some(Client::new(cfg, queues.conn(), &prefix).map_err(DevError::other)?)
    } else {
        None
    };
    Ok(DemoSetup {
        services: Services {
            // A one-off's pool: `orgpool dev` counts it with the formation's.
            pool: sqlx::postgres::PgPoolOptions::new()
                .max_connections(crate::pg_pool::COMMAND)
                .connect_lazy(&db_url)?,
            queues,
            client: None,
            settings,
        },
        token,
        prefix,
        mappings: file.mapping,
        org_client,
    })
}

impl DemoSetup {
    /// Removes the demo's Redis keys and files (the database stays for inspection).
    pub async fn cleanup(&self) {
        let _ = std::fs::remove_dir_all(demo_writes::work_dir());
        let mut c = self.services.queues.conn();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query_async(&mut c)
            .await
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<(), _> = redis::cmd("DEL").arg(keys).query_async(&mut c).await;
        }
    }

    /// Starts runs through the web process when there is one, else directly.
    async fn enqueue(
        &self,
        web: Option<u16>,
        req: serde_json::Value,
    ) -> Result<Vec<i64>, DevError> {
        let Some(port) = web else {
            let req: Request = serde_json::from_value(req)?;
            let started = enqueue::start(&self.services, &req, "demo").await?;
            return Ok(started.iter().map(|s| s.run_id).collect());
        };
        let resp = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/api/runs"))
            .bearer_auth(&self.token)
            .json(&req)
            .send()
            .await?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await?;
        if !status.is_success() {
            return Err(DevError::EnqueueRefused {
                status,
                error: body["error"].to_string(),
            });
        }
        let runs = body["runs"].as_array().cloned().unwrap_or_default();
        for r in &runs {
            println!(
                "   run {}: {}",
                r["run_id"],
                r["note"].as_str().unwrap_or("")
            );
        }
        Ok(runs.iter().filter_map(|r| r["run_id"].as_i64()).collect())
    }

    async fn wait_all(&self, ids: &[i64]) -> Result<bool, DevError> {
        let mut ok = true;
        for id in ids {
            if let Some(err) = crate::cli::wait(&self.services, *id)
                .await
                .map_err(DevError::other)?
            {
                eprintln!("   {err}");
                ok = false;
            }
        }
        Ok(ok)
    }
}

async fn wait_healthy(port: u16) -> Result<(), DevError> {
    let url = format!("http://127.0.0.1:{port}/healthz");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = reqwest::get(&url).await
            && r.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(DevError::WebNotHealthy { url });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Drives the demo; `web` is the web process's port when there is one.
pub async fn run(
    s: &DemoSetup,
    org: Option<&dyn LocalOrg>,
    web: Option<u16>,
) -> Result<(), DevError> {
    if let Some(port) = web {
        wait_healthy(port).await?;
    }
    println!("1. initial load of every mapping (POST /api/runs):");
    let t = Instant::now();
    let ids = s
        .enqueue(
            web,
            serde_json::json!({"kind": "initial_load", "all": true}),
        )
        .await?;
    let mut ok = s.wait_all(&ids).await?;
    println!("   loaded in {:.1} s", t.elapsed().as_secs_f64());
    compare(s, org).await?;
    let mut step = 2;
    let mut written = None;
    if let (Some(client), Some(_)) = (&s.org_client, org) {
        println!(
            "{step}. the app writes to salesforce.account (read_write) with plain SQL; write-back sends it:"
        );
        written = Some(demo_writes::run(&s.services.pool, client).await?);
        step += 1;
    }
    if let Some(org) = org {
        // Mappings with events = true subscribe once loaded; the churn's changes then
        // arrive as change events, before the resync below.
        let events =
            super::demo_events::wait_live(&s.services.pool, Duration::from_secs(20)).await?;
        println!(
            "{step}. the org changes for 3 s (Opportunity: 20 inserts, 50 updates, 5 deletes a second)"
        );
        org.churn_opportunities(true);
        tokio::time::sleep(Duration::from_secs(3)).await;
        org.churn_opportunities(false);
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        if events {
            super::demo_events::report(&s.services.pool).await?;
            compare_only(s, Some(org), |m| m.events).await?;
        }
        step += 1;
    }
    println!("{step}. resync of every mapping:");
    let ids = s
        .enqueue(web, serde_json::json!({"kind": "resync", "all": true}))
        .await?;
    ok &= s.wait_all(&ids).await?;
    compare(s, org).await?;
    println!(
        "{}. quote run (rules in jobs/quotes.toml or ORGPOOL_QUOTES):",
        step + 1
    );
    let t = Instant::now();
    let ids = s
        .enqueue(web, serde_json::json!({"kind": "quotes"}))
        .await?;
    ok &= s.wait_all(&ids).await?;
    summarise(s, org, t.elapsed().as_secs_f64(), written.as_ref()).await?;
    if !ok {
        return Err(DevError::RunFailed);
    }
    Ok(())
}

async fn summarise(
    s: &DemoSetup,
    org: Option<&dyn LocalOrg>,
    secs: f64,
    written: Option<&Written>,
) -> Result<(), DevError> {
    let pool = &s.services.pool;
    let t = crate::ledger::stats::quote_totals(pool).await?;
    println!(
        "   {} Quotes with {} lines pushed in {secs:.1} s ({:.0} Opportunities/s); total {}; {} refused records open",
        t.quotes,
        t.lines,
        t.quotes as f64 / secs.max(0.001),
        t.total.unwrap_or_default(),
        t.open_failures
    );
    if let Some(org) = org {
        println!(
            "   in the org now: {} Quotes, {} QuoteLineItems",
            org.count("Quote"),
            org.count("QuoteLineItem")
        );
    }
    if let Some(w) = written {
        demo_writes::summarise(w);
    }
    println!(
        "   the mirror stays in database orgpool_demo (schema salesforce), the Quotes in orgpool.quotes"
    );
    Ok(())
}

async fn compare(s: &DemoSetup, org: Option<&dyn LocalOrg>) -> Result<(), DevError> {
    compare_only(s, org, |_| true).await
}

/// Like [`compare`], for the mappings `keep` selects.
async fn compare_only(
    s: &DemoSetup,
    org: Option<&dyn LocalOrg>,
    keep: impl Fn(&crate::mirror::Mapping) -> bool,
) -> Result<(), DevError> {
    println!("   {:<22} {:>10} {:>10}", "object", "org", "mirror");
    for m in s.mappings.iter().filter(|m| keep(m)) {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {}.{} WHERE isdeleted IS NOT TRUE",
            quote_ident(&m.schema),
            quote_ident(&m.table())
        )))
        .fetch_one(&s.services.pool)
        .await?;
        let live = org.map(|o| o.count(&m.object) as i64);
        println!(
            "   {:<22} {:>10} {:>10}{}",
            m.object,
            live.map_or("-".into(), |l| l.to_string()),
            n,
            if live.is_some_and(|l| l != n) {
                "  (differs)"
            } else {
                ""
            }
        );
    }
    Ok(())
}
