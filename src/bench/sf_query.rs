//! `orgpool bench sf-query`: how fast the Salesforce client streams a Bulk API 2.0 query
//! and how much memory it needs. The fake org runs in a child process, so this process's
//! peak resident memory is the client's. Baseline from the same run: the same pages
//! read with a bare HTTP loop (no budget, no counting, no header handling).

use std::time::Instant;

use serde_json::json;

use super::BenchError;
use super::child_org::ChildOrg;
use super::mem::rss_mib;
use crate::fake_org::FakeOrgConfig;
use crate::org_session::OrgSession;
use crate::salesforce::{Client, SalesforceConfig, Scope};

/// What to measure.
#[derive(Debug, Clone)]
pub struct Params {
    /// Opportunities to seed and stream.
    pub records: u64,
    /// Rows per results page.
    pub page: u64,
    /// Skip the baseline (tests that only need the client's figures).
    pub skip_baseline: bool,
    /// Print one JSON object instead of the table.
    pub json: bool,
    /// Ask for gzip-compressed pages (what a remote org needs; on a local link the
    /// compression costs more than it saves).
    pub gzip: bool,
}

/// The query streamed: eight columns of mixed types.
pub const SOQL: &str = "SELECT Id, Name, StageName, Amount, CloseDate, Probability, AccountId, SystemModstamp FROM Opportunity";

/// Memory target of the issue.
const TARGET_PEAK_MIB: f64 = 100.0;

/// Runs it.
pub async fn run(p: Params) -> Result<(), BenchError> {
    let records = p.records.to_string();
    if !p.json {
        println!(
            "orgpool bench sf-query: seeding {} opportunities in a child fake org ...",
            p.records
        );
    }
    let org = ChildOrg::spawn(
        None,
        &[
            "--opportunities",
            &records,
            "--lines-per-opportunity",
            "0",
            "--bulk-delay-ms",
            "10",
        ],
    )
    .await?;
    let defaults = FakeOrgConfig::default();
    let mut cfg =
        SalesforceConfig::new(&org.base_url, &defaults.client_id, &defaults.client_secret);
    cfg.bulk_page_rows = p.page;
    cfg.gzip = p.gzip;
    let redis = crate::redis_conn::connect(&crate::redis_conn::url_from_env())
        .await
        .map_err(BenchError::other)?;
    let prefix = format!("orgpool-bench-{}", std::process::id());
    let client = Client::new(cfg, redis, &prefix)?;

    let (_, rss_before) = rss_mib();
    let t = Instant::now();
    let mut results = client.bulk_query(SOQL, Scope::Live).await?;
    let job_ready = t.elapsed();
    let mut bytes = 0u64;
    while let Some(chunk) = results.next_chunk().await? {
        bytes += chunk.len() as u64;
    }
    let took = t.elapsed();
    let rows = results.rows();
    let (_, peak) = rss_mib();
    let rate = rows as f64 / took.as_secs_f64();
    client.fleet().clear().await?;

    let baseline = if p.skip_baseline {
        None
    } else {
        let session = OrgSession::login(
            &org.token_url(),
            &defaults.client_id,
            &defaults.client_secret,
            p.gzip,
        )
        .await
        .map_err(BenchError::other)?;
        let t = Instant::now();
        let id = session.bulk_query(SOQL).await.map_err(BenchError::other)?;
        let mut n = 0u64;
        session
            .bulk_pages(&id, p.page, |_| {}, |page| n += page.records)
            .await
            .map_err(BenchError::other)?;
        Some((n, n as f64 / t.elapsed().as_secs_f64()))
    };
    org.stop().await;

    if p.json {
        println!(
            "{}",
            json!({
                "rows": rows, "bytes": bytes, "pages": results.pages(), "seconds": took.as_secs_f64(),
                "rows_per_sec": rate, "gzip": p.gzip, "peak_rss_mib": peak, "rss_before_mib": rss_before,
                "baseline_rows_per_sec": baseline.map(|b| b.1),
            })
        );
        return Ok(());
    }
    println!();
    println!("| measure | orgpool client | baseline (same run) | target |");
    println!("|---|---|---|---|");
    let base = baseline.map_or("skipped".to_string(), |(n, r)| {
        format!("{r:.0} rows/s ({n} rows, bare HTTP page loop)")
    });
    println!(
        "| Bulk query of {rows} rows, {} pages of {}, gzip {} (job ready after {:.2} s) | {rate:.0} rows/s ({:.1} MB/s of CSV) | {base} | none set; the client should keep up with the bare loop |",
        results.pages(),
        p.page,
        if p.gzip { "on" } else { "off" },
        job_ready.as_secs_f64(),
        bytes as f64 / 1e6 / took.as_secs_f64(),
    );
    println!(
        "| peak resident memory of this process | {peak:.1} MiB (before the query {rss_before:.1} MiB) | | under {TARGET_PEAK_MIB:.0} MiB: {} |",
        if peak < TARGET_PEAK_MIB {
            "met"
        } else {
            "NOT met"
        }
    );
    Ok(())
}
