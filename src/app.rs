//! Connecting a process to its services from the environment (`DATABASE_URL`,
//! `REDIS_URL`, the `SALESFORCE_*` settings, the queue and job settings), with the
//! health checks every long-running process makes before it starts: Postgres answers
//! and is migrated, Redis answers, Salesforce accepts the login.

use std::sync::Arc;

use anyhow::{Context, bail};
use sqlx::ConnectOptions;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::watch;

use crate::jobs::{JobContext, JobSettings};
use crate::queue::{QueueConfig, Queues};
use crate::salesforce::{Client, SalesforceConfig};

/// The default database URL (as the scripts set up).
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres:postgres@127.0.0.1:5432/postgres";

/// Whether a process talks to Salesforce, and who waits out an outage or a spent budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalesforceUse {
    /// No Salesforce client.
    None,
    /// One-off calls (the scheduler's checks, CLI commands): a call itself waits through
    /// an outage or for the budget, up to `SALESFORCE_OUTAGE_WAIT_SECS` /
    /// `SALESFORCE_LIMIT_WAIT_SECS`.
    Calls,
    /// A worker's jobs: a call returns the outage or limit at once (flagging the fleet)
    /// and the runner's wait outcome puts the chunk back without spending an attempt,
    /// so no worker slot is held while Salesforce is down. Waiting happens once, there.
    Jobs,
}

/// A process's connections.
#[derive(Clone)]
pub struct Services {
    /// Postgres.
    pub pool: PgPool,
    /// Redis queues.
    pub queues: Queues,
    /// Salesforce, when the process needs it.
    pub client: Option<Arc<Client>>,
    /// Job settings.
    pub settings: JobSettings,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("queues", &self.queues)
            .finish()
    }
}

/// The database URL from the environment.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.into())
}

impl Services {
    /// Connects to everything; with a `salesforce` use it also builds the client and
    /// logs in once. `concurrency` overrides `WORKER_CONCURRENCY`.
    pub async fn connect(
        salesforce: SalesforceUse,
        pool_size: u32,
        concurrency: Option<usize>,
    ) -> anyhow::Result<Services> {
        let settings = JobSettings::from_env().map_err(anyhow::Error::msg)?;
        let mut qcfg = QueueConfig::from_env().map_err(anyhow::Error::msg)?;
        if let Some(n) = concurrency {
            if n == 0 || n > 64 {
                bail!("--concurrency {n} is outside 1 to 64; give a small number such as 2");
            }
            qcfg.concurrency = n;
        }
        let url = database_url();
        // A chunk's COPY merge can take seconds by design; only much slower statements
        // are worth a warning in a batch system.
        let options = url
            .parse::<sqlx::postgres::PgConnectOptions>()
            .with_context(|| {
                format!(
                    "DATABASE_URL {} is not a Postgres URL",
                    crate::migrate::redact(&url)
                )
            })?
            .log_slow_statements(log::LevelFilter::Warn, std::time::Duration::from_secs(30));
        let pool = PgPoolOptions::new()
            .max_connections(pool_size)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(options)
            .await
            .with_context(|| {
                format!(
                    "cannot connect to Postgres at {}; check DATABASE_URL and that the server runs",
                    crate::migrate::redact(&url)
                )
            })?;
        if !crate::ledger::stats::is_migrated(&pool).await? {
            bail!("the database has no orgpool ledger yet; run `orgpool migrate` first");
        }
        let redis = crate::redis_conn::connect(&crate::redis_conn::url_from_env()).await?;
        let queues = Queues::new(redis.clone(), qcfg);
        let client = if salesforce != SalesforceUse::None {
            let mut cfg = SalesforceConfig::from_env()?;
            if salesforce == SalesforceUse::Jobs {
                cfg.outage_wait = std::time::Duration::ZERO;
                cfg.limit_wait = std::time::Duration::ZERO;
            }
            let client = Client::new(cfg, redis, &queues.config().prefix)?;
            client
                .login()
                .await
                .context("Salesforce login failed at start")?;
            Some(Arc::new(client))
        } else {
            None
        };
        Ok(Services {
            pool,
            queues,
            client,
            settings,
        })
    }

    /// The job context for a worker.
    pub fn job_context(&self, shutdown: watch::Receiver<bool>) -> anyhow::Result<JobContext> {
        let client = self
            .client
            .clone()
            .context("this process was started without Salesforce")?;
        Ok(JobContext {
            pool: self.pool.clone(),
            client,
            queues: self.queues.clone(),
            settings: self.settings.clone(),
            shutdown,
        })
    }
}

/// A watch that turns true on SIGTERM or Ctrl-C (SIGINT).
pub fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!(
            "shutdown requested: no new work is taken; running chunks finish or are handed back"
        );
        let _ = tx.send(true);
    });
    rx
}
