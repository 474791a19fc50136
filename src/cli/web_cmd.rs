//! `orgpool web`: the web process (status page, fleet `/metrics`, `/healthz`, enqueue
//! API) on `PORT`.

use std::sync::Arc;

use clap::Args;

use crate::app::{SalesforceUse, Services, shutdown_signal};
use crate::pg_pool::{self, Process};
use crate::web::{WebConfig, WebState};

/// Serve the status page, fleet metrics, health check and enqueue API.
#[derive(Debug, Args)]
pub struct WebArgs {
    /// Port (overrides PORT; default 5000).
    #[arg(long)]
    pub port: Option<u16>,
}

impl WebArgs {
    /// Runs it until SIGTERM or Ctrl-C.
    pub async fn run(self) -> anyhow::Result<()> {
        let mut config = WebConfig::from_env()?;
        if let Some(p) = self.port {
            config.port = p;
        }
        let pool = pg_pool::size(Process::Web, &crate::settings::Vars::from_env(), 0)?;
        let mut services = Services::connect(SalesforceUse::None, pool.size, None).await?;
        pg_pool::log_start(Process::Web, pool);
        // The enqueue API checks mappings against the org's describe, logging in on its
        // first call; without Salesforce settings that check is skipped (pages work).
        if let Err(e) = services.attach_salesforce() {
            tracing::warn!(error = %e, "no Salesforce client: the enqueue API cannot check mappings against the org");
        }
        let state = Arc::new(WebState::new(services, config));
        Ok(crate::web::serve(state, shutdown_signal()).await?)
    }
}
