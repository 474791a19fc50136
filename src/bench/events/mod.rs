//! `orgpool bench events`: Change Data Capture measured through the real job system.
//! One child fake org; the benchmark updates its Opportunities through REST (each change
//! a `bench-<n>` token, its commit the moment the org answered) while the org's churn
//! inserts and deletes; two fleets mirror it, each with its own
//! database, scheduler and workers: one by change events (`events = true`), one by
//! the fastest poll allowed without `allow_fast_poll` (every 2 minutes, with the default
//! resync lag), so both latencies come from the same changes in the same run
//! ([`latency`]). Then the events fleet's scheduler and every worker are killed with
//! SIGKILL mid-churn and restarted, and once the churn stops the mirror must equal the
//! org, with no row ever moved backwards ([`restart`]).

pub mod driver;
pub mod latency;
pub mod restart;
pub mod watch;

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::process::Child;

use super::BenchError;
use super::child_org::ChildOrg;
use super::fleet::Fleet;

/// The fields both fleets mirror.
const FIELDS: &str = r#"["Name", "StageName", "Amount", "CloseDate", "Description", "NextStep"]"#;

/// Which modes, at what size.
#[derive(Debug, Clone)]
pub struct Params {
    /// Run the latency mode.
    pub latency: bool,
    /// Run the restart mode.
    pub restart: bool,
    /// Changes a second the org makes to Opportunities.
    pub rate: u64,
    /// Seconds of churn for the latency mode.
    pub duration_secs: u64,
    /// The polling fleet's interval (`2m`, the fastest without `allow_fast_poll`).
    pub poll_interval: String,
    /// Worker processes of the events fleet.
    pub workers: usize,
    /// Seeded Opportunities.
    pub opportunities: u64,
}

/// A fleet with its scheduler.
pub struct Mirror {
    /// Database, workers.
    pub fleet: Fleet,
    /// Its scheduler.
    pub scheduler: Child,
}

impl Mirror {
    /// Starts a fleet on `org` with an Opportunity mapping (`extra` lines added).
    pub async fn start(
        name: &str,
        org: ChildOrg,
        extra: &str,
        workers: usize,
    ) -> Result<Mirror, BenchError> {
        let mappings =
            format!("[[mapping]]\nobject = \"Opportunity\"\nfields = {FIELDS}\n{extra}\n");
        let fleet = Fleet::start_on(name, org, &mappings, None, workers).await?;
        let scheduler = fleet
            .command(&["scheduler", "--tick-seconds", "1"])
            .spawn()?;
        Ok(Mirror { fleet, scheduler })
    }

    /// Waits until the mapping is loaded (and, with events, its stream is live).
    pub async fn ready(&self, events: bool) -> Result<(), BenchError> {
        until("the Opportunity mapping to load", Duration::from_secs(600), || async {
            let loaded = sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM orgpool.mappings WHERE state = 'ready' AND watermark IS NOT NULL",
            )
            .fetch_one(&self.fleet.pool)
            .await?
                == 1;
            let live = !events
                || crate::ledger::events::subscriptions(&self.fleet.pool)
                    .await?
                    .iter()
                    .any(|s| s.state == "live");
            Ok(loaded && live)
        })
        .await
    }

    /// Stops it all.
    pub async fn stop(mut self) -> Result<(), BenchError> {
        let _ = self.scheduler.kill().await;
        self.fleet.stop().await
    }
}

/// Seeded Opportunities the benchmark updates (from the fleet's loaded table).
pub async fn targets(pool: &sqlx::PgPool) -> Result<Vec<String>, BenchError> {
    Ok(
        sqlx::query_scalar(
            "SELECT sfid::text FROM salesforce.opportunity ORDER BY sfid LIMIT 1000",
        )
        .fetch_all(pool)
        .await?,
    )
}

/// Runs the chosen modes (both when none is chosen) and prints one table.
pub async fn run(p: Params) -> Result<(), BenchError> {
    let both = !(p.latency || p.restart);
    // Each mode's rows as it ends, so a later mode's failure keeps the earlier result.
    let print = |rows: Vec<String>| {
        println!();
        println!("| measure | change events | baseline (same run) | target |");
        println!("|---|---|---|---|");
        for r in rows {
            println!("{r}");
        }
    };
    if both || p.latency {
        print(latency::run(&p).await?);
    }
    if both || p.restart {
        print(restart::run(&p).await?);
    }
    Ok(())
}

/// A child org seeded with `p.opportunities` Opportunities, admin on, no API ceiling.
pub async fn org(p: &Params) -> Result<ChildOrg, BenchError> {
    let opportunities = p.opportunities.to_string();
    let accounts = (p.opportunities / 10).max(10).to_string();
    eprintln!("seeding a child fake org ({opportunities} Opportunities) ...");
    ChildOrg::spawn(
        None,
        &[
            "--admin",
            "--accounts",
            &accounts,
            "--contacts-per-account",
            "0",
            "--opportunities",
            &opportunities,
            "--lines-per-opportunity",
            "0",
            "--api-limit",
            "100000000",
            "--bulk-delay-ms",
            "10",
        ],
    )
    .await
}

/// The benchmark's updates: 90% of the changes (the org's churn makes the inserts and
/// deletes).
pub fn update_rate(rate: u64) -> u64 {
    (rate * 9 / 10).max(1)
}

/// Sets the org's own churn on Opportunity to `rate` changes a second of inserts and
/// deletes, 5% each (the benchmark makes the updates), or off with 0.
pub async fn churn(org: &ChildOrg, rate: u64) -> Result<(), BenchError> {
    let specs: Vec<String> = if rate == 0 {
        Vec::new()
    } else {
        let r = rate as f64 * 0.05;
        vec![format!("Opportunity:inserts={r},deletes={r}")]
    };
    reqwest::Client::new()
        .post(format!("{}/__admin/faults", org.base_url))
        .json(&json!({ "churn": specs }))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(BenchError::other)?;
    Ok(())
}

/// Polls `check` every 100 ms until it holds, up to `limit`.
pub async fn until<F, Fut>(what: &str, limit: Duration, mut check: F) -> Result<(), BenchError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, BenchError>>,
{
    let t = Instant::now();
    while t.elapsed() < limit {
        if check().await? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(BenchError::other(format!(
        "timed out after {} s waiting for {what}; the logs (ORGPOOL_BENCH_WORKER_LOG=info) say why",
        limit.as_secs()
    )))
}
