//! Shared harness for tests that go through the job system: a database of the test's
//! own (migrated), a Redis key prefix of its own, an in-process fake org, a mappings
//! file, and the real `orgpool` binary for workers, the scheduler and `enqueue`. Also
//! a snapshot of a table (row count and an md5 over every mapped column in Id order)
//! for comparing the mirror with the org.
#![allow(dead_code)]

pub mod harness;

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use orgpool::fake_org::{FakeOrg, FakeOrgConfig};
use orgpool::salesforce::{Client, SalesforceConfig, Scope};
use sqlx::PgPool;
use sqlx::postgres::PgPoolCopyExt;

/// One test's world.
pub struct Env {
    /// The database URL.
    pub db_url: String,
    /// The database name.
    pub db: String,
    /// The Redis prefix.
    pub prefix: String,
    /// The org.
    pub org: FakeOrg,
    /// The mappings file.
    pub mappings: PathBuf,
    /// The quote rules file (written by tests that quote).
    pub quotes: PathBuf,
    /// A pool on the test database.
    pub pool: PgPool,
    /// The Redis URL the processes use (default: `REDIS_URL`).
    pub redis_url: String,
    children: Vec<Child>,
}

/// A Redis server of the test's own (for tests that flush it), stopped on drop.
pub struct OwnRedis {
    /// Its URL.
    pub url: String,
    child: Child,
}

impl OwnRedis {
    /// Starts `redis-server` on a free port, keeping nothing on disk.
    pub fn start() -> OwnRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/test installs it)");
        let url = format!("redis://127.0.0.1:{port}");
        wait_port(port, "redis-server");
        OwnRedis { url, child }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into())
}

fn with_db(url: &str, db: &str) -> String {
    let mut u = url::Url::parse(url).expect("DATABASE_URL is a URL");
    u.set_path(&format!("/{db}"));
    u.to_string()
}

/// A new database of the test's own (`name` in its name), migrated: (name, URL, pool).
pub async fn fresh_database(name: &str) -> (String, String, PgPool) {
    let db = format!(
        "orgpool_test_{name}_{}_{}",
        std::process::id(),
        rand::random::<u16>()
    );
    let admin = PgPool::connect(&admin_url())
        .await
        .expect("Postgres answers (run scripts/test)");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let db_url = with_db(&admin_url(), &db);
    orgpool::migrate::run(&db_url)
        .await
        .expect("migrations apply");
    let pool = PgPool::connect(&db_url).await.unwrap();
    (db, db_url, pool)
}

/// Drops a database made by [`fresh_database`].
pub async fn drop_database(db: &str) {
    if let Ok(admin) = PgPool::connect(&admin_url()).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"
        )))
        .execute(&admin)
        .await;
    }
}

impl Env {
    /// A fresh world named `name` with `org` and the mappings `toml`.
    pub async fn new(name: &str, org: FakeOrgConfig, toml: &str) -> Env {
        let (db, db_url, pool) = fresh_database(name).await;
        let org = orgpool::fake_org::start(org)
            .await
            .expect("fake org starts");
        let dir = std::env::temp_dir().join(&db);
        std::fs::create_dir_all(&dir).unwrap();
        let mappings = dir.join("mappings.toml");
        let quotes = dir.join("quotes.toml");
        std::fs::write(&mappings, toml).unwrap();
        Env {
            db_url,
            db,
            prefix: format!(
                "orgpool-test:{name}:{}:{}",
                std::process::id(),
                rand::random::<u32>()
            ),
            org,
            mappings,
            quotes,
            pool,
            redis_url: orgpool::redis_conn::url_from_env(),
            children: Vec::new(),
        }
    }

    /// The binary with this world's environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let c = self.org.config();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_orgpool"));
        cmd.args(args)
            .env("DATABASE_URL", &self.db_url)
            .env("REDIS_URL", &self.redis_url)
            .env("ORGPOOL_REDIS_PREFIX", &self.prefix)
            .env("ORGPOOL_MAPPINGS", &self.mappings)
            .env("ORGPOOL_QUOTES", &self.quotes)
            .env("SALESFORCE_LOGIN_URL", &self.org.base_url)
            .env("SALESFORCE_CLIENT_ID", &c.client_id)
            .env("SALESFORCE_CLIENT_SECRET", &c.client_secret)
            .env("SALESFORCE_BACKOFF_MAX_SECS", "1")
            .env("ORGPOOL_RESYNC_LAG", "0")
            .env("ORGPOOL_RESYNC_OVERLAP", "2s")
            .env("ORGPOOL_POLL_MS", "100")
            .env("RUST_LOG", "info");
        // The org's Pub/Sub API (change events) is TLS only, with its own certificate.
        if let Some(url) = &self.org.pubsub_url {
            let pem = self.mappings.with_file_name("pubsub-ca.pem");
            if !pem.exists() {
                std::fs::write(&pem, &self.org.pubsub_cert_pem).unwrap();
            }
            cmd.env("SALESFORCE_PUBSUB_URL", url)
                .env("SALESFORCE_CA_CERT", &pem);
        }
        cmd
    }

    /// Runs a command to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("orgpool runs")
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "orgpool {args:?} failed\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Starts a long-running process (worker, scheduler); killed when the Env drops.
    pub fn spawn(&mut self, args: &[&str], extra: &[(&str, &str)]) -> u32 {
        let mut cmd = self.command(args);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let log = std::env::temp_dir().join(&self.db).join(format!(
            "{}-{}.log",
            args[0],
            self.children.len()
        ));
        let file = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("spawns");
        let pid = child.id();
        self.children.push(child);
        pid
    }

    /// The pid of the `index`-th process started with [`Env::spawn`].
    pub fn pid_of(&self, index: usize) -> u32 {
        self.children[index].id()
    }

    /// Sends `signal` to a child started by [`Env::spawn`].
    pub fn signal(&self, pid: u32, signal: &str) {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status();
    }

    /// Waits for child `pid` to exit, up to `limit`; true if it did.
    pub fn wait_exit(&mut self, pid: u32, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            for c in &mut self.children {
                if c.id() == pid && c.try_wait().ok().flatten().is_some() {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// The log of the `index`-th process started with [`Env::spawn`] as `command`.
    pub fn log_of(&self, command: &str, index: usize) -> String {
        let path = std::env::temp_dir()
            .join(&self.db)
            .join(format!("{command}-{index}.log"));
        std::fs::read_to_string(path).unwrap_or_default()
    }

    /// Waits until `url` answers 2xx (a process came up).
    pub async fn wait_http_ok(&self, url: &str) {
        let url = url.to_string();
        self.eventually(&format!("{url} to answer"), Duration::from_secs(60), || {
            let url = url.clone();
            async move {
                reqwest::get(&url)
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        })
        .await;
    }

    /// The logs of every process started so far.
    pub fn logs(&self) -> String {
        let dir = std::env::temp_dir().join(&self.db);
        let mut out = String::new();
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                if e.path().extension().is_some_and(|x| x == "log") {
                    out.push_str(&format!("==> {}\n", e.path().display()));
                    out.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
                }
            }
        }
        out
    }

    /// A client on the org (for checks), under this world's prefix.
    pub async fn client(&self) -> Client {
        let c = self.org.config();
        let cfg = SalesforceConfig::new(&self.org.base_url, &c.client_id, &c.client_secret);
        let redis = orgpool::redis_conn::connect(&orgpool::redis_conn::url_from_env())
            .await
            .unwrap();
        Client::new(cfg, redis, &format!("{}:check", self.prefix)).unwrap()
    }

    /// The mirror table's (rows, md5 over `columns` in sfid order).
    pub async fn mirror_snapshot(&self, table: &str, columns: &[&str]) -> (i64, String) {
        snapshot(&self.pool, &format!("salesforce.{table}"), columns).await
    }

    /// The org's (rows, md5) for the same columns: a Bulk query of `fields` copied
    /// with a plain COPY into a table shaped like the mirror's, then hashed the same way.
    pub async fn org_snapshot(
        &self,
        object: &str,
        table: &str,
        fields: &[&str],
        columns: &[&str],
    ) -> (i64, String) {
        let client = self.client().await;
        let soql = format!("SELECT {} FROM {object}", fields.join(", "));
        let results = client
            .bulk_query(&soql, Scope::Live)
            .await
            .expect("bulk query");
        let copy_table = format!("orgcopy_{table}");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP TABLE IF EXISTS {copy_table}"
        )))
        .execute(&self.pool)
        .await
        .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE {copy_table} AS SELECT {} FROM salesforce.{table} WITH NO DATA",
            columns.join(", ")
        )))
        .execute(&self.pool)
        .await
        .unwrap();
        let mut copy = self
            .pool
            .copy_in_raw(&format!(
                "COPY {copy_table} ({}) FROM STDIN WITH (FORMAT csv, HEADER true, FORCE_NULL ({}))",
                columns.join(", "),
                columns.join(", ")
            ))
            .await
            .unwrap();
        let mut stream = results.into_stream();
        while let Some(b) = stream.try_next().await.expect("bulk page") {
            copy.send(b).await.unwrap();
        }
        copy.finish().await.unwrap();
        snapshot(&self.pool, &copy_table, columns).await
    }

    /// The single number a query returns.
    pub async fn count(&self, sql: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&self.pool)
            .await
            .unwrap();
        n
    }

    /// Waits for run `id` to succeed; panics with the logs if it fails or takes too long.
    pub async fn wait_succeeded(&self, id: i64, limit: Duration) {
        self.eventually(&format!("run {id} to succeed"), limit, || async {
            let (s,): (String,) = sqlx::query_as("SELECT state FROM orgpool.runs WHERE id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await
                .unwrap();
            assert_ne!(s, "failed", "run {id} failed\n{}", self.logs());
            s == "succeeded"
        })
        .await;
    }

    /// Waits until `check` is true or `limit` passes; panics with the logs if not.
    pub async fn eventually<F, Fut>(&self, what: &str, limit: Duration, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let start = Instant::now();
        while start.elapsed() < limit {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("timed out waiting for {what}\n{}", self.logs());
    }
}

async fn snapshot(pool: &PgPool, table: &str, columns: &[&str]) -> (i64, String) {
    let row_text = columns
        .iter()
        .map(|c| format!("coalesce({c}::text, '\\N')"))
        .collect::<Vec<_>>()
        .join(" || '|' || ");
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*), coalesce(md5(string_agg({row_text}, E'\\n' ORDER BY sfid COLLATE \"C\")), '') FROM {table}"
    )))
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Waits up to 10 s for something to listen on `port` (`what` names it on failure).
pub fn wait_port(port: u16, what: &str) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what} did not start listening on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One Opportunity mapping with four fields and Id-range chunks of 1,000 rows; the
/// schedule is pushed out so only the test starts runs.
pub const OPPORTUNITY_MAPPING: &str = r#"
[[mapping]]
object = "Opportunity"
fields = ["Name", "Amount", "CloseDate", "StageName"]
chunk_size = 1000
poll_interval = "60m"
"#;

/// Every object a quote run reads from the mirror.
pub const QUOTE_MAPPINGS: &str = r#"
[[mapping]]
object = "Account"
[[mapping]]
object = "Opportunity"
[[mapping]]
object = "OpportunityLineItem"
[[mapping]]
object = "Product2"
[[mapping]]
object = "Pricebook2"
[[mapping]]
object = "PricebookEntry"
"#;

/// A TCP port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fake org seeded with `accounts` Accounts and `opportunities` Opportunities of
/// `lines` line items each (other settings at their defaults).
pub fn seeded_org(accounts: u64, opportunities: u64, lines: u64) -> FakeOrgConfig {
    FakeOrgConfig {
        seed: orgpool::fake_org::SeedConfig {
            accounts,
            opportunities,
            lines_per_opportunity: lines,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A fake org of `accounts` Accounts only, with the custom objects of
/// `examples/fake-org-schema.toml`.
pub fn example_schema_org(accounts: u64) -> FakeOrgConfig {
    FakeOrgConfig {
        schema_file: Some(
            concat!(env!("CARGO_MANIFEST_DIR"), "/examples/fake-org-schema.toml").into(),
        ),
        ..seeded_org(accounts, 0, 0)
    }
}

/// A fake org of `opportunities` Opportunities (20 Accounts, no line items) whose Bulk
/// jobs take `bulk_delay`.
pub fn opportunities_org(opportunities: u64, bulk_delay: Duration) -> FakeOrgConfig {
    FakeOrgConfig {
        bulk_delay,
        ..seeded_org(20, opportunities, 0)
    }
}

/// The run id `orgpool enqueue` printed ("run 12: ...").
pub fn run_id(enqueue_out: &str) -> i64 {
    enqueue_out
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.trim_end_matches(':').parse().ok())
        .unwrap_or_else(|| panic!("no run id in {enqueue_out:?}"))
}

impl Drop for Env {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let db = self.db.clone();
        // Best effort, on a thread of its own: a runtime cannot be entered inside drop.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(drop_database(&db));
            Some(())
        })
        .join();
    }
}
