//! SOAP partner `login` / `logout` / `undelete` of the fake org, sent as raw envelopes
//! in the shape Salesforce documents and Python clients send (`SOAPAction: login`, the
//! security token appended to the password, the `CallOptions` and `AllOrNoneHeader`
//! headers). Undelete's change events are checked in tests/fake_org_pubsub.rs.

mod fake_org_common;

use fake_org_common::*;
use reqwest::StatusCode;

fn login_envelope(username: &str, password: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8" ?>
<env:Envelope
        xmlns:xsd="http://www.w3.org/2001/XMLSchema"
        xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
        xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"
        xmlns:urn="urn:partner.soap.sforce.com">
    <env:Header>
        <urn:CallOptions>
            <urn:client>test-client</urn:client>
            <urn:defaultNamespace>sf</urn:defaultNamespace>
        </urn:CallOptions>
    </env:Header>
    <env:Body>
        <n1:login xmlns:n1="urn:partner.soap.sforce.com">
            <n1:username>{username}</n1:username>
            <n1:password>{password}</n1:password>
        </n1:login>
    </env:Body>
</env:Envelope>"#
    )
}

fn logout_envelope(session: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">
  <soapenv:Header><urn:SessionHeader><urn:sessionId>{session}</urn:sessionId></urn:SessionHeader></soapenv:Header>
  <soapenv:Body><urn:logout/></soapenv:Body>
</soapenv:Envelope>"#
    )
}

/// The text of the first `<name>` element (any prefix).
fn element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].to_string())
}

async fn soap(
    http: &reqwest::Client,
    url: &str,
    action: &str,
    body: String,
) -> (StatusCode, String) {
    let resp = http
        .post(url)
        .header("Content-Type", "text/xml")
        .header("charset", "UTF-8")
        .header("SOAPAction", action)
        .body(body)
        .send()
        .await
        .expect("soap request");
    let status = resp.status();
    let ct = content_type(&resp);
    assert!(ct.starts_with("text/xml"), "content-type {ct}");
    (status, resp.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread")]
async fn login_with_token_gives_a_session_for_rest() {
    let org = start().await;
    let http = client();
    let cfg = org.config().clone();
    let url = format!("{}/services/Soap/u/62.0", org.base_url);
    let pw = format!("{}{}", cfg.password, cfg.security_token);
    let (status, body) = soap(&http, &url, "login", login_envelope(&cfg.username, &pw)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("<loginResponse>"), "{body}");
    let session = element(&body, "sessionId").expect("sessionId");
    let server = element(&body, "serverUrl").expect("serverUrl");
    let org_id = element(&body, "organizationId").expect("organizationId");
    assert!(org_id.starts_with("00D") && valid_id(&org_id), "{org_id}");
    assert_eq!(
        server,
        format!("{}/services/Soap/u/62.0/{org_id}", org.base_url)
    );
    assert_eq!(
        element(&body, "metadataServerUrl").as_deref(),
        Some(format!("{}/services/Soap/m/62.0/{org_id}", org.base_url).as_str())
    );
    assert_eq!(element(&body, "passwordExpired").as_deref(), Some("false"));
    assert_eq!(element(&body, "sandbox").as_deref(), Some("false"));
    assert_eq!(
        element(&body, "userName").as_deref(),
        Some(cfg.username.as_str())
    );
    for f in ["userEmail", "userFullName", "userId"] {
        assert!(element(&body, f).is_some(), "{f} missing: {body}");
    }

    // The session id is a REST Bearer token.
    let resp = http
        .get(api(&org, "/query"))
        .query(&[("q", "SELECT Id FROM Account LIMIT 1")])
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // The password alone works too, and a quoted SOAPAction is accepted.
    let (status, body) = soap(
        &http,
        &url,
        "\"login\"",
        login_envelope(&cfg.username.to_uppercase(), &cfg.password),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_credentials_are_an_invalid_login_fault() {
    let org = start().await;
    let http = client();
    let cfg = org.config().clone();
    let url = format!("{}/services/Soap/u/62.0", org.base_url);
    for (user, pw) in [
        (cfg.username.clone(), format!("{}WRONG", cfg.password)),
        ("someone@else.test".to_string(), cfg.password.clone()),
    ] {
        let (status, body) = soap(&http, &url, "login", login_envelope(&user, &pw)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        assert_eq!(
            element(&body, "faultcode").as_deref(),
            Some("sf:INVALID_LOGIN")
        );
        assert_eq!(
            element(&body, "faultstring").as_deref(),
            Some("INVALID_LOGIN: Invalid username, password, security token; or user locked out.")
        );
        assert_eq!(
            element(&body, "sf:exceptionCode").as_deref(),
            Some("INVALID_LOGIN")
        );
        assert!(!body.contains("sessionId"), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_ends_the_session() {
    let org = start().await;
    let http = client();
    let cfg = org.config().clone();
    let url = format!("{}/services/Soap/u/62.0", org.base_url);
    let pw = format!("{}{}", cfg.password, cfg.security_token);
    let (_, body) = soap(&http, &url, "login", login_envelope(&cfg.username, &pw)).await;
    let session = element(&body, "sessionId").expect("sessionId");
    let server = element(&body, "serverUrl").expect("serverUrl");

    let (status, body) = soap(&http, &server, "logout", logout_envelope(&session)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("<logoutResponse/>"), "{body}");

    let resp = http
        .get(api(&org, "/limits"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_api_error(resp, StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID").await;

    // Logging out again: the session is gone.
    let (status, body) = soap(&http, &server, "logout", logout_envelope(&session)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(
        element(&body, "faultcode").as_deref(),
        Some("sf:INVALID_SESSION_ID")
    );
}

/// An `undelete` call as the partner WSDL shapes it, with the optional `CallOptions`
/// and `AllOrNoneHeader` headers.
fn undelete_envelope(
    session: &str,
    client: Option<&str>,
    all_or_none: bool,
    ids: &[&str],
) -> String {
    let call_options = client
        .map(|c| format!("<urn:CallOptions><urn:client>{c}</urn:client></urn:CallOptions>"))
        .unwrap_or_default();
    let aon = if all_or_none {
        "<urn:AllOrNoneHeader><urn:allOrNone>true</urn:allOrNone></urn:AllOrNoneHeader>"
    } else {
        ""
    };
    let ids: String = ids
        .iter()
        .map(|i| format!("<urn:ids>{i}</urn:ids>"))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">
  <soapenv:Header><urn:SessionHeader><urn:sessionId>{session}</urn:sessionId></urn:SessionHeader>{call_options}{aon}</soapenv:Header>
  <soapenv:Body><urn:undelete>{ids}</urn:undelete></soapenv:Body>
</soapenv:Envelope>"#
    )
}

/// One `UndeleteResult`: the id (nil when it failed), success, and the error's code
/// and message.
#[derive(Debug, PartialEq)]
struct Undeleted {
    id: Option<String>,
    success: bool,
    code: Option<String>,
    message: Option<String>,
}

fn undelete_results(body: &str) -> Vec<Undeleted> {
    assert!(body.contains("<undeleteResponse>"), "{body}");
    body.split("<result>")
        .skip(1)
        .map(|r| {
            let r = &r[..r.find("</result>").expect("closed result")];
            Undeleted {
                id: element(r, "id"),
                success: element(r, "success").as_deref() == Some("true"),
                code: element(r, "statusCode"),
                message: element(r, "message"),
            }
        })
        .collect()
}

async fn undelete(
    c: &Ctx,
    client: Option<&str>,
    all_or_none: bool,
    ids: &[&str],
) -> (StatusCode, String) {
    let url = format!("{}/services/Soap/u/62.0/{}", c.org.base_url, c.org.org_id());
    let body = undelete_envelope(&c.token, client, all_or_none, ids);
    soap(&c.http, &url, "undelete", body).await
}

fn not_in_bin() -> Undeleted {
    Undeleted {
        id: None,
        success: false,
        code: Some("UNDELETE_FAILED".into()),
        message: Some("Entity is not in the recycle bin".into()),
    }
}

async fn is_deleted(c: &Ctx, object: &str, id: &str) -> Option<bool> {
    let q = c
        .req(reqwest::Method::GET, "/queryAll")
        .query(&[(
            "q",
            format!("SELECT Id, IsDeleted FROM {object} WHERE Id = '{id}'"),
        )])
        .send()
        .await
        .expect("queryAll");
    let body: serde_json::Value = q.json().await.expect("json");
    body["records"][0]["IsDeleted"].as_bool()
}

#[tokio::test(flavor = "multi_thread")]
async fn undelete_restores_records_from_the_recycle_bin() {
    let c = Ctx::new().await;
    let id = c
        .create(
            "Account",
            serde_json::json!({"Name": "Undelete Me", "Phone": "555-0199"}),
        )
        .await;
    let live = c
        .create("Account", serde_json::json!({"Name": "Still Here"}))
        .await;
    assert!(
        c.delete(&format!("/sobjects/Account/{id}"))
            .await
            .status()
            .is_success()
    );
    assert_eq!(is_deleted(&c, "Account", &id).await, Some(true));
    // Back-date the deleted record so a moved SystemModstamp shows whatever the clock.
    let old = "2020-01-01T00:00:00.000+0000";
    c.org.with_store_mut(|s| {
        let obj = s.schema.index("Account").expect("Account");
        let slot = s.schema.objects[obj]
            .field("SystemModstamp")
            .and_then(|f| f.slot)
            .expect("slot");
        let seq = orgpool::fake_org::ids::RecordId::parse(&id)
            .expect("id")
            .seq();
        let ms = chrono::DateTime::parse_from_str(old, "%Y-%m-%dT%H:%M:%S%.3f%z")
            .expect("date")
            .timestamp_millis();
        s.set_calculated(
            obj,
            seq,
            &[(slot, orgpool::fake_org::value::Value::DateTime(ms))],
            false,
        );
    });
    let never = {
        let seq = c
            .org
            .with_store(|s| s.table(s.schema.index("Account").unwrap()).issued())
            + 1000;
        orgpool::fake_org::ids::RecordId::new(*b"001", seq).to_string()
    };

    let (status, body) = undelete(
        &c,
        Some("orgpool-test"),
        false,
        &[&id, &live, &never, "garbage"],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = undelete_results(&body);
    assert_eq!(results.len(), 4, "{body}");
    assert_eq!(
        results[0],
        Undeleted {
            id: Some(id.clone()),
            success: true,
            code: None,
            message: None
        }
    );
    assert_eq!(results[1], not_in_bin(), "a live record");
    assert_eq!(results[2], not_in_bin(), "an Id never issued");
    assert_eq!(results[3].code.as_deref(), Some("MALFORMED_ID"));
    assert!(body.contains(r#"<id xsi:nil="true"/>"#), "{body}");

    // Back in queries, IsDeleted false, SystemModstamp moved on, values kept.
    let q = c
        .query(&format!(
            "SELECT Id, Phone, IsDeleted, SystemModstamp FROM Account WHERE Id = '{id}'"
        ))
        .await;
    assert_eq!(q["totalSize"], 1, "{q}");
    let rec = &q["records"][0];
    assert_eq!(rec["IsDeleted"], false);
    assert_eq!(rec["Phone"], "555-0199");
    assert_ne!(rec["SystemModstamp"], old, "{rec}");
    assert!(rec["SystemModstamp"].as_str().unwrap_or("") > old, "{rec}");

    // Undeleting it again: it is not in the recycle bin any more.
    let (_, body) = undelete(&c, None, false, &[&id]).await;
    assert_eq!(undelete_results(&body), vec![not_in_bin()]);

    // A bad session is a fault.
    let url = format!("{}/services/Soap/u/62.0", c.org.base_url);
    let (status, body) = soap(
        &c.http,
        &url,
        "undelete",
        undelete_envelope("00Dbogus!x", None, false, &[&id]),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(
        element(&body, "faultcode").as_deref(),
        Some("sf:INVALID_SESSION_ID")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn undelete_brings_cascaded_children_back_and_all_or_none_rolls_back() {
    let c = Ctx::new().await;
    let opp = c
        .create(
            "Opportunity",
            serde_json::json!({"Name": "Undelete Opp", "StageName": "Prospecting", "CloseDate": "2030-01-01"}),
        )
        .await;
    let quote = |name: &str, key: &str| serde_json::json!({"Name": name, "OpportunityId": opp, "Orgpool_Key__c": key});
    let alone = c.create("Quote", quote("Deleted Alone", "UNDEL-1")).await;
    let child = c
        .create("Quote", quote("Deleted With Parent", "UNDEL-2"))
        .await;
    let live = c.any_id("Account").await;
    assert!(
        c.delete(&format!("/sobjects/Quote/{alone}"))
            .await
            .status()
            .is_success()
    );
    assert!(
        c.delete(&format!("/sobjects/Opportunity/{opp}"))
            .await
            .status()
            .is_success()
    );
    assert_eq!(
        is_deleted(&c, "Quote", &child).await,
        Some(true),
        "cascade-deleted"
    );

    // A cascade-deleted child is not in the recycle bin by itself: its parent is.
    let (_, body) = undelete(&c, None, false, &[&child]).await;
    assert_eq!(undelete_results(&body), vec![not_in_bin()]);

    // AllOrNoneHeader: one failure rolls the good one back.
    let (_, body) = undelete(&c, None, true, &[&opp, &live]).await;
    let r = undelete_results(&body);
    assert_eq!(
        r[0].code.as_deref(),
        Some("ALL_OR_NONE_OPERATION_ROLLED_BACK"),
        "{body}"
    );
    assert_eq!(r[1], not_in_bin());
    assert_eq!(is_deleted(&c, "Opportunity", &opp).await, Some(true));
    assert_eq!(is_deleted(&c, "Quote", &child).await, Some(true));

    // The parent comes back with the child deleted along with it, not the other.
    let (_, body) = undelete(&c, None, false, &[&opp]).await;
    assert!(undelete_results(&body)[0].success, "{body}");
    assert_eq!(is_deleted(&c, "Opportunity", &opp).await, Some(false));
    assert_eq!(is_deleted(&c, "Quote", &child).await, Some(false));
    assert_eq!(is_deleted(&c, "Quote", &alone).await, Some(true));

    // A unique value taken meanwhile keeps a record in the bin.
    let taken = c.create("Quote", quote("Took The Key", "UNDEL-1")).await;
    let (_, body) = undelete(&c, None, false, &[&alone]).await;
    let r = undelete_results(&body);
    assert_eq!(r[0].code.as_deref(), Some("DUPLICATE_VALUE"), "{body}");
    assert!(
        r[0].message.as_deref().unwrap_or("").contains(&taken),
        "{body}"
    );
    assert_eq!(is_deleted(&c, "Quote", &alone).await, Some(true));
}
