//! `orgpool bench ...`: benchmarks that print results beside a same-run baseline.

use clap::{Args, Subcommand};

use crate::bench;

/// Which benchmark.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The benchmark.
    #[command(subcommand)]
    pub which: Bench,
}

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub enum Bench {
    /// Seeding speed and Bulk query streaming rate of the fake org.
    FakeOrg {
        /// Opportunities to seed [1000000].
        #[arg(long, default_value_t = 1_000_000)]
        opportunities: u64,
        /// Line items per opportunity [3].
        #[arg(long, default_value_t = 3)]
        lines: u64,
        /// Rows per results page (maxRecords) [500000].
        #[arg(long, default_value_t = 500_000)]
        page: u64,
    },
    /// An initial load through the job system beside a plain COPY of the same rows.
    Load {
        /// Opportunities to seed and load [1000000].
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
        /// Worker processes [2].
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// Rows per chunk [50000].
        #[arg(long, default_value_t = 50_000)]
        chunk: u64,
    },
    /// A quote run end to end beside the same upserts sent straight through one client.
    Quotes {
        /// Opportunities to seed and quote [5000].
        #[arg(long, default_value_t = 5_000)]
        opportunities: u64,
        /// Worker processes [2].
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// Opportunities per chunk [2000].
        #[arg(long, default_value_t = 2_000)]
        chunk: u64,
    },
    /// Bulk query streaming rate and peak memory of the Salesforce client.
    SfQuery {
        /// Opportunities to seed and stream [1000000].
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
        /// Rows per results page (maxRecords) [50000].
        #[arg(long, default_value_t = 50_000)]
        page: u64,
        /// Skip the bare-HTTP baseline [off].
        #[arg(long)]
        skip_baseline: bool,
        /// Print one JSON object instead of a table [off].
        #[arg(long)]
        json: bool,
        /// Ask for gzip-compressed pages, as against a remote org [off].
        #[arg(long)]
        gzip: bool,
    },
    /// Write-back latency, throughput and outage backlog through the job system, each
    /// beside the same writes sent straight through one client. No mode flag: all three.
    WriteBack {
        /// Latency: single-row inserts at --rate a second, commit to visible in the org [off].
        #[arg(long)]
        latency: bool,
        /// Throughput: one UPDATE of --rows rows until every change is in the org [off].
        #[arg(long)]
        throughput: bool,
        /// Backlog: --changes inserts during an outage of --outage-secs, then the drain [off].
        #[arg(long)]
        backlog: bool,
        /// Latency: seconds of writes [30].
        #[arg(long, default_value_t = 30)]
        duration_secs: u64,
        /// Latency: single-row writes a second [10].
        #[arg(long, default_value_t = 10)]
        rate: u64,
        /// Throughput: rows (seeded Accounts) the UPDATE changes [100000].
        #[arg(long, default_value_t = 100_000)]
        rows: u64,
        /// Backlog: inserts made during the outage [50000].
        #[arg(long, default_value_t = 50_000)]
        changes: u64,
        /// Backlog: seconds the org is down [60].
        #[arg(long, default_value_t = 60)]
        outage_secs: u64,
        /// Worker processes [2].
        #[arg(long, default_value_t = 2)]
        workers: usize,
    },
    /// Change Data Capture: commit-to-mirror latency under churn beside the fastest
    /// poll (same changes, same run), and a SIGKILL of the subscriber and every worker
    /// mid-churn. No mode flag: both.
    Events {
        /// Latency: events beside polling over the same churn [off].
        #[arg(long)]
        latency: bool,
        /// Restart: SIGKILL mid-churn, then the mirror must equal the org [off].
        #[arg(long)]
        restart: bool,
        /// Changes a second to Opportunities (90% updates, 5% inserts, 5% deletes) [100].
        #[arg(long, default_value_t = 100)]
        rate: u64,
        /// Latency: seconds of churn [60].
        #[arg(long, default_value_t = 60)]
        duration_secs: u64,
        /// Latency: the polling fleet's interval [2m, the fastest without allow_fast_poll].
        #[arg(long, default_value = "2m")]
        poll_interval: String,
        /// Worker processes of the events fleet [2].
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// Seeded Opportunities [5000].
        #[arg(long, default_value_t = 5_000)]
        opportunities: u64,
    },
}

impl BenchArgs {
    /// Runs it.
    pub async fn run(self) -> anyhow::Result<()> {
        match self.which {
            Bench::FakeOrg {
                opportunities,
                lines,
                page,
            } => {
                bench::fake_org::run(bench::fake_org::Params {
                    opportunities,
                    lines,
                    page,
                })
                .await?
            }
            Bench::Load {
                records,
                workers,
                chunk,
            } => {
                bench::load::run(bench::load::Params {
                    records,
                    workers,
                    chunk,
                })
                .await?
            }
            Bench::Quotes {
                opportunities,
                workers,
                chunk,
            } => {
                bench::quotes::run(bench::quotes::Params {
                    opportunities,
                    workers,
                    chunk,
                })
                .await?
            }
            Bench::SfQuery {
                records,
                page,
                skip_baseline,
                json,
                gzip,
            } => {
                bench::sf_query::run(bench::sf_query::Params {
                    records,
                    page,
                    skip_baseline,
                    json,
                    gzip,
                })
                .await?
            }
            Bench::WriteBack {
                latency,
                throughput,
                backlog,
                duration_secs,
                rate,
                rows,
                changes,
                outage_secs,
                workers,
            } => {
                bench::write_back::run(bench::write_back::Params {
                    latency,
                    throughput,
                    backlog,
                    duration_secs,
                    rate,
                    rows,
                    changes,
                    outage_secs,
                    workers,
                })
                .await?
            }
            Bench::Events {
                latency,
                restart,
                rate,
                duration_secs,
                poll_interval,
                workers,
                opportunities,
            } => {
                bench::events::run(bench::events::Params {
                    latency,
                    restart,
                    rate,
                    duration_secs,
                    poll_interval,
                    workers,
                    opportunities,
                })
                .await?
            }
        }
        Ok(())
    }
}
