//! Relationship external-Id columns through the real job path (in-process runner, real
//! Postgres, the fake org): Contact maps `Account.External_Id__c` and a custom object
//! maps Heroku Connect's spelling `account__r__external_id__c`; the Bulk query reads
//! the path (its CSV header is the path), the loader puts the parent's External ID in
//! the column, null without a parent or without an External ID; resync follows a
//! child moved to another parent; a parent's new External ID (which does not touch
//! the children's SystemModstamp) arrives with a reload; the ledger records the
//! column's relationship and write flags.

mod jobs_common;

use std::time::Duration;

use jobs_common::harness::Harness;
use orgpool::fake_org::ids::RecordId;
use orgpool::fake_org::value::Value;
use orgpool::fake_org::{FakeOrgConfig, SeedConfig};
use orgpool::jobs::registry::{INITIAL_LOAD, RELOAD, RESYNC};
use orgpool::mirror::{Column, Relationship};

/// Account gains an External ID; Project__c looks Accounts up through `Account__r`.
const SCHEMA: &str = r#"
[[field]]
object = "Account"
name = "External_Id__c"
type = "string"
length = 80
unique = true
external_id = true

[[object]]
name = "Project__c"
key_prefix = "a05"

  [[object.field]]
  name = "Account__c"
  type = "reference"
  reference_to = "Account"
"#;

const MAPPINGS: &str = r#"
[[mapping]]
object = "Contact"
fields = ["LastName", "AccountId", "Account.External_Id__c"]
chunk_size = 1000
poll_interval = "60m"

[[mapping]]
object = "Project__c"
fields = ["Name", "account__r__external_id__c"]
chunk_size = 1000
poll_interval = "60m"
"#;

const ACCOUNTS: u64 = 4;

fn org() -> FakeOrgConfig {
    let path = std::env::temp_dir().join(format!(
        "orgpool-map-relationship-{}.toml",
        std::process::id()
    ));
    std::fs::write(&path, SCHEMA).unwrap();
    FakeOrgConfig {
        schema_file: Some(path),
        seed: SeedConfig {
            accounts: ACCOUNTS,
            contacts_per_account: 2,
            products: 0,
            opportunities: 0,
            lines_per_opportunity: 0,
            ..Default::default()
        },
        bulk_delay: Duration::from_millis(5),
        ..Default::default()
    }
}

/// The seeded Accounts' Ids (`001`, seq 1..).
fn account(seq: u64) -> RecordId {
    RecordId::new(*b"001", seq)
}

/// `(lastname, accountid, account__r__external_id__c)` of every Contact row.
async fn contacts(h: &Harness) -> Vec<(String, Option<String>, Option<String>)> {
    sqlx::query_as(
        "SELECT lastname::text, accountid::text, account__r__external_id__c::text
         FROM salesforce.contact ORDER BY lastname, sfid",
    )
    .fetch_all(&h.pool)
    .await
    .unwrap()
}

/// The External ID each Contact's row should hold, from its `accountid`.
fn expected_ext(accountid: &Option<String>, ext: &dyn Fn(u64) -> Option<String>) -> Option<String> {
    let id = RecordId::parse(accountid.as_deref()?)?;
    ext(id.seq())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relationship_columns_hold_the_parents_external_id() {
    let h = Harness::new("map_relationship", org(), MAPPINGS).await;
    // Every Account but the last gets an External ID; a Contact without an Account and
    // two Projects join the seeded records.
    let ext = |seq: u64| (seq < ACCOUNTS).then(|| format!("EXT-{seq}"));
    let (lone, moved) = h.org.with_store_mut(|s| {
        let acc = s.schema.index("Account").unwrap();
        for seq in 1..ACCOUNTS {
            let a = s.assigns(acc, &[("External_Id__c", Value::text(&ext(seq).unwrap()))]);
            s.update(acc, account(seq), a, None).unwrap();
        }
        let con = s.schema.index("Contact").unwrap();
        let a = s.assigns(con, &[("LastName", Value::text("Alone"))]);
        let lone = s.create(con, a, None).unwrap();
        let a = s.assigns(
            con,
            &[
                ("LastName", Value::text("Mover")),
                ("AccountId", Value::Id(account(1))),
            ],
        );
        let moved = s.create(con, a, None).unwrap();
        let p = s.schema.index("Project__c").unwrap();
        for (name, seq) in [("Bridge", 2), ("Tunnel", ACCOUNTS)] {
            let a = s.assigns(
                p,
                &[
                    ("Name", Value::text(name)),
                    ("Account__c", Value::Id(account(seq))),
                ],
            );
            s.create(p, a, None).unwrap();
        }
        (lone.to_string(), moved.to_string())
    });

    let run = h.start(&INITIAL_LOAD, "Contact").await;
    assert_eq!(h.drive(run).await, "succeeded");
    let rows = contacts(&h).await;
    assert_eq!(rows.len() as u64, ACCOUNTS * 2 + 2);
    for (name, accountid, got) in &rows {
        assert_eq!(
            got,
            &expected_ext(accountid, &ext),
            "{name} of {accountid:?}"
        );
    }
    assert_eq!(
        h.count(
            "SELECT count(*) FROM salesforce.contact WHERE account__r__external_id__c IS NOT NULL"
        )
        .await as u64,
        (ACCOUNTS - 1) * 2 + 1,
        "null for the Account without one and for the Contact without an Account"
    );
    assert_eq!(
        h.count(&format!(
            "SELECT count(*) FROM salesforce.contact WHERE sfid = '{lone}' AND accountid IS NULL AND account__r__external_id__c IS NULL"
        ))
        .await,
        1
    );

    // The ledger keeps the column's field path, relationship and the lookup's flags.
    let stored: serde_json::Value =
        sqlx::query_scalar("SELECT columns FROM orgpool.mappings WHERE object = 'Contact'")
            .fetch_one(&h.pool)
            .await
            .unwrap();
    let columns: Vec<Column> = serde_json::from_value(stored).unwrap();
    let rel = columns
        .iter()
        .find(|c| c.name == "account__r__external_id__c")
        .expect("the relationship column is recorded");
    assert_eq!(
        (
            rel.field.as_str(),
            rel.pg_type.as_str(),
            rel.create,
            rel.update
        ),
        ("Account.External_Id__c", "varchar(255)", true, true)
    );
    assert_eq!(
        rel.relationship,
        Some(Relationship {
            lookup: "AccountId".into(),
            name: "Account".into(),
            external_id: "External_Id__c".into(),
        })
    );
    let sfid = columns.iter().find(|c| c.name == "sfid").unwrap();
    assert!(!sfid.create && !sfid.update && sfid.relationship.is_none());

    // A Contact moved to another Account is a change of the Contact: resync brings
    // the new parent's External ID. A parent's new External ID is not (the child's
    // SystemModstamp stays), so it arrives with a reload.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    h.org.with_store_mut(|s| {
        let con = s.schema.index("Contact").unwrap();
        let a = s.assigns(con, &[("AccountId", Value::Id(account(3)))]);
        s.update(con, RecordId::parse(&moved).unwrap(), a, None)
            .unwrap();
        let acc = s.schema.index("Account").unwrap();
        let a = s.assigns(acc, &[("External_Id__c", Value::text("EXT-2-NEW"))]);
        s.update(acc, account(2), a, None).unwrap();
    });
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let run = h.start(&RESYNC, "Contact").await;
    assert_eq!(h.drive(run).await, "succeeded");
    let ext_of = |sql: String| {
        let pool = h.pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(sql))
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        ext_of(format!(
            "SELECT account__r__external_id__c::text FROM salesforce.contact WHERE sfid = '{moved}'"
        ))
        .await
        .as_deref(),
        Some("EXT-3")
    );
    let stale = format!(
        "SELECT count(*) FROM salesforce.contact WHERE accountid = '{}' AND account__r__external_id__c = 'EXT-2'",
        account(2)
    );
    assert_eq!(
        h.count(&stale).await,
        2,
        "children untouched keep the old value"
    );
    let run = h.start(&RELOAD, "Contact").await;
    assert_eq!(h.drive(run).await, "succeeded");
    assert_eq!(h.count(&stale).await, 0);
    assert_eq!(
        h.count(
            "SELECT count(*) FROM salesforce.contact WHERE account__r__external_id__c = 'EXT-2-NEW'"
        )
        .await,
        2
    );

    // Heroku Connect's spelling on a custom lookup: the same kind of column.
    let run = h.start(&INITIAL_LOAD, "Project__c").await;
    assert_eq!(h.drive(run).await, "succeeded");
    let projects: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT name::text, account__r__external_id__c::text FROM salesforce.project__c ORDER BY name",
    )
    .fetch_all(&h.pool)
    .await
    .unwrap();
    assert_eq!(
        projects,
        [
            ("Bridge".to_string(), Some("EXT-2-NEW".to_string())),
            ("Tunnel".to_string(), None),
        ]
    );
    h.close().await;
}
