//! Backlog mode: the org goes down (503 `SERVER_UNAVAILABLE` for the outage's length),
//! the app inserts N Accounts meanwhile (in batches spread over the first 80% of the
//! outage), and the drain is timed from the outage's end until every log row is
//! SUCCESS. Then every record is checked in the org (one Bulk query): each External ID
//! once, with the row's Id and name, and never written again after its creation
//! (`SystemModstamp` equals `CreatedDate`: a second send would have updated it), and
//! each log row records one send. The baseline, in the same run and org, upserts as
//! many new Accounts through one Bulk ingest job sent by the client.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{Params, World, WriteBackBenchError, verdict};
use crate::bench::BenchError;
use crate::salesforce::Operation;

/// Rows per app transaction during the outage.
const BATCH: u64 = 500;

/// Runs the mode in a world of its own; returns its table rows.
pub async fn run(p: &Params) -> Result<Vec<String>, BenchError> {
    let world = World::start("backlog", 10, p.workers).await?;
    let result = measure(p, &world).await;
    world.stop().await?;
    result
}

async fn measure(p: &Params, world: &World) -> Result<Vec<String>, BenchError> {
    let pool = &world.fleet.pool;
    let insert = "INSERT INTO salesforce.account (name, ext_key__c)
                  SELECT 'Backlog ' || g, 'B-' || g FROM generate_series($1::bigint, $2::bigint) g";
    // One change through first, so logins and connections are warm.
    sqlx::query(insert)
        .bind(0i64)
        .bind(0i64)
        .execute(pool)
        .await?;
    world.until_all_success(1, Duration::from_secs(60)).await?;

    let outage = Duration::from_secs(p.outage_secs);
    world.outage(p.outage_secs).await?;
    let start = Instant::now();
    eprintln!(
        "backlog: outage of {} s, {} inserts meanwhile ...",
        p.outage_secs, p.changes
    );
    let batches = p.changes.div_ceil(BATCH).max(1);
    let spread = outage.mul_f64(0.8);
    for b in 0..batches {
        tokio::time::sleep_until((start + spread.mul_f64(b as f64 / batches as f64)).into()).await;
        let (lo, hi) = (b * BATCH + 1, ((b + 1) * BATCH).min(p.changes));
        sqlx::query(insert)
            .bind(lo as i64)
            .bind(hi as i64)
            .execute(pool)
            .await?;
    }
    let made_in = start.elapsed();
    if made_in > outage {
        eprintln!(
            "backlog: the changes took {:.1} s, longer than the outage",
            made_in.as_secs_f64()
        );
    }
    let ended = start + outage;
    tokio::time::sleep_until(ended.into()).await;
    let want = p.changes as i64 + 1;
    world
        .until_all_success(want, Duration::from_secs(1800))
        .await?;
    let drain = ended.elapsed().as_secs_f64();

    // Every record correct, none sent twice.
    let ours: HashMap<String, (String, String)> = sqlx::query_as::<_, (String, String, String)>(
        "SELECT ext_key__c, sfid, name FROM salesforce.account WHERE ext_key__c LIKE 'B-%'",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|(k, s, n)| (k, (s, n)))
    .collect();
    let theirs = world
        .org_rows("SELECT Ext_Key__c, Id, Name, CreatedDate, SystemModstamp FROM Account WHERE Ext_Key__c LIKE 'B-%'")
        .await?;
    let mut seen: HashMap<&str, u32> = HashMap::new();
    let (mut wrong, mut rewritten) = (0, 0);
    for r in theirs.iter().skip(1) {
        *seen.entry(r[0].as_str()).or_default() += 1;
        if ours.get(&r[0]) != Some(&(r[1].clone(), r[2].clone())) {
            wrong += 1;
        }
        if r[3] != r[4] {
            rewritten += 1;
        }
    }
    let twice = seen.values().filter(|n| **n > 1).count();
    let (resent,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM salesforce._trigger_log WHERE sf_result <> 1")
            .fetch_one(pool)
            .await?;
    let ingested = world.ingested("Account").await?;
    if wrong > 0 || twice > 0 || rewritten > 0 || resent > 0 || seen.len() as i64 != want {
        return Err(BenchError::other(WriteBackBenchError::Mismatch(format!(
            "{} of {want} records in the org, {wrong} differ from their rows, {twice} twice, {rewritten} written after their creation, {resent} log rows sent more than once",
            seen.len()
        ))));
    }

    // Baseline: as many new Accounts upserted by one Bulk ingest job from the client.
    let client = world.fleet.client()?;
    let header = vec!["Ext_Key__c".to_string(), "Name".to_string()];
    let body: Vec<Vec<String>> = (1..=p.changes)
        .map(|i| vec![format!("BB-{i}"), format!("Baseline {i}")])
        .collect();
    let t = Instant::now();
    let outcome = client
        .bulk_ingest(
            "Account",
            &Operation::Upsert {
                external_id: "Ext_Key__c".into(),
            },
            &header,
            body,
        )
        .await?;
    let base = t.elapsed().as_secs_f64();
    if !outcome.failed.is_empty() || outcome.saved.len() as u64 != p.changes {
        return Err(BenchError::other(WriteBackBenchError::Mismatch(format!(
            "the baseline job saved {} of {} records ({} refused)",
            outcome.saved.len(),
            p.changes,
            outcome.failed.len()
        ))));
    }
    Ok(vec![
        format!(
            "| backlog: {} inserts made during a {} s outage (in {:.1} s), {} worker processes; drain from the outage's end until every log row is SUCCESS | {drain:.1} s | as many new records upserted through one Bulk ingest job straight from the client: {base:.1} s | drains; every record correct, none sent twice (next row) |",
            p.changes,
            p.outage_secs,
            made_in.as_secs_f64(),
            p.workers,
        ),
        format!(
            "| backlog check | {want} of {want} records in the org with the row's Id and name, each External ID once, none written after its creation, every log row sent once; the org's ingest jobs processed {ingested} records | | {} |",
            verdict(true)
        ),
    ])
}
