//! The `process_*` metrics (CPU seconds, resident and virtual memory, open file
//! descriptors, threads, start time) of the process itself, as Prometheus client
//! libraries name them, from the `metrics-process` collector: every process's own
//! `/metrics` has them, so a worker's memory can be watched beside its throughput.

use std::time::Duration;

/// How often a process with its own `/metrics` listener samples itself.
const EVERY: Duration = Duration::from_secs(5);

/// Samples the process into the current recorder now (the web process calls it as it
/// renders each scrape).
pub fn collect() {
    let c = metrics_process::Collector::default();
    c.describe();
    c.collect();
}

/// Samples the process every 5 s into the global recorder, for as long as the process
/// runs (workers and schedulers with `METRICS_PORT`).
pub fn sample_in_background() {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async {
        let c = metrics_process::Collector::default();
        c.describe();
        loop {
            c.collect();
            tokio::time::sleep(EVERY).await;
        }
    });
}
