//! `orgpool enqueue KIND OBJECT|--all [--wait]`: starts runs and prints their ids; with
//! `--wait`, shows progress (chunks and rows done, rate, ETA) until they end and exits
//! non-zero if one failed.

use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::app::Services;
use crate::jobs::dispatch::start_run;
use crate::ledger::{self, Created, RunKind};
use crate::scheduler::catalog;

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnqueueKind {
    /// Copy the object into its table.
    InitialLoad,
    /// Bring the table up to date since its watermark.
    Resync,
    /// Load the object beside its table, then swap.
    Reload,
    /// Compare counts per Id range; re-load ranges that differ.
    Reconcile,
    /// Price the Opportunities jobs/quotes.toml selects and push Quotes.
    Quotes,
}

impl EnqueueKind {
    fn run_kind(self) -> RunKind {
        match self {
            EnqueueKind::InitialLoad => RunKind::InitialLoad,
            EnqueueKind::Resync => RunKind::Resync,
            EnqueueKind::Reload => RunKind::Reload,
            EnqueueKind::Reconcile => RunKind::Reconcile,
            EnqueueKind::Quotes => RunKind::QuoteGeneration,
        }
    }
}

/// Start a run.
#[derive(Debug, Args)]
pub struct EnqueueArgs {
    /// The kind of run.
    pub kind: EnqueueKind,
    /// The object (as mapped in jobs/mappings.toml; not for quotes).
    #[arg(conflicts_with = "all")]
    pub object: Option<String>,
    /// Every mapped object.
    #[arg(long)]
    pub all: bool,
    /// Wait for the runs to end, showing progress; exit non-zero if one failed.
    #[arg(long)]
    pub wait: bool,
    /// Quotes only: a SOQL condition replacing the selection in jobs/quotes.toml.
    #[arg(long = "where")]
    pub condition: Option<String>,
}

impl EnqueueArgs {
    /// Runs it.
    pub async fn run(self) -> anyhow::Result<()> {
        let s = Services::connect(false, 2, None).await?;
        if self.kind == EnqueueKind::Quotes {
            let id = enqueue_quotes(&s, self.condition.as_deref()).await?;
            if self.wait
                && let Some(err) = wait(&s, id).await?
            {
                anyhow::bail!("{err}");
            }
            return Ok(());
        }
        if self.condition.is_some() {
            anyhow::bail!("--where applies to quote runs only");
        }
        if self.object.is_none() && !self.all {
            anyhow::bail!("name an object (as mapped in jobs/mappings.toml) or pass --all");
        }
        let path = s.settings.mappings_path.clone();
        let file = catalog::read(&path)?;
        let chosen: Vec<_> = match &self.object {
            Some(o) => vec![catalog::find(&file, o, &path)?.clone()],
            None => file.mapping.clone(),
        };
        if chosen.is_empty() {
            anyhow::bail!("{path} maps no objects; add a [[mapping]] entry");
        }
        catalog::record(&s.pool, &chosen).await?;
        let kind = self.kind.run_kind();
        let mut ids = Vec::new();
        for m in &chosen {
            let created = start_run(&s.pool, &s.queues, kind, &m.object, "cli").await?;
            let note = match created {
                Created::New(_) => "started",
                Created::Existing(_) => "already running",
            };
            println!(
                "run {}: {} of {} ({note})",
                created.id(),
                kind.as_str(),
                m.object
            );
            ids.push(created.id());
        }
        if !self.wait {
            return Ok(());
        }
        let mut failed = Vec::new();
        for id in ids {
            if let Some(err) = wait(&s, id).await? {
                failed.push(err);
            }
        }
        if !failed.is_empty() {
            anyhow::bail!("{}", failed.join("\n"));
        }
        Ok(())
    }
}

/// Follows run `id` until it ends; returns its failure, if any.
pub async fn wait(s: &Services, id: i64) -> anyhow::Result<Option<String>> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} chunks, {msg} ETA {eta}")?
            .progress_chars("=> "),
    );
    let started = Instant::now();
    loop {
        let run = ledger::runs::get(&s.pool, id).await?;
        let p = ledger::runs::progress(&s.pool, id).await?;
        bar.set_prefix(format!("run {id} {} {}", run.kind, run.object));
        bar.set_length(p.total.max(0) as u64);
        bar.set_position((p.done + p.failed).max(0) as u64);
        let rate = p.rows as f64 / started.elapsed().as_secs_f64().max(0.001);
        bar.set_message(format!("{} rows, {:.0} rows/s,", p.rows, rate));
        if run.is_finished() {
            bar.finish_and_clear();
            println!(
                "run {id}: {} of {} {} in {:.1} s: {}/{} chunks, {} rows",
                run.kind,
                run.object,
                run.state,
                started.elapsed().as_secs_f64(),
                p.done,
                p.total,
                p.rows
            );
            if run.state == "succeeded" {
                return Ok(None);
            }
            let detail = run
                .error
                .unwrap_or_else(|| "see `orgpool jobs dead`".into());
            return Ok(Some(format!(
                "run {id} ({} of {}) {}: {detail}",
                run.kind, run.object, run.state
            )));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Checks jobs/quotes.toml (and `--where`) against the mirror, records the rules, and
/// starts a quote run. Bad rules or a bad selection fail here, before anything is sent.
pub async fn enqueue_quotes(s: &Services, condition: Option<&str>) -> anyhow::Result<i64> {
    let path = std::env::var("ORGPOOL_QUOTES").unwrap_or_else(|_| "jobs/quotes.toml".into());
    let text = std::fs::read_to_string(&path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read {path}: {e}; create it (see docs/quotes.md) or set ORGPOOL_QUOTES"
        )
    })?;
    let rules = crate::quotes::QuotesFile::parse(&path, &text)?;
    let cond = condition.unwrap_or(&rules.selection.condition).to_string();
    let (ids, skipped) =
        crate::jobs::quote_generation::select(&s.pool, &rules, &cond, None).await?;
    let version = crate::quotes::record_rules(&s.pool, &rules, &text).await?;
    let mut params = serde_json::json!({ "version": version });
    if let Some(c) = condition {
        params["where"] = serde_json::json!(c);
    }
    let created = crate::jobs::dispatch::start_run_with(
        &s.pool,
        &s.queues,
        RunKind::QuoteGeneration,
        "Opportunity",
        params,
        "cli",
    )
    .await?;
    let note = match created {
        Created::New(_) => "started",
        Created::Existing(_) => "already running",
    };
    println!(
        "run {}: quote_generation of {} Opportunities under rules {version} ({note}; {skipped} without line items skipped)",
        created.id(),
        ids.len()
    );
    Ok(created.id())
}
