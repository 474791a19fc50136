//! SOAP partner `login` / `logout` of the fake org, sent as raw envelopes in the shape
//! Salesforce documents and Python clients send (`SOAPAction: login`, the security
//! token appended to the password).

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
