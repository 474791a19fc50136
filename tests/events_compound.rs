//! Compound fields and UNDELETE by change event, end to end through the real binaries:
//! the fake org nests `BillingAddress` in its events as Salesforce does (one record
//! field, `<i>-0x…` bitmap entries for its parts), and orgpool maps the parts to the
//! mirror's `billingcity` / `billingstreet`. A REST change of one part moves only that
//! column; nulling a part nulls it; a record deleted through REST and restored with the
//! SOAP `undelete` call comes back with its values. No resync runs meanwhile.

mod events_common;
mod jobs_common;

use std::time::Duration;

use events_common::*;
use reqwest::Method;
use serde_json::json;

const SOON: Duration = Duration::from_secs(20);

/// Account with events and two parts of its billing address.
const MAPPINGS: &str = r#"
[[mapping]]
object = "Account"
fields = ["Name", "Industry", "BillingStreet", "BillingCity", "LastModifiedDate"]
events = true
poll_interval = "1h"

[[mapping]]
object = "Opportunity"
fields = ["Name", "StageName", "Amount"]
poll_interval = "1h"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn address_parts_and_undelete_arrive_by_event() {
    let env = started_with("events_compound", 1, MAPPINGS, &[]).await;
    let polls = resyncs(&env).await;

    // CREATE carries the address as a nested record.
    let r = rest(
        &env,
        Method::POST,
        "/sobjects/Account",
        Some(json!({
            "Name": "Nested",
            "Industry": "Energy",
            "BillingStreet": "1 Main St",
            "BillingCity": "Lyon",
        })),
    )
    .await;
    let id = r["id"].as_str().unwrap().to_string();
    until_cell(
        &env,
        "the created Account mirrored",
        &id,
        "name",
        Some(Some("Nested")),
        SOON,
    )
    .await;
    assert_eq!(
        account_cell(&env, &id, "billingcity").await,
        Some(Some("Lyon".into()))
    );
    assert_eq!(
        account_cell(&env, &id, "billingstreet").await,
        Some(Some("1 Main St".into()))
    );

    // UPDATE of one part: only that column moves.
    rest(
        &env,
        Method::PATCH,
        &format!("/sobjects/Account/{id}"),
        Some(json!({"BillingCity": "Paris"})),
    )
    .await;
    until_cell(
        &env,
        "the new city mirrored",
        &id,
        "billingcity",
        Some(Some("Paris")),
        SOON,
    )
    .await;
    assert_eq!(
        account_cell(&env, &id, "billingstreet").await,
        Some(Some("1 Main St".into())),
        "an unchanged part of the address stays"
    );

    // Nulling a part nulls its column, and leaves the other part.
    rest(
        &env,
        Method::PATCH,
        &format!("/sobjects/Account/{id}"),
        Some(json!({"BillingStreet": null})),
    )
    .await;
    until_cell(
        &env,
        "the nulled street mirrored",
        &id,
        "billingstreet",
        Some(None),
        SOON,
    )
    .await;
    assert_eq!(
        account_cell(&env, &id, "billingcity").await,
        Some(Some("Paris".into()))
    );

    // DELETE through REST, then the SOAP undelete brings the row back with its values.
    rest(
        &env,
        Method::DELETE,
        &format!("/sobjects/Account/{id}"),
        None,
    )
    .await;
    until_cell(&env, "the delete mirrored", &id, "name", None, SOON).await;
    soap_undelete(&env, &[&id]).await;
    until_cell(
        &env,
        "the undeleted Account mirrored",
        &id,
        "name",
        Some(Some("Nested")),
        SOON,
    )
    .await;
    assert_eq!(
        account_cell(&env, &id, "billingcity").await,
        Some(Some("Paris".into()))
    );
    assert_eq!(account_cell(&env, &id, "billingstreet").await, Some(None));
    assert_eq!(
        account_cell(&env, &id, "industry").await,
        Some(Some("Energy".into()))
    );

    assert_eq!(
        resyncs(&env).await,
        polls,
        "no resync ran: the changes came by event"
    );
    assert!(
        applied(&env).await >= 5,
        "events applied: {}",
        applied(&env).await
    );
}
