//! `orgpool enqueue KIND OBJECT|--all [--wait]`: starts runs and prints their ids; with
//! `--wait`, shows progress (chunks and rows done, rate, ETA) until they end and exits
//! non-zero if one failed (1), or 2 when every run ended but some succeeded with
//! records Salesforce refused ([`PartialSuccess`]).

use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::app::{SalesforceUse, Services};
use crate::jobs::enqueue::{self, Outcome};
use crate::jobs::registry::{self, Kind};
use crate::ledger;

/// A run kind by its name (`initial-load`, `resync`, `reload`, `reconcile`, `quotes`).
fn kind(name: &str) -> Result<&'static Kind, String> {
    registry::find(name).ok_or_else(|| {
        format!(
            "unknown run kind {name:?}; use one of {} (with - or _), or quotes",
            registry::names()
        )
    })
}

/// Start a run.
#[derive(Debug, Args)]
pub struct EnqueueArgs {
    /// The kind of run: initial-load, resync, reload, reconcile or quotes.
    #[arg(value_parser = kind)]
    pub kind: &'static Kind,
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
        let mut s = Services::connect(SalesforceUse::None, crate::pg_pool::COMMAND, None).await?;
        // Quote generation is the one kind that does not run per mapped object.
        let outcomes = if !self.kind.per_object {
            if self.object.is_some() || self.all {
                anyhow::bail!("a quote run takes no object or --all; narrow it with --where");
            }
            vec![Outcome::Started(
                enqueue::quotes(&s, self.condition.as_deref(), "cli").await?,
            )]
        } else {
            if self.condition.is_some() {
                anyhow::bail!("--where applies to quote runs only");
            }
            if self.object.is_none() && !self.all {
                anyhow::bail!("name an object (as mapped in jobs/mappings.toml) or pass --all");
            }
            // The mappings are checked against the org's describe before any run starts;
            // the client logs in on that first call.
            s.attach_salesforce()?;
            enqueue::mirror(&s, self.kind, self.object.as_deref(), self.all, "cli").await?
        };
        let mut started = Vec::new();
        let mut refused = Vec::new();
        for o in outcomes {
            match o {
                Outcome::Started(r) => {
                    println!("run {}: {}", r.run_id, r.note);
                    started.push(r);
                }
                Outcome::Refused(r) => {
                    println!("{}: not started: {}", r.object, r.error);
                    refused.push(format!("{}: {}", r.object, r.error));
                }
            }
        }
        let (mut failed, mut partial) = (Vec::new(), Vec::new());
        if self.wait {
            for r in &started {
                if let Some(err) = wait(&s, r.run_id).await? {
                    let state = ledger::runs::get(&s.pool, r.run_id).await?.state;
                    match state.as_str() {
                        "succeeded_with_failures" => partial.push(err),
                        _ => failed.push(err),
                    }
                }
            }
        }
        if !refused.is_empty() {
            failed.push(format!(
                "{} of {} run(s) not started: {}",
                refused.len(),
                refused.len() + started.len(),
                refused.join("; ")
            ));
        }
        if !failed.is_empty() {
            failed.extend(partial);
            anyhow::bail!("{}", failed.join("\n"));
        }
        if !partial.is_empty() {
            return Err(PartialSuccess(partial.join("\n")).into());
        }
        Ok(())
    }
}

/// Every run ended, and some succeeded with records Salesforce refused: the work that
/// could be done is done (exit status 2, not 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PartialSuccess(pub String);

/// How long a worker may stay silent and still count as alive.
const ALIVE_WITHIN: Duration = Duration::from_secs(30);

/// Follows run `id` until it ends; returns its failure (or its refused records), if any.
/// While the run plans the bar says so (its chunk count is not known yet); while no
/// worker is alive it says that, once, instead of waiting silently.
pub async fn wait(s: &Services, id: i64) -> anyhow::Result<Option<String>> {
    let bar = ProgressBar::new(0);
    let working =
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} chunks, {msg} ETA {eta}")?
            .progress_chars("=> ");
    let planning = ProgressStyle::with_template("{prefix} {spinner} planning ({elapsed})")?;
    bar.set_style(planning.clone());
    let started = Instant::now();
    let (fleet, mut paused) = (super::budget_cmd::fleet(s), None);
    let mut planned = false;
    let mut warned_no_worker = false;
    let mut last_liveness: Option<Instant> = None;
    // Off a terminal the bar draws nothing, so the planning phase gets a line of its own.
    let mut said_planning = false;
    loop {
        let run = ledger::runs::get(&s.pool, id).await?;
        // A pause that ended is reported even when the run finished in the same poll.
        if let Some(note) = super::budget_cmd::pause_note(&fleet, &mut paused).await
            && (!run.is_finished() || paused.is_none())
        {
            bar.suspend(|| println!("run {id}: {note}"));
        }
        let p = ledger::runs::progress(&s.pool, id).await?;
        bar.set_prefix(format!("run {id} {} {}", run.kind, run.object));
        if run.state == "planning" && !said_planning && bar.is_hidden() {
            said_planning = true;
            println!("run {id}: planning");
        }
        if run.state != "planning" && !planned {
            planned = true;
            bar.set_style(working.clone());
            if bar.is_hidden() {
                println!("run {id}: planned, {} chunk(s)", p.total);
            }
        }
        if planned {
            bar.set_length(p.total.max(0) as u64);
            bar.set_position((p.done + p.failed).max(0) as u64);
            let rate = p.rows as f64 / started.elapsed().as_secs_f64().max(0.001);
            bar.set_message(format!("{} rows, {:.0} rows/s,", p.rows, rate));
        } else {
            bar.tick();
        }
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
        if last_liveness.is_none_or(|t| t.elapsed() >= Duration::from_secs(5)) {
            last_liveness = Some(Instant::now());
            let alive = s
                .queues
                .live_workers(&registry::queues(), ALIVE_WITHIN)
                .await?
                .len();
            if alive == 0 && !warned_no_worker {
                warned_no_worker = true;
                bar.suspend(|| {
                    eprintln!(
                        "orgpool: no worker is alive (none reported in the last {} s); run {id} waits in the queue until one starts: run `orgpool worker`",
                        ALIVE_WITHIN.as_secs()
                    )
                });
            } else if alive > 0 && warned_no_worker {
                warned_no_worker = false;
                bar.suspend(|| eprintln!("orgpool: {alive} worker(s) alive; run {id} goes on"));
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
