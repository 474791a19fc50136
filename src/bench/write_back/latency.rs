//! Latency mode: single-row inserts into the read_write Account table at a steady rate
//! (each its own transaction, started on the clock whatever the previous one's commit
//! took), timed from the commit to the record being visible in the org's REST query API
//! by its External ID. The baseline, in the same run and org, sends the same inserts as
//! one-record sObject Collections upserts through the client and times them the same
//! way, from the call to visible.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::json;

use super::{Params, World, WriteBackBenchError, quantile, verdict};
use crate::bench::BenchError;

/// The target: p95 commit to visible.
const TARGET_P95_SECS: f64 = 2.0;
/// How often the org is asked which records it holds.
const POLL: Duration = Duration::from_millis(20);

/// Runs the mode in a world of its own; returns its table rows.
pub async fn run(p: &Params) -> Result<Vec<String>, BenchError> {
    let world = World::start("latency", 10, p.workers).await?;
    let result = measure(p, &world).await;
    world.stop().await?;
    result
}

/// How a write is made.
#[derive(Clone)]
enum Writer {
    /// Through the app's table (captured, written back by the fleet).
    App(sqlx::PgPool),
    /// Straight through the client.
    Direct(crate::salesforce::Client),
}

impl Writer {
    async fn write(&self, key: &str) -> Result<(), BenchError> {
        let name = format!("Latency {key}");
        match self {
            Writer::App(pool) => {
                sqlx::query("INSERT INTO salesforce.account (name, ext_key__c) VALUES ($1, $2)")
                    .bind(&name)
                    .bind(key)
                    .execute(pool)
                    .await?;
            }
            Writer::Direct(client) => {
                let r = client
                    .upsert_records(
                        "Account",
                        "Ext_Key__c",
                        &[json!({"Name": name, "Ext_Key__c": key})],
                    )
                    .await?;
                if let Some(e) = r.iter().find(|r| !r.success) {
                    return Err(BenchError::other(WriteBackBenchError::Mismatch(format!(
                        "the org refused the baseline upsert of {key}: {:?}",
                        e.errors
                    ))));
                }
            }
        }
        Ok(())
    }
}

/// When each key's write returned (committed) and when the org first showed it.
#[derive(Default)]
struct Times {
    started: Vec<String>,
    committed: HashMap<String, Instant>,
    seen: HashMap<String, Instant>,
    errors: Vec<String>,
}

/// Latencies (s) of `rate` writes a second for `secs` seconds with keys `prefix-N`.
async fn series(
    world: &World,
    writer: Writer,
    prefix: &'static str,
    rate: u64,
    secs: u64,
) -> Result<Vec<f64>, BenchError> {
    let times = Arc::new(Mutex::new(Times::default()));
    let total = rate * secs;
    // The writes, on the clock, each in a task of its own.
    let writes = tokio::spawn({
        let times = times.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(1) as f64));
            let mut tasks = Vec::new();
            for i in 0..total {
                tick.tick().await;
                let key = format!("{prefix}-{i}");
                times.lock().started.push(key.clone());
                let (w, t) = (writer.clone(), times.clone());
                tasks.push(tokio::spawn(async move {
                    let r = w.write(&key).await;
                    let now = Instant::now();
                    let mut t = t.lock();
                    match r {
                        Ok(()) => {
                            t.committed.insert(key, now);
                        }
                        Err(e) => t.errors.push(format!("{key}: {e}")),
                    }
                }));
            }
            for task in tasks {
                let _ = task.await;
            }
        }
    });
    let deadline = Duration::from_secs(secs + 60);
    let start = Instant::now();
    loop {
        tokio::time::sleep(POLL).await;
        let waiting: Vec<String> = {
            let t = times.lock();
            if let Some(e) = t.errors.first() {
                return Err(BenchError::Other(e.clone()));
            }
            t.started
                .iter()
                .filter(|k| !t.seen.contains_key(*k))
                .take(200)
                .cloned()
                .collect()
        };
        if waiting.is_empty() {
            if writes.is_finished() {
                break;
            }
            continue;
        }
        if start.elapsed() > deadline {
            writes.abort();
            return Err(BenchError::other(WriteBackBenchError::Timeout {
                what: format!("{} records to show in the org ({prefix})", waiting.len()),
                secs: deadline.as_secs(),
            }));
        }
        let list: Vec<String> = waiting.iter().map(|k| format!("'{k}'")).collect();
        let found = world
            .org_query(&format!(
                "SELECT Ext_Key__c FROM Account WHERE Ext_Key__c IN ({})",
                list.join(", ")
            ))
            .await?;
        // The answer's arrival: the record was visible by then (an upper bound, off by
        // at most one poll and one round trip).
        let now = Instant::now();
        let mut t = times.lock();
        for r in found {
            if let Some(k) = r["Ext_Key__c"].as_str() {
                t.seen.entry(k.to_string()).or_insert(now);
            }
        }
    }
    writes.await?;
    let t = times.lock();
    Ok(t.started
        .iter()
        .filter_map(|k| {
            let (c, s) = (t.committed.get(k)?, t.seen.get(k)?);
            // Seen before the commit returned: the commit's acknowledgement was late.
            Some(s.saturating_duration_since(*c).as_secs_f64())
        })
        .collect())
}

async fn measure(p: &Params, world: &World) -> Result<Vec<String>, BenchError> {
    let client = world.fleet.client()?;
    // Warm both paths (login, describe, connections) untimed.
    Writer::Direct(client.clone()).write("LW-warm").await?;
    let app = Writer::App(world.fleet.pool.clone());
    app.write("LA-warm").await?;
    world.until_all_success(1, Duration::from_secs(60)).await?;

    eprintln!(
        "latency: baseline, {} s of direct upserts ...",
        p.duration_secs
    );
    let base = series(world, Writer::Direct(client), "LB", p.rate, p.duration_secs).await?;
    eprintln!("latency: write-back, {} s of inserts ...", p.duration_secs);
    let wb = series(world, app, "LA", p.rate, p.duration_secs).await?;
    let n = wb.len() as i64;
    world
        .until_all_success(n + 1, Duration::from_secs(60))
        .await?;
    let runs = crate::ledger::runs::ids_of_kind(&world.fleet.pool, "write_back")
        .await?
        .len();
    let p95 = quantile(&wb, 0.95);
    Ok(vec![format!(
        "| latency: {n} single-row inserts at {}/s for {} s into a read_write table (Account, upsert by External ID), {} worker processes, {runs} write-back runs; commit to visible in the org's REST query (polled every {} ms) | p50 {:.2} s, p95 {p95:.2} s, max {:.2} s | the same inserts as one-record sObject Collections upserts straight through the client, call to visible: p50 {:.2} s, p95 {:.2} s | p95 at most {TARGET_P95_SECS} s: {} |",
        p.rate,
        p.duration_secs,
        p.workers,
        POLL.as_millis(),
        quantile(&wb, 0.5),
        quantile(&wb, 1.0),
        quantile(&base, 0.5),
        quantile(&base, 0.95),
        verdict(p95 <= TARGET_P95_SECS && !wb.is_empty())
    )])
}
