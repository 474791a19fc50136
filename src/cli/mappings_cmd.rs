//! `orgpool mappings import FILE.json`: writes jobs/mappings.toml from a Heroku Connect
//! mapping export. `orgpool mappings check [--file F]`: the scheduler's checks of the
//! file against the org's describe, as a command that starts nothing (exit 0 when
//! good, 1 with every problem listed when not). `orgpool mappings pause|resume OBJECT`:
//! the scheduler starts no run for a paused mapping and it gets no change-event
//! stream, until resumed.

use clap::{Args, Subcommand};

use crate::mirror::hc_import;
use crate::scheduler::{SchedulerError, catalog};

/// Work with the mappings file.
#[derive(Debug, Args)]
pub struct MappingsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: MappingsCommand,
}

/// `mappings` subcommands.
#[derive(Debug, Subcommand)]
pub enum MappingsCommand {
    /// Convert a Heroku Connect mapping export (JSON) into a mappings file.
    Import {
        /// The export (`heroku connect:export` writes it).
        file: String,
        /// Where to write.
        #[arg(long, default_value = "jobs/mappings.toml")]
        output: String,
        /// Overwrite the output if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Check a mappings file against the org (objects, fields, indexes, upsert_field)
    /// without starting anything; exits 1 listing every problem.
    Check {
        /// The file (default: `ORGPOOL_MAPPINGS`, else jobs/mappings.toml).
        #[arg(long)]
        file: Option<String>,
    },
    /// Pause a mapping: the scheduler starts no run for it (loads, resyncs, reconciles)
    /// and its change-event stream stops. Runs under way go on (`orgpool jobs cancel`).
    Pause {
        /// The object, as mapped.
        object: String,
    },
    /// Resume a paused mapping: its schedule and change events go on where they stood.
    Resume {
        /// The object, as mapped.
        object: String,
    },
}

impl MappingsArgs {
    /// Runs it.
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            MappingsCommand::Import {
                file,
                output,
                force,
            } => import(&file, &output, force),
            MappingsCommand::Check { file } => check(file).await,
            MappingsCommand::Pause { object } => pause(&object, true).await,
            MappingsCommand::Resume { object } => pause(&object, false).await,
        }
    }
}

async fn pause(object: &str, paused: bool) -> anyhow::Result<()> {
    let s = crate::app::Services::connect(crate::app::SalesforceUse::None, 2, None).await?;
    let (name, changed) = crate::ledger::mappings::set_paused(&s.pool, object, paused).await?;
    let word = if paused { "paused" } else { "resumed" };
    match (changed, paused) {
        (true, true) => println!(
            "{name} paused: the scheduler starts no run for it and its change events stop; `orgpool mappings resume {name}` undoes it"
        ),
        (true, false) => println!("{name} resumed: its schedule and change events go on"),
        (false, _) => println!("{name} was already {word}; nothing changed"),
    }
    Ok(())
}

fn import(file: &str, output: &str, force: bool) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("cannot read {file}: {e}"))?;
    let got = hc_import::import(&text)?;
    if std::path::Path::new(output).exists() && !force {
        anyhow::bail!(
            "{output} exists; pass --force to overwrite it, or --output to write elsewhere"
        );
    }
    std::fs::write(output, &got.toml).map_err(|e| anyhow::anyhow!("cannot write {output}: {e}"))?;
    for w in &got.warnings {
        eprintln!("warning: {w}");
    }
    println!("wrote {} mapping(s) to {output}", got.count);
    Ok(())
}

async fn check(file: Option<String>) -> anyhow::Result<()> {
    let path = match file {
        Some(f) => f,
        None => crate::jobs::JobSettings::from_env()?.mappings_path,
    };
    let mappings = catalog::read(&path)?;
    // Only Salesforce (and Redis, where the client counts its calls): no database, no
    // queue, no run.
    let cfg = crate::salesforce::SalesforceConfig::from_env()?;
    let prefix = crate::queue::QueueConfig::from_env()?.prefix;
    let redis = crate::redis_conn::connect(&crate::redis_conn::url_from_env()).await?;
    let client = crate::salesforce::Client::new(cfg, redis, &prefix)?;
    client.login().await?;
    match catalog::validate(&client, &mappings).await {
        Ok(resolved) => {
            for r in &resolved {
                println!(
                    "ok: {} ({} columns, {:?} column types)",
                    r.mapping.object,
                    r.columns.len(),
                    r.mapping.column_types()
                );
            }
            println!("{path}: {} mapping(s) match the org", resolved.len());
            Ok(())
        }
        Err(SchedulerError::Mismatch(problems)) => {
            for p in &problems {
                eprintln!("problem: {p}");
            }
            anyhow::bail!(
                "{path}: {} problem(s); fix them and check again",
                problems.len()
            )
        }
        Err(e) => Err(e.into()),
    }
}
