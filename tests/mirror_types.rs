//! Every field type round-trips exactly through the job system (Bulk CSV, COPY, merge),
//! in both `column_types` modes: quotes, commas, newlines and unicode in text, empty
//! versus null, maximum lengths, numeric precision and scale, dates, datetimes and
//! times, booleans; objects and fields named like SQL keywords (`Order`, `Select__c`)
//! work. In `heroku_connect` mode the columns have Heroku Connect's types and its index
//! names, numbers read back as `f64` and datetimes as naive UTC; and switching an
//! existing table between the modes converts it in place, keeping every row.

mod jobs_common;

use chrono::NaiveDateTime;
use jobs_common::{Env, example_schema_org, seeded_org};
use orgpool::fake_org::FakeOrgConfig;
use serde_json::json;

const MAPPINGS: &str = r#"
[[mapping]]
object = "Invoice__c"
fields = "all"

[[mapping]]
object = "Order"
fields = ["Select__c"]
"#;

fn org() -> FakeOrgConfig {
    example_schema_org(3)
}

/// Text of every mapped column as Postgres prints it, times in UTC.
async fn row(env: &Env, sfid: &str, mode: Mode) -> serde_json::Value {
    // A timestamptz is shown in UTC; a Heroku Connect timestamp is UTC already.
    let stamp = match mode {
        Mode::Exact => "sent_at__c AT TIME ZONE 'UTC'",
        Mode::HerokuConnect => "sent_at__c",
    };
    let (v,): (serde_json::Value,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT to_jsonb(r) FROM (SELECT number__c, notes__c, status__c, tags__c, channel__c, paid__c,
                lines__c::text AS lines__c, weight__c::text AS weight__c, total__c::text AS total__c,
                tax_rate__c::text AS tax_rate__c, due__c::text AS due__c,
                to_char({stamp}, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS sent_at__c,
                cutoff__c::text AS cutoff__c, contact_email__c, phone__c, portal__c, iban__c
         FROM salesforce.invoice__c WHERE sfid = $1) r"
    )))
    .bind(sfid)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    v
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Exact,
    HerokuConnect,
}

/// `column -> data type` of the Invoice__c table.
async fn types(env: &Env) -> std::collections::BTreeMap<String, String> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = 'salesforce' AND table_name = 'invoice__c'",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    rows.into_iter().collect()
}

/// Index names of a table, sorted.
async fn index_names(env: &Env, table: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'salesforce' AND tablename = $1 ORDER BY 1",
    )
    .bind(table)
    .fetch_all(&env.pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_type_round_trips_exactly() {
    round_trip(Mode::Exact).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_type_round_trips_in_heroku_connect_types() {
    round_trip(Mode::HerokuConnect).await;
}

async fn round_trip(mode: Mode) {
    let file = match mode {
        Mode::Exact => format!("column_types = \"exact\"\n{MAPPINGS}"),
        Mode::HerokuConnect => format!("column_types = \"heroku_connect\"\n{MAPPINGS}"),
    };
    let name = match mode {
        Mode::Exact => "types",
        Mode::HerokuConnect => "types_hc",
    };
    let mut env = Env::new(name, org(), &file).await;
    let client = env.client().await;
    let account: Vec<serde_json::Value> = {
        use futures::TryStreamExt;
        client
            .query(
                "SELECT Id FROM Account LIMIT 1",
                orgpool::salesforce::Scope::Live,
            )
            .try_collect()
            .await
            .unwrap()
    };
    let account = account[0]["Id"].as_str().unwrap().to_string();
    // Numbers travel as JSON doubles through REST, so the inputs keep to 15 significant
    // digits; the Bulk CSV and the mirror's numeric columns carry them exactly.
    let full = json!({
        "Name": "INV-1", "Account__c": account, "Number__c": "N".repeat(40),
        "Notes__c": "He said \"hi\", then left;\nnew line\r\nand ünïcødé ✓ 日本",
        "Status__c": "Sent", "Tags__c": "Urgent;Export", "Channel__c": "Phone", "Paid__c": true,
        "Lines__c": 999999, "Weight__c": -1234567.891, "Total__c": 9999999999999.99,
        "Tax_Rate__c": 999.99, "Due__c": "2028-02-29", "Sent_At__c": "2026-03-01T10:30:15.123Z",
        "Cutoff__c": "23:59:59.999Z", "Contact_Email__c": "a.b+c@example.com",
        "Phone__c": "+1 (555) 010-9999", "Portal__c": "https://example.com/a?b=c&d=e",
        "Iban__c": "DE89370400440532013000",
    });
    let empty = json!({
        "Name": "INV-2", "Account__c": account, "Number__c": "empty", "Notes__c": "", "Paid__c": false,
        "Lines__c": -5, "Weight__c": 0.001, "Total__c": 0, "Tax_Rate__c": -0.5,
    });
    let saved = client
        .create_records("Invoice__c", &[full, empty])
        .await
        .unwrap();
    let ids: Vec<String> = saved
        .iter()
        .map(|s| s.id.clone().unwrap_or_else(|| panic!("not created: {s:?}")))
        .collect();
    let order = client
        .create_records(
            "Order",
            &[json!({"Name": "O-1", "Select__c": "from \"where\""})],
        )
        .await
        .unwrap();
    let order_id = order[0]
        .id
        .clone()
        .unwrap_or_else(|| panic!("not created: {order:?}"));

    env.spawn(&["worker"], &[]);
    let out = env.ok(&["enqueue", "initial-load", "--all", "--wait"]);
    assert_eq!(out.matches("succeeded").count(), 2, "{out}");

    let got = row(&env, &ids[0], mode).await;
    let mut want = json!({
        "number__c": "N".repeat(40),
        "notes__c": "He said \"hi\", then left;\nnew line\r\nand ünïcødé ✓ 日本",
        "status__c": "Sent", "tags__c": "Urgent;Export", "channel__c": "Phone", "paid__c": true,
        "lines__c": "999999", "weight__c": "-1234567.891", "total__c": "9999999999999.99",
        "tax_rate__c": "999.99", "due__c": "2028-02-29", "sent_at__c": "2026-03-01T10:30:15.123Z",
        "cutoff__c": "23:59:59.999", "contact_email__c": "a.b+c@example.com",
        "phone__c": "+1 (555) 010-9999", "portal__c": "https://example.com/a?b=c&d=e",
        "iban__c": "DE89370400440532013000",
    });
    if mode == Mode::HerokuConnect {
        // double precision prints the shortest text that reads back as the same f64.
        want["total__c"] = json!("9999999999999.99");
    }
    assert_eq!(got, want, "{}", env.logs());
    if mode == Mode::HerokuConnect {
        heroku_connect_values(&env, &ids[0]).await;
    }
    // Salesforce stores an empty text as null, and so does the mirror; unset fields are null.
    let got = row(&env, &ids[1], mode).await;
    assert_eq!(got["notes__c"], serde_json::Value::Null, "{got}");
    assert_eq!(got["due__c"], serde_json::Value::Null, "{got}");
    assert_eq!(
        got["status__c"], "Draft",
        "the picklist default applies: {got}"
    );
    assert_eq!(
        (got["paid__c"].clone(), got["lines__c"].clone()),
        (json!(false), json!("-5"))
    );
    let small = match mode {
        Mode::Exact => (json!("0.001"), json!("0.00"), json!("-0.50")),
        Mode::HerokuConnect => (json!("0.001"), json!("0"), json!("-0.5")),
    };
    assert_eq!(
        (
            got["weight__c"].clone(),
            got["total__c"].clone(),
            got["tax_rate__c"].clone()
        ),
        small
    );

    // Unreadable types are left out; keyword-named object and field work.
    let (cols,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'salesforce' AND table_name = 'invoice__c' AND column_name IN ('scan__c', 'site__c')",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(cols, 0);
    let (sel,): (String,) =
        sqlx::query_as("SELECT select__c FROM salesforce.\"order\" WHERE sfid = $1")
            .bind(&order_id)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(sel, "from \"where\"");
}

/// Heroku Connect's types, values as an app's driver reads them, and its index names.
async fn heroku_connect_values(env: &Env, sfid: &str) {
    let t = types(env).await;
    for c in ["weight__c", "total__c", "tax_rate__c"] {
        assert_eq!(t[c], "double precision", "{c}: {t:?}");
    }
    assert_eq!(t["sent_at__c"], "timestamp without time zone", "{t:?}");
    assert_eq!(t["systemmodstamp"], "timestamp without time zone", "{t:?}");
    assert_eq!(t["notes__c"], "text", "a long text area: {t:?}");
    assert_eq!(t["number__c"], "character varying", "{t:?}");
    let (weight, total, tax, sent): (f64, f64, f64, NaiveDateTime) = sqlx::query_as(
        "SELECT weight__c, total__c, tax_rate__c, sent_at__c FROM salesforce.invoice__c WHERE sfid = $1",
    )
    .bind(sfid)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        (weight, total, tax),
        (-1234567.891, 9999999999999.99, 999.99)
    );
    let utc =
        NaiveDateTime::parse_from_str("2026-03-01 10:30:15.123", "%Y-%m-%d %H:%M:%S%.3f").unwrap();
    assert_eq!(sent, utc, "naive, in UTC");
    let names = index_names(env, "invoice__c").await;
    for n in [
        "hcu_idx_invoice__c_sfid",
        "hc_idx_invoice__c_systemmodstamp",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
    }
}

fn account_mapping(mode: &str) -> String {
    format!(
        "column_types = \"{mode}\"\n[[mapping]]\nobject = \"Account\"\nfields = [\"Name\", \"AnnualRevenue\", \"Description\", \"CreatedDate\"]\nindexes = [\"Name\"]\npoll_interval = \"60m\"\n"
    )
}

/// Every row as `(sfid, annualrevenue, createddate in UTC)`, whatever the column types.
async fn account_rows(pool: &sqlx::PgPool) -> Vec<(String, Option<f64>, Option<String>)> {
    sqlx::query_as(
        "SELECT sfid, annualrevenue::float8,
                to_char(CASE WHEN pg_typeof(createddate)::text = 'timestamp with time zone'
                             THEN createddate::text::timestamptz AT TIME ZONE 'UTC'
                             ELSE createddate::text::timestamp END, 'YYYY-MM-DD HH24:MI:SS.MS')
         FROM salesforce.account ORDER BY sfid",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn account_types(pool: &sqlx::PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = 'salesforce' AND table_name = 'account'
           AND column_name IN ('annualrevenue', 'createddate', 'description', 'systemmodstamp')
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn account_indexes(pool: &sqlx::PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'salesforce' AND tablename = 'account' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_column_types_converts_the_table_in_place_and_renames_old_indexes() {
    use jobs_common::harness::Harness;
    use orgpool::jobs::registry::{INITIAL_LOAD, RELOAD, RESYNC};
    let org = seeded_org(20, 0, 0);
    let h = Harness::new("types_switch", org, &account_mapping("exact")).await;
    let run = h.start(&INITIAL_LOAD, "Account").await;
    assert_eq!(h.drive(run).await, "succeeded");
    let before = account_rows(&h.pool).await;
    assert_eq!(before.len(), 20);
    assert!(before.iter().any(|r| r.1.is_some()) && before.iter().all(|r| r.2.is_some()));
    let hc_names = [
        "account_pkey",
        "hc_idx_account_name",
        "hc_idx_account_systemmodstamp",
        "hcu_idx_account_sfid",
    ];
    assert_eq!(account_indexes(&h.pool).await, hc_names);

    // A table made by an older orgpool: Postgres's default index names, and an
    // unnamed index on a column now listed in `indexes`.
    for sql in [
        "ALTER INDEX salesforce.hcu_idx_account_sfid RENAME TO account_sfid_key",
        "ALTER INDEX salesforce.hc_idx_account_systemmodstamp RENAME TO account_systemmodstamp_idx",
        "ALTER INDEX salesforce.hc_idx_account_name RENAME TO account_name_idx",
    ] {
        sqlx::query(sql).execute(&h.pool).await.unwrap();
    }

    // The mapping switches to Heroku Connect's types: the next run converts the
    // columns, keeps every row and value, and renames the indexes (no duplicates).
    let switch = |mode: &str| {
        let file = orgpool::mirror::MappingsFile::parse("m.toml", &account_mapping(mode)).unwrap();
        let pool = h.pool.clone();
        async move {
            orgpool::scheduler::catalog::record(&pool, &file.mapping)
                .await
                .unwrap()
        }
    };
    switch("heroku_connect").await;
    let run = h.start(&RESYNC, "Account").await;
    assert_eq!(h.drive(run).await, "succeeded");
    assert_eq!(
        account_types(&h.pool).await,
        [
            ("annualrevenue".into(), "double precision".into()),
            ("createddate".into(), "timestamp without time zone".into()),
            ("description".into(), "text".into()),
            (
                "systemmodstamp".into(),
                "timestamp without time zone".into()
            ),
        ]
    );
    assert_eq!(account_rows(&h.pool).await, before);
    assert_eq!(account_indexes(&h.pool).await, hc_names);

    // And back to exact.
    switch("exact").await;
    let run = h.start(&RESYNC, "Account").await;
    assert_eq!(h.drive(run).await, "succeeded");
    let exact: Vec<(String, String)> = account_types(&h.pool).await;
    assert_eq!(exact[0].1, "numeric");
    assert_eq!(exact[1].1, "timestamp with time zone");
    assert_eq!(account_rows(&h.pool).await, before);

    // A reload swaps a new table in under the same index names.
    let run = h.start(&RELOAD, "Account").await;
    assert_eq!(h.drive(run).await, "succeeded");
    assert_eq!(account_indexes(&h.pool).await, hc_names);
    assert_eq!(account_rows(&h.pool).await, before);
    h.close().await;
}
