//! REST API contract of the fake org: versions, headers, describe, query, CRUD, errors.

mod fake_org_common;

use fake_org_common::*;
use orgpool::fake_org::{FakeOrgConfig, SeedConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value as Json, json};

fn is_sf_datetime(s: &str) -> bool {
    // 2024-05-20T20:49:32.000+0000
    let b = s.as_bytes();
    s.len() == 28
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'+',
            _ => c.is_ascii_digit(),
        })
        && s.ends_with("+0000")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_and_unsupported_version() {
    let c = Ctx::new().await;
    let resp = c
        .http
        .get(format!("{}/services/data/", c.org.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let list: Json = resp.json().await.unwrap();
    let list = list.as_array().unwrap();
    assert!(
        list.iter()
            .any(|v| v["version"] == "62.0" && v["url"] == "/services/data/v62.0"),
        "{list:?}"
    );
    assert!(list.iter().all(|v| v["label"].is_string()));
    let resp = c
        .get(&format!("{}/services/data/v49.0/limits", c.org.base_url))
        .await;
    assert_api_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let res = c.get_json("/").await;
    assert_eq!(res["sobjects"], "/services/data/v62.0/sobjects");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_header_and_content_type_on_every_response() {
    let c = Ctx::new().await;
    let ok = c.get("/sobjects").await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(content_type(&ok), "application/json;charset=UTF-8");
    let (u1, max) = limit_info(&ok);
    assert_eq!(max, 100_000);
    let body: Json = ok.json().await.unwrap();
    assert!(
        body["sobjects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == "Quote" && o["keyPrefix"] == "0Q0")
    );
    let err = c.get("/query?q=SELEKT+Id+FROM+Account").await;
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    assert_eq!(content_type(&err), "application/json;charset=UTF-8");
    let (u2, _) = limit_info(&err);
    assert_eq!(u2, u1 + 1);
    let nf = c.get("/sobjects/NoSuchThing__c/describe").await;
    assert_eq!(nf.status(), StatusCode::NOT_FOUND);
    assert_eq!(limit_info(&nf).0, u1 + 2);
    // /limits agrees with the header.
    let lim = c.get("/limits").await;
    let (u3, _) = limit_info(&lim);
    let body: Json = lim.json().await.unwrap();
    assert_eq!(body["DailyApiRequests"]["Max"], 100_000);
    assert_eq!(
        body["DailyApiRequests"]["Remaining"].as_u64().unwrap(),
        100_000 - u3
    );
    assert_eq!(c.org.api_usage(), (u3, 100_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_account_and_quote() {
    let c = Ctx::new().await;
    let d = c.get_json("/sobjects/Account/describe").await;
    assert_eq!(d["name"], "Account");
    assert_eq!(d["keyPrefix"], "001");
    let fields = d["fields"].as_array().unwrap();
    let id = fields.iter().find(|f| f["name"] == "Id").unwrap();
    assert_eq!(
        (&id["type"], &id["soapType"], &id["length"]),
        (&json!("id"), &json!("tns:ID"), &json!(18))
    );
    let name = fields.iter().find(|f| f["name"] == "Name").unwrap();
    assert_eq!(
        (&name["type"], &name["soapType"]),
        (&json!("string"), &json!("xsd:string"))
    );
    assert!(name["length"].as_u64().unwrap() > 0);
    let cd = fields.iter().find(|f| f["name"] == "CreatedDate").unwrap();
    assert_eq!(
        (&cd["type"], &cd["soapType"]),
        (&json!("datetime"), &json!("xsd:dateTime"))
    );
    let q = c.get_json("/sobjects/Quote/describe").await;
    assert_eq!(q["keyPrefix"], "0Q0");
    let key = q["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Orgpool_Key__c")
        .unwrap();
    assert_eq!(
        (&key["externalId"], &key["unique"]),
        (&json!(true), &json!(true))
    );
    // Not modified since a future date.
    let future = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let resp = c
        .req(Method::GET, "/sobjects/Account/describe")
        .header("If-Modified-Since", future)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    limit_info(&resp);
    assert!(resp.bytes().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_paging_default_and_batch_size() {
    let cfg = FakeOrgConfig {
        seed: SeedConfig {
            accounts: 50,
            opportunities: 2500,
            lines_per_opportunity: 0,
            ..Default::default()
        },
        ..config()
    };
    let c = Ctx::with(cfg).await;
    let first = c.query("SELECT Id, Name FROM Opportunity").await;
    assert_eq!(first["totalSize"], 2500);
    assert_eq!(first["done"], false);
    assert_eq!(first["records"].as_array().unwrap().len(), 2000);
    let next = first["nextRecordsUrl"].as_str().unwrap();
    assert!(
        next.starts_with("/services/data/v62.0/query/01g") && next.ends_with("-2000"),
        "{next}"
    );
    let second = c.get_json(next).await;
    assert_eq!(second["done"], true);
    assert_eq!(second["totalSize"], 2500);
    assert_eq!(second["records"].as_array().unwrap().len(), 500);
    assert!(second.get("nextRecordsUrl").is_none());
    // batchSize=300.
    let resp = c
        .req(Method::GET, "/query")
        .query(&[("q", "SELECT Id FROM Opportunity")])
        .header("Sforce-Query-Options", "batchSize=300")
        .send()
        .await
        .unwrap();
    let mut page: Json = resp.json().await.unwrap();
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let n = page["records"].as_array().unwrap().len();
        seen += n;
        pages += 1;
        if page["done"] == true {
            break;
        }
        assert_eq!(n, 300);
        page = c.get_json(page["nextRecordsUrl"].as_str().unwrap()).await;
    }
    assert_eq!((seen, pages), (2500, 9));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_shapes_deleted_count_and_parents() {
    let c = Ctx::new().await;
    let acct = c.create("Account", json!({"Name": "Parent Co"})).await;
    let opp = c
        .create("Opportunity", json!({"Name": "Deal", "AccountId": acct, "StageName": "Prospecting", "CloseDate": "2025-01-31"}))
        .await;
    let q = c.query(&format!("SELECT Id, Name, Description, CreatedDate, Account.Name FROM Opportunity WHERE Id = '{opp}'")).await;
    assert_eq!(
        (q["totalSize"].clone(), q["done"].clone()),
        (json!(1), json!(true))
    );
    let r = &q["records"][0];
    assert_eq!(r["attributes"]["type"], "Opportunity");
    assert_eq!(
        r["attributes"]["url"],
        format!("/services/data/v62.0/sobjects/Opportunity/{opp}")
    );
    assert!(
        r.as_object().unwrap().contains_key("Description") && r["Description"].is_null(),
        "{r}"
    );
    assert!(is_sf_datetime(r["CreatedDate"].as_str().unwrap()), "{r}");
    assert_eq!(r["Account"]["attributes"]["type"], "Account");
    assert_eq!(r["Account"]["Name"], "Parent Co");
    // COUNT().
    let n = c.query("SELECT COUNT() FROM Account").await;
    assert_eq!(n, json!({"totalSize": 51, "done": true, "records": []}));
    // Soft delete: query misses it, queryAll sees it.
    assert_eq!(
        c.delete(&format!("/sobjects/Account/{acct}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let soql = format!("SELECT Id, IsDeleted FROM Account WHERE Id = '{acct}'");
    assert_eq!(c.query(&soql).await["totalSize"], 0);
    let resp = c
        .req(Method::GET, "/queryAll")
        .query(&[("q", soql.as_str())])
        .send()
        .await
        .unwrap();
    let all: Json = resp.json().await.unwrap();
    assert_eq!(all["totalSize"], 1);
    assert_eq!(all["records"][0]["IsDeleted"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_errors() {
    let c = Ctx::new().await;
    let q = |s: &str| {
        c.req(Method::GET, "/query")
            .query(&[("q", s.to_string())])
            .send()
    };
    let e = assert_api_error(
        q("SELECT Id FRM Account").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "MALFORMED_QUERY",
    )
    .await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("ERROR at Row:1:Column:"),
        "{e}"
    );
    let e = assert_api_error(
        q("SELECT Bacon__c FROM Account LIMIT 2").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "INVALID_FIELD",
    )
    .await;
    let m = e["message"].as_str().unwrap();
    assert!(
        m.contains("No such column 'Bacon__c' on entity 'Account'")
            && m.contains("ERROR at Row:1:Column:8"),
        "{m}"
    );
    let e = assert_api_error(
        q("SELECT Id FROM Bacon__c").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "INVALID_TYPE",
    )
    .await;
    assert!(e["message"].as_str().unwrap().contains("Bacon__c"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crud_lifecycle() {
    let c = Ctx::new().await;
    let resp = c
        .post(
            "/sobjects/Account",
            &json!({"Name": "Acme", "Industry": "Energy"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let loc = header(&resp, "location");
    limit_info(&resp);
    let body: Json = resp.json().await.unwrap();
    let id = body["id"].as_str().unwrap().to_string();
    assert_eq!(body, json!({"id": id, "success": true, "errors": []}));
    assert_eq!(loc, format!("/services/data/v62.0/sobjects/Account/{id}"));
    assert!(id.starts_with("001") && valid_id(&id), "{id}");
    let rec = c.get_json(&format!("/sobjects/Account/{id}")).await;
    assert_eq!((&rec["Id"], &rec["Name"]), (&json!(id), &json!("Acme")));
    let stamp1 = rec["SystemModstamp"].as_str().unwrap().to_string();
    assert!(is_sf_datetime(&stamp1));
    // REST datetimes carry whole seconds (`.000`), so wait past the next second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let resp = c
        .patch(
            &format!("/sobjects/Account/{id}"),
            &json!({"Name": "Acme 2"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.bytes().await.unwrap().is_empty());
    let rec = c
        .get_json(&format!(
            "/sobjects/Account/{id}?fields=Name,SystemModstamp"
        ))
        .await;
    assert_eq!(rec["Name"], "Acme 2");
    assert!(
        rec["SystemModstamp"].as_str().unwrap() > stamp1.as_str(),
        "{rec} vs {stamp1}"
    );
    assert_eq!(c.org.field("Account", &id, "Name"), Some(json!("Acme 2")));
    assert_eq!(
        c.delete(&format!("/sobjects/Account/{id}")).await.status(),
        StatusCode::NO_CONTENT
    );
    let e = assert_api_error(
        c.delete(&format!("/sobjects/Account/{id}")).await,
        StatusCode::NOT_FOUND,
        "ENTITY_IS_DELETED",
    )
    .await;
    assert_eq!(e["message"], "entity is deleted");
    assert_api_error(
        c.get(&format!("/sobjects/Account/{id}")).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_api_error(
        c.get("/sobjects/Account/notAnId").await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_api_error(
        c.get("/sobjects/Bacon__c/001000000000001AAA").await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_ids_are_valid() {
    let c = Ctx::new().await;
    for (obj, prefix) in [
        ("Account", "001"),
        ("Contact", "003"),
        ("Opportunity", "006"),
        ("OpportunityLineItem", "00k"),
        ("Pricebook2", "01s"),
        ("Product2", "01t"),
        ("PricebookEntry", "01u"),
    ] {
        let q = c.query(&format!("SELECT Id FROM {obj} LIMIT 20")).await;
        let recs = q["records"].as_array().unwrap();
        assert!(!recs.is_empty(), "{obj}");
        for r in recs {
            let id = r["Id"].as_str().unwrap();
            assert!(id.starts_with(prefix) && valid_id(id), "{obj} {id}");
        }
    }
}
