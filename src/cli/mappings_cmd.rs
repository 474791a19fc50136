//! `orgpool mappings import FILE.json`: writes jobs/mappings.toml from a Heroku Connect
//! mapping export.

use clap::{Args, Subcommand};

use crate::mirror::hc_import;

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
}

impl MappingsArgs {
    /// Runs it.
    pub async fn run(self) -> anyhow::Result<()> {
        let MappingsCommand::Import {
            file,
            output,
            force,
        } = self.command;
        let text = std::fs::read_to_string(&file)
            .map_err(|e| anyhow::anyhow!("cannot read {file}: {e}"))?;
        let got = hc_import::import(&text)?;
        if std::path::Path::new(&output).exists() && !force {
            anyhow::bail!(
                "{output} exists; pass --force to overwrite it, or --output to write elsewhere"
            );
        }
        std::fs::write(&output, &got.toml)
            .map_err(|e| anyhow::anyhow!("cannot write {output}: {e}"))?;
        for w in &got.warnings {
            eprintln!("warning: {w}");
        }
        println!("wrote {} mapping(s) to {output}", got.count);
        Ok(())
    }
}
