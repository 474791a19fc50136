//! The catalogue: every environment variable orgpool reads, with its default as text,
//! its meaning and its section. Reading a name that is not here is a bug (the reader
//! asserts it), and a variable under `ORGPOOL_` or `SALESFORCE_` that is not here is
//! refused at start. `docs/settings.md` is generated from this list.

/// Which part of orgpool reads a setting (one table each in `docs/settings.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// Postgres and Redis, for every process.
    Connections,
    /// `JobSettings`: job behaviour and the job catalogue files.
    Jobs,
    /// `WriteBackSettings`: sending the app's changes to Salesforce.
    WriteBack,
    /// `QueueConfig`: the Redis queues.
    Queue,
    /// The scheduler and worker processes' own flags.
    Processes,
    /// `RetentionSettings`: what the scheduler prunes from the ledger and Redis.
    Retention,
    /// `WebConfig`: the web process.
    Web,
    /// `EventSettings`: Change Data Capture over the Pub/Sub API.
    Events,
    /// `SalesforceConfig`: login and client behaviour.
    Salesforce,
    /// `BudgetConfig`: the fleet's share of the org's API allowance.
    ApiBudget,
    /// Read by `scripts/`, benchmarks and tests; accepted and ignored by the processes.
    Development,
}

impl Section {
    /// Every section, in the order the docs show them.
    pub const ALL: [Section; 11] = [
        Section::Connections,
        Section::Jobs,
        Section::WriteBack,
        Section::Events,
        Section::Queue,
        Section::Processes,
        Section::Retention,
        Section::Web,
        Section::Salesforce,
        Section::ApiBudget,
        Section::Development,
    ];

    /// Every setting of this section whose default is a value, set to that value: a
    /// reader given these must come out as it does with nothing set (tests check it).
    pub fn defaults(self) -> Vec<(String, String)> {
        SETTINGS
            .iter()
            .filter(|s| s.section == self)
            .filter_map(|s| match s.default {
                DefaultText::Value(v) => Some((s.name.to_string(), v.to_string())),
                DefaultText::Note(_) => None,
            })
            .collect()
    }

    /// The heading in the docs.
    pub fn title(self) -> &'static str {
        match self {
            Section::Connections => "Connections (every process)",
            Section::Jobs => "Jobs (`JobSettings`: worker, scheduler, enqueue, web)",
            Section::WriteBack => "Write-back (`WriteBackSettings`: worker, scheduler)",
            Section::Events => "Change events (`EventSettings`: scheduler, worker)",
            Section::Queue => "Queue (`QueueConfig`: every process that uses Redis)",
            Section::Processes => "Scheduler and worker processes",
            Section::Retention => "Retention (`RetentionSettings`: scheduler)",
            Section::Web => "Web process (`WebConfig`)",
            Section::Salesforce => "Salesforce client (`SalesforceConfig`)",
            Section::ApiBudget => "API budget (`BudgetConfig`)",
            Section::Development => "Scripts, benchmarks and tests",
        }
    }
}

/// A default as the docs show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultText {
    /// A value the setting accepts; setting it changes nothing (a test checks this).
    Value(&'static str),
    /// No value to write down: `none`, `required`, or how it is chosen.
    Note(&'static str),
}

/// One environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The variable's name.
    pub name: &'static str,
    /// The default.
    pub default: DefaultText,
    /// What it does, in one line.
    pub meaning: &'static str,
    /// Who reads it.
    pub section: Section,
    /// Whether errors must not echo its value (passwords, tokens, URLs with passwords).
    pub secret: bool,
}

const fn s(
    name: &'static str,
    default: DefaultText,
    section: Section,
    meaning: &'static str,
) -> Setting {
    Setting {
        name,
        default,
        meaning,
        section,
        secret: false,
    }
}

impl Setting {
    /// This setting, marked secret.
    const fn secret(self) -> Setting {
        Setting {
            secret: true,
            ..self
        }
    }
}

use DefaultText::{Note, Value};
use Section::*;

/// Every setting orgpool reads.
// Two lines an entry, read as a table; rustfmt would spread each over six.
#[rustfmt::skip]
pub const SETTINGS: &[Setting] = &[
    s("DATABASE_URL", Value(crate::app::DEFAULT_DATABASE_URL), Connections,
        "Postgres: the ledger and the mirror").secret(),
    s("REDIS_URL", Value(crate::redis_conn::DEFAULT_URL), Connections,
        "Redis: queues, the API budget and locks; `rediss://` for TLS").secret(),
    s("REDIS_TLS_INSECURE", Value("false"), Connections,
        "`true` accepts a `rediss://` server's self-signed certificate (Heroku Redis); the connection stays encrypted"),
    s("ORGPOOL_WORKER_PG_POOL", Note("`WORKER_CONCURRENCY` + 2 (4 by default)"), Connections,
        "Postgres connections one worker process holds at most (2 to 1000): one per chunk slot of its busiest job kind and two for bookkeeping; a formation holds the sum of its processes' pools (docs/deploy.md)"),
    s("ORGPOOL_WEB_PG_POOL", Value("4"), Connections,
        "Postgres connections one web process holds at most (2 to 1000)"),
    s("ORGPOOL_SCHEDULER_PG_POOL", Value("3"), Connections,
        "Postgres connections one scheduler process holds at most (2 to 1000): its write-back listener keeps one"),
    s("ORGPOOL_MAPPINGS", Value("jobs/mappings.toml"), Jobs,
        "the mappings file: which objects to sync and how"),
    s("ORGPOOL_QUOTES", Value("jobs/quotes.toml"), Jobs,
        "the quote rules: pricing, selection and schedule"),
    s("ORGPOOL_RESYNC_LAG", Value("30s"), Jobs,
        "a resync reads up to now minus this, leaving records still being committed for the next poll"),
    s("ORGPOOL_RESYNC_OVERLAP", Value("2m"), Jobs,
        "a resync starts this far before the watermark, so rows committed late with an older `SystemModstamp` are not missed"),
    s("ORGPOOL_MAX_ATTEMPTS", Value("5"), Jobs,
        "attempts a chunk gets for errors that are neither outages, limits nor permanent (1 to 100)"),
    s("ORGPOOL_SHUTDOWN_GRACE", Value("20s"), Jobs,
        "after SIGTERM a running chunk gets this long to finish before it is rolled back and handed back"),
    s("ORGPOOL_REDIS_PREFIX", Value("orgpool"), Queue,
        "prefix of every Redis key, so deployments (and tests) can share one Redis"),
    s("ORGPOOL_WRITE_BACK_BULK_THRESHOLD", Value("2000"), WriteBack,
        "a table's changes in one write-back run go through Bulk API 2.0 ingest from this many records, through sObject Collections below it (1 to 10,000,000)"),
    s("ORGPOOL_WRITE_BACK_BULK_CHUNK", Value("10000"), WriteBack,
        "records per Bulk write-back chunk, each its own ingest jobs, run in parallel by the workers (1,000 to 1,000,000)"),
    s("ORGPOOL_WRITE_BACK_CHUNK", Value("1000"), WriteBack,
        "records per sObject Collections write-back chunk (sent 200 a request; 1 to 10,000)"),
    s("ORGPOOL_WRITE_BACK_RUN_ROWS", Value("500000"), WriteBack,
        "log rows one write-back run takes at most; the rest wait for the next run (1,000 to 10,000,000)"),
    s("ORGPOOL_WRITE_BACK_ATTEMPTS", Value("5"), WriteBack,
        "sends a record gets for retryable refusals (`UNABLE_TO_LOCK_ROW`, ...) before its log row is FAILED (1 to 100)"),
    s("ORGPOOL_WRITE_BACK_RETRY_BASE", Value("2s"), WriteBack,
        "wait before a retryable refusal is sent again, doubling each time"),
    s("SALESFORCE_PUBSUB_URL", Value(crate::jobs::change_events::settings::DEFAULT_PUBSUB_URL), Events,
        "the Pub/Sub API endpoint the scheduler subscribes to for mappings with `events = true` (the fake org prints its own)"),
    s("ORGPOOL_EVENTS_CREDIT", Value("100"), Events,
        "change events asked for at a time per subscription (1 to 100, Salesforce's most); more are asked for once they are stored"),
    s("ORGPOOL_EVENTS_RUN_EVENTS", Value("5000"), Events,
        "events one `change_events` run applies at most; the rest wait for the next run (1 to 1,000,000)"),
    s("ORGPOOL_EVENTS_RETRY", Value("2s"), Events,
        "first wait before subscribing again after a failure, doubling to 5 minutes"),
    s("WORKER_CONCURRENCY", Value("2"), Queue,
        "chunks one worker process runs at once per job kind (1 to 64); `--concurrency` overrides it"),
    s("ORGPOOL_POLL_MS", Value("100"), Queue,
        "milliseconds between an idle worker's polls for work (10 to 60000); each hop of a run waits half of it on average"),
    s("ORGPOOL_SCHEDULER_TICK", Value("5"), Processes,
        "seconds between scheduler passes (`orgpool scheduler --tick-seconds`)"),
    s("ORGPOOL_RECONCILE_EVERY", Value("24h"), Processes,
        "how often the scheduler reconciles each mapping (`--reconcile-every`)"),
    s("ORGPOOL_RETAIN_RUNS_DAYS", Value("30"), Retention,
        "days `succeeded` and `cancelled` runs and their chunks are kept after they end (1 to 3650); succeeded `write_back` and `change_events` runs, one per burst of changes, go after one day"),
    s("ORGPOOL_RETAIN_FAILED_RUNS_DAYS", Value("90"), Retention,
        "days `failed` and `succeeded_with_failures` runs and their chunks are kept after they end (1 to 3650); a run with open record failures is kept until they are resolved"),
    s("ORGPOOL_RETAIN_RESOLVED_FAILURES_DAYS", Value("90"), Retention,
        "days a resolved per-record failure is kept after its last refusal (1 to 3650); open ones are kept until resolved"),
    s("ORGPOOL_RETAIN_TASKS", Value("1000"), Retention,
        "finished tasks (done, dead) Redis keeps per queue and set, newest first (0 to 1000000); the ledger keeps every outcome"),
    s("ORGPOOL_RETAIN_TASKS_AGE", Value("24h"), Retention,
        "finished tasks older than this leave Redis whatever their count, and so do workers silent this long (1m to 720h)"),
    s("ORGPOOL_RETENTION_BATCH", Value("1000"), Retention,
        "rows (or Redis tasks) deleted per table and scheduler pass at most, so a backlog is worked off without long locks (1 to 100000)"),
    s("ORGPOOL_TRIGGER_LOG_RETENTION_DAYS", Value("30"), Retention,
        "days processed rows of `<schema>._trigger_log_archive` are kept (1 to 3650); the scheduler prunes older ones"),
    s("METRICS_PORT", Note("none"), Processes,
        "port of a worker's or the scheduler's own `/metrics`; unset, none is served"),
    s("ORGPOOL_METRICS_BIND", Value("0.0.0.0"), Processes,
        "the address a worker's or the scheduler's own `/metrics` binds (with `METRICS_PORT`); `127.0.0.1` keeps it to this host"),
    s("DYNO", Note("`HOSTNAME`, else `worker`"), Processes,
        "the worker's name in logs and queue heartbeats, as Heroku sets it"),
    s("RUST_LOG", Value("info"), Processes,
        "log filter, such as `info` or `orgpool=debug,info`"),
    s("PORT", Value("5000"), Web,
        "port the web process listens on, as Heroku and most platforms set it (`orgpool web --port` overrides it)"),
    s("ORGPOOL_WEB_BIND", Value("0.0.0.0"), Web,
        "the address the web process binds"),
    s("ORGPOOL_WEB_TOKEN", Note("none"), Web,
        "bearer token (16 characters or more) for `POST /api/runs` and, by default, every page but `/healthz`; without one the enqueue API answers 401").secret(),
    s("ORGPOOL_WEB_READ_TOKEN", Note("none"), Web,
        "a second token (16 characters or more) that opens the pages and the console but cannot act: its POSTs answer 403").secret(),
    s("ORGPOOL_WEB_PROTECT_READS", Value("true"), Web,
        "`false` leaves the status page, `/metrics` and `GET /api/*` open while the token still guards the enqueue API"),
    s("ORGPOOL_WEB_REFRESH_SECS", Value("5"), Web,
        "seconds between refreshes of the status page and the console's tables"),
    s("SALESFORCE_LOGIN_URL", Value("https://login.salesforce.com"), Salesforce,
        "where the token endpoint is: `https://test.salesforce.com` for sandboxes, your My Domain for client credentials"),
    s("SALESFORCE_INSTANCE_URL", Note("none"), Salesforce,
        "used as the login URL when `SALESFORCE_LOGIN_URL` is unset"),
    s("SALESFORCE_CLIENT_ID", Note("required"), Salesforce,
        "the connected app's consumer key"),
    s("SALESFORCE_CLIENT_SECRET", Note("none"), Salesforce,
        "the connected app's consumer secret; required for the client-credentials and password flows").secret(),
    s("SALESFORCE_AUTH_FLOW", Note("chosen from the credentials present"), Salesforce,
        "`client_credentials`, `jwt_bearer`, `refresh_token` or `password`"),
    s("SALESFORCE_JWT_KEY", Note("none"), Salesforce,
        "RSA private key (PEM) for the JWT bearer flow; `\\n` escapes are accepted").secret(),
    s("SALESFORCE_JWT_KEY_FILE", Note("none"), Salesforce,
        "a file holding that key, instead of `SALESFORCE_JWT_KEY`"),
    s("SALESFORCE_JWT_AUDIENCE", Note("the login URL"), Salesforce,
        "the JWT's `aud` claim"),
    s("SALESFORCE_USERNAME", Note("none"), Salesforce,
        "the user the JWT bearer and password flows act as"),
    s("SALESFORCE_PASSWORD", Note("none"), Salesforce,
        "the password flow's password").secret(),
    s("SALESFORCE_SECURITY_TOKEN", Note("none"), Salesforce,
        "appended to the password when the org asks for one").secret(),
    s("SALESFORCE_REFRESH_TOKEN", Note("none"), Salesforce,
        "the refresh-token flow's token; a rotated one is kept in memory").secret(),
    s("SALESFORCE_API_VERSION", Value("62.0"), Salesforce,
        "REST and Bulk API version"),
    s("SALESFORCE_CA_CERT", Note("none"), Salesforce,
        "a PEM file with an extra CA to trust (a private CA, or the fake org with `--tls`)"),
    s("SALESFORCE_CONNECT_TIMEOUT_SECS", Value("10"), Salesforce,
        "TCP and TLS connect timeout"),
    s("SALESFORCE_READ_TIMEOUT_SECS", Value("120"), Salesforce,
        "longest silence while reading a response (no total timeout, so long result pages can stream)"),
    s("SALESFORCE_OUTAGE_WAIT_SECS", Value("300"), Salesforce,
        "how long one call waits through an outage before it returns `Outage`"),
    s("SALESFORCE_LIMIT_WAIT_SECS", Value("60"), Salesforce,
        "how long one call waits for API budget before it returns `Limit`"),
    s("SALESFORCE_BACKOFF_MAX_SECS", Value("30"), Salesforce,
        "longest retry delay (delays start at 250 ms and double, with jitter)"),
    s("SALESFORCE_GZIP", Value("true"), Salesforce,
        "ask for gzip-compressed responses (Bulk CSV shrinks about tenfold)"),
    s("SALESFORCE_BULK_PAGE_ROWS", Value("50000"), Salesforce,
        "`maxRecords` per Bulk query results page"),
    s("SALESFORCE_INGEST_MAX_BYTES", Value("100000000"), Salesforce,
        "CSV bytes per ingest job before an upload is split (at least 1024; Salesforce's 150 MB applies after base64)"),
    s("ORGPOOL_API_BUDGET_SHARE", Value("0.8"), ApiBudget,
        "share of the org's daily API allowance the fleet may use (above 0, at most 1)"),
    s("ORGPOOL_API_BUDGET_CAP", Note("none"), ApiBudget,
        "a lower absolute cap of requests per window for this deployment"),
    s("ORGPOOL_API_BUDGET_WINDOW_SECS", Value("86400"), ApiBudget,
        "the rolling window the budget counts over (Salesforce counts 24 hours)"),
    s("ORGPOOL_API_BUDGET_RECHECK_SECS", Value("60"), ApiBudget,
        "while the budget is spent: seconds between re-checks of the org's `/limits` (one probe for the fleet) and the longest a waiting chunk is put back for (1 to 3600)"),
    s("ORGPOOL_ROOT", Note("the checkout"), Development,
        "set by `scripts/` to the repository's root"),
    s("ORGPOOL_WAIT_STEPS", Value("60"), Development,
        "half-second steps `scripts/` wait for Postgres or Redis to answer"),
    s("ORGPOOL_BENCH_WORKER_LOG", Value("warn"), Development,
        "`RUST_LOG` of the workers `orgpool bench load` starts"),
    s("ORGPOOL_SKIP_NODE_TESTS", Note("unset"), Development,
        "`1` skips the jsforce client test where Node is missing (never when `CI` is set)"),
    s("ORGPOOL_UPDATE_DOCS", Note("unset"), Development,
        "`1` makes the settings-table unit test rewrite `docs/settings.md` instead of failing"),
    s("NO_COLOR", Note("unset"), Development,
        "any value turns colour off in `orgpool dev` output"),
];

/// The setting called `name`.
pub fn find(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_unique_and_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for s in SETTINGS {
            assert!(seen.insert(s.name), "{} is listed twice", s.name);
            assert!(
                s.name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                "{} is not an environment variable name",
                s.name
            );
            assert!(
                !s.meaning.is_empty() && !s.meaning.contains('\n'),
                "{}",
                s.name
            );
        }
    }

    #[test]
    fn credentials_and_urls_with_passwords_are_secret() {
        for name in [
            "DATABASE_URL",
            "REDIS_URL",
            "ORGPOOL_WEB_TOKEN",
            "SALESFORCE_CLIENT_SECRET",
            "SALESFORCE_JWT_KEY",
            "SALESFORCE_PASSWORD",
            "SALESFORCE_SECURITY_TOKEN",
            "SALESFORCE_REFRESH_TOKEN",
        ] {
            assert!(find(name).is_some_and(|s| s.secret), "{name}");
        }
    }

    #[test]
    fn every_section_has_settings() {
        for section in Section::ALL {
            assert!(
                SETTINGS.iter().any(|s| s.section == section),
                "{section:?} is empty"
            );
        }
    }
}
