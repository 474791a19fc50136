//! The latency mode: `rate` changes a second for `duration_secs`, and for every change
//! the time from its commit (the org's answer) until it showed in each fleet's table:
//! the events fleet's beside the polling fleet's, over the changes both saw.

use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::watch as signal;

use super::driver::drive;
use super::watch::{Seen, watch};
use super::{Mirror, Params, churn, org, targets, until, update_rate, waiting};
use crate::bench::BenchError;
use crate::bench::write_back::{quantile, verdict};

/// Runs it; returns the table rows.
pub async fn run(p: &Params) -> Result<Vec<String>, BenchError> {
    let org = org(p).await?;
    let ev = Mirror::start(
        "ev_events",
        org.shared(),
        "events = true\npoll_interval = \"10m\"",
        p.workers,
    )
    .await?;
    let interval = format!(
        "poll_interval = \"{}\"\nallow_fast_poll = true",
        p.poll_interval
    );
    let poll = Mirror::start("ev_poll", org.shared(), &interval, 1).await?;
    ev.ready(true).await?;
    poll.ready(false).await?;
    // The resync right after each load runs first.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let ids = targets(&ev.fleet.pool).await?;

    let (stop_watch, rx) = signal::channel(false);
    let table = "salesforce.opportunity";
    let seen_ev = tokio::spawn(watch(ev.fleet.pool.clone(), table, rx.clone()));
    let seen_poll = tokio::spawn(watch(poll.fleet.pool.clone(), table, rx));
    let (stop_drive, drive_rx) = signal::channel(false);
    eprintln!(
        "latency: {} changes a second for {} s ...",
        p.rate, p.duration_secs
    );
    churn(&org, p.rate).await?;
    let driver = tokio::spawn(drive(org.token_url(), ids, update_rate(p.rate), drive_rx));
    tokio::time::sleep(Duration::from_secs(p.duration_secs)).await;
    let _ = stop_drive.send(true);
    churn(&org, 0).await?;
    let commits = driver.await.map_err(BenchError::other)??;
    let t1 = Utc::now();
    until(
        "the events fleet to apply every event",
        Duration::from_secs(120),
        || async { Ok(waiting(&ev.fleet.pool).await? == 0) },
    )
    .await?;
    eprintln!(
        "latency: waiting for a poll to cover the changes (every {}) ...",
        p.poll_interval
    );
    until(
        "the polling fleet's watermark to pass the changes",
        Duration::from_secs(900),
        || async {
            let rows = crate::ledger::mappings::all(&poll.fleet.pool).await?;
            Ok(rows.iter().filter_map(|r| r.watermark).any(|w| w >= t1))
        },
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = stop_watch.send(true);
    let ev_seen = seen_ev.await.map_err(BenchError::other)??;
    let poll_seen = seen_poll.await.map_err(BenchError::other)??;
    let commits = commits.lock().clone();
    let lag = |seen: &Seen, n: &u64, at: &Instant| {
        seen.changes
            .get(n)
            .map(|s| s.saturating_duration_since(*at).as_secs_f64())
    };
    // The same changes: those both fleets showed (a change overwritten before a poll
    // never shows in the polled table).
    let both: Vec<(f64, f64)> = commits
        .iter()
        .filter_map(|(n, at)| Some((lag(&ev_seen, n, at)?, lag(&poll_seen, n, at)?)))
        .collect();
    let ev_all: Vec<f64> = commits
        .iter()
        .filter_map(|(n, at)| lag(&ev_seen, n, at))
        .collect();
    eprintln!(
        "latency: {} changes committed, {} shown by the events fleet, {} by both",
        commits.len(),
        ev_all.len(),
        both.len()
    );
    ev.stop().await?;
    poll.stop().await?;
    org.stop().await;
    let ev_l: Vec<f64> = both.iter().map(|b| b.0).collect();
    let poll_l: Vec<f64> = both.iter().map(|b| b.1).collect();
    let p95 = quantile(&ev_l, 0.95);
    let missing = commits.len() - ev_all.len();
    Ok(vec![
        format!(
            "commit in the org to row in the mirror, p50 ({} changes both showed; {}/s, {} workers) | {:.3} s | {:.1} s (poll every {}) | |",
            both.len(),
            p.rate,
            p.workers,
            quantile(&ev_l, 0.5),
            quantile(&poll_l, 0.5),
            p.poll_interval
        ),
        format!(
            "commit in the org to row in the mirror, p95 | {p95:.3} s | {:.1} s | ≤ 1 s: {} |",
            quantile(&poll_l, 0.95),
            verdict(p95 <= 1.0 && !ev_l.is_empty())
        ),
        format!(
            "changes never shown by the events fleet (of {}) | {missing} | | 0 |",
            commits.len()
        ),
        format!(
            "rows seen moving backwards | {} | {} | 0 |",
            ev_seen.backwards.len(),
            poll_seen.backwards.len()
        ),
    ])
}
