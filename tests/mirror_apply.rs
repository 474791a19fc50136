//! The mirror's write seam against real Postgres: `mirror::apply` of change sets with
//! rows in memory (full rows, partial rows, stale copies, deletes, a replaced range),
//! in a schema of the test's own that it drops afterwards.

use orgpool::mirror::{ChangeSet, Column, Deleted, MirrorTable, Rows, apply, ensure};
use sqlx::PgPool;

fn column(field: &str, name: &str, pg_type: &str) -> Column {
    Column::plain(field, name, pg_type)
}

fn table(schema: &str) -> MirrorTable {
    MirrorTable {
        object: "Account".into(),
        schema: schema.into(),
        table: "account".into(),
        columns: vec![
            column("Id", "sfid", "varchar(18)"),
            column("SystemModstamp", "systemmodstamp", "timestamptz"),
            column("IsDeleted", "isdeleted", "boolean"),
            column("Name", "name", "varchar(255)"),
            column("AnnualRevenue", "annualrevenue", "numeric(18,0)"),
        ],
        access: Default::default(),
    }
}

fn row(values: &[Option<&str>]) -> Vec<Option<String>> {
    values.iter().map(|v| v.map(str::to_string)).collect()
}

async fn rows(pool: &PgPool, t: &MirrorTable) -> Vec<(String, String, Option<String>, String)> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT sfid, name, annualrevenue::text, _hc_lastop FROM {} ORDER BY sfid",
        t.qualified()
    )))
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn change_sets_upsert_full_and_partial_rows_guard_stale_copies_and_delete() {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into());
    let pool = PgPool::connect(&url).await.expect("Postgres answers");
    let schema = format!(
        "apply_test_{}_{}",
        std::process::id(),
        rand::random::<u32>()
    );
    let t = table(&schema);
    let mut conn = pool.acquire().await.unwrap();
    ensure(&mut conn, &t).await.unwrap();
    drop(conn);

    // Full rows from Salesforce: inserted, SYNCED; a deleted one is not kept.
    let mut tx = pool.begin().await.unwrap();
    let full = ChangeSet::full(
        &t,
        Rows::Values(vec![
            row(&[
                Some("001A"),
                Some("2026-01-01T00:00:00Z"),
                Some("false"),
                Some("Acme"),
                Some("10"),
            ]),
            row(&[
                Some("001B"),
                Some("2026-01-01T00:00:00Z"),
                Some("false"),
                Some("Beta"),
                None,
            ]),
            row(&[
                Some("001C"),
                Some("2026-01-01T00:00:00Z"),
                Some("true"),
                Some("Gone"),
                None,
            ]),
        ]),
        Deleted::Remove,
    );
    let applied = apply(&mut tx, &full).await.unwrap();
    assert_eq!(applied.upserted, 2);
    tx.commit().await.unwrap();
    assert_eq!(
        rows(&pool, &t).await,
        vec![
            (
                "001A".into(),
                "Acme".into(),
                Some("10".into()),
                "SYNCED".into()
            ),
            ("001B".into(), "Beta".into(), None, "SYNCED".into()),
        ]
    );

    // A partial change (only Name, with a newer stamp) leaves the other columns; an
    // older copy of a row changes nothing.
    let cols: Vec<&Column> = t
        .columns
        .iter()
        .filter(|c| ["sfid", "systemmodstamp", "name"].contains(&c.name.as_str()))
        .collect();
    let mut tx = pool.begin().await.unwrap();
    let partial = ChangeSet {
        columns: cols,
        rows: Rows::Values(vec![
            row(&[
                Some("001A"),
                Some("2026-02-01T00:00:00Z"),
                Some("Acme Corp"),
            ]),
            row(&[Some("001B"), Some("2025-12-01T00:00:00Z"), Some("stale")]),
        ]),
        ..ChangeSet::full(&t, Rows::Staged, Deleted::Remove)
    };
    let applied = apply(&mut tx, &partial).await.unwrap();
    assert_eq!(applied.upserted, 1, "the stale copy is skipped");
    tx.commit().await.unwrap();
    let now = rows(&pool, &t).await;
    assert_eq!(
        now[0],
        (
            "001A".into(),
            "Acme Corp".into(),
            Some("10".into()),
            "SYNCED".into()
        )
    );
    assert_eq!(now[1].1, "Beta");

    // Deletes by Id, and a rolled-back change set leaves nothing behind.
    let mut tx = pool.begin().await.unwrap();
    let gone = ChangeSet {
        deletes: vec!["001B".into()],
        rows: Rows::Values(Vec::new()),
        ..ChangeSet::full(&t, Rows::Staged, Deleted::Remove)
    };
    assert_eq!(apply(&mut tx, &gone).await.unwrap().deleted, 1);
    tx.rollback().await.unwrap();
    assert_eq!(rows(&pool, &t).await.len(), 2);
    let mut tx = pool.begin().await.unwrap();
    apply(&mut tx, &gone).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(rows(&pool, &t).await.len(), 1);

    // A replaced range keeps exactly its rows.
    let mut tx = pool.begin().await.unwrap();
    let range = ChangeSet {
        replace_range: Some((Some("001".into()), None)),
        ..ChangeSet::full(
            &t,
            Rows::Values(vec![row(&[
                Some("001D"),
                Some("2026-03-01T00:00:00Z"),
                Some("false"),
                Some("Delta"),
                Some("7"),
            ])]),
            Deleted::Remove,
        )
    };
    let applied = apply(&mut tx, &range).await.unwrap();
    assert_eq!((applied.upserted, applied.deleted), (1, 1));
    tx.commit().await.unwrap();
    assert_eq!(
        rows(&pool, &t).await,
        vec![(
            "001D".into(),
            "Delta".into(),
            Some("7".into()),
            "SYNCED".into()
        )]
    );

    // A row with the wrong number of values is refused, naming the object.
    let mut tx = pool.begin().await.unwrap();
    let bad = ChangeSet::full(
        &t,
        Rows::Values(vec![row(&[Some("001E")])]),
        Deleted::Remove,
    );
    let e = apply(&mut tx, &bad).await.unwrap_err().to_string();
    assert!(
        e.contains("Account") && e.contains("1 values for 5 columns"),
        "{e}"
    );
    drop(tx);

    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA \"{schema}\" CASCADE"
    )))
    .execute(&pool)
    .await
    .unwrap();
}
