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
        // Like every other process: a misspelt ORGPOOL_* or SALESFORCE_* name is refused.
        crate::settings::check_names(
            std::env::vars_os()
                .filter_map(|(k, _)| k.into_string().ok())
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        )?;
        // One clear message for a bad URL or a server that does not answer.
        crate::pg_conn::check(&self.database_url).await?;
        let n = migrate::run(&self.database_url).await?;
        println!(
            "orgpool migrate: {n} migration(s) applied to {}",
            migrate::redact(&self.database_url)
        );
        Ok(())
    }
}
