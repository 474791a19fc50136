//! `orgpool fake-org`: serves a simulated org until stopped and prints how to reach it.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;

use crate::fake_org::{self, ChurnSpec, FakeOrgConfig, SeedConfig};

/// Options of `orgpool fake-org` (defaults in brackets).
#[derive(Debug, Args)]
pub struct FakeOrgArgs {
    /// Address to listen on [127.0.0.1:8642]; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8642")]
    pub listen: SocketAddr,
    /// Serve HTTPS with a generated self-signed certificate [off].
    #[arg(long)]
    pub tls: bool,
    /// With --tls: write the certificate (PEM) to this file for clients to trust.
    #[arg(long)]
    pub tls_cert_out: Option<PathBuf>,
    /// Connected-app consumer key [orgpool-fake-client].
    #[arg(long, default_value = "orgpool-fake-client")]
    pub client_id: String,
    /// Connected-app consumer secret [orgpool-fake-secret].
    #[arg(long, default_value = "orgpool-fake-secret")]
    pub client_secret: String,
    /// Username of the integration user [integration@orgpool.example].
    #[arg(long, default_value = "integration@orgpool.example")]
    pub username: String,
    /// Password of the integration user [orgpool-fake-password].
    #[arg(long, default_value = "orgpool-fake-password")]
    pub password: String,
    /// A refresh token the org accepts [5Aep861orgpoolFakeRefreshToken].
    #[arg(long, default_value = "5Aep861orgpoolFakeRefreshToken")]
    pub refresh_token: String,
    /// PEM public key or certificate JWT bearer assertions must be signed with [none: not checked].
    #[arg(long)]
    pub jwt_public_key: Option<PathBuf>,
    /// Access-token lifetime in seconds [7200].
    #[arg(long, default_value_t = 7200)]
    pub token_ttl: u64,
    /// Daily API request allowance [100000].
    #[arg(long, default_value_t = 100_000)]
    pub api_limit: u64,
    /// Schema file with custom objects and fields (see docs/fake-org.md).
    #[arg(long)]
    pub schema: Option<PathBuf>,
    /// Seed of the generated data [1].
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Accounts to generate [100].
    #[arg(long, default_value_t = 100)]
    pub accounts: u64,
    /// Contacts per account [2].
    #[arg(long, default_value_t = 2)]
    pub contacts_per_account: u64,
    /// Products (each with a standard price) [50].
    #[arg(long, default_value_t = 50)]
    pub products: u64,
    /// Opportunities [500].
    #[arg(long, default_value_t = 500)]
    pub opportunities: u64,
    /// Line items per opportunity [3].
    #[arg(long, default_value_t = 3)]
    pub lines_per_opportunity: u64,
    /// Serve the fault-injection endpoints under /__admin [off].
    #[arg(long)]
    pub admin: bool,
    /// Latency added to every request, ms [0].
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Bulk job processing delay, ms [200].
    #[arg(long, default_value_t = 200)]
    pub bulk_delay_ms: u64,
    /// Share of ingest records failing with UNABLE_TO_LOCK_ROW, 0..1 [0].
    #[arg(long, default_value_t = 0.0)]
    pub ingest_failure_rate: f64,
    /// Churn: Object:inserts=N,updates=N,deletes=N per second; repeatable.
    #[arg(long, value_parser = ChurnSpec::parse)]
    pub churn: Vec<ChurnSpec>,
    /// Address of the Pub/Sub API (gRPC over TLS, the --tls certificate) [127.0.0.1:7443];
    /// port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:7443")]
    pub pubsub_listen: SocketAddr,
    /// How long change events are kept for replay, hours [72].
    #[arg(long, default_value_t = 72.0)]
    pub event_retention_hours: f64,
}

impl FakeOrgArgs {
    /// The org settings these flags describe.
    pub fn config(&self) -> anyhow::Result<FakeOrgConfig> {
        if !(0.0..=1.0).contains(&self.ingest_failure_rate) {
            anyhow::bail!(
                "--ingest-failure-rate must be between 0 and 1, got {}",
                self.ingest_failure_rate
            );
        }
        let jwt_public_key = match &self.jwt_public_key {
            Some(p) => Some(std::fs::read_to_string(p).map_err(|e| {
                anyhow::anyhow!("cannot read --jwt-public-key {}: {e}", p.display())
            })?),
            None => None,
        };
        Ok(FakeOrgConfig {
            listen: self.listen,
            tls: self.tls,
            tls_cert_out: self.tls_cert_out.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            refresh_token: self.refresh_token.clone(),
            jwt_public_key,
            token_ttl: Duration::from_secs(self.token_ttl),
            api_limit: self.api_limit,
            schema_file: self.schema.clone(),
            seed: SeedConfig {
                seed: self.seed,
                accounts: self.accounts,
                contacts_per_account: self.contacts_per_account,
                products: self.products,
                opportunities: self.opportunities,
                lines_per_opportunity: self.lines_per_opportunity,
            },
            admin: self.admin,
            latency: Duration::from_millis(self.latency_ms),
            bulk_delay: Duration::from_millis(self.bulk_delay_ms),
            ingest_failure_rate: self.ingest_failure_rate,
            churn: self.churn.clone(),
            pubsub_listen: Some(self.pubsub_listen),
            event_retention: Duration::from_secs_f64(self.event_retention_hours.max(0.0) * 3600.0),
            ..FakeOrgConfig::default()
        })
    }

    /// Runs it until Ctrl-C or SIGTERM.
    pub async fn run(self) -> anyhow::Result<()> {
        let config = self.config()?;
        let started = Instant::now();
        let (store, summary) = tokio::task::spawn_blocking({
            let c = config.clone();
            move || fake_org::build_store(&c)
        })
        .await??;
        let seeded = started.elapsed();
        let org = fake_org::serve(config.clone(), store).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "orgpool fake-org: listening on {}", org.base_url)?;
        writeln!(out, "  {:<15}{}", "token url", org.token_url())?;
        writeln!(out, "  {:<15}{}", "client id", config.client_id)?;
        writeln!(out, "  {:<15}{}", "client secret", config.client_secret)?;
        writeln!(out, "  {:<15}{}", "username", config.username)?;
        writeln!(out, "  {:<15}{}", "password", config.password)?;
        writeln!(out, "  {:<15}{}", "security token", config.security_token)?;
        writeln!(out, "  {:<15}{}", "refresh token", config.refresh_token)?;
        writeln!(out, "  {:<15}v50.0 to v64.0", "api versions")?;
        if let Some(url) = &org.pubsub_url {
            writeln!(
                out,
                "  {:<15}{url} (gRPC eventbus.v1.PubSub, TLS; org id {})",
                "pubsub",
                org.org_id()
            )?;
        }
        writeln!(
            out,
            "  {:<15}{} accounts, {} contacts, {} products, {} opportunities, {} line items in {:.1}s",
            "seeded",
            summary.accounts,
            summary.contacts,
            summary.products,
            summary.opportunities,
            summary.line_items,
            seeded.as_secs_f64()
        )?;
        if config.admin {
            writeln!(
                out,
                "  {:<15}{}/__admin/state, POST {}/__admin/faults",
                "admin", org.base_url, org.base_url
            )?;
            if let Some(admin) = &org.admin_url {
                writeln!(out, "  {:<15}{admin}/__admin/... (open during outages)", "")?;
            }
        }
        out.flush()?;
        drop(out);
        wait_for_signal().await;
        org.shutdown().await;
        Ok(())
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
