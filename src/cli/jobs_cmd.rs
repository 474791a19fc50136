//! `orgpool jobs dead|retry|cancel|failures`: failed chunks with their errors (and
//! poison payloads moved aside), putting failed chunks back on the queue, stopping a
//! run, the records Salesforce refused (Quote pushes and the app's write-back changes),
//! and retrying just those (`retry --records`; write-back: `orgpool writes retry`).

use clap::{Args, Subcommand};

use crate::app::{SalesforceUse, Services};
use crate::jobs::push::push_run;
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
    /// List records Salesforce refused: Quote pushes (per Opportunity) that no later
    /// push saved, and the app's changes to read_write tables that are FAILED.
    Failures {
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Put failed chunks back on the queue with fresh attempts; their runs re-open.
    /// With --records: price again just the Opportunities whose records Salesforce
    /// refused, in quote runs that succeeded with failures (after fixing the cause).
    Retry {
        /// Only this chunk (default: every failed chunk).
        #[arg(long, conflicts_with_all = ["run", "records"])]
        chunk: Option<i64>,
        /// Only the failed chunks (or with --records, the refused records) of this run.
        #[arg(long)]
        run: Option<i64>,
        /// Retry the refused records (`orgpool jobs failures`) instead of failed chunks:
        /// new chunks of their runs for those records only; the runs re-open.
        #[arg(long)]
        records: bool,
    },
    /// Stop a planning or running run: its open chunks are cancelled (a chunk in
    /// progress is rolled back when it tries to commit) and it never finalizes.
    Cancel {
        /// The run id (`orgpool status` lists runs in progress).
        run: i64,
        /// Why, kept on the run.
        #[arg(long, default_value = "cancelled by orgpool jobs cancel")]
        reason: String,
    },
}

impl JobsArgs {
    /// Runs it.
    pub async fn run(self) -> anyhow::Result<()> {
        let s = Services::connect(SalesforceUse::None, crate::pg_pool::COMMAND, None).await?;
        match self.command {
            JobsCommand::Dead {
                limit,
                json,
                clear_poison,
            } => {
                let chunks = ledger::chunks::failed(&s.pool, limit).await?;
                let mut poison = Vec::new();
                for kind in crate::jobs::registry::queues() {
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
                            "report": shortened(r),
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
                    println!("poison payload {id} in queue {kind}: {}", shortened(report));
                }
                if !chunks.is_empty() {
                    println!("retry them with `orgpool jobs retry` (or --chunk ID)");
                }
            }
            JobsCommand::Failures { limit } => {
                let rows = ledger::pushes::open_failures(&s.pool, limit).await?;
                let mut writes = Vec::new();
                for schema in crate::scheduler::write_back::read_write_schemas(&s.pool).await? {
                    writes
                        .extend(crate::status::write_back::failed(&s.pool, &schema, limit).await?);
                }
                if rows.is_empty() && writes.is_empty() {
                    println!("no refused records");
                }
                for f in rows {
                    println!(
                        "Opportunity {} {} {}: {}: {} ({} attempt(s))",
                        f.opportunity_sfid.unwrap_or_default(),
                        f.object,
                        f.key,
                        f.code,
                        f.message,
                        f.attempts
                    );
                }
                for w in &writes {
                    println!(
                        "write-back {}.{} log id {} {} record {} {}: {}",
                        w.schema,
                        w.table_name,
                        w.log_id,
                        w.action.as_deref().unwrap_or("?"),
                        w.record_id.map_or("?".into(), |r| r.to_string()),
                        w.sfid.as_deref().unwrap_or("(no sfid)"),
                        w.sf_message.as_deref().unwrap_or("")
                    );
                }
                if !writes.is_empty() {
                    println!(
                        "send refused write-back changes again with `orgpool writes retry` (--table T, --id N) once fixed"
                    );
                }
            }
            JobsCommand::Cancel { run, reason } => {
                let n = ledger::lifecycle::cancel(&s.pool, run, &reason).await?;
                println!("run {run} cancelled; {n} open chunk(s) cancelled");
            }
            JobsCommand::Retry {
                run, records: true, ..
            } => {
                let reopened = crate::jobs::quote_generation::retry_records(&s.pool, run).await?;
                if reopened.is_empty() {
                    println!("no refused records to retry (`orgpool jobs failures` lists them)");
                    return Ok(());
                }
                for (run, chunks) in reopened {
                    push_run(&s.pool, &s.queues, run).await?;
                    println!(
                        "run {run} re-opened: {} chunk(s) for its refused records: {chunks:?}",
                        chunks.len()
                    );
                }
            }
            JobsCommand::Retry { chunk, run, .. } => {
                let ids = ledger::lifecycle::retry(&s.pool, chunk, run).await?;
                if ids.is_empty() {
                    println!("no failed chunks to retry");
                    return Ok(());
                }
                let runs: std::collections::BTreeSet<i64> = {
                    let mut set = std::collections::BTreeSet::new();
                    for id in &ids {
                        if let Some(run) = ledger::chunks::run_of(&s.pool, *id).await? {
                            set.insert(run);
                        }
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

/// How much of a poison payload `jobs dead` shows.
const PAYLOAD_PREFIX: usize = 200;

/// A poison report with its payload cut to a prefix and its size stated: a payload can
/// be megabytes, and its first bytes are enough to recognise it.
fn shortened(report: &str) -> serde_json::Value {
    let mut doc = serde_json::from_str::<serde_json::Value>(report)
        .unwrap_or_else(|_| serde_json::json!({ "payload": report }));
    if let Some(serde_json::Value::String(p)) = doc.get("payload").cloned()
        && p.len() > PAYLOAD_PREFIX
    {
        let mut end = PAYLOAD_PREFIX;
        while !p.is_char_boundary(end) {
            end -= 1;
        }
        doc["payload"] = serde_json::json!(format!("{}… ({} bytes in all)", &p[..end], p.len()));
        doc["payload_bytes"] = serde_json::json!(p.len());
    }
    doc
}
