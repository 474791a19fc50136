//! Write-back through the real binary (scheduler and worker processes), real Postgres
//! and Redis and the fake org: the app's inserts, updates and deletes through plain SQL
//! reach the org with the right values and Heroku Connect's `_hc_lastop` transitions; a
//! Contact inserted with its new Account in one transaction points at that Account; a
//! field changed twice quickly ends with the last value; a validation-rule refusal is
//! FAILED with `_hc_err` and goes through after a fix and `orgpool writes retry`; a
//! read_only table's write is READONLY and never sent.

mod jobs_common;
mod writeback_common;

use serde_json::Value as Json;
use writeback_common::{app, org_query, started, until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apps_writes_reach_the_org_in_order_with_heroku_connects_states() {
    let env = started("wb_push", 1).await;

    // A parent and its child in one transaction; the child names the parent by its
    // External ID, as Heroku Connect's relationship columns do.
    app(
        &env,
        "BEGIN;
         INSERT INTO salesforce.account (name, industry, ext_key__c) VALUES ('Acme WB', 'Energy', 'A-1');
         INSERT INTO salesforce.contact (lastname, email, ext_key__c, account__r__ext_key__c)
           VALUES ('Lovelace', 'ada@example.com', 'C-1', 'A-1');
         COMMIT;",
    )
    .await;
    let lastop = |t: &str, key: &str| {
        format!(
            "SELECT count(*) FROM salesforce.{t} WHERE ext_key__c = '{key}' AND sfid IS NOT NULL AND _hc_lastop = 'INSERTED'"
        )
    };
    until(&env, "the account inserted", &lastop("account", "A-1"), 1).await;
    until(&env, "the contact inserted", &lastop("contact", "C-1"), 1).await;
    let accounts = org_query(
        &env,
        "SELECT Id, Name, Industry FROM Account WHERE Ext_Key__c = 'A-1'",
    )
    .await;
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    assert_eq!(accounts[0]["Name"], "Acme WB");
    let account_id = accounts[0]["Id"].as_str().unwrap().to_string();
    let (row_sfid,): (String,) =
        sqlx::query_as("SELECT sfid FROM salesforce.account WHERE ext_key__c = 'A-1'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(row_sfid, account_id);
    let contacts = org_query(
        &env,
        "SELECT Id, LastName, Email, AccountId FROM Contact WHERE Ext_Key__c = 'C-1'",
    )
    .await;
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert_eq!(contacts[0]["AccountId"].as_str(), Some(account_id.as_str()));
    assert_eq!(contacts[0]["Email"], "ada@example.com");
    let contact_id = contacts[0]["Id"].as_str().unwrap().to_string();

    // The same field changed twice quickly: the last value wins; the row is UPDATED.
    app(
        &env,
        "UPDATE salesforce.account SET name = 'Acme One' WHERE ext_key__c = 'A-1'",
    )
    .await;
    app(
        &env,
        "UPDATE salesforce.account SET name = 'Acme Two', industry = NULL WHERE ext_key__c = 'A-1'",
    )
    .await;
    until(
        &env,
        "the account updated",
        "SELECT count(*) FROM salesforce.account WHERE ext_key__c = 'A-1' AND _hc_lastop = 'UPDATED'",
        1,
    )
    .await;
    let a = org_query(
        &env,
        &format!("SELECT Name, Industry FROM Account WHERE Id = '{account_id}'"),
    )
    .await;
    assert_eq!(
        (a[0]["Name"].clone(), a[0]["Industry"].clone()),
        (Json::from("Acme Two"), Json::Null)
    );

    // A delete deletes in the org.
    app(
        &env,
        "DELETE FROM salesforce.contact WHERE ext_key__c = 'C-1'",
    )
    .await;
    until(
        &env,
        "the delete sent",
        "SELECT count(*) FROM salesforce._trigger_log WHERE table_name = 'contact' AND action = 'DELETE' AND state = 'SUCCESS'",
        1,
    )
    .await;
    assert!(
        org_query(
            &env,
            &format!("SELECT Id FROM Contact WHERE Id = '{contact_id}'")
        )
        .await
        .is_empty()
    );

    // Every captured row was settled once, and nothing orgpool wrote was captured.
    assert_eq!(
        env.count("SELECT count(*) FROM salesforce._trigger_log WHERE state <> 'SUCCESS'")
            .await,
        0
    );
    assert_eq!(
        env.count("SELECT count(*) FROM salesforce._trigger_log")
            .await,
        5,
        "two inserts, two updates, one delete"
    );

    // A validation rule refuses an insert: FAILED in the log and on the row, with
    // Heroku Connect's _hc_err; after the fix, `writes retry` sends it.
    env.org
        .set_validation_rules(&[serde_json::from_value(serde_json::json!({
            "object": "Account", "name": "No_Rejects", "field": "Name",
            "rule": "not_equal", "value": "Reject Me", "message": "Name cannot be Reject Me"
        }))
        .unwrap()])
        .unwrap();
    app(
        &env,
        "INSERT INTO salesforce.account (name, ext_key__c) VALUES ('Reject Me', 'A-2')",
    )
    .await;
    until(
        &env,
        "the refusal recorded",
        "SELECT count(*) FROM salesforce.account WHERE ext_key__c = 'A-2' AND _hc_lastop = 'FAILED' AND _hc_err IS NOT NULL",
        1,
    )
    .await;
    let (message, err): (String, String) = sqlx::query_as(
        "SELECT l.sf_message, a._hc_err FROM salesforce._trigger_log l JOIN salesforce.account a ON a.id = l.record_id
         WHERE l.table_name = 'account' AND l.state = 'FAILED'",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert!(
        message.starts_with("FIELD_CUSTOM_VALIDATION_EXCEPTION: Name cannot be Reject Me"),
        "{message}"
    );
    let err: Json = serde_json::from_str(&err).unwrap();
    assert_eq!(
        (err["op"].as_str(), err["src"].as_str()),
        (Some("INSERT"), Some("SFDC"))
    );
    assert!(
        org_query(&env, "SELECT Id FROM Account WHERE Ext_Key__c = 'A-2'")
            .await
            .is_empty()
    );
    let status = env.ok(&["writes", "status"]);
    assert!(status.contains("FAILED"), "{status}");
    // A reload now would give the rows new ids and lose the failed insert: its swap
    // is refused, naming the fix, and the live table is untouched.
    let reload = env.run(&["enqueue", "reload", "Account", "--wait"]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&reload.stdout),
        String::from_utf8_lossy(&reload.stderr)
    );
    assert!(!reload.status.success(), "{said}");
    assert!(
        said.contains("not yet in Salesforce") && said.contains("writes retry"),
        "{said}"
    );
    let reload_run = jobs_common::run_id(&String::from_utf8_lossy(&reload.stdout));
    assert_eq!(
        env.count("SELECT count(*) FROM salesforce.account WHERE ext_key__c = 'A-2'")
            .await,
        1
    );
    // The user fixes the data (that update fails too: the row has no Id yet) and
    // retries: both go again, as one insert with the fixed name.
    app(
        &env,
        "UPDATE salesforce.account SET name = 'Accepted' WHERE ext_key__c = 'A-2'",
    )
    .await;
    until(
        &env,
        "the fix waiting for the insert",
        "SELECT count(*) FROM salesforce._trigger_log WHERE table_name = 'account' AND state = 'FAILED'",
        2,
    )
    .await;
    let out = env.ok(&["writes", "retry", "--table", "account"]);
    assert!(
        out.starts_with("2 failed change(s) set back to NEW"),
        "{out}"
    );
    until(&env, "the retried insert", &lastop("account", "A-2"), 1).await;
    let a2 = org_query(&env, "SELECT Name FROM Account WHERE Ext_Key__c = 'A-2'").await;
    assert_eq!(a2.len(), 1);
    assert_eq!(a2[0]["Name"], "Accepted");
    // With nothing left to send, the reload completes.
    env.ok(&["jobs", "retry", "--run", &reload_run.to_string()]);
    env.wait_succeeded(reload_run, std::time::Duration::from_secs(30))
        .await;
    assert_eq!(
        env.count(
            "SELECT count(*) FROM salesforce.account WHERE ext_key__c = 'A-2' AND sfid IS NOT NULL"
        )
        .await,
        1
    );

    // A read_only table: logged READONLY, never sent.
    app(&env, "UPDATE salesforce.opportunity SET name = 'Changed locally' WHERE id = (SELECT min(id) FROM salesforce.opportunity)").await;
    assert_eq!(
        env.count("SELECT count(*) FROM salesforce._trigger_log WHERE table_name = 'opportunity' AND state = 'READONLY'").await,
        1
    );
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(
        org_query(
            &env,
            "SELECT Id FROM Opportunity WHERE Name = 'Changed locally'"
        )
        .await
        .is_empty()
    );
    assert_eq!(
        env.count("SELECT count(*) FROM salesforce._trigger_log WHERE table_name = 'opportunity' AND state = 'READONLY'").await,
        1
    );
}
