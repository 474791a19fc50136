//! Shared helpers for the fake-org HTTP contract tests: start an org, get a token,
//! build API URLs, and small request helpers. Each test file uses a subset.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use orgpool::fake_org::{FakeOrg, FakeOrgConfig, SeedConfig};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value as Json, json};

/// API version used by the tests.
pub const V: &str = "v62.0";

/// The default test config: a small seed and fast bulk processing.
pub fn config() -> FakeOrgConfig {
    FakeOrgConfig {
        seed: SeedConfig {
            accounts: 50,
            opportunities: 300,
            ..Default::default()
        },
        bulk_delay: Duration::from_millis(50),
        ..Default::default()
    }
}

/// Starts an org with [`config`].
pub async fn start() -> FakeOrg {
    start_with(config()).await
}

/// Starts an org with `cfg`.
pub async fn start_with(cfg: FakeOrgConfig) -> FakeOrg {
    orgpool::fake_org::start(cfg)
        .await
        .expect("fake org starts")
}

/// A plain HTTP client.
pub fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Posts a token form and returns the response.
pub async fn token_request(http: &Client, org: &FakeOrg, form: &[(&str, &str)]) -> Response {
    http.post(org.token_url())
        .form(form)
        .send()
        .await
        .expect("token request")
}

/// An access token from the client-credentials flow.
pub async fn token(http: &Client, org: &FakeOrg) -> String {
    let cfg = org.config();
    let resp = token_request(
        http,
        org,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cfg.client_id),
            ("client_secret", &cfg.client_secret),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Json = resp.json().await.expect("token json");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// `{base}/services/data/v62.0{path}`.
pub fn api(org: &FakeOrg, path: &str) -> String {
    format!("{}/services/data/{V}{path}", org.base_url)
}

/// A started org with a client and a token.
pub struct Ctx {
    pub org: FakeOrg,
    pub http: Client,
    pub token: String,
}

impl Ctx {
    pub async fn new() -> Ctx {
        Ctx::with(config()).await
    }

    pub async fn with(cfg: FakeOrgConfig) -> Ctx {
        let org = start_with(cfg).await;
        let http = client();
        let token = token(&http, &org).await;
        Ctx { org, http, token }
    }

    /// An authorized request to an API path (`/query`), or to an absolute URL path
    /// starting with `/services/`, or a full URL.
    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        let url = if path.starts_with("http") {
            path.to_string()
        } else if path.starts_with("/services/") {
            format!("{}{path}", self.org.base_url)
        } else {
            api(&self.org, path)
        };
        self.http.request(method, url).bearer_auth(&self.token)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.req(Method::GET, path).send().await.expect("GET")
    }

    pub async fn post(&self, path: &str, body: &Json) -> Response {
        self.req(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn patch(&self, path: &str, body: &Json) -> Response {
        self.req(Method::PATCH, path)
            .json(body)
            .send()
            .await
            .expect("PATCH")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.req(Method::DELETE, path).send().await.expect("DELETE")
    }

    /// GET a JSON API resource, asserting 200.
    pub async fn get_json(&self, path: &str) -> Json {
        let resp = self.get(path).await;
        let status = resp.status();
        let body: Json = resp.json().await.expect("json");
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// Runs a REST query and returns the first page.
    pub async fn query(&self, soql: &str) -> Json {
        let resp = self
            .req(Method::GET, "/query")
            .query(&[("q", soql)])
            .send()
            .await
            .expect("query");
        let status = resp.status();
        let body: Json = resp.json().await.expect("json");
        assert_eq!(status, StatusCode::OK, "{soql}: {body}");
        body
    }

    /// Creates a record, asserting 201, and returns its id.
    pub async fn create(&self, object: &str, fields: Json) -> String {
        let resp = self.post(&format!("/sobjects/{object}"), &fields).await;
        let status = resp.status();
        let body: Json = resp.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "create {object}: {body}");
        body["id"].as_str().expect("id").to_string()
    }

    /// The standard price book's id.
    pub async fn standard_pricebook(&self) -> String {
        let q = self
            .query("SELECT Id FROM Pricebook2 WHERE IsStandard = true")
            .await;
        q["records"][0]["Id"]
            .as_str()
            .expect("standard pricebook")
            .to_string()
    }

    /// Any record id of `object`.
    pub async fn any_id(&self, object: &str) -> String {
        let q = self
            .query(&format!("SELECT Id FROM {object} LIMIT 1"))
            .await;
        q["records"][0]["Id"]
            .as_str()
            .expect("a record")
            .to_string()
    }

    /// Creates a bulk query job and returns its info.
    pub async fn create_query_job(&self, operation: &str, soql: &str) -> Json {
        let resp = self
            .post("/jobs/query", &json!({"operation": operation, "query": soql, "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"}))
            .await;
        let status = resp.status();
        let body: Json = resp.json().await.expect("json");
        assert_eq!(status, StatusCode::OK, "create query job: {body}");
        body
    }

    /// Polls a job (`/jobs/query/ID` or `/jobs/ingest/ID`) until a terminal state.
    pub async fn wait_job(&self, path: &str) -> Json {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let info = self.get_json(path).await;
            match info["state"].as_str() {
                Some("JobComplete" | "Failed" | "Aborted") => return info,
                _ if Instant::now() > deadline => panic!("job {path} did not finish: {info}"),
                _ => tokio::time::sleep(Duration::from_millis(25)).await,
            }
        }
    }
}

/// Asserts a REST error array: status, `errorCode`, and returns the first item.
pub async fn assert_api_error(resp: Response, status: StatusCode, code: &str) -> Json {
    let got = resp.status();
    let ct = content_type(&resp);
    let body: Json = resp.json().await.expect("error json");
    assert_eq!(got, status, "body: {body}");
    assert!(ct.starts_with("application/json"), "content-type {ct}");
    let first = body
        .as_array()
        .and_then(|a| a.first())
        .unwrap_or_else(|| panic!("error array: {body}"))
        .clone();
    assert_eq!(first["errorCode"], code, "body: {body}");
    assert!(first["message"].is_string(), "body: {body}");
    first
}

/// The Content-Type header, or "".
pub fn content_type(resp: &Response) -> String {
    header(resp, "content-type")
}

/// A header value, or "".
pub fn header(resp: &Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// Parses `api-usage=N/M`.
pub fn limit_info(resp: &Response) -> (u64, u64) {
    let h = header(resp, "sforce-limit-info");
    let rest = h
        .strip_prefix("api-usage=")
        .unwrap_or_else(|| panic!("Sforce-Limit-Info: {h:?}"));
    let (u, m) = rest.split_once('/').expect("N/M");
    (u.parse().expect("used"), m.parse().expect("max"))
}

/// Whether an 18-character Salesforce id has a valid checksum suffix.
pub fn valid_id(id: &str) -> bool {
    if id.len() != 18 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    let b = id.as_bytes();
    (0..3).all(|g| {
        let mut bits = 0usize;
        for i in 0..5 {
            if b[g * 5 + i].is_ascii_uppercase() {
                bits |= 1 << i;
            }
        }
        b[15 + g] == ALPHA[bits]
    })
}

/// Splits a Bulk CSV (every value double-quoted) into rows of raw cells (quotes kept).
pub fn raw_csv_rows(csv: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut in_q = false;
    let mut chars = csv.chars().peekable();
    while let Some(c) = chars.next() {
        if in_q {
            cell.push(c);
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    cell.push(chars.next().unwrap_or('"'));
                } else {
                    in_q = false;
                }
            }
        } else {
            match c {
                '"' => {
                    in_q = true;
                    cell.push(c);
                }
                ',' => row.push(std::mem::take(&mut cell)),
                '\n' => {
                    row.push(std::mem::take(&mut cell));
                    rows.push(std::mem::take(&mut row));
                }
                '\r' => {}
                _ => cell.push(c),
            }
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows
}

/// Parses a CSV into header + rows of unquoted values.
pub fn parse_csv(csv: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv.as_bytes());
    let header = rdr
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = rdr
        .records()
        .map(|r| r.expect("row").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}
