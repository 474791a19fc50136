//! Installing the Prometheus recorder: with an HTTP listener on `METRICS_PORT` for
//! workers and the scheduler, or without one (the web process renders `/metrics`
//! itself). Histograms get explicit buckets so they export as histograms, not summaries.

use std::net::SocketAddr;

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

/// The recorder could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum ExporterError {
    /// The listener could not start (the port is taken, or not ours to bind).
    #[error("cannot serve metrics on port {port}: {source}; pick another METRICS_PORT")]
    Listen {
        /// The port.
        port: u16,
        /// Why.
        source: BuildError,
    },
    /// The recorder could not be built or another one is installed already.
    #[error("cannot install the metrics recorder: {0}; it is installed once per process")]
    Install(#[from] BuildError),
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
        )
}

/// Installs the recorder, serving `/metrics` on `port` when given. Returns a handle to
/// render the metrics in-process.
pub fn install(port: Option<u16>) -> Result<Option<PrometheusHandle>, ExporterError> {
    match port {
        Some(port) => {
            builder()?
                .with_http_listener(SocketAddr::from(([0, 0, 0, 0], port)))
                .install()
                .map_err(|source| ExporterError::Listen { port, source })?;
            Ok(None)
        }
        None => Ok(Some(builder()?.install_recorder()?)),
    }
}
