//! Bulk API 2.0 ingest-job contract of the fake org.

mod fake_org_common;

use std::time::Duration;

use fake_org_common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value as Json, json};

/// Creates a job, asserting the create response; returns (id, contentUrl).
async fn create_job(c: &Ctx, spec: Json) -> (String, String) {
    let resp = c.post("/jobs/ingest", &spec).await;
    let status = resp.status();
    let job: Json = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("750") && valid_id(&id));
    assert_eq!(job["state"], "Open");
    assert_eq!(job["operation"], spec["operation"]);
    assert_eq!(job["object"], spec["object"]);
    let url = job["contentUrl"].as_str().unwrap().to_string();
    assert_eq!(url, format!("services/data/v62.0/jobs/ingest/{id}/batches"));
    (id, url)
}

async fn upload(c: &Ctx, content_url: &str, csv: &str) -> reqwest::Response {
    c.http
        .put(format!("{}/{content_url}", c.org.base_url))
        .bearer_auth(&c.token)
        .header("Content-Type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap()
}

async fn close(c: &Ctx, id: &str) {
    let resp = c
        .patch(
            &format!("/jobs/ingest/{id}"),
            &json!({"state": "UploadComplete"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let info: Json = resp.json().await.unwrap();
    assert_eq!(info["state"], "UploadComplete");
}

/// Creates, uploads, closes and waits; returns the final job info.
async fn run_job(c: &Ctx, spec: Json, csv: &str) -> (String, Json) {
    let (id, url) = create_job(c, spec).await;
    let resp = upload(c, &url, csv).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert!(resp.bytes().await.unwrap().is_empty());
    close(c, &id).await;
    let info = c.wait_job(&format!("/jobs/ingest/{id}")).await;
    (id, info)
}

async fn result_csv(c: &Ctx, id: &str, kind: &str) -> String {
    let resp = c
        .req(Method::GET, &format!("/jobs/ingest/{id}/{kind}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(content_type(&resp).starts_with("text/csv"));
    resp.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_with_successes_and_failures() {
    let c = Ctx::new().await;
    let before = c.org.count("Account");
    let csv = "Name,Industry\nBulk One,Energy\n,Retail\nBulk Two,\n";
    let (id, info) = run_job(&c, json!({"object": "Account", "operation": "insert", "contentType": "CSV", "lineEnding": "LF"}), csv).await;
    assert_eq!(info["state"], "JobComplete", "{info}");
    assert_eq!(info["jobType"], "V2Ingest");
    assert_eq!(
        (
            info["numberRecordsProcessed"].as_u64(),
            info["numberRecordsFailed"].as_u64()
        ),
        (Some(3), Some(1))
    );
    assert_eq!(c.org.count("Account"), before + 2);
    let ok = result_csv(&c, &id, "successfulResults").await;
    let rows = raw_csv_rows(&ok);
    assert_eq!(
        rows[0],
        vec!["\"sf__Id\"", "\"sf__Created\"", "\"Name\"", "\"Industry\""]
    );
    assert_eq!(rows.len(), 3);
    let (_, parsed) = parse_csv(&ok);
    assert!(
        parsed
            .iter()
            .all(|r| r[0].starts_with("001") && valid_id(&r[0]) && r[1] == "true")
    );
    assert_eq!(
        c.org.field("Account", &parsed[0][0], "Name"),
        Some(json!("Bulk One"))
    );
    let failed = result_csv(&c, &id, "failedResults").await;
    let rows = raw_csv_rows(&failed);
    assert_eq!(
        rows[0],
        vec!["\"sf__Id\"", "\"sf__Error\"", "\"Name\"", "\"Industry\""]
    );
    let (_, parsed) = parse_csv(&failed);
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0][0], "");
    assert_eq!(
        parsed[0][1],
        "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"
    );
    assert_eq!(parsed[0][3], "Retail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_put_is_refused() {
    let c = Ctx::new().await;
    let (id, url) = create_job(&c, json!({"object": "Account", "operation": "insert"})).await;
    assert_eq!(
        upload(&c, &url, "Name\nA\n").await.status(),
        StatusCode::CREATED
    );
    let e = assert_api_error(
        upload(&c, &url, "Name\nB\n").await,
        StatusCode::BAD_REQUEST,
        "BULK_API_ERROR",
    )
    .await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("Found multipe contents for job: <"),
        "{e}"
    );
    // Delete.
    assert_eq!(
        c.delete(&format!("/jobs/ingest/{id}")).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.get(&format!("/jobs/ingest/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_na_and_empty_cells() {
    let c = Ctx::new().await;
    let a = c
        .create(
            "Account",
            json!({"Name": "U1", "Industry": "Energy", "Website": "https://a.example"}),
        )
        .await;
    let csv = format!("Id,Name,Industry,Website\n{a},U1 new,#N/A,\n");
    let (id, info) = run_job(
        &c,
        json!({"object": "Account", "operation": "update"}),
        &csv,
    )
    .await;
    assert_eq!(
        (
            info["numberRecordsProcessed"].as_u64(),
            info["numberRecordsFailed"].as_u64()
        ),
        (Some(1), Some(0))
    );
    assert_eq!(c.org.field("Account", &a, "Name"), Some(json!("U1 new")));
    assert_eq!(c.org.field("Account", &a, "Industry"), Some(Json::Null));
    assert_eq!(
        c.org.field("Account", &a, "Website"),
        Some(json!("https://a.example"))
    );
    let (_, parsed) = parse_csv(&result_csv(&c, &id, "successfulResults").await);
    assert_eq!(
        (parsed[0][0].as_str(), parsed[0][1].as_str()),
        (a.as_str(), "false")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_with_relationship_column() {
    let c = Ctx::new().await;
    let pb = c.standard_pricebook().await;
    let opp = c.any_id("Opportunity").await;
    let csv =
        format!("Orgpool_Key__c,Name,OpportunityId,Pricebook2Id\nBQ-1,Bulk Quote,{opp},{pb}\n");
    let (id, info) = run_job(
        &c,
        json!({"object": "Quote", "operation": "upsert", "externalIdFieldName": "Orgpool_Key__c"}),
        &csv,
    )
    .await;
    assert_eq!(info["numberRecordsFailed"], 0, "{info}");
    assert_eq!(info["externalIdFieldName"], "Orgpool_Key__c");
    let (_, parsed) = parse_csv(&result_csv(&c, &id, "successfulResults").await);
    let quote = parsed[0][0].clone();
    assert_eq!(parsed[0][1], "true");
    let pbe = c
        .query(&format!(
            "SELECT Id FROM PricebookEntry WHERE Pricebook2Id = '{pb}' LIMIT 1"
        ))
        .await["records"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let csv = format!(
        "Orgpool_Key__c,Quote.Orgpool_Key__c,PricebookEntryId,Quantity,UnitPrice\nBL-1,BQ-1,{pbe},2,10\n"
    );
    let (id, info) = run_job(&c, json!({"object": "QuoteLineItem", "operation": "upsert", "externalIdFieldName": "Orgpool_Key__c"}), &csv).await;
    assert_eq!(
        info["numberRecordsFailed"],
        0,
        "{}",
        result_csv(&c, &id, "failedResults").await
    );
    let (_, parsed) = parse_csv(&result_csv(&c, &id, "successfulResults").await);
    assert_eq!(
        c.org.field("QuoteLineItem", &parsed[0][0], "QuoteId"),
        Some(json!(quote))
    );
    // Upsert again: an update.
    let csv = "Orgpool_Key__c,Name\nBQ-1,Renamed\n";
    let (id, _) = run_job(
        &c,
        json!({"object": "Quote", "operation": "upsert", "externalIdFieldName": "Orgpool_Key__c"}),
        csv,
    )
    .await;
    let (_, parsed) = parse_csv(&result_csv(&c, &id, "successfulResults").await);
    assert_eq!(
        (parsed[0][0].as_str(), parsed[0][1].as_str()),
        (quote.as_str(), "false")
    );
    assert_eq!(c.org.field("Quote", &quote, "Name"), Some(json!("Renamed")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_and_hard_delete() {
    let c = Ctx::new().await;
    let a = c.create("Account", json!({"Name": "Soft"})).await;
    let b = c.create("Account", json!({"Name": "Hard"})).await;
    let (_, info) = run_job(
        &c,
        json!({"object": "Account", "operation": "delete"}),
        &format!("Id\n{a}\n"),
    )
    .await;
    assert_eq!(info["numberRecordsFailed"], 0);
    let (_, info) = run_job(
        &c,
        json!({"object": "Account", "operation": "hardDelete"}),
        &format!("Id\n{b}\n"),
    )
    .await;
    assert_eq!(info["numberRecordsFailed"], 0);
    let resp = c
        .req(Method::GET, "/queryAll")
        .query(&[(
            "q",
            format!("SELECT Id, IsDeleted FROM Account WHERE Id IN ('{a}','{b}')"),
        )])
        .send()
        .await
        .unwrap();
    let all: Json = resp.json().await.unwrap();
    assert_eq!(all["totalSize"], 1, "{all}");
    assert_eq!(
        (&all["records"][0]["Id"], &all["records"][0]["IsDeleted"]),
        (&json!(a), &json!(true))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_failures_are_counted() {
    let c = Ctx::new().await;
    c.org.set_ingest_failure_rate(0.5);
    let mut csv = String::from("Name\n");
    for i in 0..200 {
        csv.push_str(&format!("Lock {i}\n"));
    }
    let (id, info) = run_job(
        &c,
        json!({"object": "Account", "operation": "insert"}),
        &csv,
    )
    .await;
    let failed = info["numberRecordsFailed"].as_u64().unwrap();
    assert!(failed > 20 && failed < 180, "{info}");
    let (_, rows) = parse_csv(&result_csv(&c, &id, "failedResults").await);
    assert_eq!(rows.len() as u64, failed);
    assert!(
        rows.iter().all(|r| r[1]
            .starts_with("UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record")),
        "{:?}",
        rows[0]
    );
    let (_, ok) = parse_csv(&result_csv(&c, &id, "successfulResults").await);
    assert_eq!(ok.len() as u64, 200 - failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_leaves_unprocessed_records() {
    let c = Ctx::new().await;
    c.org.set_bulk_delay(Duration::from_secs(30));
    let (id, url) = create_job(&c, json!({"object": "Account", "operation": "insert"})).await;
    assert_eq!(
        upload(&c, &url, "Name,Industry\nX1,Energy\nX2,\n")
            .await
            .status(),
        StatusCode::CREATED
    );
    close(&c, &id).await;
    let resp = c
        .patch(&format!("/jobs/ingest/{id}"), &json!({"state": "Aborted"}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Json>().await.unwrap()["state"], "Aborted");
    let csv = result_csv(&c, &id, "unprocessedrecords").await;
    assert_eq!(
        raw_csv_rows(&csv),
        vec![
            vec!["\"Name\"", "\"Industry\""],
            vec!["\"X1\"", "\"Energy\""],
            vec!["\"X2\"", "\"\""]
        ]
    );
    let resp = c
        .patch(&format!("/jobs/ingest/{id}"), &json!({"state": "Aborted"}))
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_field_fails_job_and_bad_create() {
    let c = Ctx::new().await;
    let (_, info) = run_job(
        &c,
        json!({"object": "Account", "operation": "insert"}),
        "Name,Bacon__c\nA,1\n",
    )
    .await;
    assert_eq!(info["state"], "Failed");
    assert!(
        info["errorMessage"].as_str().unwrap().contains("Bacon__c"),
        "{info}"
    );
    let resp = c
        .post(
            "/jobs/ingest",
            &json!({"object": "Bacon__c", "operation": "insert"}),
        )
        .await;
    let e = assert_api_error(resp, StatusCode::BAD_REQUEST, "INVALIDJOB").await;
    assert_eq!(e["message"], "InvalidJob : Unable to find object: Bacon__c");
    let resp = c
        .post(
            "/jobs/ingest",
            &json!({"object": "Account", "operation": ""}),
        )
        .await;
    assert_api_error(resp, StatusCode::BAD_REQUEST, "API_ERROR").await;
}
