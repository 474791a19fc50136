//! Why a benchmark stopped: every variant says what failed and, where there is one, the
//! fix. The errors of the modules a benchmark drives pass through unchanged.

use crate::fake_org;

/// An `orgpool bench ...` run failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The child fake org was started without a stdout pipe.
    #[error("no stdout")]
    NoStdout,
    /// The child fake org exited before it had seeded and listened.
    #[error("the fake org exited before it was ready")]
    OrgExited,
    /// The child fake org took too long to seed.
    #[error("the fake org did not start within 10 minutes")]
    OrgTimeout,
    /// The child fake org never said where it listens.
    #[error("the fake org printed no URL")]
    OrgNoUrl,
    /// A run the benchmark started did not succeed.
    #[error("run {id} ({kind}) ended {state}: {error:?}")]
    RunEnded {
        /// The run.
        id: i64,
        /// Its kind.
        kind: String,
        /// Its final state.
        state: String,
        /// Its error, if it recorded one.
        error: Option<String>,
    },
    /// A Postgres statement failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// A file or process operation failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The database URL could not be parsed.
    #[error(transparent)]
    Url(#[from] url::ParseError),
    /// A Redis command failed.
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    /// A blocking task panicked or was cancelled.
    #[error(transparent)]
    Join(#[from] tokio::task::JoinError),
    /// Migrating the benchmark's database failed.
    #[error(transparent)]
    Migrate(#[from] crate::migrate::MigrateError),
    /// A ledger operation failed.
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// Starting a run failed.
    #[error(transparent)]
    Job(#[from] crate::jobs::JobError),
    /// The Salesforce client failed.
    #[error(transparent)]
    Sf(#[from] crate::salesforce::SfError),
    /// The benchmark's mappings were refused.
    #[error(transparent)]
    Mapping(#[from] crate::mirror::MappingError),
    /// Creating a mirror table failed.
    #[error(transparent)]
    Mirror(#[from] crate::mirror::MirrorError),
    /// The benchmark's quote rules were refused.
    #[error(transparent)]
    Rules(#[from] crate::quotes::RulesError),
    /// Pushing Quotes failed.
    #[error(transparent)]
    Push(#[from] crate::quotes::push::PushError),
    /// The in-process fake org did not start.
    #[error(transparent)]
    FakeOrg(#[from] fake_org::StartError),
    /// The fake org refused the benchmark's query.
    #[error(transparent)]
    Query(#[from] fake_org::query::QueryError),
    /// A module that reports its errors as text failed (the mappings catalog, the Redis
    /// connection, the bare org session of the baselines); the text is its whole message.
    #[error("{0}")]
    Other(String),
}

impl BenchError {
    /// [`BenchError::Other`] with `e`'s message, its causes included (`{:#}`).
    pub fn other(e: impl std::fmt::Display) -> BenchError {
        BenchError::Other(format!("{e:#}"))
    }
}
