//! `orgpool demo`: the main job end to end on the fake org, then exit. The same as
//! `orgpool dev --demo --exit --scale worker=N`: every Procfile process runs (web,
//! scheduler, N workers), the mirror is loaded and resynced through the enqueue API,
//! the app's writes to the read_write Account table are written back, and a quote run
//! is summarised.

use clap::Args;

use crate::dev::DevOptions;

/// Options of the demo.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Opportunities to seed [20000].
    #[arg(long, default_value_t = 20_000)]
    pub opportunities: u64,
    /// Worker processes [3].
    #[arg(long, default_value_t = 3)]
    pub workers: usize,
    /// Keep everything running after the demo until Ctrl-C (to look at the status page).
    #[arg(long)]
    pub stay: bool,
}

impl DemoArgs {
    /// Runs the demo.
    pub async fn run(self) -> anyhow::Result<()> {
        crate::dev::run(DevOptions {
            procfile: "Procfile".into(),
            scale: vec![format!("worker={}", self.workers)],
            demo: true,
            exit_after_demo: !self.stay,
            port: crate::web::WebConfig::from_env()?.port,
            metrics_base: 9100,
            opportunities: self.opportunities,
        })
        .await?;
        Ok(())
    }
}
