//! Bulk API 2.0 query-job contract of the fake org.

mod fake_org_common;

use std::time::Duration;

use fake_org_common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value as Json, json};

async fn results(c: &Ctx, id: &str, params: &str) -> (StatusCode, String, String, String) {
    let resp = c
        .req(Method::GET, &format!("/jobs/query/{id}/results{params}"))
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let n = header(&resp, "sforce-numberofrecords");
    let loc = header(&resp, "sforce-locator");
    if status == StatusCode::OK {
        assert_eq!(content_type(&resp), "text/csv");
    }
    (status, n, loc, resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_lifecycle_and_paging() {
    let c = Ctx::new().await;
    let job = c
        .create_query_job("query", "SELECT Id, Name, Account.Name FROM Opportunity")
        .await;
    let id = job["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("750") && valid_id(&id), "{id}");
    assert_eq!(job["state"], "UploadComplete");
    assert_eq!(job["operation"], "query");
    assert_eq!(job["object"], "Opportunity");
    assert_eq!(job["contentType"], "CSV");
    assert_eq!(job["apiVersion"], json!(62.0));
    assert_eq!(
        (&job["lineEnding"], &job["columnDelimiter"]),
        (&json!("LF"), &json!("COMMA"))
    );
    let done = c.wait_job(&format!("/jobs/query/{id}")).await;
    assert_eq!(done["state"], "JobComplete", "{done}");
    assert_eq!(done["jobType"], "V2Query");
    assert_eq!(done["numberRecordsProcessed"], 300);

    let mut locator = String::new();
    let mut total = 0;
    let mut pages = 0;
    loop {
        let params = if locator.is_empty() {
            "?maxRecords=120".to_string()
        } else {
            format!("?maxRecords=120&locator={locator}")
        };
        let (status, n, loc, body) = results(&c, &id, &params).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let rows = raw_csv_rows(&body);
        assert_eq!(rows[0], vec!["\"Id\"", "\"Name\"", "\"Account.Name\""]);
        let data = &rows[1..];
        assert_eq!(n.parse::<usize>().unwrap(), data.len());
        for r in data {
            assert_eq!(r.len(), 3);
            assert!(
                r.iter()
                    .all(|cell| cell.starts_with('"') && cell.ends_with('"') && cell.len() >= 2),
                "{r:?}"
            );
            assert!(r[0].starts_with("\"006"));
        }
        total += data.len();
        pages += 1;
        if loc == "null" {
            break;
        }
        assert!(!loc.is_empty());
        locator = loc;
    }
    assert_eq!((total, pages), (300, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_quoting_dates_and_query_all() {
    let c = Ctx::new().await;
    let quoted = c
        .create("Account", json!({"Name": "He said \"hi\", ok"}))
        .await;
    let gone = c.create("Account", json!({"Name": "Gone"})).await;
    assert_eq!(
        c.delete(&format!("/sobjects/Account/{gone}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let soql = format!(
        "SELECT Id, Name, Website, CreatedDate FROM Account WHERE Id IN ('{quoted}', '{gone}')"
    );
    let job = c.create_query_job("query", &soql).await;
    let id = job["id"].as_str().unwrap();
    c.wait_job(&format!("/jobs/query/{id}")).await;
    let (_, n, loc, body) = results(&c, id, "").await;
    assert_eq!((n.as_str(), loc.as_str()), ("1", "null"));
    let rows = raw_csv_rows(&body);
    assert_eq!(rows.len(), 2, "{body}");
    assert_eq!(rows[1][1], "\"He said \"\"hi\"\", ok\"");
    assert_eq!(rows[1][2], "\"\"", "null is an empty quoted value: {body}");
    let (_, parsed) = parse_csv(&body);
    let created = &parsed[0][3];
    assert!(
        created.ends_with(".000Z") && created.len() == 24,
        "{created}"
    );
    // queryAll includes the deleted record.
    let job = c.create_query_job("queryAll", &soql).await;
    let id = job["id"].as_str().unwrap();
    assert_eq!(job["operation"], "queryAll");
    let done = c.wait_job(&format!("/jobs/query/{id}")).await;
    assert_eq!(done["numberRecordsProcessed"], 2);
    let (_, n, _, body) = results(&c, id, "").await;
    assert_eq!(n, "2");
    assert!(body.contains(&gone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_before_complete_is_412() {
    let c = Ctx::new().await;
    c.org.set_bulk_delay(Duration::from_secs(30));
    let job = c.create_query_job("query", "SELECT Id FROM Account").await;
    let id = job["id"].as_str().unwrap();
    let resp = c.get(&format!("/jobs/query/{id}/results")).await;
    let e = assert_api_error(resp, StatusCode::PRECONDITION_FAILED, "JOB_NOT_COMPLETE").await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("Current status: IN_PROGRESS"),
        "{e}"
    );
    // Abort, then delete.
    let resp = c
        .patch(&format!("/jobs/query/{id}"), &json!({"state": "Aborted"}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let info: Json = resp.json().await.unwrap();
    assert_eq!(info["state"], "Aborted");
    assert_eq!(
        c.get_json(&format!("/jobs/query/{id}")).await["state"],
        "Aborted"
    );
    let resp = c.get(&format!("/jobs/query/{id}/results")).await;
    assert_api_error(resp, StatusCode::PRECONDITION_FAILED, "JOB_NOT_COMPLETE").await;
    assert_eq!(
        c.delete(&format!("/jobs/query/{id}")).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.get(&format!("/jobs/query/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_results() {
    let c = Ctx::new().await;
    let job = c
        .create_query_job("query", "SELECT Id, Name FROM Account")
        .await;
    let id = job["id"].as_str().unwrap();
    c.wait_job(&format!("/jobs/query/{id}")).await;
    let raw = reqwest::Client::builder().gzip(false).build().unwrap();
    let resp = raw
        .get(api(&c.org, &format!("/jobs/query/{id}/results")))
        .bearer_auth(&c.token)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "content-encoding"), "gzip");
    assert_eq!(header(&resp, "sforce-numberofrecords"), "50");
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
    // The default client decodes it transparently.
    let (_, n, _, body) = results(&c, id, "").await;
    assert_eq!(n, "50");
    assert_eq!(raw_csv_rows(&body).len(), 51);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_queries_rejected_at_create() {
    let c = Ctx::new().await;
    for soql in [
        "SELECT COUNT() FROM Account",
        "SELECT Id, BillingAddress FROM Account",
        "SELECT Id FROM Account OFFSET 5",
    ] {
        let resp = c
            .post("/jobs/query", &json!({"operation": "query", "query": soql}))
            .await;
        let status = resp.status();
        let body: Json = resp.json().await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{soql}: {body}");
        assert!(
            body[0]["errorCode"].is_string() && body[0]["message"].is_string(),
            "{body}"
        );
    }
    let resp = c
        .post(
            "/jobs/query",
            &json!({"operation": "query", "query": "SELECT Id, BillingAddress FROM Account"}),
        )
        .await;
    let body: Json = resp.json().await.unwrap();
    assert!(
        body[0]["message"]
            .as_str()
            .unwrap()
            .contains("compound data not supported"),
        "{body}"
    );
    let resp = c
        .post(
            "/jobs/query",
            &json!({"operation": "select", "query": "SELECT Id FROM Account"}),
        )
        .await;
    assert_api_error(resp, StatusCode::BAD_REQUEST, "API_ERROR").await;
    let resp = c
        .post(
            "/jobs/query",
            &json!({"operation": "query", "query": "SELECT Nope__c FROM Account"}),
        )
        .await;
    assert_api_error(resp, StatusCode::BAD_REQUEST, "INVALID_FIELD").await;
}
