//! `orgpool bench quotes`: seeds a child fake org, loads the mirror through the job
//! system (untimed), then times a quote run of every Opportunity end to end (plan,
//! pricing from the mirror, Bulk upserts of Quotes and lines, all jobs finished). In
//! the same run it times the same upserts sent straight through one client with no
//! queue, no mirror reads and no pricing: the floor the org itself sets.

use std::time::Instant;

use super::BenchError;
use super::fleet::Fleet;
use crate::jobs::dispatch::{start_run, start_run_with};
use crate::jobs::registry;
use crate::quotes::QuotesFile;

/// Parameters.
#[derive(Debug, Clone)]
pub struct Params {
    /// Opportunities to seed and quote.
    pub opportunities: u64,
    /// Worker processes.
    pub workers: usize,
    /// Opportunities per chunk.
    pub chunk: u64,
}

const MAPPINGS: &str = "[[mapping]]\nobject = \"Account\"\n[[mapping]]\nobject = \"Opportunity\"\n[[mapping]]\nobject = \"OpportunityLineItem\"\n[[mapping]]\nobject = \"Product2\"\n[[mapping]]\nobject = \"Pricebook2\"\n[[mapping]]\nobject = \"PricebookEntry\"\n";

fn rules(chunk: u64) -> String {
    format!(
        "[selection]\nwhere = \"Name != null\"\nchunk_size = {chunk}\n[pricing]\nmax_discount = 20\n[[pricing.region]]\nname = \"EMEA\"\ncountries = [\"Germany\", \"France\"]\ndiscount = 5\n[[pricing.family]]\nfamily = \"Hardware\"\ndiscount = 3\n[[pricing.tier]]\nmin_quantity = 5\ndiscount = 2\n"
    )
}

/// Runs it.
pub async fn run(p: Params) -> Result<(), BenchError> {
    let n = p.opportunities.to_string();
    let accounts = (p.opportunities / 10).max(10).to_string();
    let text = rules(p.chunk);
    let fleet = Fleet::start(
        "quotes",
        &[
            "--opportunities",
            &n,
            "--accounts",
            &accounts,
            "--lines-per-opportunity",
            "2",
            "--bulk-delay-ms",
            "5",
        ],
        MAPPINGS,
        Some(&text),
        p.workers,
    )
    .await?;
    let result = measure(&fleet, &text).await;
    let peaks = fleet.worker_peaks();
    fleet.stop().await?;
    let (quoted, took, lines, base) = result?;
    let rate = quoted as f64 / took;
    println!();
    println!("| measure | job system | baseline (same run) | target |");
    println!("|---|---|---|---|");
    println!(
        "| quote run of {quoted} Opportunities ({lines} lines) by {} worker processes, chunks of {} | {took:.2} s, {rate:.0} Opportunities/s | the same upserts straight through one client (no queue, mirror reads or pricing): {base:.2} s | 5,000 in under 2 s; 1,000,000 in under 5 min: {} |",
        p.workers,
        p.chunk,
        if (quoted <= 5_000 && took < 2.0)
            || (quoted > 5_000 && took < 300.0 * quoted as f64 / 1_000_000.0)
        {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "| worker peak resident memory | {} | | |",
        peaks
            .iter()
            .map(|m| format!("{m:.1} MiB"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

async fn measure(fleet: &Fleet, text: &str) -> Result<(i64, f64, i64, f64), BenchError> {
    let file = crate::mirror::MappingsFile::parse("bench", MAPPINGS)?;
    crate::scheduler::catalog::record(&fleet.pool, &file.mapping)
        .await
        .map_err(BenchError::other)?;
    let t = Instant::now();
    let mut ids = Vec::new();
    for m in &file.mapping {
        ids.push(
            start_run(
                &fleet.pool,
                &fleet.queues,
                &registry::INITIAL_LOAD,
                &m.object,
                "bench",
            )
            .await?
            .id(),
        );
    }
    for id in ids {
        fleet.wait(id).await?;
    }
    eprintln!("mirror loaded in {:.1} s", t.elapsed().as_secs_f64());
    let rules = QuotesFile::parse("bench", text)?;
    let version = rules.version();
    crate::ledger::quotes::record_rules(&fleet.pool, &version, text).await?;
    let t = Instant::now();
    let id = start_run_with(
        &fleet.pool,
        &fleet.queues,
        &registry::QUOTE_GENERATION,
        "Opportunity",
        serde_json::json!({"version": version}),
        "bench",
    )
    .await?
    .id();
    fleet.wait(id).await?;
    let took = t.elapsed().as_secs_f64();
    timeline(&fleet.pool, id).await?;
    let totals = crate::ledger::stats::quote_totals(&fleet.pool).await?;
    let (quoted, lines) = (totals.quotes, totals.lines);

    // Baseline: the same Quote and line upserts through one client, nothing else.
    let client = fleet.client()?;
    // The same push code, on every computed Quote at once, with nothing around it.
    let keys = crate::ledger::quotes::mark_all_computed(&fleet.pool).await?;
    let t = Instant::now();
    crate::quotes::push::push(&fleet.pool, &client, 0, 0, &keys).await?;
    Ok((quoted, took, lines, t.elapsed().as_secs_f64()))
}

/// Prints where a run's time went: per chunk, when it was pushed, started and finished,
/// in seconds after the run was created.
async fn timeline(pool: &sqlx::PgPool, run_id: i64) -> Result<(), BenchError> {
    let rows = crate::ledger::stats::timeline(pool, run_id).await?;
    let s = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into());
    for c in rows {
        eprintln!(
            "chunk {} {}: pushed {} started {} finished {} (attempts {})",
            c.id,
            c.step,
            s(c.pushed),
            s(c.started),
            s(c.finished),
            c.attempts
        );
    }
    Ok(())
}
