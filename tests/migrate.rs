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

/// A deployment at migration 3 with runs in flight (an Id-range chunk, a window chunk,
/// a quote chunk, a reload) upgrades to typed chunk specs with nothing lost: every old
/// column's value is in the spec, in the shape the kinds decode.
#[tokio::test]
async fn migration_4_moves_in_flight_chunks_to_typed_specs() {
    let admin_url = base_url();
    let db = format!("orgpool_test_migrate4_{}", std::process::id());
    let mut admin = PgConnection::connect(&admin_url).await.unwrap();
    for sql in [
        format!("DROP DATABASE IF EXISTS \"{db}\""),
        format!("CREATE DATABASE \"{db}\""),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    let url = with_db(&admin_url, &db);
    // The first three migrations, as an older orgpool applied them.
    let dir = std::env::temp_dir().join(format!("orgpool-migrations-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    for f in std::fs::read_dir(root).unwrap() {
        let f = f.unwrap();
        let name = f.file_name().to_string_lossy().to_string();
        if name.as_str() < "0004" {
            std::fs::copy(f.path(), dir.join(&name)).unwrap();
        }
    }
    let mut conn = PgConnection::connect(&url).await.unwrap();
    sqlx::migrate::Migrator::new(dir.as_path())
        .await
        .unwrap()
        .run(&mut conn)
        .await
        .unwrap();
    sqlx::raw_sql(
        "INSERT INTO orgpool.runs (id, kind, object, lane, state, params) VALUES
            (1, 'initial_load', 'Account', 'mirror:account', 'running', '{}'),
            (2, 'resync', 'Contact', 'mirror:contact', 'running', '{}'),
            (3, 'quote_generation', 'Opportunity', 'quotes', 'running',
                '{\"version\": \"v1\", \"selected\": 2, \"skipped_no_lines\": 1}'),
            (4, 'reload', 'Lead', 'mirror:lead', 'running', '{}');
         INSERT INTO orgpool.chunks (run_id, kind, seq, step, state) VALUES (1, 'initial_load', 0, 'plan', 'done');
         INSERT INTO orgpool.chunks (run_id, kind, seq, step, lo, hi, state)
             VALUES (1, 'initial_load', 1, 'work', '001000000000001', NULL, 'pending');
         INSERT INTO orgpool.chunks (run_id, kind, seq, step, since, until, state)
             VALUES (2, 'resync', 1, 'work', '2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', 'queued');
         INSERT INTO orgpool.chunks (run_id, kind, seq, step, items, state)
             VALUES (3, 'quote_generation', 1, 'work', ARRAY['006A', '006B'], 'pending');",
    )
    .execute(&mut conn)
    .await
    .unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_orgpool"))
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let specs: Vec<(i64, serde_json::Value)> = sqlx::query_as(
        "SELECT run_id, spec FROM orgpool.chunks WHERE step = 'work' ORDER BY run_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let range: orgpool::jobs::mirror_sync::MirrorChunk =
        serde_json::from_value(specs[0].1.clone()).unwrap();
    assert_eq!(
        range,
        orgpool::jobs::mirror_sync::MirrorChunk::Range {
            lo: Some("001000000000001".into()),
            hi: None
        }
    );
    let window: orgpool::jobs::mirror_sync::MirrorChunk =
        serde_json::from_value(specs[1].1.clone()).unwrap();
    let orgpool::jobs::mirror_sync::MirrorChunk::Window { since, until } = window else {
        panic!("{window:?}")
    };
    assert_eq!(until - since, chrono::Duration::hours(1));
    let quote: orgpool::jobs::quote_generation::QuoteChunk =
        serde_json::from_value(specs[2].1.clone()).unwrap();
    assert_eq!(quote.opportunities, vec!["006A", "006B"]);
    let runs: Vec<(serde_json::Value, serde_json::Value)> =
        sqlx::query_as("SELECT params, summary FROM orgpool.runs ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let args: orgpool::jobs::quote_generation::QuoteArgs =
        serde_json::from_value(runs[2].0.clone()).unwrap();
    assert_eq!(args.version, "v1");
    assert_eq!(runs[2].1["selected"], 2);
    let reload: orgpool::jobs::initial_load::LoadArgs =
        serde_json::from_value(runs[3].0.clone()).unwrap();
    assert_eq!(reload, orgpool::jobs::initial_load::LoadArgs::shadow());
    conn.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
}
