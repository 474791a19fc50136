//! `orgpool dev [--scale worker=N,...] [--demo]`: the Procfile's processes, locally.

use std::path::PathBuf;

use clap::Args;

use crate::dev::DevOptions;

/// Run the Procfile's processes locally (like `heroku local`).
#[derive(Debug, Args)]
pub struct DevArgs {
    /// Processes per type, e.g. `worker=3` or `worker=3,web=1` [1 of each].
    #[arg(long, value_name = "TYPE=COUNT")]
    pub scale: Vec<String>,
    /// Once everything is up, load the mirror, resync, run a quote run and summarise.
    #[arg(long)]
    pub demo: bool,
    /// With --demo: stop everything when the demo is done instead of waiting for Ctrl-C.
    #[arg(long)]
    pub exit: bool,
    /// The Procfile [Procfile].
    #[arg(long, default_value = "Procfile")]
    pub procfile: PathBuf,
    /// The first web process's port [PORT or 5000].
    #[arg(long, env = "PORT", default_value_t = 5000)]
    pub port: u16,
    /// The scheduler's metrics port; workers get the next ones; 0 turns them off [9100].
    #[arg(long, default_value_t = 9100)]
    pub metrics_port: u16,
    /// Opportunities the fake org is seeded with [20000].
    #[arg(long, default_value_t = 20_000)]
    pub opportunities: u64,
}

impl DevArgs {
    /// Runs it.
    pub async fn run(self) -> anyhow::Result<()> {
        crate::dev::run(DevOptions {
            procfile: self.procfile,
            scale: self.scale,
            demo: self.demo,
            exit_after_demo: self.exit,
            port: self.port,
            metrics_base: self.metrics_port,
            opportunities: self.opportunities,
        })
        .await?;
        Ok(())
    }
}
