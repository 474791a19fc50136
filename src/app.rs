//! Connecting a process to its services from the environment (`DATABASE_URL`,
//! `REDIS_URL`, the `SALESFORCE_*` settings, the queue and job settings), with the
//! health checks every long-running process makes before it starts: Postgres answers
//! and is migrated, Redis answers, Salesforce accepts the login.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::watch;

use crate::jobs::{JobContext, JobSettings};
use crate::ledger::LedgerError;
use crate::pg_conn::PgConnectError;
use crate::queue::{QueueConfig, Queues};
use crate::redis_conn::RedisConnError;
use crate::salesforce::{Client, ConfigError, ErrorClass, SalesforceConfig, SfError};

/// The default database URL (as the scripts set up).
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres:postgres@127.0.0.1:5432/postgres";

/// A process could not connect to its services. Database URLs are shown without their
/// password, and no Salesforce secret is ever part of a message.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// `--concurrency` is out of range.
    #[error("--concurrency {0} is outside 1 to 64; give a small number such as 2")]
    Concurrency(usize),
    /// Postgres cannot be used (the message names the cause and the fix).
    #[error(transparent)]
    Postgres(#[from] PgConnectError),
    /// The ledger could not be checked.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The database has no control schema yet.
    #[error("the database has no orgpool ledger yet; run `orgpool migrate` first")]
    NotMigrated,
    /// Redis cannot be used.
    #[error(transparent)]
    Redis(#[from] RedisConnError),
    /// A setting (job, queue or `SALESFORCE_*`) is unknown, incomplete or malformed; the
    /// message names it and the fix.
    #[error(transparent)]
    Settings(#[from] ConfigError),
    /// The Salesforce client could not be built from its settings.
    #[error("cannot set up the Salesforce client: {0}")]
    Client(SfError),
    /// The first login failed.
    #[error("Salesforce login failed at start: {0}")]
    Login(SfError),
    /// The login endpoint does not answer (the outage text names what was seen).
    #[error(
        "cannot reach Salesforce at SALESFORCE_LOGIN_URL={url} ({detail}); check the address or wait for the outage to end"
    )]
    LoginUnreachable {
        /// `SALESFORCE_LOGIN_URL`.
        url: String,
        /// What was seen.
        detail: String,
    },
    /// A worker needs Salesforce but the process was connected without it.
    #[error("this process was started without Salesforce; connect it with SalesforceUse::Jobs")]
    NoSalesforce,
}

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

/// The database URL from the environment (`DATABASE_URL`).
pub fn database_url() -> String {
    crate::settings::Vars::from_env()
        .text("DATABASE_URL")
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.into())
}

impl Services {
    /// Connects to everything; with a `salesforce` use it also builds the client and
    /// logs in once. `concurrency` overrides `WORKER_CONCURRENCY`.
    pub async fn connect(
        salesforce: SalesforceUse,
        pool_size: u32,
        concurrency: Option<usize>,
    ) -> Result<Services, AppError> {
        let settings = JobSettings::from_env()?;
        let mut qcfg = QueueConfig::from_env()?;
        if let Some(n) = concurrency {
            if n == 0 || n > 64 {
                return Err(AppError::Concurrency(n));
            }
            qcfg.concurrency = n;
        }
        let pool = crate::pg_conn::connect(&database_url(), pool_size).await?;
        if !crate::ledger::stats::is_migrated(&pool).await? {
            return Err(AppError::NotMigrated);
        }
        let redis = crate::redis_conn::connect(&crate::redis_conn::url_from_env()).await?;
        let queues = Queues::new(redis.clone(), qcfg);
        let client = if salesforce != SalesforceUse::None {
            let mut cfg = SalesforceConfig::from_env()?;
            if salesforce == SalesforceUse::Jobs {
                cfg.outage_wait = std::time::Duration::ZERO;
                cfg.limit_wait = std::time::Duration::ZERO;
            }
            let client =
                Client::new(cfg, redis, &queues.config().prefix).map_err(AppError::Client)?;
            match client.login().await {
                Ok(_) => {}
                // A worker starts during an outage and waits it out as it would any
                // other; a one-off command says what it could not reach.
                Err(e) if e.class() == ErrorClass::Outage => {
                    let unreachable = AppError::LoginUnreachable {
                        url: client.config().login_url.clone(),
                        detail: outage_detail(&e),
                    };
                    if salesforce != SalesforceUse::Jobs {
                        return Err(unreachable);
                    }
                    tracing::warn!(error = %unreachable, "starting anyway: chunks wait until Salesforce answers");
                }
                Err(e) => return Err(AppError::Login(e)),
            }
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

    /// Gives a process connected without Salesforce a client from the `SALESFORCE_*`
    /// settings that logs in on its first call (one-off calls wait through an outage).
    pub fn attach_salesforce(&mut self) -> Result<(), AppError> {
        let mut cfg = SalesforceConfig::from_env()?;
        // Its calls are checks made for a person waiting on an answer (enqueue, the web
        // API): an outage or a spent budget is reported at once, never waited out.
        cfg.outage_wait = std::time::Duration::ZERO;
        cfg.limit_wait = std::time::Duration::ZERO;
        let client = Client::new(cfg, self.queues.conn(), &self.queues.config().prefix)
            .map_err(AppError::Client)?;
        self.client = Some(Arc::new(client));
        Ok(())
    }

    /// The job context for a worker.
    pub fn job_context(&self, shutdown: watch::Receiver<bool>) -> Result<JobContext, AppError> {
        let client = self.client.clone().ok_or(AppError::NoSalesforce)?;
        Ok(JobContext {
            pool: self.pool.clone(),
            client,
            queues: self.queues.clone(),
            settings: self.settings.clone(),
            shutdown,
        })
    }
}

/// What an outage error saw, without the error's own preamble.
fn outage_detail(e: &SfError) -> String {
    let detail = match e {
        SfError::Outage { detail, .. } => detail.clone(),
        other => other.to_string(),
    };
    let lower = detail.to_ascii_lowercase();
    if lower.contains("connection refused") {
        "connection refused".into()
    } else if lower.contains("dns error") || lower.contains("failed to lookup address") {
        "host not found".into()
    } else {
        detail
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
