//! `/metrics` of the web process: the fleet's figures from one [`Snapshot`], rendered
//! through a recorder made for this scrape alone, so a run that ended or a mapping that
//! was removed disappears instead of lingering as a stale series. The figures and their
//! names are [`crate::telemetry::fleet`]'s.

use metrics_exporter_prometheus::PrometheusBuilder;

use super::snapshot::Snapshot;
use crate::telemetry::fleet::{
    self, ApiUsage, LedgerFigure, MirrorTable, QueueTasks, QuoteFigure, WriteBackBacklog,
};

/// Renders `snap` in the Prometheus text format.
pub fn render(snap: &Snapshot) -> String {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        record(snap);
        crate::telemetry::process::collect();
    });
    handle.render()
}

fn record(snap: &Snapshot) {
    fleet::describe();
    let st = &snap.status;
    for q in &st.queues {
        QueueTasks {
            kind: &q.kind,
            depth: q.depth,
        }
        .emit();
    }
    fleet::workers(snap.workers);
    for r in &snap.runs {
        LedgerFigure::Runs {
            kind: &r.kind,
            state: &r.state,
            count: r.count,
        }
        .emit();
    }
    // Summed over runs: one series per kind, object and state, not one per run.
    let mut chunks: std::collections::BTreeMap<(&str, &str, &str), i64> = Default::default();
    for c in &snap.run_chunks {
        *chunks
            .entry((c.job_kind.as_str(), c.object.as_str(), c.state.as_str()))
            .or_default() += c.count;
    }
    for ((job_kind, object, state), count) in chunks {
        LedgerFigure::RunChunks {
            job_kind,
            object,
            state,
            count,
        }
        .emit();
    }
    for c in &snap.chunks_done {
        LedgerFigure::ChunksDone {
            kind: &c.label,
            count: c.count,
        }
        .emit();
    }
    LedgerFigure::DeadChunks(st.dead_chunks).emit();
    for m in &st.mappings {
        MirrorTable {
            object: &m.object,
            state: &m.state,
            rows: m.rows,
            lag_seconds: m.lag_seconds,
        }
        .emit();
    }
    // Every state always present, so a dashboard shows 0 rather than "no data".
    let count = |list: &[crate::ledger::stats::Count], label: &str| {
        list.iter()
            .find(|c| c.label == label)
            .map_or(0, |c| c.count)
    };
    for state in ["computed", "pushed", "failed"] {
        QuoteFigure::Quotes {
            state,
            count: count(&snap.quotes, state),
        }
        .emit();
    }
    for object in ["Quote", "QuoteLineItem"] {
        QuoteFigure::RecordFailures {
            object,
            count: count(&snap.failures_by_object, object),
        }
        .emit();
    }
    for t in &st.write_back.tables {
        WriteBackBacklog {
            object: &t.object,
            new: t.count("NEW"),
            pending: t.count("PENDING"),
            failed: t.count("FAILED"),
            oldest_seconds: t.oldest_waiting_seconds,
        }
        .emit();
    }
    for e in &st.events {
        crate::telemetry::fleet::EventsFigure {
            object: &e.object,
            live: e.state == "live",
            waiting: e.waiting,
            replay_age_seconds: e.replay_age_seconds,
        }
        .emit();
    }
    for t in &st.ledger_tables {
        crate::telemetry::fleet::LedgerTable {
            table: &t.table,
            rows: t.rows_estimate,
            bytes: t.bytes,
        }
        .emit();
    }
    let a = &st.api;
    ApiUsage {
        fleet_used: a.fleet_used,
        allowed: a.allowed,
        org_used: a.org_used,
        org_limit: a.org_limit,
        outage: a.outage,
    }
    .emit();
}
