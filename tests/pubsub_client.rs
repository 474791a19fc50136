//! Salesforce's own Node Pub/Sub client, `salesforce-pubsub-api-client` (pinned in
//! `tests/clients/pubsub/package.json`), subscribes to the fake org unchanged.
//!
//! The org runs in-process with TLS; `tests/clients/pubsub/run.mjs` logs in with the
//! client's OAuth client-credentials flow (token, then `/services/oauth2/userinfo`),
//! subscribes to `/data/AccountChangeEvent` and `/data/ChangeEvents`, and prints what
//! the client decoded as JSON lines. The test makes changes through REST and checks
//! each decoded event: change type, record ids, field values, `changeOrigin`, and the
//! field names the client makes of the `changedFields` / `nulledFields` bitmaps, also
//! for a compound field (`BillingAddress`, a nested record whose changed parts the
//! `<i>-0x…` entries name: `BillingAddress.City`). Then
//! the client disconnects, more changes happen, and it reconnects with user-supplied
//! auth and resumes from a stored replay id (CUSTOM); an undelete shows up as UNDELETE.
//!
//! `scripts/test` installs Node and the client (`ensure_pubsub_client`). Without `node`
//! or the installed client this test fails: it is never skipped.

mod client_common;

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::time::Duration;

use client_common::{KillOnDrop, forward_lines};
use orgpool::fake_org::{FakeOrg, FakeOrgConfig, SeedConfig};
use reqwest::{Certificate, Client, Method, StatusCode};
use serde_json::{Value as Json, json};
use tokio::sync::mpsc;

/// How long to wait for one line from the client before calling it stuck.
const LINE_TIMEOUT: Duration = Duration::from_secs(30);
const CLIENT: &str = "orgpool-pubsub-test/1.0";

fn client_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/pubsub")
}

/// Fails (never skips) when Node or the client is missing.
fn require_client(dir: &Path) {
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        node,
        "node is not on PATH: run scripts/test, which installs Node and the Pub/Sub test client"
    );
    let marker = dir.join("node_modules/salesforce-pubsub-api-client/package.json");
    assert!(
        marker.is_file(),
        "{} has no node_modules/salesforce-pubsub-api-client: run scripts/test (ensure_pubsub_client)",
        dir.display()
    );
}

/// The org's certificate in a file for the client; removed when dropped.
struct PemFile(PathBuf);

impl PemFile {
    fn new(pem: &str) -> PemFile {
        let name = format!(
            "orgpool-pubsub-client-{}-{}.pem",
            std::process::id(),
            rand::random::<u64>()
        );
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, pem).expect("write the certificate");
        PemFile(path)
    }
}

impl Drop for PemFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The running client: commands in on stdin, JSON lines out, queued per topic.
struct Node {
    _child: KillOnDrop,
    stdin: ChildStdin,
    lines: mpsc::Receiver<Json>,
    events: HashMap<String, VecDeque<Json>>,
    keepalives: HashMap<String, usize>,
}

impl Node {
    fn start(org: &FakeOrg, pem: &PemFile) -> Node {
        let dir = client_dir();
        let endpoint = org
            .pubsub_url
            .as_deref()
            .expect("pubsub on")
            .trim_start_matches("https://")
            .to_string();
        let cfg = org.config();
        let mut child = Command::new("node")
            .arg(dir.join("run.mjs"))
            .current_dir(&dir)
            .env("FAKE_ORG_URL", &org.base_url)
            .env("FAKE_ORG_CLIENT_ID", &cfg.client_id)
            .env("FAKE_ORG_CLIENT_SECRET", &cfg.client_secret)
            .env("FAKE_ORG_PUBSUB", endpoint)
            .env("FAKE_ORG_CERT", &pem.0)
            // The OAuth login (undici) trusts the org's certificate through Node's store.
            .env("NODE_EXTRA_CA_CERTS", &pem.0)
            .env("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", &pem.0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start node run.mjs");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        forward_lines(child.stderr.take().expect("stderr"), "[pubsub client] ");
        let (tx, lines) = mpsc::channel(1024);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                eprintln!("[pubsub client out] {line}");
                let v = serde_json::from_str(&line)
                    .unwrap_or_else(|_| json!({"type": "failed", "message": line}));
                if tx.blocking_send(v).is_err() {
                    break;
                }
            }
        });
        Node {
            _child: KillOnDrop {
                name: "node run.mjs",
                child,
            },
            stdin,
            lines,
            events: HashMap::new(),
            keepalives: HashMap::new(),
        }
    }

    fn send(&mut self, cmd: Json) {
        writeln!(self.stdin, "{cmd}").expect("write a command");
        self.stdin.flush().expect("flush");
    }

    /// The next line; events and keepalives are filed by topic, a failure panics.
    async fn line(&mut self) -> Json {
        let v = tokio::time::timeout(LINE_TIMEOUT, self.lines.recv())
            .await
            .expect("the client answers in time")
            .expect("the client is running");
        let topic = v["topic"].as_str().unwrap_or("").to_string();
        match v["type"].as_str() {
            Some("event") => self.events.entry(topic).or_default().push_back(v.clone()),
            Some("keepalive") => *self.keepalives.entry(topic).or_default() += 1,
            Some("failed" | "error") => panic!("the client reported a failure: {v}"),
            _ => {}
        }
        v
    }

    /// Reads until a line of `kind` (not an event or keepalive) arrives.
    async fn expect(&mut self, kind: &str) -> Json {
        loop {
            let v = self.line().await;
            if v["type"] == kind {
                return v;
            }
        }
    }

    /// Waits until `topic` has had a keepalive: the server has taken the subscription.
    async fn subscribed(&mut self, topic: &str) {
        self.keepalives.remove(topic);
        while self.keepalives.get(topic).copied().unwrap_or(0) == 0 {
            self.line().await;
        }
    }

    /// The next decoded event on `topic`.
    async fn event(&mut self, topic: &str) -> Json {
        loop {
            if let Some(e) = self.events.get_mut(topic).and_then(VecDeque::pop_front) {
                return e;
            }
            self.line().await;
        }
    }
}

struct Org {
    org: FakeOrg,
    http: Client,
    token: String,
}

impl Org {
    async fn start() -> Org {
        let org = orgpool::fake_org::start(FakeOrgConfig {
            tls: true,
            admin: true,
            seed: SeedConfig {
                accounts: 20,
                opportunities: 20,
                ..Default::default()
            },
            pubsub_keepalive: Duration::from_millis(200),
            ..Default::default()
        })
        .await
        .expect("fake org starts");
        let pem = org.cert_pem.clone().expect("tls on");
        let http = Client::builder()
            .tls_certs_only([Certificate::from_pem(pem.as_bytes()).expect("pem")])
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        let cfg = org.config().clone();
        let body: Json = http
            .post(org.token_url())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &cfg.client_id),
                ("client_secret", &cfg.client_secret),
            ])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token json");
        let token = body["access_token"].as_str().expect("token").to_string();
        Org { org, http, token }
    }

    /// A REST call; `named` adds `Sforce-Call-Options: client=…`.
    async fn rest(&self, method: Method, path: &str, body: Option<Json>, named: bool) -> Json {
        let url = format!("{}/services/data/v62.0{path}", self.org.base_url);
        let mut req = self.http.request(method, url).bearer_auth(&self.token);
        if named {
            req = req.header("Sforce-Call-Options", format!("client={CLIENT}"));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Json::Null)
    }
}

fn header(e: &Json) -> &Json {
    &e["payload"]["ChangeEventHeader"]
}

fn names(v: &Json) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("a list: {v}"))
        .iter()
        .map(|s| s.as_str().expect("a name").to_string())
        .collect();
    out.sort();
    out
}

fn replay(e: &Json) -> u64 {
    e["replayId"].as_u64().expect("numeric replay id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salesforce_pubsub_client_decodes_the_fake_orgs_events() {
    let dir = client_dir();
    require_client(&dir);
    let o = Org::start().await;
    let pem = PemFile::new(&o.org.pubsub_cert_pem);
    let mut node = Node::start(&o.org, &pem);
    let acct = "/data/AccountChangeEvent";
    let all = "/data/ChangeEvents";

    let t = node.expect("tls").await;
    assert_eq!(
        t["authorized"], true,
        "the exported certificate verifies: {t}"
    );
    assert_eq!(t["alpn"], "h2");
    node.send(json!({"op": "connect", "auth": "oauth-client-credentials"}));
    node.expect("connected").await;
    node.send(json!({"op": "subscribe", "topic": acct}));
    node.send(json!({"op": "subscribe", "topic": all}));
    node.subscribed(acct).await;
    node.subscribed(all).await;

    // CREATE, named client: every non-null field, no field lists.
    let created = o
        .rest(
            Method::POST,
            "/sobjects/Account",
            Some(json!({"Name": "PubSub Client One", "Industry": "Energy"})),
            true,
        )
        .await;
    let id = created["id"].as_str().expect("id").to_string();
    let e = node.event(acct).await;
    let h = header(&e);
    assert_eq!(h["entityName"], "Account");
    assert_eq!(h["changeType"], "CREATE");
    assert_eq!(h["recordIds"], json!([id]));
    assert_eq!(
        h["changeOrigin"],
        format!("com/salesforce/api/rest/62.0;client={CLIENT}")
    );
    assert_eq!(h["sequenceNumber"], 1);
    assert!(names(&h["changedFields"]).is_empty());
    assert_eq!(e["payload"]["Name"], "PubSub Client One");
    assert_eq!(e["payload"]["Industry"], "Energy");
    assert!(e["payload"]["CreatedDate"].as_u64().is_some(), "{e}");
    let on_all = node.event(all).await;
    assert_eq!(
        replay(&on_all),
        replay(&e),
        "the same event on /data/ChangeEvents"
    );
    assert_eq!(header(&on_all)["recordIds"], json!([id]));

    // UPDATE of one part of a compound field: the value is nested in its record, and
    // the client names the compound and the part (`<i>-0x…` entry).
    o.rest(
        Method::PATCH,
        &format!("/sobjects/Account/{id}"),
        Some(json!({"BillingCity": "Paris"})),
        true,
    )
    .await;
    let e = node.event(acct).await;
    let h = header(&e);
    assert_eq!(h["changeType"], "UPDATE");
    assert_eq!(
        names(&h["changedFields"]),
        vec!["BillingAddress", "BillingAddress.City", "LastModifiedDate"]
    );
    assert!(names(&h["nulledFields"]).is_empty());
    let billing = &e["payload"]["BillingAddress"];
    assert_eq!(billing["City"], "Paris", "{e}");
    assert_eq!(billing["Street"], Json::Null, "unchanged parts are null");
    assert_eq!(billing["StateCode"], Json::Null);
    assert!(
        e["payload"].get("BillingCity").is_none(),
        "no flat part: {e}"
    );
    assert_eq!(e["payload"]["ShippingAddress"], Json::Null);
    node.event(all).await;

    // Two parts at once, one of them nulled.
    o.rest(
        Method::PATCH,
        &format!("/sobjects/Account/{id}"),
        Some(json!({"BillingCity": null, "BillingStreet": "1 Main St"})),
        true,
    )
    .await;
    let e = node.event(acct).await;
    let h = header(&e);
    assert_eq!(
        names(&h["changedFields"]),
        vec![
            "BillingAddress",
            "BillingAddress.City",
            "BillingAddress.Street",
            "LastModifiedDate"
        ]
    );
    assert_eq!(
        names(&h["nulledFields"]),
        vec!["BillingAddress", "BillingAddress.City"]
    );
    assert_eq!(e["payload"]["BillingAddress"]["Street"], "1 Main St");
    assert_eq!(e["payload"]["BillingAddress"]["City"], Json::Null);
    node.event(all).await;

    // UPDATE with a nulled field: the client turns the bitmaps into field names.
    o.rest(
        Method::PATCH,
        &format!("/sobjects/Account/{id}"),
        Some(json!({"Industry": null, "Phone": "555-0100"})),
        true,
    )
    .await;
    let e = node.event(acct).await;
    let update_replay = replay(&e);
    let h = header(&e);
    assert_eq!(h["changeType"], "UPDATE");
    assert_eq!(h["recordIds"], json!([id]));
    assert_eq!(
        names(&h["changedFields"]),
        vec!["Industry", "LastModifiedDate", "Phone"]
    );
    assert_eq!(names(&h["nulledFields"]), vec!["Industry"]);
    assert!(names(&h["diffFields"]).is_empty());
    assert_eq!(e["payload"]["Phone"], "555-0100");
    assert_eq!(e["payload"]["Industry"], Json::Null);
    assert_eq!(
        e["payload"]["Name"],
        Json::Null,
        "unchanged fields are null"
    );
    assert_eq!(header(&node.event(all).await)["changeType"], "UPDATE");

    // DELETE, no client named: the API and version only.
    o.rest(
        Method::DELETE,
        &format!("/sobjects/Account/{id}"),
        None,
        false,
    )
    .await;
    let e = node.event(acct).await;
    let delete_replay = replay(&e);
    assert!(delete_replay > update_replay);
    let h = header(&e);
    assert_eq!(h["changeType"], "DELETE");
    assert_eq!(h["recordIds"], json!([id]));
    assert_eq!(h["changeOrigin"], "com/salesforce/api/rest/62.0");
    node.event(all).await;

    // Disconnected: a change happens; back with user-supplied auth from the stored id.
    node.send(json!({"op": "close"}));
    node.expect("closed").await;
    let second = o
        .rest(
            Method::POST,
            "/sobjects/Account",
            Some(json!({"Name": "PubSub Client Two"})),
            false,
        )
        .await["id"]
        .as_str()
        .expect("id")
        .to_string();
    node.send(json!({
        "op": "connect", "auth": "user-supplied", "accessToken": o.token,
        "instanceUrl": o.org.base_url, "organizationId": o.org.org_id(),
    }));
    node.expect("connected").await;
    node.send(json!({"op": "subscribe", "topic": acct, "replayId": update_replay}));
    let e = node.event(acct).await;
    assert_eq!(
        replay(&e),
        delete_replay,
        "resumes right after the stored id"
    );
    assert_eq!(header(&e)["changeType"], "DELETE");
    let e = node.event(acct).await;
    assert!(replay(&e) > delete_replay);
    assert_eq!(header(&e)["changeType"], "CREATE");
    assert_eq!(header(&e)["recordIds"], json!([second]));
    assert_eq!(e["payload"]["Name"], "PubSub Client Two");

    // An undelete brings the record back as UNDELETE with every non-null field.
    let resp = o
        .http
        .post(format!("{}/__admin/undelete", o.org.base_url))
        .json(&json!({"ids": [id]}))
        .send()
        .await
        .expect("undelete");
    assert_eq!(resp.status(), StatusCode::OK);
    let e = node.event(acct).await;
    let h = header(&e);
    assert_eq!(h["changeType"], "UNDELETE");
    assert_eq!(h["recordIds"], json!([id]));
    assert_eq!(h["changeOrigin"], "", "admin writes name no API");
    assert_eq!(e["payload"]["Name"], "PubSub Client One");
    assert_eq!(e["payload"]["Phone"], "555-0100");
    assert_eq!(e["payload"]["Industry"], Json::Null);
    assert_eq!(e["payload"]["BillingAddress"]["Street"], "1 Main St");
    assert_eq!(e["payload"]["BillingAddress"]["City"], Json::Null);
    node.send(json!({"op": "exit"}));
}
