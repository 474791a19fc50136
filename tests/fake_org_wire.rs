//! Wire details of the fake org that unchanged Salesforce clients depend on, checked at
//! the HTTP level from what Salesforce sends: header names as Salesforce spells them
//! (raw sockets, plain and TLS), JWT `exp` as a digit string, the ingest result paths in
//! both spellings, cursors that outlive their last page, `NOT_FOUND` / `METHOD_NOT_ALLOWED`
//! bodies, `refuse` outages that cut pooled connections, and the release labels.

mod fake_org_common;

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_org_common::*;
use orgpool::fake_org::FakeOrgConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value as Json, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A GET request head with a bearer token.
fn get_head(path: &str, token: &str, keep_alive: bool) -> String {
    let conn = if keep_alive { "keep-alive" } else { "close" };
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nAccept: */*\r\nConnection: {conn}\r\n\r\n"
    )
}

/// The header names of a raw response, exactly as sent, and its status line.
fn head_names(raw: &[u8]) -> (String, Vec<String>) {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("").to_string();
    let names = lines
        .filter_map(|l| l.split_once(':').map(|(n, _)| n.to_string()))
        .collect();
    (status, names)
}

/// Sends `head` on a fresh plain connection and reads the whole response.
async fn raw_exchange(addr: std::net::SocketAddr, head: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(head.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .expect("response in time")
        .expect("read");
    out
}

fn assert_spelt(names: &[String], want: &[&str], what: &str) {
    for w in want {
        assert!(
            names.iter().any(|n| n == w),
            "{what}: no header spelt {w:?} in {names:?}"
        );
    }
    assert!(
        !names
            .iter()
            .any(|n| n.chars().next().is_some_and(|c| c.is_ascii_lowercase())),
        "{what}: lower-case header names in {names:?}"
    );
}

/// A Bulk 2.0 results page answered 200 with its headers spelt as Salesforce spells them.
fn assert_bulk_results_head(raw: &[u8], what: &str) {
    let (status, names) = head_names(raw);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert_spelt(
        &names,
        &[
            "Content-Type",
            "Sforce-Locator",
            "Sforce-NumberOfRecords",
            "Sforce-Limit-Info",
        ],
        what,
    );
}

/// A completed Bulk query job over Opportunity, returning its results path.
async fn bulk_results_path(c: &Ctx) -> String {
    let job = c
        .create_query_job("query", "SELECT Id, Name FROM Opportunity")
        .await;
    let id = job["id"].as_str().expect("job id").to_string();
    let info = c.wait_job(&format!("/jobs/query/{id}")).await;
    assert_eq!(info["state"], "JobComplete", "{info}");
    format!("/services/data/{V}/jobs/query/{id}/results")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_names_are_spelt_as_salesforce_spells_them() {
    let c = Ctx::new().await;
    let q = format!("/services/data/{V}/query?q=SELECT+Id+FROM+Account+LIMIT+1");
    let raw = raw_exchange(c.org.addr, &get_head(&q, &c.token, false)).await;
    let (status, names) = head_names(&raw);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert_spelt(
        &names,
        &[
            "Content-Type",
            "Content-Length",
            "Sforce-Limit-Info",
            "Date",
        ],
        "query",
    );

    let results = bulk_results_path(&c).await;
    let raw = raw_exchange(
        c.org.addr,
        &get_head(&format!("{results}?maxRecords=10"), &c.token, false),
    )
    .await;
    assert_bulk_results_head(&raw, "bulk results");

    // Errors and the token endpoint too.
    let raw = raw_exchange(
        c.org.addr,
        &get_head(
            &format!("/services/data/{V}/sobjects/Nope__c"),
            "bad",
            false,
        ),
    )
    .await;
    let (status, names) = head_names(&raw);
    assert!(status.starts_with("HTTP/1.1 401"), "{status}");
    assert_spelt(&names, &["Content-Type"], "401");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_names_are_spelt_as_salesforce_spells_them_over_tls() {
    let org = start_with(FakeOrgConfig {
        tls: true,
        ..config()
    })
    .await;
    // The org's self-signed certificate; the raw exchange below trusts only it.
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("client");
    let token = token(&http, &org).await;
    let c = Ctx { org, http, token };
    let pem = c.org.cert_pem.clone().expect("certificate");
    let results = bulk_results_path(&c).await;
    let head = get_head(&format!("{results}?maxRecords=10"), &c.token, false);
    let addr = c.org.addr;
    let raw = tokio::task::spawn_blocking(move || tls_exchange(addr, &pem, &head))
        .await
        .expect("tls exchange");
    assert_bulk_results_head(&raw, "bulk results over TLS");
}

/// One request over TLS (trusting only the org's certificate), read to the end.
fn tls_exchange(addr: std::net::SocketAddr, cert_pem: &str, head: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(cert_pem.as_bytes()).expect("pem"))
        .expect("root");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("tls versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from("localhost").expect("name");
    let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("tls client");
    let sock = std::net::TcpStream::connect(addr).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(head.as_bytes()).expect("write");
    let mut out = Vec::new();
    match tls.read_to_end(&mut out) {
        Ok(_) => {}
        // A peer closing without close_notify still delivered the whole response.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => panic!("tls read: {e}"),
    }
    out
}

/// A JWT assertion with `exp` as given (number or string), signed with the test key.
fn assertion(c: &Ctx, exp: Json) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let key = EncodingKey::from_rsa_pem(include_bytes!("fixtures/jwt/key.pem")).expect("key");
    let cfg = c.org.config();
    let claims = json!({
        "iss": cfg.client_id, "sub": cfg.username,
        "aud": "https://login.salesforce.com", "exp": exp,
    });
    encode(&Header::new(Algorithm::RS256), &claims, &key).expect("jwt")
}

async fn jwt_grant(c: &Ctx, assertion: &str) -> (StatusCode, Json) {
    let resp = token_request(
        &c.http,
        &c.org,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion),
        ],
    )
    .await;
    let status = resp.status();
    (status, resp.json().await.expect("token json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_exp_as_a_digit_string_is_accepted() {
    let c = Ctx::new().await;
    let soon = chrono::Utc::now().timestamp() + 300;
    let (status, body) = jwt_grant(&c, &assertion(&c, json!(soon.to_string()))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["access_token"].is_string(), "{body}");
    let (status, body) = jwt_grant(&c, &assertion(&c, json!(soon))).await;
    assert_eq!(status, StatusCode::OK, "number: {body}");
    // A past one is expired whichever way it is written; a non-number is invalid.
    let past = (chrono::Utc::now().timestamp() - 3600).to_string();
    let (status, body) = jwt_grant(&c, &assertion(&c, json!(past))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_description"], "expired authorization code");
    let (status, body) = jwt_grant(&c, &assertion(&c, json!("tomorrow"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_description"], "invalid assertion");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_result_paths_in_every_documented_spelling() {
    let c = Ctx::new().await;
    let job = c
        .post(
            "/jobs/ingest",
            &json!({"object": "Account", "operation": "insert", "lineEnding": "LF"}),
        )
        .await;
    assert_eq!(job.status(), StatusCode::OK);
    let job: Json = job.json().await.expect("job");
    let id = job["id"].as_str().expect("id").to_string();
    let upload = c
        .req(Method::PUT, &format!("/jobs/ingest/{id}/batches"))
        .header("Content-Type", "text/csv")
        .body("Name\nWire One\nWire Two\n")
        .send()
        .await
        .expect("upload");
    assert_eq!(upload.status(), StatusCode::CREATED);
    let close = c
        .patch(
            &format!("/jobs/ingest/{id}"),
            &json!({"state": "UploadComplete"}),
        )
        .await;
    assert_eq!(close.status(), StatusCode::OK);
    let info = c.wait_job(&format!("/jobs/ingest/{id}")).await;
    assert_eq!(info["state"], "JobComplete", "{info}");
    for (kind, header) in [
        ("successfulResults", "\"sf__Id\",\"sf__Created\",\"Name\""),
        ("failedResults", "\"sf__Id\",\"sf__Error\",\"Name\""),
        ("unprocessedrecords", "\"Name\""),
        ("unprocessedRecords", "\"Name\""),
    ] {
        let resp = c.get(&format!("/jobs/ingest/{id}/{kind}")).await;
        assert_eq!(resp.status(), StatusCode::OK, "{kind}");
        assert!(content_type(&resp).starts_with("text/csv"), "{kind}");
        let body = resp.text().await.expect("csv");
        assert_eq!(body.lines().next(), Some(header), "{kind}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_cursor_outlives_its_last_page() {
    let c = Ctx::new().await;
    let first = c
        .req(Method::GET, "/query")
        .query(&[("q", "SELECT Id FROM Opportunity")])
        .header("Sforce-Query-Options", "batchSize=200")
        .send()
        .await
        .expect("query");
    let first: Json = first.json().await.expect("json");
    assert_eq!(first["done"], false, "{first}");
    let next = first["nextRecordsUrl"].as_str().expect("next").to_string();
    let last = c.get_json(&next).await;
    assert_eq!(last["done"], true, "{last}");
    // A client that lost the response retries the same page.
    let again = c.get_json(&next).await;
    assert_eq!(again, last);
    assert_eq!(
        first["records"].as_array().map(Vec::len).unwrap_or(0)
            + again["records"].as_array().map(Vec::len).unwrap_or(0),
        300
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_results_locator_can_be_read_again() {
    let c = Ctx::new().await;
    let results = bulk_results_path(&c).await;
    let mut locator = String::new();
    let last = loop {
        let url = if locator.is_empty() {
            format!("{results}?maxRecords=200")
        } else {
            format!("{results}?maxRecords=200&locator={locator}")
        };
        let resp = c.get(&url).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let next = header(&resp, "Sforce-Locator");
        let body = resp.text().await.expect("csv");
        if next == "null" {
            break (url, body);
        }
        locator = next;
    };
    let resp = c.get(&last.0).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "Sforce-Locator"), "null");
    assert_eq!(resp.text().await.expect("csv"), last.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_get_not_found_and_unknown_methods_method_not_allowed() {
    let c = Ctx::new().await;
    for path in [
        format!("/services/data/{V}/nonsense"),
        format!("/services/data/{V}/sobjects/Account/describe/extra/more"),
        "/services/nonsense".to_string(),
        "/nonsense".to_string(),
    ] {
        let resp = c.get(&path).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            content_type(&resp),
            "application/json;charset=UTF-8",
            "{path}"
        );
        let body: Json = resp.json().await.expect("json");
        assert_eq!(
            body,
            json!([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]),
            "{path}"
        );
    }
    // Known routes are not shadowed.
    assert_eq!(c.get("/services/data").await.status(), StatusCode::OK);
    assert_eq!(
        c.get("/sobjects/Account/describe").await.status(),
        StatusCode::OK
    );
    // A known path with another method: 405 in Salesforce's words, Allow kept.
    let resp = c
        .req(Method::PUT, "/sobjects/Account")
        .json(&json!({}))
        .send()
        .await
        .expect("PUT");
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(!header(&resp, "Allow").is_empty());
    let e = assert_api_error(resp, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED").await;
    assert_eq!(
        e["message"],
        "HTTP Method 'PUT' not allowed. Allowed are HEAD,GET,POST"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_labels_match_salesforce() {
    let c = Ctx::new().await;
    let list = c.get_json("/services/data").await;
    let label = |v: &str| {
        list.as_array()
            .and_then(|a| a.iter().find(|e| e["version"] == v))
            .map(|e| e["label"].clone())
            .unwrap_or(Json::Null)
    };
    assert_eq!(label("50.0"), "Winter '21");
    assert_eq!(label("51.0"), "Spring '21");
    assert_eq!(label("52.0"), "Summer '21");
    assert_eq!(label("53.0"), "Winter '22");
    assert_eq!(label("60.0"), "Spring '24");
    assert_eq!(label("62.0"), "Winter '25");
}

/// Reads one response (head and a `Content-Length` body) from a kept-alive socket.
async fn read_one(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return Ok(buf);
            }
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn admin_faults(http: &reqwest::Client, admin: &str, body: Json) {
    let resp = http
        .post(format!("{admin}/__admin/faults"))
        .json(&body)
        .send()
        .await
        .expect("admin reachable");
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refuse_outage_cuts_pooled_connections_and_admin_ends_it() {
    let c = Ctx::with(FakeOrgConfig {
        admin: true,
        ..config()
    })
    .await;
    let admin = c.org.admin_url.clone().expect("admin listener");
    let q = "/query?q=SELECT+Id+FROM+Account+LIMIT+1";
    // Both clients hold a connection opened before the outage.
    assert_eq!(c.get(q).await.status(), StatusCode::OK);
    let path = format!("/services/data/{V}{q}");
    let mut raw = TcpStream::connect(c.org.addr).await.expect("connect");
    raw.write_all(get_head(&path, &c.token, true).as_bytes())
        .await
        .expect("write");
    let first = read_one(&mut raw).await.expect("first response");
    assert!(first.starts_with(b"HTTP/1.1 200"));

    let admin_http = client();
    admin_faults(
        &admin_http,
        &admin,
        json!({"outage_seconds": 600, "outage_mode": "refuse"}),
    )
    .await;
    // The kept-alive socket is closed by the server, without another response.
    let cut = tokio::time::timeout(Duration::from_secs(10), async {
        let _ = raw
            .write_all(get_head(&path, &c.token, true).as_bytes())
            .await;
        read_one(&mut raw).await
    })
    .await
    .expect("the open connection is cut");
    assert!(
        !cut.as_deref().unwrap_or(&[]).starts_with(b"HTTP/1.1 200"),
        "served during a refuse outage"
    );
    // New connections are refused.
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(c.org.addr).await.is_ok() {
        assert!(Instant::now() < deadline, "connections still accepted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let err = get_err(&c, q).await;
    assert!(err.is_connect() || err.is_request(), "{err:?}");
    // Admin stays reachable, and ends the outage.
    let state = admin_http
        .get(format!("{admin}/__admin/state"))
        .send()
        .await
        .expect("admin state during the outage");
    assert_eq!(state.status(), StatusCode::OK);
    admin_faults(&admin_http, &admin, json!({"outage_seconds": 0})).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match c.req(Method::GET, q).send().await {
            Ok(resp) => {
                assert_eq!(resp.status(), StatusCode::OK);
                break;
            }
            Err(e) if Instant::now() < deadline => {
                assert!(e.is_connect() || e.is_request(), "{e:?}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("the same client never recovered: {e:?}"),
        }
    }
}

async fn get_err(c: &Ctx, path: &str) -> reqwest::Error {
    c.req(Method::GET, path)
        .send()
        .await
        .expect_err("no response during a refuse outage")
}
