//! What the job-system benchmarks share: a database of their own (dropped afterwards),
//! a seeded fake org in a child process, a Redis prefix of their own, and N
//! `orgpool worker` processes, with their peak memory read from `/proc`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use sqlx::{Connection, PgConnection, PgPool};
use tokio::process::{Child, Command};

use super::BenchError;
use super::child_org::ChildOrg;
use crate::fake_org::FakeOrgConfig;
use crate::queue::{QueueConfig, Queues};

/// A benchmark's world.
pub struct Fleet {
    /// The database URL.
    pub db_url: String,
    db: String,
    /// A pool on it.
    pub pool: PgPool,
    /// The org.
    pub org: ChildOrg,
    /// Queues under the bench's prefix.
    pub queues: Queues,
    /// Scratch directory (mappings, rules, CSV).
    pub dir: PathBuf,
    /// The workers.
    pub workers: Vec<Child>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet").field("db", &self.db).finish()
    }
}

/// Peak resident memory of a process, MiB.
pub fn peak_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

impl Fleet {
    /// Sets up `name`'s world: the org seeded with `org_args`, `mappings` and `quotes`
    /// written, migrated database, `workers` worker processes.
    pub async fn start(
        name: &str,
        org_args: &[&str],
        mappings: &str,
        quotes: Option<&str>,
        workers: usize,
    ) -> Result<Fleet, BenchError> {
        eprintln!("seeding a child fake org ({}) ...", org_args.join(" "));
        let org = ChildOrg::spawn(None, org_args).await?;
        Fleet::start_on(name, org, mappings, quotes, workers).await
    }

    /// Like [`Fleet::start`] on an org already running (several fleets on one org).
    pub async fn start_on(
        name: &str,
        org: ChildOrg,
        mappings: &str,
        quotes: Option<&str>,
        workers: usize,
    ) -> Result<Fleet, BenchError> {
        let admin_url = crate::app::database_url();
        let db = format!("orgpool_bench_{name}_{}", std::process::id());
        let mut admin = PgConnection::connect(&admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{db}\""
        )))
        .execute(&mut admin)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
            .execute(&mut admin)
            .await?;
        let mut url = url::Url::parse(&admin_url)?;
        url.set_path(&format!("/{db}"));
        let db_url = url.to_string();
        crate::migrate::run(&db_url).await?;
        let prefix = format!("orgpool-bench-{name}:{}", std::process::id());
        let dir = std::env::temp_dir().join(prefix.replace(':', "-"));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("mappings.toml"), mappings)?;
        if let Some(q) = quotes {
            std::fs::write(dir.join("quotes.toml"), q)?;
        }
        let redis = crate::redis_conn::connect(&crate::redis_conn::url_from_env())
            .await
            .map_err(BenchError::other)?;
        let queues = Queues::new(
            redis,
            QueueConfig {
                prefix: prefix.clone(),
                ..Default::default()
            },
        );
        let pool = PgPool::connect(&db_url).await?;
        let mut fleet = Fleet {
            db_url,
            db,
            pool,
            org,
            queues,
            dir,
            workers: Vec::new(),
        };
        for _ in 0..workers {
            let w = fleet.command(&["worker"]).spawn()?;
            fleet.workers.push(w);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok(fleet)
    }

    /// `orgpool ARGS` (this executable) with the fleet's environment: its database,
    /// Redis prefix, mappings and org (change events too), output discarded unless
    /// `ORGPOOL_BENCH_WORKER_LOG` sets a log level.
    pub fn command(&self, args: &[&str]) -> Command {
        let d = FakeOrgConfig::default();
        let exe = std::env::current_exe().unwrap_or_else(|_| "orgpool".into());
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .env("DATABASE_URL", &self.db_url)
            .env("ORGPOOL_REDIS_PREFIX", &self.queues.config().prefix)
            .env("ORGPOOL_MAPPINGS", self.dir.join("mappings.toml"))
            .env("SALESFORCE_LOGIN_URL", &self.org.base_url)
            .env("SALESFORCE_CLIENT_ID", &d.client_id)
            .env("SALESFORCE_CLIENT_SECRET", &d.client_secret)
            .envs(self.org.events_env())
            .env(
                "RUST_LOG",
                crate::settings::Vars::from_env()
                    .text("ORGPOOL_BENCH_WORKER_LOG")
                    .unwrap_or_else(|| "warn".into()),
            )
            .stdout(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    /// Waits for run `id` to end; errors if it did not succeed.
    pub async fn wait(&self, id: i64) -> Result<(), BenchError> {
        loop {
            let r = crate::ledger::runs::get(&self.pool, id).await?;
            if r.is_finished() {
                if r.state != "succeeded" {
                    return Err(BenchError::RunEnded {
                        id,
                        kind: r.kind,
                        state: r.state,
                        error: r.error,
                    });
                }
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A Salesforce client on the org (for baselines), under the bench's prefix.
    pub fn client(&self) -> Result<crate::salesforce::Client, BenchError> {
        let d = FakeOrgConfig::default();
        let cfg = crate::salesforce::SalesforceConfig::new(
            &self.org.base_url,
            &d.client_id,
            &d.client_secret,
        );
        let prefix = format!("{}:baseline", self.queues.config().prefix);
        Ok(crate::salesforce::Client::new(
            cfg,
            self.queues.conn(),
            &prefix,
        )?)
    }

    /// Peak memory of each worker, MiB.
    pub fn worker_peaks(&self) -> Vec<f64> {
        self.workers
            .iter()
            .filter_map(|w| w.id())
            .map(peak_mib)
            .collect()
    }

    /// Stops everything and drops the database and the Redis keys.
    pub async fn stop(mut self) -> Result<(), BenchError> {
        for w in &mut self.workers {
            let _ = w.kill().await;
        }
        self.org.stop().await;
        self.pool.close().await;
        let _ = std::fs::remove_dir_all(&self.dir);
        let mut redis = self.queues.conn();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.queues.config().prefix))
            .query_async(&mut redis)
            .await?;
        if !keys.is_empty() {
            let _: () = redis::cmd("DEL").arg(keys).query_async(&mut redis).await?;
        }
        let mut admin = PgConnection::connect(&crate::app::database_url()).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.db
        )))
        .execute(&mut admin)
        .await?;
        Ok(())
    }
}
