//! Metric names and the events that record them, in one place so names and labels stay
//! stable (`orgpool_` prefix, `_total` counters, `_seconds` histograms, low-cardinality
//! labels only).

pub mod exporter;
pub mod jobs;
pub mod salesforce;
