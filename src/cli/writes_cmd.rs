//! `orgpool writes`: the app's changes on their way to Salesforce. `status` shows each
//! read_write table's log rows by state and the oldest waiting change's age; `retry`
//! puts FAILED rows (live or archived) back to NEW once the data is fixed, where Heroku
//! Connect needs hand-written SQL, and the next write-back run sends them.

use clap::{Args, Subcommand};

use crate::app::{SalesforceUse, Services};
use crate::mirror::capture::log;
use crate::scheduler::write_back::read_write_schemas;

/// Inspect or retry the app's changes on their way to Salesforce.
#[derive(Debug, Args)]
pub struct WritesArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: WritesCommand,
}

/// `writes` subcommands.
#[derive(Debug, Subcommand)]
pub enum WritesCommand {
    /// Log rows of every read_write table by state, and the oldest waiting change.
    Status,
    /// Send FAILED changes again (after fixing the data or the org).
    Retry {
        /// Only this table (`contact`, as in `_trigger_log.table_name`).
        #[arg(long)]
        table: Option<String>,
        /// Only this `_trigger_log` row.
        #[arg(long)]
        id: Option<i32>,
        /// Only this mirror schema (default: every schema with a read_write mapping).
        #[arg(long)]
        schema: Option<String>,
    },
}

impl WritesArgs {
    /// Runs it.
    pub async fn run(self) -> anyhow::Result<()> {
        let s = Services::connect(SalesforceUse::None, crate::pg_pool::COMMAND, None).await?;
        let schemas = read_write_schemas(&s.pool).await?;
        if schemas.is_empty() {
            println!(
                "no read_write mappings: set access = \"read_write\" on a mapping (docs/write-back.md) to have the app's changes sent"
            );
            return Ok(());
        }
        match self.command {
            WritesCommand::Status => {
                for schema in &schemas {
                    let (counts, age) = log::backlog(&s.pool, schema).await?;
                    match age {
                        Some(a) => println!("{schema}: oldest waiting change {a:.1}s old"),
                        None => println!("{schema}: nothing waiting"),
                    }
                    for (table, state, n) in counts {
                        println!("  {table:<32} {state:<9} {n}");
                    }
                }
            }
            WritesCommand::Retry { table, id, schema } => {
                if let Some(wanted) = &schema
                    && !schemas.contains(wanted)
                {
                    anyhow::bail!(
                        "schema {wanted:?} has no read_write mapping; use one of {}",
                        schemas.join(", ")
                    );
                }
                let mut total = 0;
                for sc in schemas
                    .iter()
                    .filter(|sc| schema.as_ref().is_none_or(|w| w == *sc))
                {
                    total += log::requeue(&s.pool, sc, table.as_deref(), id).await?;
                }
                println!(
                    "{total} failed change(s) set back to NEW; the scheduler's write-back sends them now"
                );
                if total == 0 {
                    println!(
                        "(nothing matched: `orgpool writes status` lists FAILED rows by table)"
                    );
                }
            }
        }
        Ok(())
    }
}
