//! Broken environments through the real binary: each gets one message naming the cause
//! and the fix, and a non-zero exit; a password in a URL is never printed; an unknown
//! `ORGPOOL_*` name is refused with the nearest known one; a worker whose login URL
//! does not answer starts and waits, as during an outage.

mod jobs_common;

use std::process::{Command, Output};
use std::time::Duration;

use jobs_common::{Env, drop_database, seeded_org};

/// The binary with only the given environment (plus PATH), so nothing of the test
/// runner's environment leaks in.
fn orgpool(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orgpool"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("orgpool runs")
}

/// The single error line of a failed run (asserting there is exactly one).
fn one_error(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("orgpool: error:"))
        .collect();
    assert_eq!(lines.len(), 1, "one error line:\n{stderr}");
    assert_eq!(
        stderr.matches("orgpool: error:").count(),
        1,
        "one message:\n{stderr}"
    );
    lines[0].trim_start_matches("orgpool: error: ").to_string()
}

fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into())
}

fn with_db(db: &str) -> String {
    let mut u = url::Url::parse(&admin_url()).unwrap();
    u.set_path(&format!("/{db}"));
    u.to_string()
}

#[test]
fn bad_database_urls_get_one_message_each_without_the_password() {
    for cmd in [&["status"][..], &["worker"][..]] {
        let e = one_error(&orgpool(cmd, &[("DATABASE_URL", "notaurl")]));
        assert_eq!(
            e,
            "DATABASE_URL is not a URL (\"notaurl\"); expected postgres://user:password@host:port/database"
        );
        let e = one_error(&orgpool(
            cmd,
            &[(
                "DATABASE_URL",
                "postgres://postgres:hunter2secret@127.0.0.1:1/postgres",
            )],
        ));
        assert_eq!(
            e,
            "cannot connect to Postgres at 127.0.0.1:1 (connection refused); start the server or fix DATABASE_URL"
        );
        let e = one_error(&orgpool(
            cmd,
            &[("DATABASE_URL", &with_db("orgpool_no_such_db_errors_env"))],
        ));
        assert_eq!(
            e,
            "database \"orgpool_no_such_db_errors_env\" does not exist on 127.0.0.1:5432; create it (createdb orgpool_no_such_db_errors_env) or fix DATABASE_URL"
        );
    }
    let e = one_error(&orgpool(
        &["migrate"],
        &[("DATABASE_URL", "postgres://u:hunter2secret@127.0.0.1:1/db")],
    ));
    assert!(
        e.starts_with("cannot connect to Postgres at 127.0.0.1:1 (connection refused)"),
        "{e}"
    );
    let out = orgpool(
        &["migrate"],
        &[("DATABASE_URL", "postgres://u:hunter2secret@127.0.0.1:1/db")],
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2secret"));
}

#[tokio::test]
async fn bad_redis_urls_an_unmigrated_database_and_unknown_settings() {
    // An unmigrated database of the test's own.
    let db = format!("orgpool_test_errenv_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&admin_url()).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
        .execute(&admin)
        .await
        .unwrap();
    let url = with_db(&db);
    for cmd in [&["status"][..], &["worker"][..], &["status", "--json"][..]] {
        let e = one_error(&orgpool(cmd, &[("DATABASE_URL", &url)]));
        assert_eq!(
            e,
            "the database has no orgpool ledger yet; run `orgpool migrate` first"
        );
    }
    orgpool::migrate::run(&url).await.unwrap();
    let e = one_error(&orgpool(
        &["status"],
        &[("DATABASE_URL", &url), ("REDIS_URL", "notaurl")],
    ));
    assert_eq!(
        e,
        "REDIS_URL is not a URL (\"notaurl\"); expected redis://[:password@]host:port or rediss://[:password@]host:port"
    );
    let out = orgpool(
        &["status"],
        &[
            ("DATABASE_URL", &url),
            ("REDIS_URL", "redis://:hunter2secret@127.0.0.1:1"),
        ],
    );
    assert_eq!(
        one_error(&out),
        "cannot connect to Redis at 127.0.0.1:1 (connection refused); start the server or fix REDIS_URL"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2secret"));
    // Unknown settings, in every process kind (migrate included).
    for cmd in [
        &["status"][..],
        &["worker"][..],
        &["scheduler"][..],
        &["web"][..],
        &["migrate"][..],
    ] {
        let e = one_error(&orgpool(
            cmd,
            &[("DATABASE_URL", &url), ("ORGPOOL_MAPPING", "x.toml")],
        ));
        assert!(
            e.starts_with(
                "ORGPOOL_MAPPING is not a setting orgpool knows; did you mean ORGPOOL_MAPPINGS?"
            ),
            "{cmd:?}: {e}"
        );
    }
    admin.close().await;
    drop_database(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_mirror_table_is_a_state_to_show_and_an_unreachable_login_url_is_waited_out() {
    let org = seeded_org(20, 0, 0);
    let mut env = Env::new(
        "errenv",
        org,
        "[[mapping]]\nobject = \"Account\"\nfields = [\"Name\"]\n",
    )
    .await;
    env.spawn(&["worker"], &[]);
    let out = env.ok(&["enqueue", "initial-load", "Account", "--wait"]);
    assert!(out.contains("succeeded"), "{out}");
    sqlx::query("DROP TABLE salesforce.account")
        .execute(&env.pool)
        .await
        .unwrap();
    let json = env.ok(&["status", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let m = &doc["mappings"][0];
    assert_eq!(m["rows"], serde_json::Value::Null);
    assert_eq!(m["error"], "mirror table salesforce.account is missing");
    assert_eq!(m["fix"], "run `orgpool enqueue reload Account`");
    let text = env.ok(&["status"]);
    assert!(
        text.contains("fix: run `orgpool enqueue reload Account`"),
        "{text}"
    );

    // The web process shows the same state on every page.
    let port = free_port();
    env.spawn(
        &["web", "--port", &port.to_string()],
        &[("ORGPOOL_WEB_PROTECT_READS", "false")],
    );
    let base = format!("http://127.0.0.1:{port}");
    env.wait_http_ok(&format!("{base}/healthz")).await;
    for path in ["/api/status", "/metrics", "/"] {
        let r = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let st: serde_json::Value = reqwest::get(format!("{base}/api/status"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        st["mappings"][0]["fix"],
        "run `orgpool enqueue reload Account`"
    );

    // A login URL that does not answer: a one-off command names the setting and the
    // address; a worker starts and waits.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let mut cmd = env.command(&["scheduler"]);
    cmd.env("SALESFORCE_LOGIN_URL", &dead);
    let out = cmd.output().unwrap();
    let e = one_error(&out);
    assert_eq!(
        e,
        format!(
            "cannot reach Salesforce at SALESFORCE_LOGIN_URL={dead} (connection refused); check the address or wait for the outage to end"
        )
    );
    let pid = env.spawn(&["worker"], &[("SALESFORCE_LOGIN_URL", &dead)]);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !env.wait_exit(pid, Duration::from_millis(200)),
        "the worker waits instead of exiting\n{}",
        env.logs()
    );
    assert!(
        env.log_of("worker", 2)
            .contains("cannot reach Salesforce at SALESFORCE_LOGIN_URL="),
        "{}",
        env.logs()
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
