//! Metric names and the typed events that record them (each emits its metric and its
//! log line together, as vector's internal events do), in one place so names and labels
//! stay stable (`orgpool_` prefix, `_total` counters, `_seconds` histograms,
//! low-cardinality labels only). No metric is recorded outside this module
//! (`tests/layering.rs` checks it).

pub mod events;
pub mod exporter;
pub mod fleet;
pub mod jobs;
pub mod process;
pub mod salesforce;
pub mod scheduler;
pub mod write_back;
