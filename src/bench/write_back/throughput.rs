//! Throughput mode: one UPDATE of N mirrored Accounts by the app, timed from its commit
//! until every log row it wrote is SUCCESS (a row is settled only once Salesforce has
//! answered for its record), then the org's values checked against the table's (one
//! Bulk query, untimed). The baseline, in the same run and org, updates the same
//! records with new values through one Bulk API 2.0 ingest job sent by the client.
//! The command also prints each write-back chunk's timeline.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{Params, World, WriteBackBenchError, verdict};
use crate::bench::BenchError;
use crate::salesforce::Operation;

/// The target: 100,000 rows in under a minute (scaled for other sizes).
const TARGET_SECS_PER_100K: f64 = 60.0;

/// Runs the mode in a world of its own; returns its table rows.
pub async fn run(p: &Params) -> Result<Vec<String>, BenchError> {
    let world = World::start("throughput", p.rows, p.workers).await?;
    let result = measure(p, &world).await;
    world.stop().await?;
    result
}

async fn measure(p: &Params, world: &World) -> Result<Vec<String>, BenchError> {
    let pool = &world.fleet.pool;
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM salesforce.account")
        .fetch_one(pool)
        .await?;
    let t = Instant::now();
    sqlx::query("UPDATE salesforce.account SET name = 'WB ' || id")
        .execute(pool)
        .await?;
    let update_took = t.elapsed().as_secs_f64();
    let t = Instant::now();
    world
        .until_all_success(rows, Duration::from_secs(1800))
        .await?;
    let took = t.elapsed().as_secs_f64();
    timeline(world).await?;

    // The org holds the new values: every record, by Id.
    let ours: HashMap<String, String> =
        sqlx::query_as::<_, (String, String)>("SELECT sfid, name FROM salesforce.account")
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect();
    let theirs = world.org_rows("SELECT Id, Name FROM Account").await?;
    let wrong = theirs
        .iter()
        .skip(1)
        .filter(|r| ours.get(&r[0]) != r.get(1))
        .count();
    if wrong > 0 || theirs.len() as i64 - 1 != rows {
        return Err(BenchError::other(WriteBackBenchError::Mismatch(format!(
            "{wrong} of {} org records differ from the table's {rows} rows",
            theirs.len().saturating_sub(1)
        ))));
    }

    // Baseline: the same records, new values, one Bulk ingest job through the client.
    let client = world.fleet.client()?;
    let ids: Vec<(String, i32)> = sqlx::query_as("SELECT sfid, id FROM salesforce.account")
        .fetch_all(pool)
        .await?;
    let header = vec!["Id".to_string(), "Name".to_string()];
    let body: Vec<Vec<String>> = ids
        .iter()
        .map(|(sfid, id)| vec![sfid.clone(), format!("WB2 {id}")])
        .collect();
    let t = Instant::now();
    let outcome = client
        .bulk_ingest("Account", &Operation::Update, &header, body)
        .await?;
    let base = t.elapsed().as_secs_f64();
    if !outcome.failed.is_empty() || outcome.saved.len() as i64 != rows {
        return Err(BenchError::other(WriteBackBenchError::Mismatch(format!(
            "the baseline job saved {} of {rows} records ({} refused)",
            outcome.saved.len(),
            outcome.failed.len()
        ))));
    }
    let limit = TARGET_SECS_PER_100K * rows as f64 / 100_000.0;
    Ok(vec![format!(
        "| throughput: one UPDATE of {rows} rows (took {update_took:.1} s to commit), {} worker processes; commit until every log row is SUCCESS (the org's values then checked, all {rows} match) | {took:.1} s, {:.0} records/s | the same records updated through one Bulk ingest job straight from the client: {base:.1} s, {:.0} records/s | 100,000 in under {TARGET_SECS_PER_100K:.0} s (here under {limit:.1} s): {} |",
        p.workers,
        rows as f64 / took,
        rows as f64 / base,
        verdict(took < limit)
    )])
}

/// Prints each write-back chunk's timeline (seconds after its run was created).
async fn timeline(world: &World) -> Result<(), BenchError> {
    let runs = crate::ledger::runs::ids_of_kind(&world.fleet.pool, "write_back").await?;
    let s = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into());
    for run in runs {
        for c in crate::ledger::stats::timeline(&world.fleet.pool, run).await? {
            eprintln!(
                "run {run} chunk {} {}: pushed {} started {} finished {} (attempts {})",
                c.id,
                c.step,
                s(c.pushed),
                s(c.started),
                s(c.finished),
                c.attempts
            );
        }
    }
    Ok(())
}
