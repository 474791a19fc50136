//! The latency mode: churn for `duration_secs`, and for every change (a new
//! `SystemModstamp`) the time until it showed in each fleet's table: the events fleet's
//! beside the polling fleet's, over the changes both saw.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch as signal;

use super::watch::watch;
use super::{Mirror, Params, churn, org, until};
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

    let (stop, rx) = signal::channel(false);
    let table = "salesforce.opportunity";
    let seen_ev = tokio::spawn(watch(ev.fleet.pool.clone(), table, rx.clone()));
    let seen_poll = tokio::spawn(watch(poll.fleet.pool.clone(), table, rx));
    let t0 = Utc::now();
    eprintln!(
        "latency: {} changes a second for {} s ...",
        p.rate, p.duration_secs
    );
    churn(&org, p.rate).await?;
    tokio::time::sleep(Duration::from_secs(p.duration_secs)).await;
    churn(&org, 0).await?;
    let t1 = Utc::now();
    until(
        "the events fleet to apply every event",
        Duration::from_secs(120),
        || async {
            let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM orgpool.change_events")
                .fetch_one(&ev.fleet.pool)
                .await?;
            Ok(waiting == 0)
        },
    )
    .await?;
    eprintln!(
        "latency: waiting for a poll to cover the churn (every {}) ...",
        p.poll_interval
    );
    until(
        "the polling fleet's watermark to pass the churn",
        Duration::from_secs(900),
        || async {
            let w: Option<chrono::DateTime<Utc>> =
                sqlx::query_scalar("SELECT max(watermark) FROM orgpool.mappings")
                    .fetch_one(&poll.fleet.pool)
                    .await?;
            Ok(w.is_some_and(|w| w >= t1))
        },
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = stop.send(true);
    let ev_seen = seen_ev.await.map_err(BenchError::other)??;
    let poll_seen = seen_poll.await.map_err(BenchError::other)??;
    // The same changes: stamped during the churn and seen by both fleets.
    let both: Vec<(f64, f64)> = ev_seen
        .changes
        .iter()
        .filter(|((_, ms), _)| *ms >= t0.timestamp_millis() && *ms < t1.timestamp_millis())
        .filter_map(|(k, l)| poll_seen.changes.get(k).map(|pl| (*l, *pl)))
        .collect();
    let ev_l: Vec<f64> = both.iter().map(|b| b.0).collect();
    let poll_l: Vec<f64> = both.iter().map(|b| b.1).collect();
    let all_ev = ev_seen.latencies(t0, t1);
    eprintln!(
        "latency: {} changes seen by events, {} by both fleets",
        all_ev.len(),
        both.len()
    );
    ev.stop().await?;
    poll.stop().await?;
    org.stop().await;
    let p95 = quantile(&ev_l, 0.95);
    Ok(vec![
        format!(
            "commit in the org to row in the mirror, p50 ({} changes, {}/s, {} workers) | {:.3} s | {:.1} s (poll every {}) | |",
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
            "rows seen moving backwards | {} | {} | 0 |",
            ev_seen.backwards.len(),
            poll_seen.backwards.len()
        ),
    ])
}
