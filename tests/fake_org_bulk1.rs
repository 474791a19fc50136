//! Bulk API 1.0 contract of the fake org (`/services/async/{version}`): XML and JSON
//! `jobInfo` bodies, query and ingest batches, batch states and results, PK chunking,
//! and `X-SFDC-Session` auth, sent as Salesforce's Bulk 1.0 docs show them.

mod fake_org_common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use fake_org_common::*;
use reqwest::StatusCode;
use serde_json::{Value as Json, json};

const NS: &str = r#"xmlns="http://www.force.com/2009/06/asyncapi/dataload""#;
const XML: &str = "application/xml; charset=UTF-8";

/// The texts of every `<name>` element.
fn elements(xml: &str, name: &str) -> Vec<String> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(after[..j].to_string());
        rest = &after[j + close.len()..];
    }
    out
}

fn element(xml: &str, name: &str) -> String {
    elements(xml, name)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no <{name}> in {xml}"))
}

fn url(c: &Ctx, path: &str) -> String {
    format!("{}/services/async/62.0{path}", c.org.base_url)
}

/// A Bulk 1.0 request: the session in `X-SFDC-Session`, as Salesforce documents.
async fn send(
    c: &Ctx,
    method: reqwest::Method,
    path: &str,
    content_type: &str,
    body: &str,
    extra: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut r = c
        .http
        .request(method, url(c, path))
        .header("X-SFDC-Session", &c.token)
        .header("Content-Type", content_type)
        .body(body.to_string());
    for (k, v) in extra {
        r = r.header(*k, *v);
    }
    let resp = r.send().await.expect("bulk request");
    (resp.status(), resp.text().await.expect("body"))
}

async fn post(c: &Ctx, path: &str, ct: &str, body: &str) -> (StatusCode, String) {
    send(c, reqwest::Method::POST, path, ct, body, &[]).await
}

async fn get(c: &Ctx, path: &str, ct: &str) -> (StatusCode, String) {
    send(c, reqwest::Method::GET, path, ct, "", &[]).await
}

fn job_xml(op: &str, object: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload">
  <operation>{op}</operation>
  <object>{object}</object>
  <contentType>CSV</contentType>
</jobInfo>"#
    )
}

const CLOSE_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><state>Closed</state></jobInfo>"#;

/// Creates an XML/CSV job, returning its id.
async fn create_xml_job(c: &Ctx, op: &str, object: &str, extra: &[(&str, &str)]) -> String {
    let (status, body) = send(
        c,
        reqwest::Method::POST,
        "/job",
        XML,
        &job_xml(op, object),
        extra,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body.contains(&format!("<jobInfo {NS}>")), "{body}");
    assert_eq!(element(&body, "state"), "Open");
    assert_eq!(element(&body, "operation"), op);
    assert_eq!(element(&body, "contentType"), "CSV");
    let id = element(&body, "id");
    assert!(id.starts_with("750") && valid_id(&id), "{id}");
    id
}

/// Polls every batch of a job until none is Queued or InProgress; returns the XML list.
async fn wait_batches_xml(c: &Ctx, job: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = get(c, &format!("/job/{job}/batch"), XML).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let states = elements(&body, "state");
        if !states.is_empty()
            && states
                .iter()
                .all(|s| matches!(s.as_str(), "Completed" | "Failed" | "NotProcessed"))
        {
            return body;
        }
        assert!(Instant::now() < deadline, "batches did not finish: {body}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Polls one JSON batch until it is done.
async fn wait_batch_json(c: &Ctx, job: &str, batch: &str) -> Json {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = get(c, &format!("/job/{job}/batch/{batch}"), "application/json").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let info: Json = serde_json::from_str(&body).unwrap();
        if matches!(
            info["state"].as_str(),
            Some("Completed" | "Failed" | "NotProcessed")
        ) {
            return info;
        }
        assert!(Instant::now() < deadline, "batch did not finish: {body}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The Ids in a CSV query result file.
fn csv_ids(csv: &str) -> Vec<String> {
    let (header, rows) = parse_csv(csv);
    let col = header.iter().position(|h| h == "Id").expect("Id column");
    rows.into_iter().map(|r| r[col].clone()).collect()
}

async fn query_ids(c: &Ctx, soql: &str) -> Vec<String> {
    let q = c.query(soql).await;
    q["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn query_job_with_xml_job_info() {
    let c = Ctx::new().await;
    let job = create_xml_job(&c, "query", "Account", &[]).await;
    let (status, body) = post(
        &c,
        &format!("/job/{job}/batch"),
        "text/csv; charset=UTF-8",
        "SELECT Id, Name FROM Account ORDER BY Id",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body.contains(&format!("<batchInfo {NS}>")), "{body}");
    let batch = element(&body, "id");
    assert!(batch.starts_with("751") && valid_id(&batch));
    assert_eq!(element(&body, "jobId"), job);
    assert_eq!(element(&body, "state"), "Queued");

    let (status, body) = post(&c, &format!("/job/{job}"), XML, CLOSE_XML).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(element(&body, "state"), "Closed");

    wait_batches_xml(&c, &job).await;
    let (_, body) = get(&c, &format!("/job/{job}/batch/{batch}"), XML).await;
    assert_eq!(element(&body, "state"), "Completed");
    assert_eq!(element(&body, "numberRecordsProcessed"), "50");

    let (status, list) = get(&c, &format!("/job/{job}/batch/{batch}/result"), XML).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert!(list.contains(&format!("<result-list {NS}>")), "{list}");
    let rid = element(&list, "result");
    let resp = c
        .http
        .get(url(&c, &format!("/job/{job}/batch/{batch}/result/{rid}")))
        .header("X-SFDC-Session", &c.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(content_type(&resp).starts_with("text/csv"));
    let csv = resp.text().await.unwrap();
    assert!(csv.starts_with("\"Id\",\"Name\"\n"), "{csv}");
    assert_eq!(
        csv_ids(&csv),
        query_ids(&c, "SELECT Id FROM Account ORDER BY Id").await
    );

    let (_, info) = get(&c, &format!("/job/{job}"), XML).await;
    assert_eq!(element(&info, "numberBatchesCompleted"), "1");
    assert_eq!(element(&info, "numberRecordsProcessed"), "50");

    // A bad query fails its batch with a message, not the request.
    let job = create_xml_job(&c, "query", "Account", &[]).await;
    let (_, body) = post(
        &c,
        &format!("/job/{job}/batch"),
        "text/csv",
        "SELECT Nope FROM Account",
    )
    .await;
    let batch = element(&body, "id");
    wait_batches_xml(&c, &job).await;
    let (_, body) = get(&c, &format!("/job/{job}/batch/{batch}"), XML).await;
    assert_eq!(element(&body, "state"), "Failed");
    assert!(
        element(&body, "stateMessage").starts_with("InvalidBatch"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn query_job_with_json_job_info() {
    let c = Ctx::new().await;
    let (status, body) = post(
        &c,
        "/job",
        "application/json",
        &json!({"operation": "query", "object": "Account", "concurrencyMode": "Parallel", "contentType": "JSON"}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let job: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(job["state"], "Open");
    assert_eq!(job["contentType"], "JSON");
    assert_eq!(job["apiVersion"], 62.0);
    let id = job["id"].as_str().unwrap();
    let (status, body) = post(
        &c,
        &format!("/job/{id}/batch"),
        "application/json",
        "SELECT Id, Name FROM Account WHERE Name != null",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let batch: Json = serde_json::from_str(&body).unwrap();
    let bid = batch["id"].as_str().unwrap();
    assert_eq!(batch["jobId"], id);
    let info = wait_batch_json(&c, id, bid).await;
    assert_eq!(info["state"], "Completed", "{info}");

    let (_, list) = get(
        &c,
        &format!("/job/{id}/batch/{bid}/result"),
        "application/json",
    )
    .await;
    let list: Json = serde_json::from_str(&list).unwrap();
    let rid = list[0].as_str().expect("a result id");
    let (status, body) = get(
        &c,
        &format!("/job/{id}/batch/{bid}/result/{rid}"),
        "application/json",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let rows: Json = serde_json::from_str(&body).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 50);
    assert_eq!(rows[0]["attributes"]["type"], "Account");
    assert!(rows[0]["Id"].as_str().is_some_and(valid_id));

    let (status, body) = post(
        &c,
        &format!("/job/{id}"),
        "application/json",
        r#"{"state":"Closed"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let closed: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(closed["state"], "Closed");
    assert_eq!(closed["numberBatchesTotal"], 1);

    // A closed job takes no more batches.
    let (status, body) = post(
        &c,
        &format!("/job/{id}/batch"),
        "application/json",
        "SELECT Id FROM Account",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let err: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(err["exceptionCode"], "InvalidJobState");
}

/// Runs a PK-chunked query; returns (batch list XML, every result Id in batch order).
async fn pk_chunked(c: &Ctx, header: &str, soql: &str) -> (String, Vec<Vec<String>>) {
    let job = create_xml_job(
        c,
        "query",
        "Account",
        &[("Sforce-Enable-PKChunking", header)],
    )
    .await;
    let (status, body) = post(c, &format!("/job/{job}/batch"), "text/csv", soql).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let original = element(&body, "id");
    // The chunk batches are created after the original one is taken up.
    let deadline = Instant::now() + Duration::from_secs(30);
    let list = loop {
        let list = wait_batches_xml(c, &job).await;
        if elements(&list, "id").len() > 1 || Instant::now() > deadline {
            break wait_batches_xml(c, &job).await;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let ids = elements(&list, "id");
    let states = elements(&list, "state");
    assert_eq!(ids[0], original);
    assert_eq!(states[0], "NotProcessed", "{list}");
    let mut chunks = Vec::new();
    for (bid, state) in ids.iter().zip(&states).skip(1) {
        assert_eq!(state, "Completed", "{list}");
        let (_, rl) = get(c, &format!("/job/{job}/batch/{bid}/result"), XML).await;
        let rid = element(&rl, "result");
        let (_, csv) = get(c, &format!("/job/{job}/batch/{bid}/result/{rid}"), XML).await;
        chunks.push(if csv == "Records not found for this query" {
            Vec::new()
        } else {
            csv_ids(&csv)
        });
    }
    (list, chunks)
}

#[tokio::test(flavor = "multi_thread")]
async fn pk_chunking_splits_a_query_by_id_range() {
    let c = Ctx::new().await;
    let all = query_ids(&c, "SELECT Id FROM Account ORDER BY Id").await;
    assert_eq!(all.len(), 50);

    let (_, chunks) = pk_chunked(&c, "chunkSize=12", "SELECT Id, Name FROM Account").await;
    assert_eq!(chunks.len(), 5, "50 records in chunks of 12");
    let mut seen = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        assert!(chunk.len() <= 12);
        // Chunks are Id ranges: every Id of a chunk is below every Id of the next.
        if let (Some(last), Some(next)) = (
            chunk.iter().max(),
            chunks.get(i + 1).and_then(|n| n.iter().min()),
        ) {
            assert!(last < next, "chunk {i} overlaps the next");
        }
        seen.extend(chunk.iter().cloned());
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a record came back twice");
    seen.sort();
    assert_eq!(seen, all, "every record exactly once");

    // `TRUE` uses the default chunk size (one chunk here).
    let (_, chunks) = pk_chunked(&c, "TRUE", "SELECT Id FROM Account").await;
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].len(), 50);

    // startRow: chunking begins at that Id.
    let header = format!("chunkSize=20; startRow={}", all[10]);
    let (_, chunks) = pk_chunked(&c, &header, "SELECT Id FROM Account").await;
    assert_eq!(chunks.len(), 2);
    let mut got: Vec<String> = chunks.concat();
    got.sort();
    assert_eq!(got, all[10..].to_vec());

    // A bad chunk size is refused at job creation.
    let (status, body) = send(
        &c,
        reqwest::Method::POST,
        "/job",
        XML,
        &job_xml("query", "Account"),
        &[("Sforce-Enable-PKChunking", "chunkSize=0")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(element(&body, "exceptionCode"), "InvalidJob");
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_ingest_insert_update_delete() {
    let c = Ctx::new().await;
    // Insert: two good rows and one missing the required Name.
    let job = create_xml_job(&c, "insert", "Account", &[]).await;
    let csv = "Name,Industry\nBulk One,Energy\n,Energy\n\"Bulk, Two\",Retail\n";
    let (status, body) = post(&c, &format!("/job/{job}/batch"), "text/csv", csv).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let batch = element(&body, "id");
    post(&c, &format!("/job/{job}"), XML, CLOSE_XML).await;
    wait_batches_xml(&c, &job).await;
    let (_, info) = get(&c, &format!("/job/{job}/batch/{batch}"), XML).await;
    assert_eq!(element(&info, "numberRecordsProcessed"), "3");
    assert_eq!(element(&info, "numberRecordsFailed"), "1");
    let resp = c
        .http
        .get(url(&c, &format!("/job/{job}/batch/{batch}/result")))
        .header("X-SFDC-Session", &c.token)
        .send()
        .await
        .unwrap();
    assert!(content_type(&resp).starts_with("text/csv"));
    let result = resp.text().await.unwrap();
    let (header, rows) = parse_csv(&result);
    assert_eq!(header, ["Id", "Success", "Created", "Error"]);
    assert_eq!(rows.len(), 3);
    assert!(valid_id(&rows[0][0]) && rows[0][0].starts_with("001"));
    assert_eq!(&rows[0][1..3], ["true", "true"]);
    assert_eq!(rows[1][0], "");
    assert_eq!(&rows[1][1..3], ["false", "false"]);
    assert!(rows[1][3].starts_with("REQUIRED_FIELD_MISSING"), "{result}");
    let (one, two) = (rows[0][0].clone(), rows[2][0].clone());
    let q = c
        .query(&format!(
            "SELECT Name, SystemModstamp FROM Account WHERE Id = '{two}'"
        ))
        .await;
    assert_eq!(q["records"][0]["Name"], "Bulk, Two");
    let stamp = q["records"][0]["SystemModstamp"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(c.org.count("Account"), 52);

    // Update one of them.
    let job = create_xml_job(&c, "update", "Account", &[]).await;
    let csv = format!("Id,Name\n{two},Bulk Two Renamed\n001000000000000AAA,Ghost\n");
    let (_, body) = post(&c, &format!("/job/{job}/batch"), "text/csv", &csv).await;
    let batch = element(&body, "id");
    wait_batches_xml(&c, &job).await;
    let (_, result) = get(&c, &format!("/job/{job}/batch/{batch}/result"), XML).await;
    let (_, rows) = parse_csv(&result);
    assert_eq!(rows[0][0], two);
    assert_eq!(&rows[0][1..3], ["true", "false"]);
    assert_eq!(rows[1][1], "false", "{result}");
    let q = c
        .query(&format!(
            "SELECT Name, SystemModstamp FROM Account WHERE Id = '{two}'"
        ))
        .await;
    assert_eq!(q["records"][0]["Name"], "Bulk Two Renamed");
    // Stamped by the store's write path (whole seconds, never backwards).
    assert!(q["records"][0]["SystemModstamp"].as_str().unwrap() >= stamp.as_str());

    // Delete: to the recycle bin, visible to queryAll.
    let job = create_xml_job(&c, "delete", "Account", &[]).await;
    let (_, body) = post(
        &c,
        &format!("/job/{job}/batch"),
        "text/csv",
        &format!("Id\n{one}\n"),
    )
    .await;
    let batch = element(&body, "id");
    wait_batches_xml(&c, &job).await;
    let (_, result) = get(&c, &format!("/job/{job}/batch/{batch}/result"), XML).await;
    let (_, rows) = parse_csv(&result);
    assert_eq!(
        rows,
        vec![vec![
            one.clone(),
            "true".into(),
            "false".into(),
            String::new()
        ]]
    );
    assert!(
        query_ids(&c, &format!("SELECT Id FROM Account WHERE Id = '{one}'"))
            .await
            .is_empty()
    );
    assert_eq!(c.org.count("Account"), 51);

    // A header naming no field fails the batch.
    let job = create_xml_job(&c, "insert", "Account", &[]).await;
    let (_, body) = post(&c, &format!("/job/{job}/batch"), "text/csv", "Nope__c\nx\n").await;
    let batch = element(&body, "id");
    wait_batches_xml(&c, &job).await;
    let (_, info) = get(&c, &format!("/job/{job}/batch/{batch}"), XML).await;
    assert_eq!(element(&info, "state"), "Failed");
    assert!(element(&info, "stateMessage").contains("Nope__c"), "{info}");
}

async fn json_job(c: &Ctx, op: &str, records: Json) -> Vec<Json> {
    let (status, body) = post(
        c,
        "/job",
        "application/json",
        // concurrencyMode as some clients send it: 0 for Parallel.
        &json!({"operation": op, "object": "Contact", "concurrencyMode": 0, "contentType": "JSON"})
            .to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let job: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(job["concurrencyMode"], "Parallel");
    let id = job["id"].as_str().unwrap();
    let (status, body) = post(
        c,
        &format!("/job/{id}/batch"),
        "application/json",
        &records.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let batch: Json = serde_json::from_str(&body).unwrap();
    let bid = batch["id"].as_str().unwrap();
    let info = wait_batch_json(c, id, bid).await;
    assert_eq!(info["state"], "Completed", "{info}");
    let (status, body) = get(
        c,
        &format!("/job/{id}/batch/{bid}/result"),
        "application/json",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str::<Json>(&body)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn json_ingest_insert_update_delete() {
    let c = Ctx::new().await;
    let account = c.any_id("Account").await;
    let res = json_job(
        &c,
        "insert",
        json!([
            {"LastName": "Bulkjson", "FirstName": "Ann", "AccountId": account},
            {"FirstName": "No last name"},
        ]),
    )
    .await;
    assert_eq!(res.len(), 2);
    assert_eq!(res[0]["success"], true);
    assert_eq!(res[0]["created"], true);
    assert_eq!(res[0]["errors"], json!([]));
    let id = res[0]["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("003") && valid_id(&id));
    assert_eq!(res[1]["success"], false);
    assert_eq!(res[1]["id"], Json::Null);
    assert_eq!(res[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");

    let res = json_job(&c, "update", json!([{"Id": id, "FirstName": "Anna"}])).await;
    assert_eq!(res[0]["success"], true);
    assert_eq!(res[0]["created"], false);
    let q = c
        .query(&format!(
            "SELECT FirstName, LastName FROM Contact WHERE Id = '{id}'"
        ))
        .await;
    assert_eq!(q["records"][0]["FirstName"], "Anna");
    assert_eq!(q["records"][0]["LastName"], "Bulkjson");

    let res = json_job(&c, "delete", json!([{"Id": id}])).await;
    assert_eq!(res[0]["success"], true);
    assert!(
        query_ids(&c, &format!("SELECT Id FROM Contact WHERE Id = '{id}'"))
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_session_is_invalid_session_id() {
    let c = Ctx::new().await;
    // No session at all, XML.
    let resp = c
        .http
        .post(url(&c, "/job"))
        .header("Content-Type", XML)
        .body(job_xml("query", "Account"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = resp.text().await.unwrap();
    assert!(body.contains(&format!("<error {NS}>")), "{body}");
    assert_eq!(element(&body, "exceptionCode"), "InvalidSessionId");
    assert_eq!(element(&body, "exceptionMessage"), "Invalid session id");

    // An unknown session, JSON.
    let resp = c
        .http
        .post(url(&c, "/job"))
        .header("Content-Type", "application/json")
        .header("X-SFDC-Session", "00D000000000001!nope")
        .body(json!({"operation": "query", "object": "Account", "contentType": "JSON"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let err: Json = resp.json().await.unwrap();
    assert_eq!(err["exceptionCode"], "InvalidSessionId");

    // An expired one.
    c.org.expire_tokens();
    let (status, body) = get(&c, "/job/750000000000001AAA", XML).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(element(&body, "exceptionCode"), "InvalidSessionId");
}

#[tokio::test(flavor = "multi_thread")]
async fn aborting_a_job_leaves_queued_batches_not_processed() {
    // A long processing delay keeps the batches queued until the abort.
    let c = Ctx::with(orgpool::fake_org::FakeOrgConfig {
        bulk_delay: Duration::from_secs(20),
        ..config()
    })
    .await;
    let job = create_xml_job(&c, "insert", "Account", &[]).await;
    for name in ["Abort One", "Abort Two"] {
        let (status, body) = post(
            &c,
            &format!("/job/{job}/batch"),
            "text/csv",
            &format!("Name\n{name}\n"),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let abort = CLOSE_XML.replace("Closed", "Aborted");
    let (status, body) = post(&c, &format!("/job/{job}"), XML, &abort).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(element(&body, "state"), "Aborted");
    let (_, list) = get(&c, &format!("/job/{job}/batch"), XML).await;
    assert_eq!(elements(&list, "state"), ["NotProcessed", "NotProcessed"]);
    assert_eq!(c.org.count("Account"), 50, "nothing was written");
    // An aborted job cannot be closed.
    let (status, body) = post(&c, &format!("/job/{job}"), XML, CLOSE_XML).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(element(&body, "exceptionCode"), "InvalidJobState");
}
