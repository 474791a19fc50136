//! Every field type round-trips exactly through the job system (Bulk CSV, COPY, merge):
//! quotes, commas, newlines and unicode in text, empty versus null, maximum lengths,
//! numeric precision and scale, dates, datetimes and times, booleans; and objects and
//! fields named like SQL keywords (`Order`, `Select__c`) work.

mod jobs_common;

use jobs_common::Env;
use orgpool::fake_org::{FakeOrgConfig, SeedConfig};
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
    FakeOrgConfig {
        schema_file: Some(
            concat!(env!("CARGO_MANIFEST_DIR"), "/examples/fake-org-schema.toml").into(),
        ),
        seed: SeedConfig {
            accounts: 3,
            opportunities: 0,
            lines_per_opportunity: 0,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Text of every mapped column as Postgres prints it, times in UTC.
async fn row(env: &Env, sfid: &str) -> serde_json::Value {
    let (v,): (serde_json::Value,) = sqlx::query_as(
        "SELECT to_jsonb(r) FROM (SELECT number__c, notes__c, status__c, tags__c, channel__c, paid__c,
                lines__c::text AS lines__c, weight__c::text AS weight__c, total__c::text AS total__c,
                tax_rate__c::text AS tax_rate__c, due__c::text AS due__c,
                to_char(sent_at__c AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS sent_at__c,
                cutoff__c::text AS cutoff__c, contact_email__c, phone__c, portal__c, iban__c
         FROM salesforce.invoice__c WHERE sfid = $1) r",
    )
    .bind(sfid)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_type_round_trips_exactly() {
    let mut env = Env::new("types", org(), MAPPINGS).await;
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

    let got = row(&env, &ids[0]).await;
    let want = json!({
        "number__c": "N".repeat(40),
        "notes__c": "He said \"hi\", then left;\nnew line\r\nand ünïcødé ✓ 日本",
        "status__c": "Sent", "tags__c": "Urgent;Export", "channel__c": "Phone", "paid__c": true,
        "lines__c": "999999", "weight__c": "-1234567.891", "total__c": "9999999999999.99",
        "tax_rate__c": "999.99", "due__c": "2028-02-29", "sent_at__c": "2026-03-01T10:30:15.123Z",
        "cutoff__c": "23:59:59.999", "contact_email__c": "a.b+c@example.com",
        "phone__c": "+1 (555) 010-9999", "portal__c": "https://example.com/a?b=c&d=e",
        "iban__c": "DE89370400440532013000",
    });
    assert_eq!(got, want, "{}", env.logs());
    // Salesforce stores an empty text as null, and so does the mirror; unset fields are null.
    let got = row(&env, &ids[1]).await;
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
    assert_eq!(
        (
            got["weight__c"].clone(),
            got["total__c"].clone(),
            got["tax_rate__c"].clone()
        ),
        (json!("0.001"), json!("0.00"), json!("-0.50"))
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
