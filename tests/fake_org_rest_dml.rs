//! REST DML contract of the fake org: record errors, upsert by external Id, Quote totals.

mod fake_org_common;

use fake_org_common::*;
use reqwest::StatusCode;
use serde_json::{Value as Json, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dml_errors() {
    let c = Ctx::new().await;
    let e = assert_api_error(
        c.post("/sobjects/Account", &json!({"Industry": "Energy"}))
            .await,
        StatusCode::BAD_REQUEST,
        "REQUIRED_FIELD_MISSING",
    )
    .await;
    assert_eq!(e["fields"], json!(["Name"]));
    assert_eq!(e["message"], "Required fields are missing: [Name]");
    let long = "x".repeat(300);
    let e = assert_api_error(
        c.post("/sobjects/Account", &json!({"Name": long})).await,
        StatusCode::BAD_REQUEST,
        "STRING_TOO_LONG",
    )
    .await;
    assert_eq!(e["fields"], json!(["Name"]));
    let e = assert_api_error(
        c.post(
            "/sobjects/Account",
            &json!({"Name": "x", "CreatedDate": "2020-01-01T00:00:00.000+0000"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "INVALID_FIELD_FOR_INSERT_UPDATE",
    )
    .await;
    assert_eq!(e["fields"], json!(["CreatedDate"]));
    let e = assert_api_error(
        c.post("/sobjects/Account", &json!({"Name": "x", "Bacon__c": 1}))
            .await,
        StatusCode::BAD_REQUEST,
        "INVALID_FIELD",
    )
    .await;
    assert!(e["message"].as_str().unwrap().contains("Bacon__c"));
    let opp = c.any_id("Opportunity").await;
    c.create(
        "Quote",
        json!({"Name": "Q1", "OpportunityId": opp, "Orgpool_Key__c": "K-1"}),
    )
    .await;
    let e = assert_api_error(
        c.post(
            "/sobjects/Quote",
            &json!({"Name": "Q2", "OpportunityId": opp, "Orgpool_Key__c": "K-1"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "DUPLICATE_VALUE",
    )
    .await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("duplicate value found"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_by_external_id() {
    let c = Ctx::new().await;
    let opp = c.any_id("Opportunity").await;
    let resp = c
        .patch(
            "/sobjects/Quote/Orgpool_Key__c/UP-1",
            &json!({"Name": "Up", "OpportunityId": opp}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Json = resp.json().await.unwrap();
    let id = body["id"].as_str().unwrap().to_string();
    assert_eq!(
        body,
        json!({"id": id, "success": true, "errors": [], "created": true})
    );
    assert!(id.starts_with("0Q0") && valid_id(&id));
    let resp = c
        .patch(
            "/sobjects/Quote/Orgpool_Key__c/UP-1",
            &json!({"Name": "Up 2"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Json = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({"id": id, "success": true, "errors": [], "created": false})
    );
    let rec = c.get_json("/sobjects/Quote/Orgpool_Key__c/UP-1").await;
    assert_eq!((&rec["Id"], &rec["Name"]), (&json!(id), &json!("Up 2")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quote_totals_roll_up() {
    let c = Ctx::new().await;
    let pb = c.standard_pricebook().await;
    let opp = c.any_id("Opportunity").await;
    let quote = c
        .create(
            "Quote",
            json!({"Name": "Totals", "OpportunityId": opp, "Pricebook2Id": pb}),
        )
        .await;
    let q = c
        .query(&format!(
            "SELECT Id FROM PricebookEntry WHERE Pricebook2Id = '{pb}' LIMIT 2"
        ))
        .await;
    let entries: Vec<String> = q["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(entries.len(), 2);
    // 2 x 100 at 10% off = 180; 3 x 50 = 150.
    c.create("QuoteLineItem", json!({"QuoteId": quote, "PricebookEntryId": entries[0], "Quantity": 2, "UnitPrice": 100, "Discount": 10})).await;
    c.create(
        "QuoteLineItem",
        json!({"QuoteId": quote, "PricebookEntryId": entries[1], "Quantity": 3, "UnitPrice": 50}),
    )
    .await;
    let r = c
        .get_json(&format!(
            "/sobjects/Quote/{quote}?fields=Subtotal,TotalPrice,GrandTotal,LineItemCount"
        ))
        .await;
    assert_eq!(r["LineItemCount"], 2, "{r}");
    assert_eq!(r["Subtotal"].as_f64(), Some(350.0), "{r}");
    assert_eq!(r["TotalPrice"].as_f64(), Some(330.0), "{r}");
    assert_eq!(r["GrandTotal"].as_f64(), Some(330.0), "{r}");
}
