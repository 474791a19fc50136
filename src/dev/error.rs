//! Why `orgpool dev` (or its demo) stopped: every variant says what failed and, where
//! there is one, the fix.

/// An `orgpool dev` or `orgpool demo` session failed.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// The Procfile could not be read.
    #[error("cannot read {path}; run from the project folder or pass --procfile")]
    ReadProcfile {
        /// The Procfile's path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A Procfile line is not `name: command`.
    #[error("{path} line {line}: {text:?} is not `name: command`")]
    NotNameCommand {
        /// The Procfile's path.
        path: String,
        /// The line number, from 1.
        line: usize,
        /// The line.
        text: String,
    },
    /// A process type's name has characters Heroku refuses.
    #[error("{path} line {line}: process type {name:?} must be letters, digits, _ or -")]
    BadTypeName {
        /// The Procfile's path.
        path: String,
        /// The line number, from 1.
        line: usize,
        /// The name.
        name: String,
    },
    /// A process type with an empty command.
    #[error("{path} line {line}: {name} has no command")]
    NoCommand {
        /// The Procfile's path.
        path: String,
        /// The line number, from 1.
        line: usize,
        /// The process type.
        name: String,
    },
    /// A process type defined on two lines.
    #[error("{path} line {line}: process type {name} is defined twice; keep one")]
    DefinedTwice {
        /// The Procfile's path.
        path: String,
        /// The line number of the second definition, from 1.
        line: usize,
        /// The process type.
        name: String,
    },
    /// A Procfile with no process types.
    #[error("{0} defines no process types")]
    NoTypes(String),
    /// A `--scale` entry without `=`.
    #[error("--scale {0:?} is not TYPE=COUNT; write for example worker=3")]
    ScaleSyntax(String),
    /// A `--scale` count that is not 0 to 64.
    #[error("--scale {0}: the count must be a whole number from 0 to 64")]
    ScaleCount(String),
    /// A `--scale` entry naming a type the Procfile lacks.
    #[error("--scale {entry}: the Procfile has no process type {name} (it has {known})")]
    ScaleUnknownType {
        /// The entry.
        entry: String,
        /// The type it names.
        name: String,
        /// The Procfile's long-running types, comma-separated.
        known: String,
    },
    /// A child process could not be started.
    #[error("cannot start {name} ({command})")]
    Spawn {
        /// The process (`worker.2`).
        name: String,
        /// Its command.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// The release process exited unsuccessfully.
    #[error(
        "the release process ({command}) failed with {status}; fix it before starting the others"
    )]
    ReleaseFailed {
        /// Its command.
        command: String,
        /// How it exited.
        status: std::process::ExitStatus,
    },
    /// A child process exited while the session ran.
    #[error("{name} exited ({status}); stopping the others. Its last lines above say why")]
    ChildExited {
        /// The process (`worker.2`).
        name: String,
        /// How it exited, or `unknown status`.
        status: String,
    },
    /// The children's exits can no longer be followed.
    #[error("lost track of the child processes")]
    LostChildren,
    /// This binary's path could not be found (to put it first on the children's `PATH`).
    #[error("cannot find the path of this orgpool binary")]
    CurrentExe(#[source] std::io::Error),
    /// This binary's path has no folder.
    #[error("the binary has no folder")]
    NoBinaryFolder,
    /// Postgres could not be reached.
    #[error("cannot connect to Postgres at {url}; start it or set DATABASE_URL")]
    ConnectPostgres {
        /// The URL with any password removed.
        url: String,
        /// The driver error.
        source: sqlx::Error,
    },
    /// The web process did not become healthy.
    #[error("the web process did not answer {url} within 60 s; see its lines above")]
    WebNotHealthy {
        /// The health URL.
        url: String,
    },
    /// The web process refused to start runs.
    #[error("POST /api/runs answered {status}: {error}")]
    EnqueueRefused {
        /// The HTTP status.
        status: reqwest::StatusCode,
        /// The answer's `error` field, as JSON.
        error: String,
    },
    /// The demo's own files (fake org schema, mappings copy) could not be written.
    #[error("cannot write the demo's {path}: {source}; check the temp folder (TMPDIR)")]
    DemoFile {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The mappings file could not be copied with Account read_write.
    #[error(
        "cannot make Account read_write for the demo from {path}: {error}; fix the file or set ORGPOOL_MAPPINGS to another"
    )]
    DemoMappings {
        /// The mappings file.
        path: String,
        /// What is wrong with it.
        error: String,
    },
    /// Salesforce refused one of the demo's app changes.
    #[error(
        "the fake org refused an app change to salesforce.account: {message}; see `orgpool writes status` in database orgpool_demo"
    )]
    DemoWriteRefused {
        /// Salesforce's message (`_trigger_log.sf_message`).
        message: String,
    },
    /// The demo's app changes were not written back in time.
    #[error(
        "{waiting} app change(s) to salesforce.account were still waiting after {secs} s; is the scheduler running (it starts write-back runs)? See its and the workers' lines above"
    )]
    DemoWritesWaiting {
        /// How long the demo waited.
        secs: u64,
        /// Log rows still NEW or PENDING.
        waiting: i64,
    },
    /// A run of the demo did not succeed.
    #[error("a run failed; see the messages above and `orgpool jobs dead`")]
    RunFailed,
    /// A Postgres statement failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// The database URL could not be parsed.
    #[error(transparent)]
    Url(#[from] url::ParseError),
    /// An enqueue request did not fit [`crate::jobs::enqueue::Request`].
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A request to the web process failed.
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    /// Starting runs directly failed.
    #[error(transparent)]
    Enqueue(#[from] crate::jobs::enqueue::EnqueueError),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// A setting is malformed or unknown (the message names it and the fix).
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    /// The in-process fake org did not start.
    #[cfg(feature = "fake-org")]
    #[error(transparent)]
    FakeOrg(#[from] crate::fake_org::StartError),
    /// A module that reports its errors as text failed (the mappings catalog, the Redis
    /// connection, following a run, a build without the fake org); the text is its whole
    /// message.
    #[error("{0}")]
    Other(String),
}

impl DevError {
    /// [`DevError::Other`] with `e`'s message, its causes included (`{:#}`).
    pub fn other(e: impl std::fmt::Display) -> DevError {
        DevError::Other(format!("{e:#}"))
    }
}
