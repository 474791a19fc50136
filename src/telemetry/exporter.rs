//! Installing the Prometheus recorder: with an HTTP listener on `METRICS_PORT` (at
//! `ORGPOOL_METRICS_BIND`) for workers and the scheduler, or without one (the web process renders `/metrics`
//! itself). Histograms get explicit buckets so they export as histograms, not summaries.

use std::net::{IpAddr, SocketAddr};

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

use crate::settings::{SettingsError, Vars};

/// The recorder could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum ExporterError {
    /// The listener could not start (the port is taken, or not ours to bind).
    #[error(
        "cannot serve metrics on {addr}: {source}; pick another METRICS_PORT or ORGPOOL_METRICS_BIND"
    )]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: BuildError,
    },
    /// The recorder could not be built or another one is installed already.
    #[error("cannot install the metrics recorder: {0}; it is installed once per process")]
    Install(#[from] BuildError),
    /// `ORGPOOL_METRICS_BIND` is not an IP address.
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

/// The address a process's own `/metrics` binds: `ORGPOOL_METRICS_BIND`, default
/// `0.0.0.0` (every interface, so a scraper on another host reaches it).
pub fn bind_from_vars(v: &Vars) -> Result<IpAddr, SettingsError> {
    Ok(v.parsed(
        "ORGPOOL_METRICS_BIND",
        "an IP address; use 0.0.0.0 (every interface) or 127.0.0.1 (this host only)",
    )?
    .unwrap_or(IpAddr::from([0, 0, 0, 0])))
}

fn builder() -> Result<PrometheusBuilder, BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(super::salesforce::REQUEST_DURATION_SECONDS.into()),
            super::salesforce::LATENCY_BUCKETS,
        )?
        .set_buckets_for_metric(
            Matcher::Full(super::jobs::CHUNK_DURATION_SECONDS.into()),
            super::jobs::DURATION_BUCKETS,
        )?
        .set_buckets_for_metric(
            Matcher::Full(super::write_back::LAG_SECONDS.into()),
            super::write_back::LAG_BUCKETS,
        )?
        .set_buckets_for_metric(
            Matcher::Full(super::events::LAG_SECONDS.into()),
            super::events::LAG_BUCKETS,
        )
}

/// Installs the recorder, serving `/metrics` on `port` when given. Returns a handle to
/// render the metrics in-process.
pub fn install(port: Option<u16>) -> Result<Option<PrometheusHandle>, ExporterError> {
    match port {
        Some(port) => {
            let addr = SocketAddr::new(bind_from_vars(&Vars::from_env())?, port);
            builder()?
                .with_http_listener(addr)
                .install()
                .map_err(|source| ExporterError::Listen { addr, source })?;
            super::process::sample_in_background();
            Ok(None)
        }
        None => Ok(Some(builder()?.install_recorder()?)),
    }
}
