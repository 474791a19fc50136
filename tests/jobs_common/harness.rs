//! The in-process job harness: a kind's plan and work steps run by its real runner
//! against real Postgres (a database of the test's own, migrated) and real Redis (a
//! key prefix of its own) and an in-process fake org, without spawning binaries. The
//! test drives chunks one at a time, so it can fail, cancel or corrupt one in between.

use std::time::Duration;

use orgpool::app::Services;
use orgpool::fake_org::{FakeOrg, FakeOrgConfig};
use orgpool::jobs::registry::Kind;
use orgpool::jobs::{JobContext, JobSettings};
use orgpool::mirror::MappingsFile;
use orgpool::queue::{QueueConfig, Queues};
use orgpool::salesforce::{Client, SalesforceConfig};
use sqlx::PgPool;
use std::sync::Arc;
use tokio::sync::watch;

/// The worker name the harness claims chunks as.
pub const WORKER: &str = "harness";

/// One test's world, in process.
pub struct Harness {
    /// The test's database.
    pub pool: PgPool,
    /// Its name (dropped with the harness).
    pub db: String,
    /// The fake org.
    pub org: FakeOrg,
    /// Connections as a process has them.
    pub services: Services,
    /// What the runner gets.
    pub ctx: JobContext,
    /// The mappings.
    pub mappings: MappingsFile,
    _stop: watch::Sender<bool>,
}

impl Harness {
    /// A fresh world named `name` with `org` and the mappings `toml`.
    pub async fn new(name: &str, org: FakeOrgConfig, toml: &str) -> Harness {
        let (db, _, pool) = super::fresh_database(&format!("harness_{name}")).await;
        let org = orgpool::fake_org::start(org)
            .await
            .expect("fake org starts");
        let prefix = format!(
            "orgpool-test:harness-{name}:{}:{}",
            std::process::id(),
            rand::random::<u32>()
        );
        let redis = orgpool::redis_conn::connect(&orgpool::redis_conn::url_from_env())
            .await
            .expect("Redis answers");
        let c = org.config();
        let mut cfg = SalesforceConfig::new(&org.base_url, &c.client_id, &c.client_secret);
        // As a worker has it: the runner waits, not the call.
        cfg.outage_wait = Duration::ZERO;
        cfg.limit_wait = Duration::ZERO;
        let client = Arc::new(Client::new(cfg, redis.clone(), &prefix).unwrap());
        let queues = Queues::new(
            redis,
            QueueConfig {
                prefix,
                ..Default::default()
            },
        );
        let settings = JobSettings {
            resync_lag: Duration::ZERO,
            resync_overlap: Duration::from_secs(2),
            ..Default::default()
        };
        let mappings = MappingsFile::parse("mappings.toml", toml).expect("mappings parse");
        orgpool::scheduler::catalog::record(&pool, &mappings.mapping)
            .await
            .unwrap();
        let (stop, shutdown) = watch::channel(false);
        let services = Services {
            pool: pool.clone(),
            queues: queues.clone(),
            client: Some(client.clone()),
            settings: settings.clone(),
        };
        let ctx = JobContext {
            pool: pool.clone(),
            client,
            queues,
            settings,
            shutdown,
        };
        Harness {
            pool,
            db,
            org,
            services,
            ctx,
            mappings,
            _stop: stop,
        }
    }

    /// Starts a run of `kind` on `object` as `enqueue` would; returns its id.
    pub async fn start(&self, kind: &'static Kind, object: &str) -> i64 {
        orgpool::jobs::dispatch::start_run(&self.pool, &self.ctx.queues, kind, object, "test")
            .await
            .unwrap()
            .id()
    }

    /// The run's chunks a worker may take now, in order.
    pub async fn runnable(&self, run: i64) -> Vec<(i64, String)> {
        sqlx::query_as(
            "SELECT id, kind FROM orgpool.chunks WHERE run_id = $1 AND state IN ('pending', 'queued') ORDER BY seq",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    /// Runs one chunk through its kind's runner, as a worker's queue consumer would.
    pub async fn run_chunk(&self, chunk: i64, queue: &str) {
        let kind = orgpool::jobs::registry::KINDS
            .iter()
            .find(|k| k.queue == queue)
            .expect("a kind of the queue");
        let attempts = orgpool::jobs::registry::max_attempts(queue, &self.ctx.settings);
        let _ = (kind.runner)(self.ctx.clone(), attempts)
            .run(chunk, WORKER.to_string())
            .await;
    }

    /// Runs the run's chunks until none is left to take (at most `rounds` passes);
    /// returns the run's state.
    pub async fn drive(&self, run: i64) -> String {
        for _ in 0..50 {
            let chunks = self.runnable(run).await;
            if chunks.is_empty() {
                break;
            }
            for (id, queue) in chunks {
                self.run_chunk(id, &queue).await;
            }
        }
        self.state(run).await
    }

    /// A run's state.
    pub async fn state(&self, run: i64) -> String {
        let (s,): (String,) = sqlx::query_as("SELECT state FROM orgpool.runs WHERE id = $1")
            .bind(run)
            .fetch_one(&self.pool)
            .await
            .unwrap();
        s
    }

    /// One number from SQL.
    pub async fn count(&self, sql: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&self.pool)
            .await
            .unwrap();
        n
    }

    /// Drops the database.
    pub async fn close(self) {
        self.pool.close().await;
        super::drop_database(&self.db).await;
    }
}
