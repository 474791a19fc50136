//! `orgpool bench load`: an initial load through the real job system (a fake org in a
//! child process, N worker processes, the ledger, Redis), timed from the run's creation
//! to its success, beside a plain `COPY` of the same rows as CSV into an identical table
//! in the same run. Prints both rates, their ratio and the workers' peak memory.

use std::time::Instant;

use futures::TryStreamExt;
use sqlx::postgres::PgPoolCopyExt;

use super::BenchError;
use super::fleet::Fleet;
use crate::jobs::dispatch::start_run;
use crate::jobs::registry;
use crate::mirror::{MappingsFile, MirrorTable, Resolved, ensure};
use crate::salesforce::Scope;

/// Parameters.
#[derive(Debug, Clone)]
pub struct Params {
    /// Opportunities to seed and load.
    pub records: u64,
    /// Worker processes.
    pub workers: usize,
    /// Rows per chunk.
    pub chunk: u64,
}

const FIELDS: &str = r#"["Name", "Amount", "CloseDate", "StageName", "Probability", "AccountId", "IsClosed", "IsWon", "CreatedDate", "LastModifiedDate"]"#;

/// Runs it.
pub async fn run(p: Params) -> Result<(), BenchError> {
    let records = p.records.to_string();
    let mappings = format!(
        "[[mapping]]\nobject = \"Opportunity\"\nfields = {FIELDS}\nchunk_size = {}\n",
        p.chunk
    );
    let fleet = Fleet::start(
        "load",
        &[
            "--opportunities",
            &records,
            "--lines-per-opportunity",
            "0",
            "--bulk-delay-ms",
            "10",
        ],
        &mappings,
        None,
        p.workers,
    )
    .await?;
    let result = measure(&p, &fleet, &mappings).await;
    fleet.stop().await?;
    result
}

async fn measure(p: &Params, fleet: &Fleet, mappings: &str) -> Result<(), BenchError> {
    let file = MappingsFile::parse("bench", mappings)?;
    crate::scheduler::catalog::record(&fleet.pool, &file.mapping)
        .await
        .map_err(BenchError::other)?;
    let pool = &fleet.pool;
    let started = Instant::now();
    let id = start_run(
        pool,
        &fleet.queues,
        &registry::INITIAL_LOAD,
        "Opportunity",
        "bench",
    )
    .await?
    .id();
    fleet.wait(id).await?;
    let took = started.elapsed().as_secs_f64();
    let peaks = fleet.worker_peaks();
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM salesforce.opportunity")
        .fetch_one(pool)
        .await?;

    // Baseline: the same rows as CSV (fetched untimed), one plain COPY into an identical
    // empty table (same columns, keys and indexes).
    let client = fleet.client()?;
    let describe = client.describe("Opportunity").await?;
    let mut resolved = Resolved::new(&file.mapping[0], &describe)?;
    resolved.mapping.schema = "bench_baseline".into();
    let table = MirrorTable::new(&resolved);
    let mut conn = pool.acquire().await?;
    ensure(&mut conn, &table).await?;
    let csv = fleet.dir.join("opportunity.csv");
    {
        use tokio::io::AsyncWriteExt;
        let mut f = tokio::fs::File::create(&csv).await?;
        let mut s = client
            .bulk_query(&resolved.soql(), Scope::Live)
            .await?
            .into_stream();
        while let Some(b) = s.try_next().await? {
            f.write_all(&b).await?;
        }
        f.flush().await?;
    }
    let cols: Vec<String> = table
        .columns
        .iter()
        .map(|c| crate::mirror::quote_ident(&c.name))
        .collect();
    let list = cols.join(", ");
    let t = Instant::now();
    let mut copy = pool
        .copy_in_raw(&format!(
            "COPY {} ({list}) FROM STDIN WITH (FORMAT csv, HEADER true, FORCE_NULL ({list}))",
            table.qualified()
        ))
        .await?;
    copy.read_from(tokio::fs::File::open(&csv).await?).await?;
    let base_rows = copy.finish().await?;
    let base = t.elapsed().as_secs_f64();

    let rate = rows as f64 / took;
    let base_rate = base_rows as f64 / base;
    let peak = peaks.iter().cloned().fold(0.0, f64::max);
    println!();
    println!("| measure | job system | baseline (same run) | target |");
    println!("|---|---|---|---|");
    println!(
        "| initial load of {rows} Opportunity rows ({} columns) by {} worker processes, chunks of {} | {took:.1} s, {rate:.0} rows/s | plain COPY of the same CSV into an identical table: {base:.1} s, {base_rate:.0} rows/s | ratio {:.2} (target at least 0.5: {}) |",
        table.columns.len(),
        p.workers,
        p.chunk,
        rate / base_rate,
        if rate / base_rate >= 0.5 {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "| worker peak resident memory | {} | | under 150 MB: {} |",
        peaks
            .iter()
            .map(|m| format!("{m:.1} MiB"))
            .collect::<Vec<_>>()
            .join(", "),
        if peak < 150.0 { "met" } else { "NOT met" }
    );
    Ok(())
}
