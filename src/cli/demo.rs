//! `orgpool demo`: the main job end to end on a fake org. Starts a seeded fake org,
//! a database of its own (`orgpool_demo`, recreated each time) and two worker
//! processes, runs an initial load of every mapping in `jobs/mappings.toml` through the
//! queue, lets the org change (inserts, updates, deletes), runs a resync, prints what
//! the mirror holds against what the org holds, then runs a quote run with
//! `jobs/quotes.toml` and summarises it.

use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::Args;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::process::{Child, Command};

use crate::app::Services;
use crate::fake_org::{self, ChurnSpec, FakeOrgConfig, SeedConfig};
use crate::jobs::JobSettings;
use crate::jobs::dispatch::start_run;
use crate::ledger::RunKind;
use crate::mirror::quote_ident;
use crate::queue::{QueueConfig, Queues};
use crate::scheduler::catalog;

/// Options of the demo.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Opportunities to seed [20000].
    #[arg(long, default_value_t = 20_000)]
    pub opportunities: u64,
    /// Worker processes [2].
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// The mappings file [jobs/mappings.toml].
    #[arg(long, default_value = "jobs/mappings.toml")]
    pub mappings: String,
    /// The quote rules [jobs/quotes.toml].
    #[arg(long, default_value = "jobs/quotes.toml")]
    pub quotes: String,
}

impl DemoArgs {
    /// Runs the demo.
    pub async fn run(self) -> anyhow::Result<()> {
        let file = catalog::read(&self.mappings)?;
        let config = FakeOrgConfig {
            seed: SeedConfig {
                opportunities: self.opportunities,
                accounts: (self.opportunities / 10).max(10),
                ..SeedConfig::default()
            },
            ..FakeOrgConfig::default()
        };
        let t = Instant::now();
        let org = fake_org::start(config.clone()).await?;
        println!(
            "1. fake org at {} seeded in {:.1} s",
            org.base_url,
            t.elapsed().as_secs_f64()
        );

        let admin_url = crate::app::database_url();
        let mut admin = PgConnection::connect(&admin_url).await?;
        sqlx::query("DROP DATABASE IF EXISTS orgpool_demo WITH (FORCE)")
            .execute(&mut admin)
            .await?;
        sqlx::query("CREATE DATABASE orgpool_demo")
            .execute(&mut admin)
            .await?;
        let mut url = url::Url::parse(&admin_url)?;
        url.set_path("/orgpool_demo");
        let db_url = url.to_string();
        crate::migrate::run(&db_url).await?;
        let pool = PgPool::connect(&db_url).await?;
        let prefix = format!("orgpool-demo:{}", std::process::id());
        let redis = crate::redis_conn::connect(&crate::redis_conn::url_from_env()).await?;
        let queues = Queues::new(
            redis,
            QueueConfig {
                prefix: prefix.clone(),
                ..Default::default()
            },
        );
        catalog::record(&pool, &file.mapping).await?;
        println!(
            "2. database orgpool_demo migrated; {} mappings from {}",
            file.mapping.len(),
            self.mappings
        );

        let mut workers: Vec<Child> = Vec::new();
        for _ in 0..self.workers {
            workers.push(
                Command::new(std::env::current_exe()?)
                    .arg("worker")
                    .env("DATABASE_URL", &db_url)
                    .env("ORGPOOL_REDIS_PREFIX", &prefix)
                    .env("ORGPOOL_MAPPINGS", &self.mappings)
                    .env("SALESFORCE_LOGIN_URL", &org.base_url)
                    .env("SALESFORCE_CLIENT_ID", &config.client_id)
                    .env("SALESFORCE_CLIENT_SECRET", &config.client_secret)
                    .env("ORGPOOL_RESYNC_LAG", "0")
                    .env("ORGPOOL_RESYNC_OVERLAP", "2s")
                    .env("RUST_LOG", "warn")
                    .stdout(Stdio::null())
                    .kill_on_drop(true)
                    .spawn()?,
            );
        }
        println!("3. {} worker processes started", self.workers);
        let services = Services {
            pool: pool.clone(),
            queues: queues.clone(),
            client: None,
            settings: JobSettings::default(),
        };

        println!("4. initial load of every mapping through the queue:");
        let t = Instant::now();
        let ok = run_all(&services, &file.mapping, RunKind::InitialLoad).await?;
        println!("   loaded in {:.1} s", t.elapsed().as_secs_f64());
        compare(&pool, &org, &file.mapping).await?;

        println!(
            "5. the org changes for 3 s (Opportunity: 20 inserts, 50 updates, 5 deletes a second)"
        );
        org.set_churn(vec![ChurnSpec {
            object: "Opportunity".into(),
            inserts: 20.0,
            updates: 50.0,
            deletes: 5.0,
        }]);
        tokio::time::sleep(Duration::from_secs(3)).await;
        org.set_churn(vec![]);
        tokio::time::sleep(Duration::from_millis(1_100)).await;

        println!("6. resync of every mapping:");
        let ok = ok & run_all(&services, &file.mapping, RunKind::Resync).await?;
        compare(&pool, &org, &file.mapping).await?;

        println!("7. quote run (rules in {}):", self.quotes);
        let t = Instant::now();
        let text = std::fs::read_to_string(&self.quotes)?;
        let rules = crate::quotes::QuotesFile::parse(&self.quotes, &text)?;
        let version = crate::quotes::record_rules(&pool, &rules, &text).await?;
        let id = crate::jobs::dispatch::start_run_with(
            &pool,
            &queues,
            RunKind::QuoteGeneration,
            "Opportunity",
            serde_json::json!({ "version": version }),
            "demo",
        )
        .await?
        .id();
        let ok = ok & super::wait(&services, id).await?.is_none();
        let (quotes, lines, total, failures): (i64, i64, Option<rust_decimal::Decimal>, i64) =
            sqlx::query_as(
                "SELECT (SELECT count(*) FROM orgpool.quotes WHERE state = 'pushed'),
                    (SELECT count(*) FROM orgpool.quote_lines WHERE state = 'pushed'),
                    (SELECT sum(total) FROM orgpool.quotes WHERE state = 'pushed'),
                    (SELECT count(*) FROM orgpool.record_failures WHERE NOT resolved)",
            )
            .fetch_one(&pool)
            .await?;
        let (selected, skipped): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT (params->>'selected')::bigint, (params->>'skipped_no_lines')::bigint FROM orgpool.runs WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&pool)
        .await?;
        println!(
            "   {} Opportunities selected ({} without lines skipped): {quotes} Quotes with {lines} lines pushed in {:.1} s, {:.0} Opportunities/s; total {} ; {failures} refused records open",
            selected.unwrap_or(0),
            skipped.unwrap_or(0),
            t.elapsed().as_secs_f64(),
            quotes as f64 / t.elapsed().as_secs_f64(),
            total.unwrap_or_default()
        );
        println!(
            "   in the org now: {} Quotes, {} QuoteLineItems",
            org.count("Quote"),
            org.count("QuoteLineItem")
        );

        for w in &mut workers {
            if let Some(pid) = w.id() {
                let _ = std::process::Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status();
            }
        }
        for w in &mut workers {
            let _ = tokio::time::timeout(Duration::from_secs(30), w.wait()).await;
        }
        let mut c = queues.conn();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}:*"))
            .query_async(&mut c)
            .await?;
        if !keys.is_empty() {
            let _: () = redis::cmd("DEL").arg(keys).query_async(&mut c).await?;
        }
        println!(
            "8. workers stopped; the mirror stays in database orgpool_demo (schema salesforce), the Quotes in orgpool.quotes"
        );
        if !ok {
            anyhow::bail!("a run failed; see the messages above");
        }
        Ok(())
    }
}

async fn run_all(
    s: &Services,
    mappings: &[crate::mirror::Mapping],
    kind: RunKind,
) -> anyhow::Result<bool> {
    let mut ids = Vec::new();
    for m in mappings {
        ids.push(
            start_run(&s.pool, &s.queues, kind, &m.object, "demo")
                .await?
                .id(),
        );
    }
    let mut ok = true;
    for id in ids {
        if let Some(err) = super::wait(s, id).await? {
            eprintln!("   {err}");
            ok = false;
        }
    }
    Ok(ok)
}

async fn compare(
    pool: &PgPool,
    org: &fake_org::FakeOrg,
    mappings: &[crate::mirror::Mapping],
) -> anyhow::Result<()> {
    println!("   {:<22} {:>10} {:>10}", "object", "org", "mirror");
    for m in mappings {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {}.{} WHERE isdeleted IS NOT TRUE",
            quote_ident(&m.schema),
            quote_ident(&m.table())
        )))
        .fetch_one(pool)
        .await?;
        let live = org.count(&m.object);
        println!(
            "   {:<22} {:>10} {:>10}{}",
            m.object,
            live,
            n,
            if live as i64 == n { "" } else { "  (differs)" }
        );
    }
    Ok(())
}
