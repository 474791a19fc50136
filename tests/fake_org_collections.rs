//! sObject Collections contract of the fake org.

mod fake_org_common;

use fake_org_common::*;
use reqwest::StatusCode;
use serde_json::{Value as Json, json};

fn acct(name: &str) -> Json {
    json!({"attributes": {"type": "Account"}, "Name": name})
}

async fn ok_array(resp: reqwest::Response) -> Vec<Json> {
    let status = resp.status();
    limit_info(&resp);
    let body: Json = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array()
        .unwrap_or_else(|| panic!("array: {body}"))
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_two_records() {
    let c = Ctx::new().await;
    let before = c.org.count("Account");
    let out = ok_array(
        c.post(
            "/composite/sobjects",
            &json!({"allOrNone": false, "records": [acct("C1"), acct("C2")]}),
        )
        .await,
    )
    .await;
    assert_eq!(out.len(), 2);
    for (r, name) in out.iter().zip(["C1", "C2"]) {
        let id = r["id"].as_str().unwrap();
        assert_eq!(r, &json!({"id": id, "success": true, "errors": []}));
        assert!(id.starts_with("001") && valid_id(id));
        assert_eq!(c.org.field("Account", id, "Name"), Some(json!(name)));
    }
    assert_eq!(c.org.count("Account"), before + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_or_none_rolls_back() {
    let c = Ctx::new().await;
    let before = c.org.count("Account");
    let bad = json!({"attributes": {"type": "Account"}, "Industry": "Energy"});
    let out = ok_array(
        c.post(
            "/composite/sobjects",
            &json!({"allOrNone": true, "records": [acct("Good"), bad]}),
        )
        .await,
    )
    .await;
    assert_eq!(out.len(), 2);
    assert_eq!(out[0]["success"], false);
    assert!(out[0]["id"].is_null(), "{}", out[0]);
    assert_eq!(
        out[0]["errors"],
        json!([{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []}])
    );
    assert_eq!(out[1]["success"], false);
    let e = &out[1]["errors"][0];
    assert_eq!(e["statusCode"], "REQUIRED_FIELD_MISSING");
    assert!(e.get("errorCode").is_none());
    assert_eq!(e["fields"], json!(["Name"]));
    assert_eq!(c.org.count("Account"), before);
    let q = c.query("SELECT Id FROM Account WHERE Name = 'Good'").await;
    assert_eq!(q["totalSize"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_success_without_all_or_none() {
    let c = Ctx::new().await;
    let before = c.org.count("Account");
    let bad = json!({"attributes": {"type": "Account"}, "Name": "x".repeat(300)});
    let out = ok_array(
        c.post(
            "/composite/sobjects",
            &json!({"allOrNone": false, "records": [bad, acct("Fine")]}),
        )
        .await,
    )
    .await;
    assert_eq!(out[0]["success"], false);
    assert_eq!(out[0]["errors"][0]["statusCode"], "STRING_TOO_LONG");
    assert_eq!(out[1]["success"], true);
    assert_eq!(c.org.count("Account"), before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_records_is_400() {
    let c = Ctx::new().await;
    let recs: Vec<Json> = (0..201).map(|i| acct(&format!("N{i}"))).collect();
    let resp = c
        .post(
            "/composite/sobjects",
            &json!({"allOrNone": false, "records": recs}),
        )
        .await;
    let e = assert_api_error(resp, StatusCode::BAD_REQUEST, "EXCEEDED_ID_LIMIT").await;
    assert!(e["message"].as_str().unwrap().contains("200"));
    let resp = c
        .post("/composite/sobjects", &json!({"records": "nope"}))
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_delete_and_retrieve() {
    let c = Ctx::new().await;
    let a = c.create("Account", json!({"Name": "A"})).await;
    let b = c.create("Account", json!({"Name": "B"})).await;
    let out = ok_array(
        c.patch(
            "/composite/sobjects",
            &json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Account"}, "id": a, "Name": "A2"},
                {"attributes": {"type": "Account"}, "id": b, "Name": "B2"},
                {"attributes": {"type": "Account"}, "Name": "no id"},
            ]}),
        )
        .await,
    )
    .await;
    assert_eq!(out[0], json!({"id": a, "success": true, "errors": []}));
    assert_eq!(out[1], json!({"id": b, "success": true, "errors": []}));
    assert_eq!(out[2]["success"], false);
    assert_eq!(c.org.field("Account", &a, "Name"), Some(json!("A2")));

    let out = ok_array(
        c.get(&format!(
            "/composite/sobjects/Account?ids={a},{b}&fields=Id,Name"
        ))
        .await,
    )
    .await;
    assert_eq!(out.len(), 2);
    assert_eq!(out[0]["attributes"]["type"], "Account");
    assert_eq!((&out[0]["Id"], &out[0]["Name"]), (&json!(a), &json!("A2")));
    assert_eq!((&out[1]["Id"], &out[1]["Name"]), (&json!(b), &json!("B2")));

    let out = ok_array(
        c.delete(&format!("/composite/sobjects?ids={a},{b}&allOrNone=false"))
            .await,
    )
    .await;
    assert_eq!(
        out,
        vec![
            json!({"id": a, "success": true, "errors": []}),
            json!({"id": b, "success": true, "errors": []})
        ]
    );
    let out = ok_array(c.delete(&format!("/composite/sobjects?ids={a}")).await).await;
    assert_eq!(out[0]["success"], false);
    assert_eq!(out[0]["errors"][0]["statusCode"], "ENTITY_IS_DELETED");
    // Deleted records come back as null.
    let out = ok_array(
        c.get(&format!("/composite/sobjects/Account?ids={a}&fields=Name"))
            .await,
    )
    .await;
    assert_eq!(out, vec![Json::Null]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_by_external_id() {
    let c = Ctx::new().await;
    let opp = c.any_id("Opportunity").await;
    let q = |key: &str, name: &str| json!({"attributes": {"type": "Quote"}, "Orgpool_Key__c": key, "Name": name, "OpportunityId": opp});
    let out = ok_array(
        c.patch(
            "/composite/sobjects/Quote/Orgpool_Key__c",
            &json!({"allOrNone": false, "records": [q("K1", "One"), q("K2", "Two")]}),
        )
        .await,
    )
    .await;
    assert_eq!(out.len(), 2);
    for r in &out {
        let id = r["id"].as_str().unwrap();
        assert!(id.starts_with("0Q0") && valid_id(id));
        assert_eq!(
            r,
            &json!({"id": id, "success": true, "errors": [], "created": true})
        );
    }
    let first = out[0]["id"].clone();
    let out = ok_array(
        c.patch(
            "/composite/sobjects/Quote/Orgpool_Key__c",
            &json!({"allOrNone": false, "records": [{"attributes": {"type": "Quote"}, "Orgpool_Key__c": "K1", "Name": "One v2"}, q("K3", "Three")]}),
        )
        .await,
    )
    .await;
    assert_eq!(
        out[0],
        json!({"id": first, "success": true, "errors": [], "created": false})
    );
    assert_eq!(out[1]["created"], true);
    assert_eq!(
        c.org.field("Quote", first.as_str().unwrap(), "Name"),
        Some(json!("One v2"))
    );
}
