//! `orgpool migrate`.

use clap::Args;

use crate::migrate;

/// Apply the migrations embedded in the binary.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Postgres URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
}

impl MigrateArgs {
    /// Runs it.
    pub async fn run(self) -> anyhow::Result<()> {
        let n = migrate::run(&self.database_url).await?;
        println!(
            "orgpool migrate: {n} migration(s) applied to {}",
            migrate::redact(&self.database_url)
        );
        Ok(())
    }
}
