//! `orgpool migrate` through the real binary, against a database of its own.

use std::process::Command;

use sqlx::{Connection, PgConnection};

fn base_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into())
}

fn with_db(url: &str, db: &str) -> String {
    let mut u = url::Url::parse(url).expect("DATABASE_URL is a URL");
    u.set_path(&format!("/{db}"));
    u.to_string()
}

#[tokio::test]
async fn migrate_creates_control_schema_and_is_idempotent() {
    let admin_url = base_url();
    let db = format!("orgpool_test_migrate_{}", std::process::id());
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .expect("Postgres answers at DATABASE_URL (run scripts/test)");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{db}\""
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
        .execute(&mut admin)
        .await
        .unwrap();
    let url = with_db(&admin_url, &db);

    for _ in 0..2 {
        let out = Command::new(env!("CARGO_BIN_EXE_orgpool"))
            .arg("migrate")
            .env("DATABASE_URL", &url)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "migrate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("migration(s) applied"), "{stdout}");
        if let Some(pw) = url::Url::parse(&url)
            .ok()
            .and_then(|u| u.password().map(String::from))
        {
            assert!(
                !stdout.contains(&format!(":{pw}@")),
                "password printed: {stdout}"
            );
        }
    }
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'orgpool'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(n, 1);
    conn.close().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
}

#[test]
fn migrate_reports_a_bad_url_without_the_password() {
    let out = Command::new(env!("CARGO_BIN_EXE_orgpool"))
        .arg("migrate")
        .env(
            "DATABASE_URL",
            "postgres://someone:hunter2@127.0.0.1:1/nowhere",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot connect to Postgres"), "{err}");
    assert!(err.contains("DATABASE_URL"), "{err}");
    assert!(!err.contains("hunter2"), "password leaked: {err}");
}
