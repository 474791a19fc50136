//! The fake org on the calls write-back makes, answering as Salesforce documents:
//! validation rules (`FIELD_CUSTOM_VALIDATION_EXCEPTION`) on every write path, parents
//! named by external Id (`"Account": {"Orgpool_Key__c": ...}`, `Account.Orgpool_Key__c`),
//! per-record error codes of updates and deletes, lock failures on Collections,
//! Collections upsert by external Id, and the API user stamped on every change.

mod fake_org_common;

use std::time::{Duration, Instant};

use fake_org_common::*;
use orgpool::fake_org::FakeOrgConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value as Json, json};

const ROLLED_BACK: &str = "Record rolled back because not all records were valid and the request was using AllOrNone header";

/// Account gains orgpool's external Id; `rules` is appended (TOML `[[validation_rule]]`).
fn schema_file(tag: &str, rules: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "orgpool-fake-org-writes-{tag}-{}.toml",
        std::process::id()
    ));
    let text = format!(
        "[[field]]\nobject = \"Account\"\nname = \"Orgpool_Key__c\"\ntype = \"string\"\nlength = 255\nunique = true\nexternal_id = true\n{rules}"
    );
    std::fs::write(&path, text).expect("schema file");
    path
}

async fn ctx(tag: &str, rules: &str) -> Ctx {
    Ctx::with(FakeOrgConfig {
        schema_file: Some(schema_file(tag, rules)),
        admin: true,
        ..config()
    })
    .await
}

async fn json_of(resp: reqwest::Response) -> (StatusCode, Json) {
    let status = resp.status();
    (status, resp.json().await.expect("json body"))
}

async fn ok_array(resp: reqwest::Response) -> Vec<Json> {
    let (status, body) = json_of(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().expect("array").clone()
}

async fn admin_faults(c: &Ctx, body: Json) -> (StatusCode, Json) {
    json_of(
        c.http
            .post(format!("{}/__admin/faults", c.org.base_url))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn acct(name: &str) -> Json {
    json!({"attributes": {"type": "Account"}, "Name": name})
}

const NUMBER_RULE: &str = "[[validation_rule]]\nobject = \"Account\"\nname = \"Short_Number\"\nfield = \"AccountNumber\"\nrule = \"max_length\"\nvalue = 5\nmessage = \"Account number is at most 5 characters\"\n";

fn rule_error(field: &str, message: &str) -> Json {
    json!({"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": message, "fields": [field]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_file_rule_fails_rest_create_update_and_upsert() {
    let c = ctx("rest", NUMBER_RULE).await;
    let msg = "Account number is at most 5 characters";
    let e = assert_api_error(
        c.post(
            "/sobjects/Account",
            &json!({"Name": "A", "AccountNumber": "123456"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    )
    .await;
    assert_eq!(e["message"], msg);
    assert_eq!(e["fields"], json!(["AccountNumber"]));
    let id = c
        .create("Account", json!({"Name": "A", "AccountNumber": "12345"}))
        .await;
    let e = assert_api_error(
        c.patch(
            &format!("/sobjects/Account/{id}"),
            &json!({"AccountNumber": "1234567"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    )
    .await;
    assert_eq!(e["message"], msg);
    assert_eq!(
        c.org.field("Account", &id, "AccountNumber"),
        Some(json!("12345"))
    );
    assert_api_error(
        c.patch(
            "/sobjects/Account/Orgpool_Key__c/K-9",
            &json!({"Name": "U", "AccountNumber": "1234567"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    )
    .await;
    let (_, state) = json_of(
        c.http
            .get(format!("{}/__admin/state", c.org.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(state["validation_rules"][0]["name"], "Short_Number");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_rule_fails_one_collection_record_or_rolls_back_all_then_removed() {
    let c = ctx("coll", "").await;
    let rule = json!({"object": "Account", "name": "No_Test", "field": "Name",
        "rule": "not_equal", "value": "TEST", "message": "Name must not be TEST"});
    let (status, body) = admin_faults(&c, json!({"validation_rules": [rule]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = c.org.count("Account");

    let out = ok_array(
        c.post(
            "/composite/sobjects",
            &json!({"allOrNone": false, "records": [acct("Good 1"), acct("TEST"), acct("Good 2")]}),
        )
        .await,
    )
    .await;
    assert_eq!(out[0]["success"], true);
    assert_eq!(
        out[1],
        json!({"success": false, "errors": [rule_error("Name", "Name must not be TEST")]})
    );
    assert_eq!(out[2]["success"], true);
    assert_eq!(c.org.count("Account"), before + 2);

    let out = ok_array(
        c.post(
            "/composite/sobjects",
            &json!({"allOrNone": true, "records": [acct("Good 3"), acct("TEST")]}),
        )
        .await,
    )
    .await;
    assert_eq!(
        out[0]["errors"][0],
        json!({"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": ROLLED_BACK, "fields": []})
    );
    assert_eq!(
        out[1]["errors"][0],
        rule_error("Name", "Name must not be TEST")
    );
    assert_eq!(c.org.count("Account"), before + 2);

    // An update breaking the rule fails too (PATCH /composite/sobjects).
    let id = out_id(&c, "Good 1").await;
    let out = ok_array(
        c.patch(
            "/composite/sobjects",
            &json!({"records": [{"attributes": {"type": "Account"}, "id": id, "Name": "TEST"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(
        out[0]["errors"][0]["statusCode"],
        "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    );

    // A rule naming an unknown field is refused, naming it.
    let bad = json!({"object": "Account", "name": "X", "field": "Nope__c", "rule": "required", "message": "m"});
    let (status, body) = admin_faults(&c, json!({"validation_rules": [bad]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("Nope__c"), "{body}");

    // Removing the rules lets the retry through.
    let (status, _) = admin_faults(&c, json!({"validation_rules": []})).await;
    assert_eq!(status, StatusCode::OK);
    let out = ok_array(
        c.post(
            "/composite/sobjects",
            &json!({"allOrNone": true, "records": [acct("Good 3"), acct("TEST")]}),
        )
        .await,
    )
    .await;
    assert!(out.iter().all(|r| r["success"] == true), "{out:?}");
}

async fn out_id(c: &Ctx, name: &str) -> String {
    let q = c
        .query(&format!("SELECT Id FROM Account WHERE Name = '{name}'"))
        .await;
    q["records"][0]["Id"].as_str().unwrap().to_string()
}

async fn bulk2(c: &Ctx, spec: Json, csv: &str) -> String {
    let (status, job) = json_of(c.post("/jobs/ingest", &spec).await).await;
    assert_eq!(status, StatusCode::OK, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let url = job["contentUrl"].as_str().unwrap();
    let resp = c
        .http
        .put(format!("{}/{url}", c.org.base_url))
        .bearer_auth(&c.token)
        .header("Content-Type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = c
        .patch(
            &format!("/jobs/ingest/{id}"),
            &json!({"state": "UploadComplete"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let info = c.wait_job(&format!("/jobs/ingest/{id}")).await;
    assert_eq!(info["state"], "JobComplete", "{info}");
    id
}

async fn text(c: &Ctx, path: &str) -> String {
    let resp = c.req(Method::GET, path).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.text().await.unwrap()
}

/// Bulk 1.0 with JSON content (`/services/async/62.0`, session in `X-SFDC-Session`).
async fn bulk1_json(c: &Ctx, object: &str, records: Json) -> Vec<Json> {
    let url = |p: &str| format!("{}/services/async/62.0{p}", c.org.base_url);
    let send = |method: Method, p: String, body: String| {
        c.http
            .request(method, url(&p))
            .header("X-SFDC-Session", &c.token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let job = json!({"operation": "insert", "object": object, "contentType": "JSON"});
    let resp = send(Method::POST, "/job".into(), job.to_string())
        .await
        .unwrap();
    let job: Json = resp.json().await.unwrap();
    let id = job["id"].as_str().unwrap().to_string();
    let resp = send(
        Method::POST,
        format!("/job/{id}/batch"),
        records.to_string(),
    )
    .await
    .unwrap();
    let batch: Json = resp.json().await.unwrap();
    let bid = batch["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let resp = send(Method::GET, format!("/job/{id}/batch/{bid}"), String::new())
            .await
            .unwrap();
        let info: Json = resp.json().await.unwrap();
        if info["state"] == "Completed" {
            break;
        }
        assert!(Instant::now() < deadline, "batch did not finish: {info}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let resp = send(
        Method::GET,
        format!("/job/{id}/batch/{bid}/result"),
        String::new(),
    )
    .await
    .unwrap();
    resp.json::<Json>()
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_ingest_reports_rule_errors_per_row() {
    let c = ctx("bulk", NUMBER_RULE).await;
    let id = bulk2(
        &c,
        json!({"object": "Account", "operation": "insert", "contentType": "CSV", "lineEnding": "LF"}),
        "Name,AccountNumber\nOk,123\nBad,1234567\n",
    )
    .await;
    let failed = text(&c, &format!("/jobs/ingest/{id}/failedResults/")).await;
    let (head, rows) = parse_csv(&failed);
    assert_eq!(head[..2], ["sf__Id", "sf__Error"]);
    assert_eq!(rows.len(), 1, "{failed}");
    assert!(
        rows[0][1].starts_with(
            "FIELD_CUSTOM_VALIDATION_EXCEPTION:Account number is at most 5 characters:AccountNumber"
        ),
        "{failed}"
    );
    let ok = text(&c, &format!("/jobs/ingest/{id}/successfulResults/")).await;
    assert_eq!(parse_csv(&ok).1.len(), 1, "{ok}");

    let out = bulk1_json(
        &c,
        "Account",
        json!([{"Name": "Ok"}, {"Name": "Bad", "AccountNumber": "1234567"}]),
    )
    .await;
    assert_eq!(out[0]["success"], true, "{out:?}");
    assert_eq!(out[1]["success"], false);
    assert_eq!(
        out[1]["errors"][0],
        rule_error("AccountNumber", "Account number is at most 5 characters")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parents_by_external_id_in_collections_and_bulk() {
    let c = ctx("extref", "").await;
    let contact = |last: &str, key: &str| json!({"attributes": {"type": "Contact"}, "LastName": last, "Account": {"Orgpool_Key__c": key}});
    // The parent created earlier in the same request is found; a missing one fails.
    let mut typed = contact("Typed", "K-1");
    typed["Account"]["attributes"] = json!({"type": "Account"});
    let out = ok_array(
        c.post(
            "/composite/sobjects",
            &json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Account"}, "Name": "P", "Orgpool_Key__c": "K-1"},
                contact("Child", "K-1"),
                typed,
                contact("Orphan", "K-404"),
            ]}),
        )
        .await,
    )
    .await;
    let parent = out[0]["id"].as_str().unwrap().to_string();
    for r in &out[1..3] {
        let child = r["id"].as_str().unwrap();
        assert_eq!(
            c.org.field("Contact", child, "AccountId"),
            Some(json!(parent))
        );
    }
    assert_eq!(out[3]["success"], false);
    let e = &out[3]["errors"][0];
    assert_eq!(e["statusCode"], "INVALID_FIELD");
    assert_eq!(
        e["message"],
        "Foreign key external ID: K-404 not found for field Orgpool_Key__c in entity Account"
    );

    let id = bulk2(
        &c,
        json!({"object": "Contact", "operation": "insert", "contentType": "CSV", "lineEnding": "LF"}),
        "LastName,Account.Orgpool_Key__c\nBulkChild,K-1\nBulkOrphan,K-405\n",
    )
    .await;
    let ok = text(&c, &format!("/jobs/ingest/{id}/successfulResults/")).await;
    let (_, rows) = parse_csv(&ok);
    assert_eq!(rows.len(), 1, "{ok}");
    assert_eq!(
        c.org.field("Contact", &rows[0][0], "AccountId"),
        Some(json!(parent))
    );
    let failed = text(&c, &format!("/jobs/ingest/{id}/failedResults/")).await;
    assert!(
        failed.contains(
            "INVALID_FIELD:Foreign key external ID: K-405 not found for field Orgpool_Key__c in entity Account"
        ),
        "{failed}"
    );

    // Bulk 1.0 JSON batches take the same nested relationship object.
    let out = bulk1_json(
        &c,
        "Contact",
        json!([
            {"LastName": "B1", "Account": {"Orgpool_Key__c": "K-1"}},
            {"LastName": "B2", "Account": {"Orgpool_Key__c": "K-406"}},
        ]),
    )
    .await;
    let child = out[0]["id"].as_str().unwrap_or_else(|| panic!("{out:?}"));
    assert_eq!(
        c.org.field("Contact", child, "AccountId"),
        Some(json!(parent))
    );
    assert_eq!(out[1]["errors"][0]["statusCode"], "INVALID_FIELD");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_and_delete_error_codes_and_lock_failures() {
    let c = ctx("codes", "").await;
    let live = c.create("Account", json!({"Name": "Live"})).await;
    let gone = c.create("Account", json!({"Name": "Gone"})).await;
    assert_eq!(
        c.delete(&format!("/sobjects/Account/{gone}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    // An Account Id of the right shape (checksum included) this org never issued.
    let never = orgpool::fake_org::ids::RecordId::new(*b"001", 99_999).to_string();
    let never = never.as_str();
    let upd = |id: &str| json!({"attributes": {"type": "Account"}, "id": id, "Name": "X"});
    let out = ok_array(
        c.patch(
            "/composite/sobjects",
            &json!({"records": [upd(&gone), upd(never)]}),
        )
        .await,
    )
    .await;
    assert_eq!(out[0]["errors"][0]["statusCode"], "ENTITY_IS_DELETED");
    assert_eq!(
        out[1]["errors"][0],
        json!({"statusCode": "INVALID_CROSS_REFERENCE_KEY", "message": "invalid cross reference id", "fields": []})
    );
    let out = ok_array(c.delete(&format!("/composite/sobjects?ids={gone}")).await).await;
    assert_eq!(
        out[0]["errors"][0],
        json!({"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []})
    );
    // Bulk 2.0 updates report the same codes in sf__Error.
    let job = bulk2(
        &c,
        json!({"object": "Account", "operation": "update", "contentType": "CSV", "lineEnding": "LF"}),
        &format!("Id,Name\n{gone},X\n{never},Y\n"),
    )
    .await;
    let failed = text(&c, &format!("/jobs/ingest/{job}/failedResults/")).await;
    let (_, rows) = parse_csv(&failed);
    let cell = |id: &str| {
        rows.iter()
            .find(|r| r.get(2).map(String::as_str) == Some(id))
            .map(|r| r[1].clone())
            .unwrap_or_else(|| panic!("{id} not in {failed}"))
    };
    assert!(cell(&gone).starts_with("ENTITY_IS_DELETED:entity is deleted:"));
    assert!(cell(never).starts_with("INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:"));

    // REST on a record that does not exist: the resource is not found.
    assert_api_error(
        c.patch(&format!("/sobjects/Account/{never}"), &json!({"Name": "X"}))
            .await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_api_error(
        c.delete(&format!("/sobjects/Account/{never}")).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_api_error(
        c.patch(&format!("/sobjects/Account/{gone}"), &json!({"Name": "X"}))
            .await,
        StatusCode::NOT_FOUND,
        "ENTITY_IS_DELETED",
    )
    .await;
    // Another object's Id.
    let contact = c.create("Contact", json!({"LastName": "C"})).await;
    assert_api_error(
        c.patch(
            &format!("/sobjects/Account/{contact}"),
            &json!({"Name": "X"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "MALFORMED_ID",
    )
    .await;

    // The lock-failure rate applies to Collections writes and deletes.
    let (status, _) = admin_faults(&c, json!({"ingest_failure_rate": 1.0})).await;
    assert_eq!(status, StatusCode::OK);
    let before = c.org.count("Account");
    let out = ok_array(
        c.post(
            "/composite/sobjects",
            &json!({"records": [acct("L1"), acct("L2")]}),
        )
        .await,
    )
    .await;
    for r in &out {
        assert_eq!(r["errors"][0]["statusCode"], "UNABLE_TO_LOCK_ROW", "{r}");
        assert_eq!(
            r["errors"][0]["message"],
            "unable to obtain exclusive access to this record"
        );
    }
    let out = ok_array(c.delete(&format!("/composite/sobjects?ids={live}")).await).await;
    assert_eq!(out[0]["errors"][0]["statusCode"], "UNABLE_TO_LOCK_ROW");
    assert_eq!(c.org.count("Account"), before);
    admin_faults(&c, json!({"ingest_failure_rate": 0.0})).await;
    let out = ok_array(
        c.post(
            "/composite/sobjects",
            &json!({"records": [acct("L1"), acct("L2")]}),
        )
        .await,
    )
    .await;
    assert!(out.iter().all(|r| r["success"] == true), "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collections_upsert_by_external_id_is_idempotent() {
    let c = ctx("upsert", "").await;
    let rec = |key: &str, name: &str| json!({"attributes": {"type": "Account"}, "Orgpool_Key__c": key, "Name": name});
    let body = json!({"allOrNone": false, "records": [rec("U-1", "One"), rec("U-2", "Two")]});
    let path = "/composite/sobjects/Account/Orgpool_Key__c";
    let before = c.org.count("Account");
    let first = ok_array(c.patch(path, &body).await).await;
    for r in &first {
        assert_eq!(r["success"], true, "{r}");
        assert_eq!(r["created"], true, "{r}");
        assert!(valid_id(r["id"].as_str().unwrap()));
    }
    // The retry matches the same records: updated, no duplicates.
    let again = ok_array(c.patch(path, &body).await).await;
    for (a, b) in first.iter().zip(&again) {
        assert_eq!(
            b,
            &json!({"id": a["id"], "success": true, "errors": [], "created": false})
        );
    }
    assert_eq!(c.org.count("Account"), before + 2);
    let changed =
        json!({"allOrNone": true, "records": [rec("U-1", "One v2"), rec("U-3", "Three")]});
    let out = ok_array(c.patch(path, &changed).await).await;
    assert_eq!(
        (&out[0]["created"], &out[1]["created"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(
        c.org
            .field("Account", first[0]["id"].as_str().unwrap(), "Name"),
        Some(json!("One v2"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_stamped_with_the_api_user() {
    let c = ctx("stamp", "").await;
    let username = c.org.config().username.clone();
    let users = c
        .query(&format!(
            "SELECT Id FROM User WHERE Username = '{username}'"
        ))
        .await;
    let me = users["records"][0]["Id"].as_str().unwrap().to_string();
    let out = ok_array(
        c.post("/composite/sobjects", &json!({"records": [acct("S")]}))
            .await,
    )
    .await;
    let id = out[0]["id"].as_str().unwrap().to_string();
    let soql = format!(
        "SELECT LastModifiedById, CreatedById, LastModifiedDate, SystemModstamp FROM Account WHERE Id = '{id}'"
    );
    let first = c.query(&soql).await["records"][0].clone();
    assert_eq!(first["LastModifiedById"], json!(me));
    assert_eq!(first["CreatedById"], json!(me));
    // Stamps are whole seconds: wait into the next one before changing it.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let out = ok_array(
        c.patch(
            "/composite/sobjects",
            &json!({"records": [{"attributes": {"type": "Account"}, "id": id, "Name": "S2"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(out[0]["success"], true);
    let second = c.query(&soql).await["records"][0].clone();
    assert_eq!(second["LastModifiedById"], json!(me));
    for f in ["LastModifiedDate", "SystemModstamp"] {
        assert!(
            second[f].as_str().unwrap() > first[f].as_str().unwrap(),
            "{f}: {first} then {second}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_schema_file_rule_is_refused_naming_it() {
    let rule = "[[validation_rule]]\nobject = \"Account\"\nname = \"Odd\"\nfield = \"Name\"\nrule = \"shorter_than\"\nvalue = 3\nmessage = \"m\"\n";
    let cfg = FakeOrgConfig {
        schema_file: Some(schema_file("bad", rule)),
        ..config()
    };
    let Err(err) = orgpool::fake_org::start(cfg).await else {
        panic!("a schema file with an unknown rule was accepted");
    };
    let err = err.to_string();
    assert!(
        err.contains("validation rule Odd on Account") && err.contains("shorter_than"),
        "{err}"
    );
}
