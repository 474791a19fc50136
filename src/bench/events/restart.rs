//! The restart mode: the events fleet's scheduler (its subscriber) and every worker
//! are killed with SIGKILL mid-churn and started again; once the churn stops and the
//! inbox is empty, the mirror must equal the org, and no row's stamp may ever have
//! gone backwards.

use std::time::Duration;

use tokio::sync::watch as signal;

use super::driver::drive;
use super::watch::watch;
use super::{Mirror, Params, active_runs, churn, org, targets, until, update_rate, waiting};
use crate::bench::BenchError;
use crate::bench::write_back::verdict;
use crate::fake_org::FakeOrgConfig;
use crate::org_session::OrgSession;

const COLUMNS: [&str; 4] = ["Id", "Name", "Description", "NextStep"];

/// Runs it; returns the table rows.
pub async fn run(p: &Params) -> Result<Vec<String>, BenchError> {
    let org = org(p).await?;
    let mut ev = Mirror::start(
        "ev_restart",
        org.shared(),
        "events = true\npoll_interval = \"10m\"",
        p.workers,
    )
    .await?;
    ev.ready(true).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (stop, rx) = signal::channel(false);
    let seen = tokio::spawn(watch(ev.fleet.pool.clone(), "salesforce.opportunity", rx));

    eprintln!("restart: changes, then SIGKILL to the scheduler and every worker ...");
    let ids = targets(&ev.fleet.pool).await?;
    let (stop_drive, drive_rx) = signal::channel(false);
    churn(&org, p.rate).await?;
    let driver = tokio::spawn(drive(org.token_url(), ids, update_rate(p.rate), drive_rx));
    tokio::time::sleep(Duration::from_secs(5)).await;
    let _ = ev.scheduler.start_kill();
    for w in &mut ev.fleet.workers {
        let _ = w.start_kill();
    }
    let _ = ev.scheduler.wait().await;
    for w in &mut ev.fleet.workers {
        let _ = w.wait().await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    ev.scheduler = ev
        .fleet
        .command(&["scheduler", "--tick-seconds", "1"])
        .spawn()?;
    let mut workers = Vec::new();
    for _ in 0..p.workers {
        workers.push(ev.fleet.command(&["worker"]).spawn()?);
    }
    ev.fleet.workers = workers;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let _ = stop_drive.send(true);
    churn(&org, 0).await?;
    let commits = driver.await.map_err(BenchError::other)??.lock().len();
    until(
        "every event applied after the restart",
        Duration::from_secs(180),
        || async {
            Ok(waiting(&ev.fleet.pool).await? == 0 && active_runs(&ev.fleet.pool).await? == 0)
        },
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop.send(true);
    let seen = seen.await.map_err(BenchError::other)??;

    let org_rows = org_rows(&org.token_url()).await?;
    let mirror_rows = mirror_rows(&ev.fleet.pool).await?;
    let equal = org_rows == mirror_rows;
    let differing = org_rows.iter().filter(|r| !mirror_rows.contains(r)).count()
        + mirror_rows.iter().filter(|r| !org_rows.contains(r)).count();
    let subs = crate::ledger::events::subscriptions(&ev.fleet.pool).await?;
    let (received, applied) = subs
        .iter()
        .find(|s| s.object == "Opportunity")
        .map_or((0, 0), |s| (s.received, s.applied));
    eprintln!(
        "restart: {commits} updates committed; {received} events received, {applied} applied; {differing} rows differ"
    );
    ev.stop().await?;
    org.stop().await;
    Ok(vec![
        format!(
            "after SIGKILL of the subscriber and {} workers mid-churn: mirror = org ({} columns) | {} ({} rows) | org: {} rows | equal: {} |",
            p.workers,
            COLUMNS.len(),
            if equal {
                "equal".to_string()
            } else {
                format!("{differing} rows differ")
            },
            mirror_rows.len(),
            org_rows.len(),
            verdict(equal)
        ),
        format!(
            "rows seen moving backwards across the restart | {} | | 0: {} |",
            seen.backwards.len(),
            verdict(seen.backwards.is_empty())
        ),
    ])
}

/// The org's Opportunities, `COLUMNS`, sorted (a bare Bulk query: no fleet budget).
async fn org_rows(token_url: &str) -> Result<Vec<Vec<String>>, BenchError> {
    let d = FakeOrgConfig::default();
    let session = OrgSession::login(token_url, &d.client_id, &d.client_secret, false)
        .await
        .map_err(BenchError::other)?;
    let id = session
        .bulk_query(&format!("SELECT {} FROM Opportunity", COLUMNS.join(", ")))
        .await
        .map_err(BenchError::other)?;
    let mut body = Vec::new();
    session
        .bulk_pages(&id, 100_000_000, |b| body.extend_from_slice(b), |_| {})
        .await
        .map_err(BenchError::other)?;
    let mut out = Vec::new();
    for r in csv::Reader::from_reader(&body[..]).records() {
        let r = r.map_err(BenchError::other)?;
        out.push(r.iter().map(String::from).collect::<Vec<_>>());
    }
    out.sort();
    Ok(out)
}

async fn mirror_rows(pool: &sqlx::PgPool) -> Result<Vec<Vec<String>>, BenchError> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT sfid::text, coalesce(name::text, ''), coalesce(description::text, ''), coalesce(nextstep::text, '')
         FROM salesforce.opportunity",
    )
    .fetch_all(pool)
    .await?;
    let mut out: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(a, b, c, d)| vec![a, b, c, d])
        .collect();
    out.sort();
    Ok(out)
}
