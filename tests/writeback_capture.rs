//! Capture of the app's writes to mirror tables, as Heroku Connect does it, against
//! real Postgres (a database of each test's own): plain SQL writes by an application
//! land in `<schema>._trigger_log` with Connect's columns, actions, states and hstore
//! text values, set `_hc_lastop = 'PENDING'` and notify `orgpool_write_back`; orgpool's
//! own writes (load, resync, reconcile, reload through the real job path) capture
//! nothing; `read_only` tables log `READONLY`; switching access keeps every row;
//! processed rows are archived and the archive pruned.

mod jobs_common;

use std::time::Duration;

use jobs_common::harness::Harness;
use orgpool::fake_org::ids::RecordId;
use orgpool::fake_org::store::{Assign, Input};
use orgpool::fake_org::value::Value;
use orgpool::fake_org::{FakeOrgConfig, SeedConfig};
use orgpool::jobs::registry::{INITIAL_LOAD, RECONCILE, RELOAD, RESYNC};
use orgpool::mirror::capture::{self, CHANNEL, installed};
use orgpool::mirror::{Access, ChangeSet, Column, Deleted, MirrorTable, Rows, apply, ensure};
use sqlx::PgPool;
use sqlx::postgres::PgListener;

fn column(field: &str, name: &str, pg_type: &str) -> Column {
    Column::plain(field, name, pg_type)
}

/// A custom object in a schema with capitals: both names need quoting.
fn invoice(access: Access) -> MirrorTable {
    MirrorTable {
        object: "Invoice__c".into(),
        schema: "Sales".into(),
        table: "invoice__c".into(),
        columns: vec![
            column("Id", "sfid", "varchar(18)"),
            column("SystemModstamp", "systemmodstamp", "timestamptz"),
            column("IsDeleted", "isdeleted", "boolean"),
            column("Name", "name", "varchar(80)"),
            column("Amount__c", "amount__c", "numeric(18,2)"),
        ],
        access,
    }
}

const LOG: &str = "\"Sales\"._trigger_log";

const READONLY_ONLY: &[&str] = &["orgpool_log(READONLY)"];
const BOTH: &[&str] = &["orgpool_log(NEW)", "orgpool_status()"];

/// The capture triggers on `t`, as `name(argument)`.
async fn triggers(pool: &PgPool, t: &MirrorTable) -> Vec<String> {
    let mut conn = pool.acquire().await.unwrap();
    let all = installed(&mut conn, t).await.unwrap();
    all.into_iter().map(|(n, a)| format!("{n}({a})")).collect()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn ensured(pool: &PgPool, t: &MirrorTable) {
    let mut conn = pool.acquire().await.unwrap();
    ensure(&mut conn, t).await.unwrap();
}

/// Rows written as orgpool writes them: through the write seam.
async fn synced(pool: &PgPool, t: &MirrorTable, ids: &[&str]) {
    let rows = ids
        .iter()
        .map(|id| {
            vec![
                Some(id.to_string()),
                Some("2026-01-01T00:00:00Z".into()),
                Some("false".into()),
                Some(format!("from org {id}")),
                Some("5.00".into()),
            ]
        })
        .collect();
    let mut tx = pool.begin().await.unwrap();
    apply(
        &mut tx,
        &ChangeSet::full(t, Rows::Values(rows), Deleted::Remove),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

type LogRow = (
    String,
    String,
    String,
    i32,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn log_rows(pool: &PgPool) -> Vec<LogRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT state::text, action::text, table_name::text, record_id, sfid::text, old, \"values\" FROM {LOG} ORDER BY id"
    )))
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn app_writes_are_logged_as_heroku_connect_logs_them_and_notify() {
    let (db, _, pool) = jobs_common::fresh_database("capture_sql").await;
    let t = invoice(Access::ReadWrite);
    ensured(&pool, &t).await;

    // Connect's columns, in its order.
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns
         WHERE table_schema = 'Sales' AND table_name = '_trigger_log' ORDER BY ordinal_position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        columns,
        [
            "id",
            "txid",
            "created_at",
            "updated_at",
            "processed_at",
            "processed_tx",
            "state",
            "action",
            "table_name",
            "record_id",
            "sfid",
            "old",
            "values",
            "sf_result",
            "sf_message"
        ]
    );

    let mut listener = PgListener::connect_with(&pool).await.unwrap();
    listener.listen(CHANNEL).await.unwrap();
    synced(&pool, &t, &["a0B000000000001AAA"]).await;

    // An app inserts a new record (no sfid yet), updates one column of a synced one,
    // then deletes it.
    let new_id: i32 = sqlx::query_scalar(
        "INSERT INTO \"Sales\".invoice__c (name, amount__c) VALUES ('Say \"hi\"', 12.50) RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE \"Sales\".invoice__c SET name = 'renamed' WHERE sfid = 'a0B000000000001AAA'",
    )
    .execute(&pool)
    .await
    .unwrap();
    // Touching only the status columns (or nothing) is no change.
    sqlx::query("UPDATE \"Sales\".invoice__c SET name = name WHERE id = $1")
        .bind(new_id)
        .execute(&pool)
        .await
        .unwrap();
    let lastops: Vec<(Option<String>, String)> =
        sqlx::query_as("SELECT sfid::text, _hc_lastop::text FROM \"Sales\".invoice__c ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        lastops,
        [
            (Some("a0B000000000001AAA".into()), "PENDING".into()),
            (None, "PENDING".into())
        ]
    );
    let synced_id: i32 =
        sqlx::query_scalar("SELECT id FROM \"Sales\".invoice__c WHERE sfid = 'a0B000000000001AAA'")
            .fetch_one(&pool)
            .await
            .unwrap();
    sqlx::query("DELETE FROM \"Sales\".invoice__c WHERE id = $1")
        .bind(synced_id)
        .execute(&pool)
        .await
        .unwrap();

    let log = log_rows(&pool).await;
    assert_eq!(log.len(), 3, "{log:#?}");
    let (state, action, table, record, sfid, old, values) = &log[0];
    assert_eq!(
        (
            state.as_str(),
            action.as_str(),
            table.as_str(),
            *record,
            sfid
        ),
        ("NEW", "INSERT", "invoice__c", new_id, &None)
    );
    assert_eq!(old, &None);
    // Every mapped column, as hstore text (keys sorted; quotes escaped; nulls bare).
    assert_eq!(
        values.as_deref(),
        Some(
            r#""amount__c"=>"12.50", "isdeleted"=>NULL, "name"=>"Say \"hi\"", "sfid"=>NULL, "systemmodstamp"=>NULL"#
        )
    );
    let hstore_ok: bool = sqlx::query_scalar(
        "SELECT to_regtype('hstore') IS NULL OR ($1::text)::hstore -> 'name' = 'Say \"hi\"'",
    )
    .bind(values)
    .fetch_one(&pool)
    .await
    .unwrap_or(true);
    assert!(hstore_ok, "parses as hstore where the extension is there");

    let (state, action, _, record, sfid, old, values) = &log[1];
    assert_eq!(
        (state.as_str(), action.as_str(), *record, sfid.as_deref()),
        ("NEW", "UPDATE", synced_id, Some("a0B000000000001AAA"))
    );
    assert_eq!(
        values.as_deref(),
        Some(r#""name"=>"renamed""#),
        "only the change"
    );
    assert!(
        old.as_deref()
            .unwrap()
            .contains(r#""name"=>"from org a0B000000000001AAA""#),
        "{old:?}"
    );

    let (state, action, _, record, sfid, old, values) = &log[2];
    assert_eq!(
        (state.as_str(), action.as_str(), *record, sfid.as_deref()),
        ("NEW", "DELETE", synced_id, Some("a0B000000000001AAA"))
    );
    assert_eq!(values, &None);
    assert!(old.as_deref().unwrap().contains(r#""name"=>"renamed""#));
    let (txid, created): (i64, bool) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT min(txid), bool_and(created_at IS NOT NULL AND updated_at IS NOT NULL AND processed_at IS NULL) FROM {LOG}"
    )))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(txid > 0 && created);

    // One notification per capturing transaction, naming the schema and table; the
    // synced write before them sent none.
    for _ in ["INSERT", "UPDATE", "DELETE"] {
        let n = tokio::time::timeout(Duration::from_secs(10), listener.recv())
            .await
            .expect("a notification")
            .unwrap();
        let payload: serde_json::Value = serde_json::from_str(n.payload()).unwrap();
        assert_eq!(
            payload,
            serde_json::json!({"schema": "Sales", "table": "invoice__c"})
        );
    }
    // Many rows in one transaction: one notification.
    sqlx::raw_sql(
        "BEGIN; INSERT INTO \"Sales\".invoice__c (name) SELECT 'bulk ' || g FROM generate_series(1, 50) g; SELECT pg_notify('orgpool_write_back', 'end'); COMMIT;",
    )
    .execute(&pool)
    .await
    .unwrap();
    let n = listener.recv().await.unwrap();
    let payload: serde_json::Value = serde_json::from_str(n.payload()).unwrap();
    assert_eq!(payload["table"], "invoice__c");
    let end = listener.recv().await.unwrap();
    assert_eq!(end.payload(), "end");
    // The listener holds a connection of the pool, which close would wait for.
    drop(listener);
    pool.close().await;
    jobs_common::drop_database(&db).await;
}

#[tokio::test]
async fn read_only_tables_log_readonly_and_switching_access_keeps_every_row() {
    let (db, _, pool) = jobs_common::fresh_database("capture_access").await;
    let ro = invoice(Access::ReadOnly);
    let rw = invoice(Access::ReadWrite);
    ensured(&pool, &ro).await;
    assert_eq!(triggers(&pool, &ro).await, READONLY_ONLY);
    synced(&pool, &ro, &["a0B000000000001AAA", "a0B000000000002AAA"]).await;
    let mut listener = PgListener::connect_with(&pool).await.unwrap();
    listener.listen(CHANNEL).await.unwrap();

    // An app write to a read_only table: logged READONLY (never sent), not PENDING.
    sqlx::query("UPDATE \"Sales\".invoice__c SET amount__c = 7 WHERE sfid = 'a0B000000000001AAA'")
        .execute(&pool)
        .await
        .unwrap();
    let log = log_rows(&pool).await;
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].0.as_str(), log[0].1.as_str()),
        ("READONLY", "UPDATE")
    );
    assert_eq!(log[0].6.as_deref(), Some(r#""amount__c"=>"7.00""#));
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM \"Sales\".invoice__c WHERE _hc_lastop = 'SYNCED'"
        )
        .await,
        2
    );

    // To read_write: both triggers, every row kept; a write is now NEW and PENDING.
    ensured(&pool, &rw).await;
    assert_eq!(triggers(&pool, &rw).await, BOTH);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM \"Sales\".invoice__c").await,
        2
    );
    sqlx::query("UPDATE \"Sales\".invoice__c SET amount__c = 8 WHERE sfid = 'a0B000000000002AAA'")
        .execute(&pool)
        .await
        .unwrap();
    // The READONLY write sent no notification: the first one is this write's.
    let n = tokio::time::timeout(Duration::from_secs(10), listener.recv())
        .await
        .expect("a notification")
        .unwrap();
    let payload: serde_json::Value = serde_json::from_str(n.payload()).unwrap();
    assert_eq!(payload["table"], "invoice__c");
    assert_eq!(
        count(
            &pool,
            &format!("SELECT count(*) FROM {LOG} WHERE state = 'NEW'")
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM \"Sales\".invoice__c WHERE _hc_lastop = 'PENDING'"
        )
        .await,
        1
    );

    // Back to read_only: the status trigger goes, rows (and the log) stay.
    ensured(&pool, &ro).await;
    assert_eq!(triggers(&pool, &ro).await, READONLY_ONLY);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM \"Sales\".invoice__c").await,
        2
    );
    assert_eq!(
        count(&pool, &format!("SELECT count(*) FROM {LOG}")).await,
        2
    );
    sqlx::query("DELETE FROM \"Sales\".invoice__c WHERE sfid = 'a0B000000000002AAA'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        count(
            &pool,
            &format!("SELECT count(*) FROM {LOG} WHERE state = 'READONLY'")
        )
        .await,
        2
    );
    drop(listener);
    pool.close().await;
    jobs_common::drop_database(&db).await;
}

#[tokio::test]
async fn processed_rows_are_archived_and_the_archive_pruned_past_retention() {
    let (db, _, pool) = jobs_common::fresh_database("capture_archive").await;
    let t = invoice(Access::ReadWrite);
    ensured(&pool, &t).await;
    // Log rows as write-back will leave them: pending, done an hour ago, done just now.
    for (state, age) in [
        ("NEW", "2 hours"),
        ("PENDING", "2 hours"),
        ("SUCCESS", "2 hours"),
        ("FAILED", "3 hours"),
        ("IGNORED", "2 hours"),
        ("READONLY", "2 hours"),
        ("SUCCESS", "1 minute"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {LOG} (state, action, table_name, record_id, created_at, updated_at)
             VALUES ($1, 'UPDATE', 'invoice__c', 1, now() - $2::interval, now() - $2::interval)"
        )))
        .bind(state)
        .bind(age)
        .execute(&pool)
        .await
        .unwrap();
    }
    // An archived row past the retention, and one within it.
    sqlx::query(
        "INSERT INTO \"Sales\"._trigger_log_archive (id, state, action, created_at)
         VALUES (900, 'SUCCESS', 'INSERT', now() - interval '31 days'),
                (901, 'SUCCESS', 'INSERT', now() - interval '29 days')",
    )
    .execute(&pool)
    .await
    .unwrap();

    let mut conn = pool.acquire().await.unwrap();
    let a = capture::archive(&mut conn, "Sales", 30, 2).await.unwrap();
    assert_eq!((a.moved, a.pruned), (2, 1), "a batch at most");
    let a = capture::archive(&mut conn, "Sales", 30, 100).await.unwrap();
    assert_eq!((a.moved, a.pruned), (2, 0));
    let a = capture::archive(&mut conn, "Sales", 30, 100).await.unwrap();
    assert_eq!((a.moved, a.pruned), (0, 0));
    // No mirror table in a schema: nothing to do.
    let a = capture::archive(&mut conn, "nothing_here", 30, 100)
        .await
        .unwrap();
    assert_eq!((a.moved, a.pruned), (0, 0));
    drop(conn);
    let live: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT state::text FROM {LOG} ORDER BY id"
    )))
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(live, ["NEW", "PENDING", "SUCCESS"]);
    let archived: Vec<(i32, String)> =
        sqlx::query_as("SELECT id, state::text FROM \"Sales\"._trigger_log_archive ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let states: Vec<&str> = archived.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        states,
        ["SUCCESS", "FAILED", "IGNORED", "READONLY", "SUCCESS"]
    );
    assert_eq!(archived.last().unwrap().0, 901, "kept within the retention");

    let bad = orgpool::settings::Vars::new([(
        capture::archive::RETENTION_SETTING.to_string(),
        "0".to_string(),
    )]);
    let err = capture::archive::retention_days(&bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ORGPOOL_TRIGGER_LOG_RETENTION_DAYS"), "{err}");
    assert_eq!(
        capture::archive::retention_days(&orgpool::settings::Vars::default()).unwrap(),
        30
    );
    pool.close().await;
    jobs_common::drop_database(&db).await;
}

const RW: &str = r#"
[[mapping]]
object = "Contact"
fields = ["LastName"]
chunk_size = 1000
poll_interval = "60m"
access = "read_write"
# The fake org's Contact has no External ID field.
allow_insert_without_upsert_field = true
"#;

fn org() -> FakeOrgConfig {
    FakeOrgConfig {
        seed: SeedConfig {
            accounts: 10,
            contacts_per_account: 3,
            opportunities: 0,
            lines_per_opportunity: 0,
            ..Default::default()
        },
        bulk_delay: Duration::from_millis(5),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_resync_reconcile_and_reload_capture_nothing() {
    let h = Harness::new("capture_jobs", org(), RW).await;
    let run = h.start(&INITIAL_LOAD, "Contact").await;
    assert_eq!(h.drive(run).await, "succeeded");
    assert_eq!(h.count("SELECT count(*) FROM salesforce.contact").await, 30);
    let ids: Vec<String> = sqlx::query_scalar("SELECT sfid FROM salesforce.contact ORDER BY sfid")
        .fetch_all(&h.pool)
        .await
        .unwrap();

    // The org changes: an update, a delete (resync), a hard delete (reconcile).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    h.org.with_store_mut(|s| {
        let obj = s.schema.index("Contact").unwrap();
        let field = s.schema.objects[obj]
            .fields
            .iter()
            .position(|f| f.name == "LastName")
            .unwrap();
        let assigns = vec![Assign {
            field,
            input: Input::Value(Value::text("changed in the org")),
        }];
        s.update(obj, RecordId::parse(&ids[0]).unwrap(), assigns, None)
            .unwrap();
        s.delete(obj, RecordId::parse(&ids[1]).unwrap()).unwrap();
    });
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let run = h.start(&RESYNC, "Contact").await;
    assert_eq!(h.drive(run).await, "succeeded");
    assert_eq!(
        h.count("SELECT count(*) FROM salesforce.contact WHERE lastname = 'changed in the org'")
            .await,
        1
    );
    h.org.with_store_mut(|s| {
        let obj = s.schema.index("Contact").unwrap();
        s.hard_delete(obj, RecordId::parse(&ids[5]).unwrap())
            .unwrap();
    });
    let run = h.start(&RECONCILE, "Contact").await;
    assert_eq!(h.drive(run).await, "succeeded");
    assert_eq!(h.count("SELECT count(*) FROM salesforce.contact").await, 28);
    let run = h.start(&RELOAD, "Contact").await;
    assert_eq!(h.drive(run).await, "succeeded");

    assert_eq!(
        h.count("SELECT count(*) FROM salesforce._trigger_log")
            .await,
        0,
        "orgpool's own writes are never captured"
    );
    assert_eq!(
        h.count(
            "SELECT count(*) FROM salesforce.contact WHERE _hc_lastop IS DISTINCT FROM 'SYNCED'"
        )
        .await,
        0
    );
    // The reloaded table carries the triggers: an app's write is captured.
    let t = MirrorTable {
        object: "Contact".into(),
        schema: "salesforce".into(),
        table: "contact".into(),
        columns: Vec::new(),
        access: Access::ReadWrite,
    };
    assert_eq!(triggers(&h.pool, &t).await, BOTH);
    sqlx::query("UPDATE salesforce.contact SET lastname = 'by the app' WHERE sfid = $1")
        .bind(&ids[2])
        .execute(&h.pool)
        .await
        .unwrap();
    assert_eq!(
        h.count("SELECT count(*) FROM salesforce._trigger_log WHERE state = 'NEW' AND action = 'UPDATE' AND table_name = 'contact'")
            .await,
        1
    );

    // A scheduler pass archives processed rows (write-back's, aged here by hand).
    sqlx::query(
        "UPDATE salesforce._trigger_log SET state = 'SUCCESS', updated_at = now() - interval '2 hours'",
    )
    .execute(&h.pool)
    .await
    .unwrap();
    orgpool::scheduler::tick(
        &h.services,
        &h.mappings.mapping,
        Duration::from_secs(86_400),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            h.count("SELECT count(*) FROM salesforce._trigger_log")
                .await,
            h.count("SELECT count(*) FROM salesforce._trigger_log_archive WHERE state = 'SUCCESS'")
                .await
        ),
        (0, 1)
    );
    h.close().await;
}

/// The example schema's custom objects (`Invoice__c`), a tiny seed.
fn custom_org() -> FakeOrgConfig {
    FakeOrgConfig {
        schema_file: Some(
            concat!(env!("CARGO_MANIFEST_DIR"), "/examples/fake-org-schema.toml").into(),
        ),
        seed: SeedConfig {
            accounts: 2,
            opportunities: 0,
            lines_per_opportunity: 0,
            ..Default::default()
        },
        ..Default::default()
    }
}

const INVOICES: &str = r#"
[[mapping]]
object = "Invoice__c"
fields = ["Name", "Number__c"]
schema = "Sales"
access = "read_write"
upsert_field = "Number__c"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_write_custom_object_in_a_quoted_schema_is_captured_and_checked() {
    let h = Harness::new("capture_custom", custom_org(), INVOICES).await;
    let run = h.start(&INITIAL_LOAD, "Invoice__c").await;
    assert_eq!(h.drive(run).await, "succeeded");
    sqlx::query("INSERT INTO \"Sales\".invoice__c (name, number__c) VALUES ('INV-1', 'N-1')")
        .execute(&h.pool)
        .await
        .unwrap();
    let (state, action, table): (String, String, String) = sqlx::query_as(
        "SELECT state::text, action::text, table_name::text FROM \"Sales\"._trigger_log",
    )
    .fetch_one(&h.pool)
    .await
    .unwrap();
    assert_eq!(
        (state.as_str(), action.as_str(), table.as_str()),
        ("NEW", "INSERT", "invoice__c")
    );
    h.close().await;

    // `mappings check` accepts it, with no warning now that write-back exists.
    let env = jobs_common::Env::new("capture_check", custom_org(), INVOICES).await;
    let out = env.run(&["mappings", "check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("not built yet"), "{stderr}");
}

#[tokio::test]
async fn a_table_without_the_system_columns_gets_them_and_is_captured() {
    let (db, _, pool) = jobs_common::fresh_database("capture_columns").await;
    // As a table made by hand might be: no `id`, no `_hc_err`.
    for sql in [
        "CREATE SCHEMA \"Sales\"",
        "CREATE TABLE \"Sales\".invoice__c (sfid varchar(18) COLLATE \"C\" UNIQUE, systemmodstamp timestamptz, isdeleted boolean, name varchar(80), amount__c numeric(18,2), _hc_lastop varchar(32))",
        "INSERT INTO \"Sales\".invoice__c (sfid, name) VALUES ('a0B000000000001AAA', 'old')",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .unwrap();
    }
    ensured(&pool, &invoice(Access::ReadWrite)).await;
    sqlx::query("UPDATE \"Sales\".invoice__c SET name = 'new'")
        .execute(&pool)
        .await
        .unwrap();
    let (record, lastop, err): (i32, String, Option<String>) =
        sqlx::query_as("SELECT id, _hc_lastop::text, _hc_err FROM \"Sales\".invoice__c")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((lastop.as_str(), err), ("PENDING", None));
    let log = log_rows(&pool).await;
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].1.as_str(), log[0].3), ("UPDATE", record));
    pool.close().await;
    jobs_common::drop_database(&db).await;
}
