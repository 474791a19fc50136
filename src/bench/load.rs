//! `orgpool bench load`: an initial load through the real job system (a fake org in a
//! child process, N worker processes, the ledger, Redis), timed from the run's creation
//! to its success, beside a plain `COPY` of the same rows as CSV into an identical table
//! in the same run. Prints both rates, their ratio and the workers' peak memory.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use sqlx::postgres::PgPoolCopyExt;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::process::{Child, Command};

use super::child_org::ChildOrg;
use super::fleet::peak_mib;
use crate::fake_org::FakeOrgConfig;
use crate::jobs::dispatch::start_run;
use crate::ledger::{self, RunKind};
use crate::mirror::{MirrorTable, Resolved, ensure};
use crate::queue::{QueueConfig, Queues};
use crate::salesforce::{Client, SalesforceConfig, Scope};

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
pub async fn run(p: Params) -> anyhow::Result<()> {
    let admin_url = crate::app::database_url();
    let db = format!("orgpool_bench_load_{}", std::process::id());
    let mut admin = PgConnection::connect(&admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{db}\""
    )))
    .execute(&mut admin)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
        .execute(&mut admin)
        .await?;
    let mut url = url::Url::parse(&admin_url)?;
    url.set_path(&format!("/{db}"));
    let db_url = url.to_string();
    let result = measure(&p, &db_url).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    result
}

async fn measure(p: &Params, db_url: &str) -> anyhow::Result<()> {
    crate::migrate::run(db_url).await?;
    let records = p.records.to_string();
    eprintln!(
        "seeding {} opportunities in a child fake org ...",
        p.records
    );
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
    let d = FakeOrgConfig::default();
    let prefix = format!("orgpool-bench:{}", std::process::id());
    let dir: PathBuf = std::env::temp_dir().join(prefix.replace(':', "-"));
    std::fs::create_dir_all(&dir)?;
    let mappings = dir.join("mappings.toml");
    std::fs::write(
        &mappings,
        format!(
            "[[mapping]]\nobject = \"Opportunity\"\nfields = {FIELDS}\nchunk_size = {}\n",
            p.chunk
        ),
    )?;
    let redis = crate::redis_conn::connect(&crate::redis_conn::url_from_env()).await?;
    let queues = Queues::new(
        redis.clone(),
        QueueConfig {
            prefix: prefix.clone(),
            ..Default::default()
        },
    );
    let pool = PgPool::connect(db_url).await?;
    let file = crate::scheduler::catalog::read(&mappings.to_string_lossy())?;
    crate::scheduler::catalog::record(&pool, &file.mapping).await?;

    let mut workers: Vec<Child> = Vec::new();
    for _ in 0..p.workers {
        workers.push(
            Command::new(std::env::current_exe()?)
                .arg("worker")
                .env("DATABASE_URL", db_url)
                .env("ORGPOOL_REDIS_PREFIX", &prefix)
                .env("ORGPOOL_MAPPINGS", &mappings)
                .env("SALESFORCE_LOGIN_URL", &org.base_url)
                .env("SALESFORCE_CLIENT_ID", &d.client_id)
                .env("SALESFORCE_CLIENT_SECRET", &d.client_secret)
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .kill_on_drop(true)
                .spawn()?,
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let id = start_run(&pool, &queues, RunKind::InitialLoad, "Opportunity", "bench")
        .await?
        .id();
    let run = loop {
        let r = ledger::runs::get(&pool, id).await?;
        if r.is_finished() {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let took = started.elapsed().as_secs_f64();
    let peaks: Vec<f64> = workers
        .iter()
        .filter_map(|w| w.id())
        .map(peak_mib)
        .collect();
    if run.state != "succeeded" {
        anyhow::bail!("the load run {} ended {}: {:?}", id, run.state, run.error);
    }
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM salesforce.opportunity")
        .fetch_one(&pool)
        .await?;
    for w in &mut workers {
        let _ = w.kill().await;
    }

    // Baseline: the same rows as CSV (fetched untimed), one plain COPY into an identical
    // empty table (same columns, keys and indexes).
    let cfg = SalesforceConfig::new(&org.base_url, &d.client_id, &d.client_secret);
    let client = Client::new(cfg, redis, &prefix)?;
    let describe = client.describe("Opportunity").await?;
    let mut resolved = Resolved::new(&file.mapping[0], &describe)?;
    resolved.mapping.schema = "bench_baseline".into();
    let table = MirrorTable::new(&resolved);
    let mut conn = pool.acquire().await?;
    ensure(&mut conn, &table).await?;
    let csv = dir.join("opportunity.csv");
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
    org.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    let mut redis = queues.conn();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut redis)
        .await?;
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL").arg(keys).query_async(&mut redis).await?;
    }

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
