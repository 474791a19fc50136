//! `orgpool status [--json]`: mappings, active runs, queues, dead chunks, write-back per
//! read_write table (with the latest refused changes), the ledger's table sizes, API usage.

use std::sync::Arc;

use clap::Args;

use crate::app::{SalesforceUse, Services};
use crate::salesforce::{Client, SalesforceConfig};

/// Show the fleet's state.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl StatusArgs {
    /// Runs it.
    pub async fn run(self) -> anyhow::Result<()> {
        let mut s = Services::connect(SalesforceUse::None, crate::pg_pool::COMMAND, None).await?;
        // API usage lives in Redis: no login needed, so status works during an outage.
        if let Ok(cfg) = SalesforceConfig::from_env() {
            s.client = Client::new(cfg, s.queues.conn(), &s.queues.config().prefix)
                .ok()
                .map(Arc::new);
        }
        let st = crate::status::read(&s).await?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&st)?);
            return Ok(());
        }
        println!("MAPPINGS");
        for m in &st.mappings {
            let lag = m
                .lag_seconds
                .map(|l| format!("{l:.0}s"))
                .unwrap_or_else(|| "-".into());
            let rows = m.rows.map(|r| r.to_string()).unwrap_or_else(|| "-".into());
            let last = m
                .last_sync_at
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_else(|| "never".into());
            println!(
                "  {:<24} {:<8} rows {:<10} last sync {:<19} lag {:<8} failed chunks {}",
                m.object, m.state, rows, last, lag, m.failed_chunks
            );
            if m.paused {
                println!(
                    "      PAUSED: no run starts (`orgpool mappings resume {}`)",
                    m.object
                );
            }
            if let Some(e) = &m.error {
                println!("      error: {e}");
            }
            if let Some(f) = &m.fix {
                println!("      fix: {f}");
            }
            if m.missing_columns.as_array().is_some_and(|a| !a.is_empty()) {
                println!(
                    "      kept columns of fields gone from the org: {}",
                    m.missing_columns
                );
            }
        }
        println!("RUNS IN PROGRESS (and ended with refused records)");
        if st.runs.is_empty() {
            println!("  none");
        }
        for r in &st.runs {
            println!(
                "  run {:<6} {:<13} {:<20} {:<9} {}/{} chunks ({} failed), {} rows",
                r.id,
                r.kind,
                r.object,
                r.state,
                r.chunks_done,
                r.chunks_total,
                r.chunks_failed,
                r.rows
            );
            if r.records_refused > 0 {
                println!(
                    "             {} record(s) refused: `orgpool jobs failures`, then `orgpool jobs retry --records --run {}`",
                    r.records_refused, r.id
                );
            }
        }
        println!("QUEUES");
        for q in &st.queues {
            let d = q.depth;
            println!(
                "  {:<13} ready {:<6} scheduled {:<6} running {:<6} dead {:<6} poison {}",
                q.kind, d.active, d.scheduled, d.inflight, d.dead, d.poison
            );
        }
        println!("DEAD CHUNKS: {} (orgpool jobs dead)", st.dead_chunks);
        print_write_back(&st.write_back);
        print_events(&st.events);
        print_ledger_tables(&st.ledger_tables);
        let a = &st.api;
        let limit = if a.org_limit > 0 {
            a.org_limit.to_string()
        } else {
            "unknown".into()
        };
        let allowed = a.allowed.map_or_else(
            || "no ceiling known yet".into(),
            |n| format!("of {n} allowed"),
        );
        println!(
            "API: fleet used {} {allowed} in its window; org reports {} of {}{}",
            a.fleet_used,
            a.org_used,
            limit,
            if a.outage { "; OUTAGE flag up" } else { "" }
        );
        if let Some(at) = a.org_reported_at {
            println!(
                "     org usage as reported at {}",
                at.format("%H:%M:%S UTC")
            );
        }
        if let Some(p) = &a.paused {
            println!("     {}", p.describe(chrono::Utc::now()));
        }
        Ok(())
    }
}

/// Per subscription its state, counts and the age of the last applied change.
fn print_events(subs: &[crate::status::events::Subscription]) {
    if subs.is_empty() {
        println!("CHANGE EVENTS: no mapping with events = true");
        return;
    }
    println!("CHANGE EVENTS (Change Data Capture; polling stays the safety net)");
    for s in subs {
        let age = s
            .replay_age_seconds
            .map_or("nothing applied yet".into(), |a| {
                format!("last applied change {a:.1}s ago")
            });
        let waiting = s
            .oldest_waiting_seconds
            .map_or(String::new(), |a| format!(" (oldest {a:.1}s)"));
        println!(
            "  {:<24} {:<9} received {} applied {} waiting {}{waiting} gaps healed {}; {age}",
            s.object, s.state, s.received, s.applied, s.waiting, s.gaps
        );
        if let Some(d) = &s.detail {
            println!("    {d}");
        }
    }
}

/// Per read_write table its log rows by state and the oldest waiting change, then the
/// latest refused changes.
fn print_write_back(wb: &crate::status::write_back::WriteBackStatus) {
    if wb.tables.is_empty() {
        println!("WRITE-BACK: no read_write mappings");
        return;
    }
    println!("WRITE-BACK (the app's changes to Salesforce; orgpool writes status)");
    for t in &wb.tables {
        let states = t
            .states
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let oldest = t
            .oldest_waiting_seconds
            .map_or("nothing waiting".into(), |a| {
                format!("oldest waiting {a:.1}s")
            });
        println!(
            "  {:<24} {:<28} {:<40} {oldest}",
            t.object,
            format!("{}.{}", t.schema, t.table),
            if states.is_empty() {
                "no changes".into()
            } else {
                states
            }
        );
    }
    for f in &wb.failed {
        println!(
            "  FAILED {}.{} log id {} ({} record {}{}): {}",
            f.schema,
            f.table_name,
            f.log_id,
            f.action.as_deref().unwrap_or("?"),
            f.record_id.map_or("?".into(), |r| r.to_string()),
            f.sfid
                .as_deref()
                .map_or(String::new(), |s| format!(", {s}")),
            f.sf_message.as_deref().unwrap_or("")
        );
    }
    if !wb.failed.is_empty() {
        println!(
            "  fix the data or the org, then `orgpool writes retry` (all: `orgpool jobs failures`)"
        );
    }
}

/// The ledger's tables with estimated rows and size, largest first (retention keeps
/// them bounded: docs/mirror.md, "Retention").
fn print_ledger_tables(tables: &[crate::ledger::retention::TableSize]) {
    println!("LEDGER TABLES (estimated rows, size on disk with indexes)");
    for t in tables {
        println!(
            "  {:<24} rows ~{:<10} {}",
            t.table,
            t.rows_estimate,
            human_bytes(t.bytes)
        );
    }
}

/// `123 B`, `4.5 kB`, `12.3 MB`, `1.2 GB`.
fn human_bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    match n {
        n if n < 1e3 => format!("{n:.0} B"),
        n if n < 1e6 => format!("{:.1} kB", n / 1e3),
        n if n < 1e9 => format!("{:.1} MB", n / 1e6),
        n => format!("{:.1} GB", n / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(8_192), "8.2 kB");
        assert_eq!(human_bytes(12_345_678), "12.3 MB");
        assert_eq!(human_bytes(2_500_000_000), "2.5 GB");
        assert_eq!(human_bytes(-1), "0 B");
    }
}
