//! The demo's write-back step, on the in-process fake org only: Account is made
//! read_write for the demo (an External ID `Demo_Key__c` added to the fake org's
//! Account through a schema file, and the mappings file copied with Account's
//! `access = "read_write"` and `upsert_field`), then the app writes to
//! `salesforce.account` with plain SQL (two inserts and an update of a loaded record,
//! then an update and a delete of the new ones), the demo waits until their
//! `_trigger_log` rows are `SUCCESS`, and reads the records back through the org's REST
//! API for the summary.
//!
//! The user's `jobs/mappings.toml` is never changed: a real org has no `Demo_Key__c`,
//! and a demo against one (`SALESFORCE_LOGIN_URL`) skips this step.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use sqlx::PgPool;

use super::DevError;
use crate::salesforce::{Client, Scope};

/// The External ID the demo's Account mapping upserts by.
pub const UPSERT_FIELD: &str = "Demo_Key__c";

/// The fake org schema file the demo starts its org with.
const SCHEMA: &str = r#"# orgpool demo: an External ID on Account, so the app's new Accounts are upserted
# by it (a read_write mapping needs one; a retried insert never creates twice).
[[field]]
object = "Account"
name = "Demo_Key__c"
type = "string"
length = 40
unique = true
external_id = true
"#;

/// How long the demo waits for its changes to be written back.
const WAIT: Duration = Duration::from_secs(30);

/// The demo's own files (the schema file, the mappings copy), removed by cleanup.
pub fn work_dir() -> PathBuf {
    std::env::temp_dir().join(format!("orgpool-demo-{}", std::process::id()))
}

fn write(path: &Path, text: &str) -> Result<(), DevError> {
    let failed = |source| DevError::DemoFile {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(work_dir()).map_err(failed)?;
    std::fs::write(path, text).map_err(failed)
}

/// Writes the fake org's schema file and returns its path.
pub fn schema_file() -> Result<PathBuf, DevError> {
    let path = work_dir().join("fake-org-schema.toml");
    write(&path, SCHEMA)?;
    Ok(path)
}

/// Writes a copy of the mappings file `text` (read from `source`) with Account
/// read_write, and returns its path.
pub fn mappings_file(source: &str, text: &str) -> Result<PathBuf, DevError> {
    let path = work_dir().join("mappings.toml");
    write(&path, &read_write_account(source, text)?)?;
    Ok(path)
}

/// `text` with the Account mapping (added when missing) read_write, upserting by
/// [`UPSERT_FIELD`], which it maps.
pub fn read_write_account(source: &str, text: &str) -> Result<String, DevError> {
    let bad = |e: &dyn std::fmt::Display| DevError::DemoMappings {
        path: source.into(),
        error: e.to_string(),
    };
    let mut doc: toml::Table = text.parse().map_err(|e| bad(&e))?;
    let list = doc
        .entry("mapping")
        .or_insert_with(|| toml::Value::Array(Vec::new()))
        .as_array_mut()
        .ok_or_else(|| bad(&"`mapping` is not a list of [[mapping]] tables"))?;
    let is_account = |v: &toml::Value| {
        v.get("object")
            .and_then(|o| o.as_str())
            .is_some_and(|o| o.eq_ignore_ascii_case("Account"))
    };
    if !list.iter().any(is_account) {
        let mut t = toml::Table::new();
        t.insert("object".into(), "Account".into());
        t.insert("fields".into(), "all".into());
        list.insert(0, toml::Value::Table(t));
    }
    let account = list
        .iter_mut()
        .find(|v| is_account(v))
        .and_then(|v| v.as_table_mut())
        .ok_or_else(|| bad(&"the Account [[mapping]] is not a table"))?;
    account.insert("access".into(), "read_write".into());
    account.insert("upsert_field".into(), UPSERT_FIELD.into());
    if let Some(fields) = account.get_mut("fields").and_then(|f| f.as_array_mut())
        && !fields.iter().any(|f| f.as_str() == Some(UPSERT_FIELD))
    {
        fields.push(UPSERT_FIELD.into());
    }
    toml::to_string(&doc).map_err(|e| bad(&e))
}

/// What the step did, for the summary.
#[derive(Debug, Default)]
pub struct Written {
    /// Changes the app made (log rows).
    pub changes: i64,
    /// The slowest round's time from the app's commit to all `SUCCESS`.
    pub slowest: Duration,
    /// The records as the org's REST API returns them (`queryAll`, so the deleted one
    /// shows): Id, Name, Demo_Key__c, IsDeleted.
    pub in_org: Vec<serde_json::Value>,
}

/// Runs the app's writes and waits for them to reach the org.
pub async fn run(pool: &PgPool, client: &Client) -> Result<Written, DevError> {
    let (sfid, name): (String, String) = sqlx::query_as(
        "SELECT sfid::text, name::text FROM salesforce.account
         WHERE sfid IS NOT NULL ORDER BY id LIMIT 1",
    )
    .fetch_one(pool)
    .await?;
    let mut out = Written::default();
    println!(
        "   INSERT two Accounts (Demo_Key__c DEMO-1, DEMO-2); UPDATE {sfid} ({name}) to a new name"
    );
    let t = round(
        pool,
        &format!(
            "INSERT INTO salesforce.account (name, demo_key__c)
               VALUES ('Demo Rocket Co', 'DEMO-1'), ('Demo Pop-up Shop', 'DEMO-2');
             UPDATE salesforce.account SET name = 'Renamed by the app'
               WHERE sfid = '{sfid}';"
        ),
        &mut out,
    )
    .await?;
    println!("   ... all SUCCESS in {:.2} s", t.as_secs_f64());
    println!("   UPDATE DEMO-1's name; DELETE DEMO-2");
    let t = round(
        pool,
        "UPDATE salesforce.account SET name = 'Demo Rocket Co (renamed)' WHERE demo_key__c = 'DEMO-1';
         DELETE FROM salesforce.account WHERE demo_key__c = 'DEMO-2';",
        &mut out,
    )
    .await?;
    println!("   ... all SUCCESS in {:.2} s", t.as_secs_f64());
    let soql = format!(
        "SELECT Id, Name, {UPSERT_FIELD}, IsDeleted FROM Account
         WHERE {UPSERT_FIELD} LIKE 'DEMO-%' OR Id = '{sfid}' ORDER BY {UPSERT_FIELD}"
    );
    out.in_org = client
        .query(&soql, Scope::All)
        .try_collect()
        .await
        .map_err(DevError::other)?;
    Ok(out)
}

/// Runs `sql` as the app would (a plain session, so the triggers log it), then waits
/// until every log row it made is settled; returns how long that took.
async fn round(pool: &PgPool, sql: &str, out: &mut Written) -> Result<Duration, DevError> {
    let (before,): (i32,) =
        sqlx::query_as("SELECT coalesce(max(id), 0) FROM salesforce._trigger_log")
            .fetch_one(pool)
            .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(pool)
        .await?;
    let t = Instant::now();
    loop {
        let (total, success, waiting, refused): (i64, i64, i64, Option<String>) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE state = 'SUCCESS'),
                        count(*) FILTER (WHERE state IN ('NEW', 'PENDING')),
                        min(sf_message) FILTER (WHERE state = 'FAILED')
                 FROM salesforce._trigger_log WHERE id > $1",
        )
        .bind(before)
        .fetch_one(pool)
        .await?;
        if let Some(message) = refused {
            return Err(DevError::DemoWriteRefused { message });
        }
        if waiting == 0 && total > 0 {
            out.changes += success;
            out.slowest = out.slowest.max(t.elapsed());
            return Ok(t.elapsed());
        }
        if t.elapsed() > WAIT {
            return Err(DevError::DemoWritesWaiting {
                secs: WAIT.as_secs(),
                waiting,
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The summary's lines.
pub fn summarise(w: &Written) {
    println!(
        "   write-back: {} app change(s) to salesforce.account reached the org (slowest round {:.2} s); the org's REST API now says:",
        w.changes,
        w.slowest.as_secs_f64()
    );
    for r in &w.in_org {
        let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
        println!(
            "     {:<18} {:<28} {UPSERT_FIELD} {:<8} {}",
            s("Id"),
            s("Name"),
            if r[UPSERT_FIELD].is_null() {
                "-".into()
            } else {
                s(UPSERT_FIELD)
            },
            if r["IsDeleted"] == true {
                "deleted"
            } else {
                "live"
            }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_becomes_read_write_and_maps_its_upsert_field() {
        let text = "column_types = \"exact\"\n[[mapping]]\nobject = \"Opportunity\"\n\n[[mapping]]\nobject = \"account\"\nfields = [\"Name\"]\npoll_interval = \"10m\"\n";
        let out: toml::Table = read_write_account("m.toml", text).unwrap().parse().unwrap();
        let a = &out["mapping"].as_array().unwrap()[1];
        assert_eq!(a["access"].as_str(), Some("read_write"));
        assert_eq!(a["upsert_field"].as_str(), Some(UPSERT_FIELD));
        assert_eq!(a["poll_interval"].as_str(), Some("10m"));
        let fields: Vec<&str> = a["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f.as_str())
            .collect();
        assert_eq!(fields, ["Name", UPSERT_FIELD]);
        assert_eq!(out["column_types"].as_str(), Some("exact"));
    }

    #[test]
    fn a_file_without_account_gets_one() {
        let out: toml::Table =
            read_write_account("m.toml", "[[mapping]]\nobject = \"Opportunity\"\n")
                .unwrap()
                .parse()
                .unwrap();
        let list = out["mapping"].as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0]["object"].as_str(), Some("Account"));
        assert_eq!(list[0]["fields"].as_str(), Some("all"));
        assert_eq!(list[0]["access"].as_str(), Some("read_write"));
    }

    #[test]
    fn a_broken_file_is_named() {
        let e = read_write_account("jobs/m.toml", "[[mapping]\n").unwrap_err();
        assert!(e.to_string().contains("jobs/m.toml"), "{e}");
    }
}
