//! The `orgpool` binary: parses the command line and dispatches.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // One TLS provider for every library (Redis over rediss://, Postgres, Salesforce).
    let _ = rustls::crypto::ring::default_provider().install_default();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colour only on a terminal: a pipe (orgpool dev, Heroku, a log shipper) gets
        // plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match orgpool::cli::Cli::parse().run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // Runs that ended with records refused: done what could be done, not failed.
        Err(e) if e.downcast_ref::<orgpool::cli::PartialSuccess>().is_some() => {
            eprintln!("orgpool: {e:#}");
            std::process::ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("orgpool: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
