//! The command-line front end: one module per subcommand. Built without the cargo
//! feature `fake-org`, `fake-org` and `bench` stay listed and fail saying why.

#[cfg(feature = "fake-org")]
mod bench;
mod budget_cmd;
mod demo;
mod dev_cmd;
mod enqueue_cmd;
#[cfg(feature = "fake-org")]
mod fake_org_cmd;
mod jobs_cmd;
mod mappings_cmd;
mod migrate_cmd;
mod scheduler_cmd;
mod status_cmd;
mod web_cmd;
#[cfg(not(feature = "fake-org"))]
mod without_fake_org;
mod worker_cmd;
mod writes_cmd;

#[cfg(feature = "fake-org")]
pub use bench::BenchArgs;
pub use budget_cmd::BudgetArgs;
pub use demo::DemoArgs;
pub use dev_cmd::DevArgs;
pub use enqueue_cmd::{EnqueueArgs, PartialSuccess, wait};
#[cfg(feature = "fake-org")]
pub use fake_org_cmd::FakeOrgArgs;
pub use jobs_cmd::JobsArgs;
pub use mappings_cmd::MappingsArgs;
pub use migrate_cmd::MigrateArgs;
pub use scheduler_cmd::SchedulerArgs;
pub use status_cmd::StatusArgs;
pub use web_cmd::WebArgs;
#[cfg(not(feature = "fake-org"))]
pub use without_fake_org::{BenchArgs, FakeOrgArgs};
pub use worker_cmd::WorkerArgs;
pub use writes_cmd::WritesArgs;

use clap::{Parser, Subcommand};

/// orgpool: a horizontally scaled batch worker pool for Salesforce.
#[derive(Debug, Parser)]
#[command(name = "orgpool", version, about)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a simulated Salesforce org (OAuth, REST, Bulk API 2.0) until stopped.
    FakeOrg(Box<FakeOrgArgs>),
    /// Apply the database migrations (creates the control schema `orgpool`).
    Migrate(MigrateArgs),
    /// Run the demo: every Procfile process on a seeded fake org, the mirror loaded and
    /// resynced, a quote run summarised.
    Demo(DemoArgs),
    /// Run the Procfile's processes locally with counts per type (like `heroku local`).
    Dev(DevArgs),
    /// Run a benchmark and print it beside a baseline from the same run.
    Bench(BenchArgs),
    /// Pull chunks of every job kind and run them until SIGTERM.
    Worker(WorkerArgs),
    /// Start due runs, keep the ledger's chunks in Redis, close finished runs.
    Scheduler(SchedulerArgs),
    /// Start a run (initial-load, resync, reload, reconcile) and optionally wait for it.
    Enqueue(EnqueueArgs),
    /// Show mappings, runs, queues, dead chunks and API usage.
    Status(StatusArgs),
    /// List failed chunks and poison payloads; retry failed chunks.
    Jobs(JobsArgs),
    /// Import a Heroku Connect mapping export; check the mappings file against the org.
    Mappings(MappingsArgs),
    /// Serve the status page, fleet-level /metrics, /healthz and the enqueue API on PORT.
    Web(WebArgs),
    /// Reset the fleet's stored API budget state and wake the work waiting on it.
    Budget(BudgetArgs),
    /// The app's changes on their way to Salesforce: status, and retry of failed ones.
    Writes(WritesArgs),
}

impl Cli {
    /// Runs the chosen subcommand.
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::FakeOrg(a) => a.run().await,
            Command::Migrate(a) => a.run().await,
            Command::Demo(a) => a.run().await,
            Command::Dev(a) => a.run().await,
            Command::Bench(a) => a.run().await,
            Command::Worker(a) => a.run().await,
            Command::Scheduler(a) => a.run().await,
            Command::Enqueue(a) => a.run().await,
            Command::Status(a) => a.run().await,
            Command::Jobs(a) => a.run().await,
            Command::Mappings(a) => a.run().await,
            Command::Web(a) => a.run().await,
            Command::Budget(a) => a.run().await,
            Command::Writes(a) => a.run().await,
        }
    }
}
