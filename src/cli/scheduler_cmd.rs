//! `orgpool scheduler`: checks the mappings against the org, then every tick (while it
//! holds the leader lock) starts due runs, re-pushes lost chunks and closes runs.

use std::time::Duration;

use clap::Args;

use crate::app::{SalesforceUse, Services, shutdown_signal};
use crate::mirror::parse_duration;
use crate::pg_pool::{self, Process};
use crate::queue::keys;
use crate::scheduler::{Leader, catalog, tick};
use crate::telemetry::scheduler::MappingsInForce;

/// Run the scheduler.
#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// Seconds between passes.
    #[arg(long, env = "ORGPOOL_SCHEDULER_TICK", default_value_t = 5)]
    pub tick_seconds: u64,
    /// How often each mapping is reconciled, like `24h` or `90m`.
    #[arg(long, env = "ORGPOOL_RECONCILE_EVERY", default_value = "24h")]
    pub reconcile_every: String,
    /// Serve this process's own `/metrics` on this port.
    #[arg(long, env = "METRICS_PORT")]
    pub metrics_port: Option<u16>,
}

impl SchedulerArgs {
    /// Runs it.
    pub async fn run(self) -> anyhow::Result<()> {
        let reconcile_every = parse_duration(&self.reconcile_every).ok_or_else(|| {
            anyhow::anyhow!(
                "--reconcile-every {:?} is not a duration; use one such as \"24h\"",
                self.reconcile_every
            )
        })?;
        // A bad retention value stops the start, naming the variable, not each pass.
        crate::scheduler::retention::RetentionSettings::from_env()?;
        crate::telemetry::exporter::install(self.metrics_port)?;
        let pool = pg_pool::size(Process::Scheduler, &crate::settings::Vars::from_env(), 0)?;
        let s = Services::connect(SalesforceUse::Calls, pool.size, None).await?;
        pg_pool::log_start(Process::Scheduler, pool);
        let path = s.settings.mappings_path.clone();
        let client = s.client.clone().expect("connected with Salesforce");
        let mut file = catalog::read(&path)?;
        warn_if_empty(&file, &path);
        let mut shutdown = shutdown_signal();
        // A spent budget or an outage at start is waited out, not a reason to exit.
        if catalog::validate_waiting(&client, &file, &mut shutdown)
            .await?
            .is_none()
        {
            return Ok(());
        }
        catalog::record(&s.pool, &file.mapping).await?;
        MappingsInForce {
            mappings: &file.mapping,
        }
        .emit();
        let mut seen = modified(&path);
        tracing::info!(mappings = file.mapping.len(), %path, "mappings checked against the org");
        let identity = format!(
            "scheduler-{}-{}",
            std::process::id(),
            ulid::Ulid::generate()
        );
        let leader = Leader::new(
            s.queues.conn(),
            keys::leader(&s.queues.config().prefix),
            identity.clone(),
            Duration::from_secs(self.tick_seconds * 3 + 5),
        );
        let is_leader = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let listener = tokio::spawn(crate::scheduler::write_back::listen(
            s.clone(),
            is_leader.clone(),
            shutdown.clone(),
        ));
        // Change events under a lock of their own, so the subscriber's hand-over does
        // not wait on the scheduler's tick.
        let events = tokio::spawn(crate::scheduler::events::run(
            s.clone(),
            Leader::new(
                s.queues.conn(),
                keys::events_leader(&s.queues.config().prefix),
                format!("events-{}", leader_identity(&identity)),
                Duration::from_secs(15),
            ),
            shutdown.clone(),
        ));
        let mut every = tokio::time::interval(Duration::from_secs(self.tick_seconds.max(1)));
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = shutdown.wait_for(|s| *s) => break,
            }
            // An edited mappings file applies without a restart; a broken edit is
            // reported and the previous mappings stay in force.
            if modified(&path) != seen {
                seen = modified(&path);
                match reload(&s, &client, &path).await {
                    Ok(f) => {
                        tracing::info!(mappings = f.mapping.len(), %path, "mappings file changed; new mappings in force");
                        warn_if_empty(&f, &path);
                        MappingsInForce {
                            mappings: &f.mapping,
                        }
                        .emit();
                        file = f;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, %path, "mappings file changed but is not valid; keeping the previous mappings")
                    }
                }
            }
            let held = leader.acquire().await;
            is_leader.store(
                matches!(held, Ok(true)),
                std::sync::atomic::Ordering::Relaxed,
            );
            match held {
                Ok(true) => {
                    match crate::scheduler::quotes::tick(&s).await {
                        Ok(Some(id)) => tracing::info!(run_id = id, "scheduled quote run started"),
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "scheduled quote run not started"),
                    }
                    match tick(&s, &file.mapping, reconcile_every).await {
                        Ok(t) if !t.started.is_empty() || t.repushed > 0 => {
                            tracing::info!(started = ?t.started, repushed = t.repushed, "scheduler pass");
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "scheduler pass failed; trying again next tick")
                        }
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "leader lock unavailable (Redis?)"),
            }
        }
        listener.abort();
        let _ = tokio::time::timeout(Duration::from_secs(5), events).await;
        let _ = leader.release().await;
        Ok(())
    }
}

fn leader_identity(scheduler: &str) -> &str {
    scheduler.strip_prefix("scheduler-").unwrap_or(scheduler)
}

/// A file that maps nothing leaves the scheduler with no mirror work: say so, naming it.
fn warn_if_empty(file: &crate::mirror::MappingsFile, path: &str) {
    if file.mapping.is_empty() {
        tracing::warn!(%path, "the mappings file maps no objects, so nothing will be synced; add a [[mapping]] entry (see jobs/README.md) or point ORGPOOL_MAPPINGS at the right file");
    }
}

fn modified(path: &str) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

async fn reload(
    s: &Services,
    client: &crate::salesforce::Client,
    path: &str,
) -> anyhow::Result<crate::mirror::MappingsFile> {
    let f = catalog::read(path)?;
    catalog::validate(client, &f).await?;
    catalog::record(&s.pool, &f.mapping).await?;
    Ok(f)
}
