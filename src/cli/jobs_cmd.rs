//! `orgpool jobs dead|retry`: failed chunks with their errors (and poison payloads moved
//! aside), and putting failed chunks back on the queue.

use clap::{Args, Subcommand};

use crate::app::Services;
use crate::jobs::dispatch::push_run;
use crate::ledger;

/// Inspect and retry failed work.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: JobsCommand,
}

/// `jobs` subcommands.
#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List failed chunks with their errors, and poison payloads.
    Dead {
        /// At most this many chunks.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Forget the poison payloads after listing them.
        #[arg(long)]
        clear_poison: bool,
    },
    /// List records Salesforce refused (per Opportunity) that no later push saved.
    Failures {
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Put failed chunks back on the queue with fresh attempts.
    Retry {
        /// Only this chunk (default: every failed chunk).
        #[arg(long)]
        chunk: Option<i64>,
    },
}

impl JobsArgs {
    /// Runs it.
    pub async fn run(self) -> anyhow::Result<()> {
        let s = Services::connect(false, 2, None).await?;
        match self.command {
            JobsCommand::Dead {
                limit,
                json,
                clear_poison,
            } => {
                let chunks = ledger::chunks::failed(&s.pool, limit).await?;
                let mut poison = Vec::new();
                for kind in crate::jobs::KINDS {
                    for (id, report) in s.queues.poison(kind).await? {
                        poison.push((kind, id, report));
                    }
                    if clear_poison {
                        s.queues.clear_poison(kind).await?;
                    }
                }
                if json {
                    let doc = serde_json::json!({
                        "chunks": chunks.iter().map(|c| serde_json::json!({
                            "chunk_id": c.id, "run_id": c.run_id, "kind": c.kind, "seq": c.seq,
                            "attempts": c.attempts, "error_class": c.error_class, "error": c.error,
                        })).collect::<Vec<_>>(),
                        "poison": poison.iter().map(|(k, id, r)| serde_json::json!({
                            "queue": k, "task_id": id,
                            "report": serde_json::from_str::<serde_json::Value>(r).unwrap_or_default(),
                        })).collect::<Vec<_>>(),
                    });
                    println!("{}", serde_json::to_string_pretty(&doc)?);
                    return Ok(());
                }
                if chunks.is_empty() && poison.is_empty() {
                    println!("no failed chunks and no poison payloads");
                }
                for c in &chunks {
                    println!(
                        "chunk {} (run {}, {} #{}, {} attempts) {}: {}",
                        c.id,
                        c.run_id,
                        c.kind,
                        c.seq,
                        c.attempts,
                        c.error_class.as_deref().unwrap_or("?"),
                        c.error.as_deref().unwrap_or("")
                    );
                }
                for (kind, id, report) in &poison {
                    println!("poison payload {id} in queue {kind}: {report}");
                }
                if !chunks.is_empty() {
                    println!("retry them with `orgpool jobs retry` (or --chunk ID)");
                }
            }
            JobsCommand::Failures { limit } => {
                let rows: Vec<(Option<String>, String, String, String, String, i32)> = sqlx::query_as(
                    "SELECT opportunity_sfid, object, key, code, message, attempts FROM orgpool.record_failures
                     WHERE NOT resolved ORDER BY at DESC LIMIT $1",
                )
                .bind(limit)
                .fetch_all(&s.pool)
                .await?;
                if rows.is_empty() {
                    println!("no refused records");
                }
                for (opp, object, key, code, message, attempts) in rows {
                    println!(
                        "Opportunity {} {object} {key}: {code}: {message} ({attempts} attempt(s))",
                        opp.unwrap_or_default()
                    );
                }
            }
            JobsCommand::Retry { chunk } => {
                let ids = ledger::chunks::retry_failed(&s.pool, chunk).await?;
                if ids.is_empty() {
                    println!("no failed chunks to retry");
                    return Ok(());
                }
                let runs: std::collections::BTreeSet<i64> = {
                    let mut set = std::collections::BTreeSet::new();
                    for id in &ids {
                        let (run,): (i64,) =
                            sqlx::query_as("SELECT run_id FROM orgpool.chunks WHERE id = $1")
                                .bind(id)
                                .fetch_one(&s.pool)
                                .await?;
                        set.insert(run);
                    }
                    set
                };
                for run in runs {
                    push_run(&s.pool, &s.queues, run).await?;
                }
                println!("{} chunk(s) queued again: {:?}", ids.len(), ids);
            }
        }
        Ok(())
    }
}
