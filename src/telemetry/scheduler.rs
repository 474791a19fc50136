//! The scheduler's own series, on its `/metrics` (`METRICS_PORT`): each mapping's poll
//! interval, so an alert can compare a mapping's sync lag (a fleet figure the web
//! process reports) with the interval it should keep (`grafana/alerts.yml`).

use metrics::{describe_gauge, gauge};

use crate::mirror::Mapping;

/// Each mapping's `poll_interval` in seconds, by `object`.
pub const POLL_INTERVAL: &str = "orgpool_mirror_poll_interval_seconds";

/// The mappings in force (at start, and after every accepted edit of the file).
#[derive(Debug, Clone, Copy)]
pub struct MappingsInForce<'a> {
    /// The mappings.
    pub mappings: &'a [Mapping],
}

impl MappingsInForce<'_> {
    /// Records each mapping's interval.
    pub fn emit(self) {
        describe_gauge!(
            POLL_INTERVAL,
            "Each mapping's poll interval (the scheduler's mappings in force)."
        );
        for m in self.mappings {
            gauge!(POLL_INTERVAL, "object" => m.object.clone()).set(m.interval().as_secs_f64());
        }
    }
}
