//! The command-line front end: one module per subcommand.

mod bench;
mod demo;
mod fake_org_cmd;
mod migrate_cmd;

pub use bench::BenchArgs;
pub use demo::DemoArgs;
pub use fake_org_cmd::FakeOrgArgs;
pub use migrate_cmd::MigrateArgs;

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
    /// Run the demo: a seeded fake org queried over HTTP.
    Demo(DemoArgs),
    /// Run a benchmark and print it beside a baseline from the same run.
    Bench(BenchArgs),
}

impl Cli {
    /// Runs the chosen subcommand.
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::FakeOrg(a) => a.run().await,
            Command::Migrate(a) => a.run().await,
            Command::Demo(a) => a.run().await,
            Command::Bench(a) => a.run().await,
        }
    }
}
