//! `orgpool budget clear`: forgets the fleet's stored API budget state (its window, the
//! org's reported usage and limit) when an operator knows it is wrong, and wakes the
//! chunks waiting on the budget at once instead of at their next re-check. Also the
//! budget line `enqueue --wait` prints while a run waits on the budget.

use clap::{Args, Subcommand};

use crate::app::{SalesforceUse, Services};
use crate::jobs::push::push_chunk;
use crate::ledger;
use crate::salesforce::{Fleet, SalesforceConfig};

/// Inspect or reset the fleet's API budget.
#[derive(Debug, Args)]
pub struct BudgetArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: BudgetCommand,
}

/// `budget` subcommands.
#[derive(Debug, Subcommand)]
pub enum BudgetCommand {
    /// Delete the stored budget state (the fleet's count and the org's reported usage
    /// and limit; the next response reports them again) and wake the chunks waiting on
    /// the budget now.
    Clear,
}

impl BudgetArgs {
    /// Runs it.
    pub async fn run(self) -> anyhow::Result<()> {
        let s = Services::connect(SalesforceUse::None, crate::pg_pool::COMMAND, None).await?;
        match self.command {
            BudgetCommand::Clear => {
                fleet(&s).clear_budget().await?;
                let waiting = ledger::chunks::wake_waiting(&s.pool, "limit").await?;
                // A worker may claim a chunk before its new task id is recorded (the
                // push's compare-and-set then loses); it was woken all the same.
                for (id, kind, task) in &waiting {
                    push_chunk(&s.pool, &s.queues, kind, *id, task.as_deref(), None).await?;
                }
                println!(
                    "cleared the fleet's API budget state; {} chunk(s) waiting on the budget woken",
                    waiting.len()
                );
            }
        }
        Ok(())
    }
}

/// The fleet's budget state in Redis, with this environment's budget settings (the
/// defaults when Salesforce is not configured here).
pub fn fleet(s: &Services) -> Fleet {
    let cfg = SalesforceConfig::from_env()
        .map(|c| c.budget)
        .unwrap_or_default();
    Fleet::new(s.queues.conn(), &s.queues.config().prefix, cfg)
}

/// The line to print when the budget pause starts, moves to another minute or ends
/// (`None`: nothing new); `last` holds the pause last reported, by reason and minute.
pub async fn pause_note(fleet: &Fleet, last: &mut Option<String>) -> Option<String> {
    let now = fleet.pause().await.ok()?;
    let key = now.as_ref().map(|p| {
        let until = p.until.map(|t| t.format("%Y-%m-%d %H:%M").to_string());
        format!("{} {until:?}", p.reason)
    });
    if key == *last {
        return None;
    }
    let was_paused = last.is_some();
    *last = key;
    match now {
        Some(p) => Some(p.describe(chrono::Utc::now())),
        None if was_paused => Some("the API budget has room again; resuming".into()),
        None => None,
    }
}
