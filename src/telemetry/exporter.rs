//! Installing the Prometheus recorder: with an HTTP listener on `METRICS_PORT` for
//! workers and the scheduler, or without one (the web process renders `/metrics`
//! itself). Histograms get explicit buckets so they export as histograms, not summaries.

use std::net::SocketAddr;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

fn builder() -> anyhow::Result<PrometheusBuilder> {
    Ok(PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(super::salesforce::REQUEST_DURATION_SECONDS.into()),
            super::salesforce::LATENCY_BUCKETS,
        )?
        .set_buckets_for_metric(
            Matcher::Full(super::jobs::CHUNK_DURATION_SECONDS.into()),
            super::jobs::DURATION_BUCKETS,
        )?)
}

/// Installs the recorder, serving `/metrics` on `port` when given. Returns a handle to
/// render the metrics in-process.
pub fn install(port: Option<u16>) -> anyhow::Result<Option<PrometheusHandle>> {
    match port {
        Some(p) => {
            builder()?
                .with_http_listener(SocketAddr::from(([0, 0, 0, 0], p)))
                .install()
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot serve metrics on port {p}: {e}; pick another METRICS_PORT"
                    )
                })?;
            Ok(None)
        }
        None => Ok(Some(builder()?.install_recorder()?)),
    }
}
