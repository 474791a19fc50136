//! `orgpool bench write-back`: the write-back targets measured through the real job
//! system (a child fake org with an External ID on Account, a scheduler and N worker
//! processes, the app's writes as plain SQL on a `read_write` mirror table), each beside
//! the same writes sent straight through one client in the same run. Three modes, each
//! in a world of its own (fresh database, org and Redis prefix):
//!
//! - latency ([`latency`]): single-row inserts at a steady rate, commit to visible in the
//!   org's REST API, p50 and p95;
//! - throughput ([`throughput`]): one UPDATE of N rows until every log row is SUCCESS,
//!   beside one Bulk ingest job of the same updates;
//! - backlog ([`backlog`]): changes made during an outage, drained after it, every
//!   record checked and none sent twice.
//!
//! This module owns what they share: the world's setup and the org checks.

pub mod backlog;
pub mod latency;
pub mod throughput;

use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use tokio::process::Child;

use super::BenchError;
use super::fleet::Fleet;
use crate::fake_org::FakeOrgConfig;
use crate::org_session::OrgSession;

/// The fake org schema the benchmark needs (an External ID on Account), built in so the
/// binary runs from anywhere.
pub const SCHEMA: &str = include_str!("../../../examples/write-back-bench-schema.toml");

/// Account read_write, inserts upserted by its External ID; resync once an hour, so
/// the measurement is the write path's alone.
pub const MAPPINGS: &str = r#"[[mapping]]
object = "Account"
fields = ["Name", "Industry", "Ext_Key__c"]
access = "read_write"
upsert_field = "Ext_Key__c"
poll_interval = "1h"
"#;

/// Which modes to run and at what size.
#[derive(Debug, Clone)]
pub struct Params {
    /// Run the latency mode.
    pub latency: bool,
    /// Run the throughput mode.
    pub throughput: bool,
    /// Run the backlog mode.
    pub backlog: bool,
    /// Latency: seconds of writes.
    pub duration_secs: u64,
    /// Latency: single-row writes per second.
    pub rate: u64,
    /// Throughput: rows the one UPDATE changes.
    pub rows: u64,
    /// Backlog: changes made during the outage.
    pub changes: u64,
    /// Backlog: seconds the outage lasts.
    pub outage_secs: u64,
    /// Worker processes.
    pub workers: usize,
}

/// A benchmark check that did not hold.
#[derive(Debug, thiserror::Error)]
pub enum WriteBackBenchError {
    /// Something did not happen in time.
    #[error(
        "timed out after {secs} s waiting for {what}; the worker logs (ORGPOOL_BENCH_WORKER_LOG=info) say why"
    )]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        secs: u64,
    },
    /// The org does not hold what the app wrote.
    #[error("the org does not match the app's writes: {0}")]
    Mismatch(String),
}

/// Runs the chosen modes (all three when none is chosen) and prints one table.
pub async fn run(p: Params) -> Result<(), BenchError> {
    let all = !(p.latency || p.throughput || p.backlog);
    let mut rows = Vec::new();
    if all || p.latency {
        rows.extend(latency::run(&p).await?);
    }
    if all || p.throughput {
        rows.extend(throughput::run(&p).await?);
    }
    if all || p.backlog {
        rows.extend(backlog::run(&p).await?);
    }
    println!();
    println!("| measure | write-back | baseline (same run) | target |");
    println!("|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    Ok(())
}

/// One mode's world: the fleet, its scheduler (the write-back listener lives there)
/// and a bare session on the org for checks that must not spend the fleet's budget.
pub struct World {
    /// Database, org, workers.
    pub fleet: Fleet,
    /// A bare session on the org.
    pub session: OrgSession,
    scheduler: Child,
    schema_file: std::path::PathBuf,
}

impl World {
    /// Starts mode `name`'s world with `accounts` seeded Accounts and waits until the
    /// mirror has loaded them.
    pub async fn start(name: &str, accounts: u64, workers: usize) -> Result<World, BenchError> {
        let schema_file = std::env::temp_dir().join(format!(
            "orgpool-bench-wb-{name}-{}-schema.toml",
            std::process::id()
        ));
        std::fs::write(&schema_file, SCHEMA)?;
        let schema = schema_file.to_string_lossy().to_string();
        let accounts_arg = accounts.to_string();
        let fleet = Fleet::start(
            &format!("wb_{name}"),
            &[
                "--schema",
                &schema,
                "--admin",
                "--accounts",
                &accounts_arg,
                "--contacts-per-account",
                "0",
                "--opportunities",
                "0",
                "--lines-per-opportunity",
                "0",
                "--api-limit",
                "100000000",
                "--bulk-delay-ms",
                "10",
            ],
            MAPPINGS,
            None,
            workers,
        )
        .await?;
        let d = FakeOrgConfig::default();
        let scheduler = fleet
            .command(&["scheduler", "--tick-seconds", "1"])
            .spawn()?;
        let session = OrgSession::login(
            &fleet.org.token_url(),
            &d.client_id,
            &d.client_secret,
            false,
        )
        .await
        .map_err(BenchError::other)?;
        let world = World {
            fleet,
            session,
            scheduler,
            schema_file,
        };
        let t = Instant::now();
        world
            .until(
                "the Account mapping to load",
                Duration::from_secs(600),
                || async {
                    let rows = crate::ledger::mappings::all(&world.fleet.pool).await?;
                    Ok(rows
                        .iter()
                        .any(|r| r.object == "Account" && r.state == "ready"))
                },
            )
            .await?;
        eprintln!(
            "{name}: {accounts} Accounts mirrored in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        Ok(world)
    }

    /// Polls `check` every 50 ms until it is true, up to `limit`.
    pub async fn until<F, Fut>(
        &self,
        what: &str,
        limit: Duration,
        check: F,
    ) -> Result<(), BenchError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<bool, BenchError>>,
    {
        until(what, limit, Duration::from_millis(50), check).await
    }

    /// Log rows of `salesforce._trigger_log` per state.
    pub async fn log_states(&self) -> Result<Vec<(String, i64)>, BenchError> {
        Ok(sqlx::query_as(
            "SELECT state::text, count(*) FROM salesforce._trigger_log GROUP BY 1 ORDER BY 1",
        )
        .fetch_all(&self.fleet.pool)
        .await?)
    }

    /// Waits until the log holds `want` rows, all `SUCCESS`; errors early on a FAILED row.
    pub async fn until_all_success(&self, want: i64, limit: Duration) -> Result<(), BenchError> {
        self.until("every log row to be SUCCESS", limit, || async {
            let states = self.log_states().await?;
            let of = |s: &str| states.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
            if of("FAILED") > 0 {
                let (msg,): (Option<String>,) = sqlx::query_as(
                    "SELECT sf_message FROM salesforce._trigger_log WHERE state = 'FAILED' LIMIT 1",
                )
                .fetch_one(&self.fleet.pool)
                .await?;
                return Err(BenchError::other(WriteBackBenchError::Mismatch(format!(
                    "{} log rows FAILED, e.g. {msg:?}",
                    of("FAILED")
                ))));
            }
            Ok(of("SUCCESS") >= want)
        })
        .await
    }

    /// The org's records for `soql` (one Bulk query, one page) as CSV rows, header first.
    pub async fn org_rows(&self, soql: &str) -> Result<Vec<Vec<String>>, BenchError> {
        let id = self
            .session
            .bulk_query(soql)
            .await
            .map_err(BenchError::other)?;
        let mut body = Vec::new();
        self.session
            .bulk_pages(&id, 10_000_000, |b| body.extend_from_slice(b), |_| {})
            .await
            .map_err(BenchError::other)?;
        let mut out = Vec::new();
        for r in csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&body[..])
            .records()
        {
            let r = r.map_err(BenchError::other)?;
            out.push(r.iter().map(String::from).collect());
        }
        Ok(out)
    }

    /// Records the org's REST query API returns for `soql` (first page).
    pub async fn org_query(&self, soql: &str) -> Result<Vec<Json>, BenchError> {
        let page = self
            .session
            .get_json("/query", &[("q", soql)], &[])
            .await
            .map_err(BenchError::other)?;
        Ok(page["records"].as_array().cloned().unwrap_or_default())
    }

    /// Records processed by the org's ingest jobs on `object`, summed over every job.
    pub async fn ingested(&self, object: &str) -> Result<u64, BenchError> {
        let list = self
            .session
            .get_json("/jobs/ingest", &[], &[])
            .await
            .map_err(BenchError::other)?;
        let mut n = 0;
        for j in list["records"].as_array().into_iter().flatten() {
            if j["object"].as_str() != Some(object) {
                continue;
            }
            let id = j["id"].as_str().unwrap_or_default();
            let info = self
                .session
                .get_json(&format!("/jobs/ingest/{id}"), &[], &[])
                .await
                .map_err(BenchError::other)?;
            n += info["numberRecordsProcessed"].as_u64().unwrap_or(0);
        }
        Ok(n)
    }

    /// Starts an outage of `secs` seconds (503 `SERVER_UNAVAILABLE`) in the org.
    pub async fn outage(&self, secs: u64) -> Result<(), BenchError> {
        reqwest::Client::new()
            .post(format!("{}/__admin/faults", self.fleet.org.base_url))
            .json(&json!({"outage_seconds": secs}))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(BenchError::other)?;
        Ok(())
    }

    /// Stops everything and removes the world.
    pub async fn stop(mut self) -> Result<(), BenchError> {
        let _ = self.scheduler.kill().await;
        let _ = std::fs::remove_file(&self.schema_file);
        self.fleet.stop().await
    }
}

/// Polls `check` every `every` until it holds, up to `limit`; a timeout names `what`.
pub async fn until<F, Fut>(
    what: &str,
    limit: Duration,
    every: Duration,
    mut check: F,
) -> Result<(), BenchError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, BenchError>>,
{
    let t = Instant::now();
    while t.elapsed() < limit {
        if check().await? {
            return Ok(());
        }
        tokio::time::sleep(every).await;
    }
    Err(BenchError::other(WriteBackBenchError::Timeout {
        what: what.into(),
        secs: limit.as_secs(),
    }))
}

/// `met` or `NOT met`.
pub fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// The `q`-quantile of `v` (nearest rank), seconds; 0 when empty.
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.95), 95.0);
        assert_eq!(quantile(&[3.0], 0.95), 3.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}
