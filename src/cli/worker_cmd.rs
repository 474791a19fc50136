//! `orgpool worker`: pulls chunks of every job kind and runs them until SIGTERM, then
//! stops taking work and finishes or hands back what it holds within the grace period.

use clap::Args;

use crate::app::{SalesforceUse, Services, shutdown_signal};
use crate::jobs::registry;
use crate::pg_pool::{self, Process};
use crate::queue::{QueueConfig, run_queue};
use crate::settings::Vars;

/// Run a worker process.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Chunks this process runs at once per job kind [env: WORKER_CONCURRENCY; default 2].
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Serve this process's own `/metrics` on this port.
    #[arg(long, env = "METRICS_PORT")]
    pub metrics_port: Option<u16>,
}

impl WorkerArgs {
    /// Runs it.
    pub async fn run(self) -> anyhow::Result<()> {
        crate::telemetry::exporter::install(self.metrics_port)?;
        // The pool follows the concurrency this process really runs with.
        let vars = Vars::from_env();
        let concurrency = match self.concurrency {
            Some(n) => n,
            None => QueueConfig::from_vars(vars.clone())?.concurrency,
        };
        let pool = pg_pool::size(Process::Worker, &vars, concurrency)?;
        let services = Services::connect(SalesforceUse::Jobs, pool.size, self.concurrency).await?;
        let shutdown = shutdown_signal();
        let ctx = services.job_context(shutdown.clone())?;
        let host = std::env::var("DYNO")
            .or_else(|_| std::env::var("HOSTNAME"))
            .unwrap_or_else(|_| "worker".into());
        // Unique per start: apalis mis-handles a reused worker name.
        let identity = format!("{host}-{}-{}", std::process::id(), ulid::Ulid::generate());
        tracing::info!(%identity, concurrency = services.queues.config().concurrency, "worker started");
        pg_pool::log_start(Process::Worker, pool);
        let runners = registry::runners(&ctx);
        let mut tasks = tokio::task::JoinSet::new();
        for (kind, runner) in runners {
            tasks.spawn(run_queue(
                services.queues.clone(),
                kind,
                identity.clone(),
                runner,
                shutdown.clone(),
            ));
        }
        while let Some(r) = tasks.join_next().await {
            r??;
        }
        tracing::info!("worker stopped");
        Ok(())
    }
}
