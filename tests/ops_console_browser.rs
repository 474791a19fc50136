//! The console in a real headless browser: Debian's Chromium driven through
//! ChromeDriver's WebDriver HTTP API (plain reqwest). It signs in with the login form,
//! starts a run from the form and cancels it with the page's button (accepting the
//! confirmation), retries a failed run with its button, checks each effect in the
//! ledger, checks times are shown in the browser's zone, and saves a PNG of every page
//! (desktop and phone widths) into the test's output directory, whose path it prints.
//! Chromium and chromedriver come from `scripts/test` (`ensure_chromium`); the test
//! fails when they are missing.

mod jobs_common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use jobs_common::{Env, OPPORTUNITY_MAPPING, free_port, opportunities_org, wait_port};
use serde_json::{Value, json};

const TOKEN: &str = "browser-token-0123456789abcdef";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A ChromeDriver process and one browser session, both ended on drop.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    shots: PathBuf,
}

impl Browser {
    async fn start(shots: PathBuf, profile: &Path) -> Browser {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing: run scripts/test, which installs Debian's chromium and chromium-driver (ensure_chromium in scripts/lib.sh)"
            );
        }
        let port = free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            // The browser shows times in this zone; the page must convert to it.
            .env("TZ", "Asia/Tokyo")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        wait_port(port, "chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            &format!("--user-data-dir={}", profile.display()),
            "--window-size=1280,1000",
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args},
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("a WebDriver session: {r}"))
            .to_string();
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            driver,
            base,
            session,
            http,
            shots,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r: Value = req.send().await.unwrap().json().await.unwrap();
        assert!(r["value"].get("error").is_none(), "WebDriver {path}: {r}");
        r["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn open(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("element {css}: {v}"))
            .to_string()
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.post(&format!("/element/{e}/click"), json!({})).await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.post(&format!("/element/{e}/value"), json!({ "text": text }))
            .await;
    }

    async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.get(&format!("/element/{e}/text"))
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn source(&self) -> String {
        self.get("/source").await.as_str().unwrap().to_string()
    }

    async fn url(&self) -> String {
        self.get("/url").await.as_str().unwrap().to_string()
    }

    async fn resize(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await;
    }

    /// Saves a screenshot as `name`.png; returns its path.
    async fn shot(&self, name: &str) -> PathBuf {
        let png = self.get("/screenshot").await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Waits until the page's source contains `text`.
    async fn wait_for(&self, text: &str) {
        let start = Instant::now();
        loop {
            let src = self.source().await;
            if src.contains(text) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the page shows {text:?}:\n{src}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Browser {
    /// Ends the session (which closes Chromium) with a plain HTTP DELETE, also when the
    /// test panicked, then stops ChromeDriver.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let addr = self.base.trim_start_matches("http://").to_string();
        if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(
                s,
                "DELETE /session/{} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
                self.session
            );
            let _ = s.read_to_end(&mut Vec::new());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

async fn state_of(env: &Env, id: i64) -> String {
    let (s,): (String,) = sqlx::query_as("SELECT state FROM orgpool.runs WHERE id = $1")
        .bind(id)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_signs_in_starts_cancels_and_retries_runs_in_chromium() {
    let org = opportunities_org(200, Duration::from_millis(10));
    let mut env = Env::new("console_browser", org, OPPORTUNITY_MAPPING).await;
    let port = free_port();
    let site = format!("http://127.0.0.1:{port}");
    env.spawn(
        &["web", "--port", &port.to_string()],
        &[
            ("ORGPOOL_WEB_TOKEN", TOKEN),
            ("ORGPOOL_WEB_REFRESH_SECS", "2"),
        ],
    );
    env.wait_http_ok(&format!("{site}/healthz")).await;
    let out = std::env::temp_dir().join(&env.db);
    let shots = out.join("screenshots");
    let b = Browser::start(shots.clone(), &out.join("chromium-profile")).await;
    println!("screenshots: {}", shots.display());

    // Sign in through the form (a browser cannot send a bearer header).
    b.open(&format!("{site}/runs")).await;
    b.wait_for("Sign in").await;
    b.type_into("input[name=token]", TOKEN).await;
    b.click("form[action='/login'] button").await;
    b.wait_for("Start a run").await;
    b.shot("runs-empty").await;

    // Start an initial load from the form; no worker runs, so it stays open.
    b.click("form[action='/runs'][method='post'] select[name=kind] option[value=initial_load]")
        .await;
    b.click("form[action='/runs'][method='post'] button").await;
    b.wait_for("Started.").await;
    let url = b.url().await;
    let run: i64 = url
        .rsplit('/')
        .next()
        .and_then(|t| t.split('?').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("a run's page: {url}"));
    assert_eq!(state_of(&env, run).await, "planning");
    b.shot("run-started").await;

    // Cancel it with its button, accepting the confirmation.
    b.click(&format!("form[action='/runs/{run}/cancel'] button"))
        .await;
    b.post("/alert/accept", json!({})).await;
    b.wait_for("Cancelled: its open chunks will not run.").await;
    assert_eq!(state_of(&env, run).await, "cancelled");
    b.shot("run-cancelled").await;

    // Retry a failed run with its button.
    let (failed,): (i64,) = sqlx::query_as(
        "INSERT INTO orgpool.runs (kind, object, lane, state, chunks_total, error, finished_at)
         VALUES ('resync', 'Opportunity', 'mirror:opportunity', 'failed', 1, 'boom', now()) RETURNING id",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO orgpool.chunks (run_id, kind, seq, step, state) VALUES ($1, 'resync', 0, 'plan', 'done');
         ",
    )
    .bind(failed)
    .execute(&env.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO orgpool.chunks (run_id, kind, seq, step, state, attempts, error, error_class, finished_at)
         VALUES ($1, 'resync', 1, 'work', 'failed', 5, 'INVALID_FIELD: No such column', 'permanent', now())",
    )
    .bind(failed)
    .execute(&env.pool)
    .await
    .unwrap();
    b.open(&format!("{site}/runs/{failed}")).await;
    b.wait_for("INVALID_FIELD").await;
    b.shot("run-failed").await;
    b.click(&format!("form[action='/runs/{failed}/retry'] button"))
        .await;
    b.wait_for("Queued again").await;
    assert_eq!(state_of(&env, failed).await, "running");
    let (chunk_state,): (String,) =
        sqlx::query_as("SELECT state FROM orgpool.chunks WHERE run_id = $1 AND step = 'work'")
            .bind(failed)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert!(
        matches!(chunk_state.as_str(), "pending" | "queued"),
        "{chunk_state}"
    );

    // Times are in the browser's zone (Asia/Tokyo here), not the UTC of the markup.
    let shown = b.text("dl.facts time").await;
    assert!(
        !shown.contains("UTC") && !shown.is_empty(),
        "converted: {shown:?}"
    );

    // The other pages, at desktop and phone widths; a live refresh keeps the page.
    for (name, path, wants) in [
        ("status", "/", "Mappings"),
        ("runs", "/runs", "cancelled"),
        ("mapping", "/mappings/Opportunity", "Recent runs"),
    ] {
        b.open(&format!("{site}{path}")).await;
        b.wait_for(wants).await;
        b.shot(name).await;
    }
    b.open(&format!("{site}/runs")).await;
    b.post("/execute/sync", json!({"script": "window.scrollTo(0, 200); document.body.setAttribute('data-mark', 'kept'); return 0;", "args": []}))
        .await;
    tokio::time::sleep(Duration::from_secs(5)).await; // two refresh periods
    let kept = b
        .post(
            "/execute/sync",
            json!({"script": "return document.body.getAttribute('data-mark');", "args": []}),
        )
        .await;
    assert_eq!(
        kept,
        json!("kept"),
        "the refresh swapped sections, it did not reload the page"
    );
    b.resize(390, 844).await;
    for (name, path) in [
        ("phone-runs", "/runs"),
        ("phone-run", &format!("/runs/{failed}") as &str),
    ] {
        b.open(&format!("{site}{path}")).await;
        b.wait_for("orgpool").await;
        b.shot(name).await;
    }
    let wide = b
        .post("/execute/sync", json!({"script": "return document.documentElement.scrollWidth <= window.innerWidth + 1;", "args": []}))
        .await;
    assert_eq!(
        wide,
        json!(true),
        "the page fits a phone's width (tables scroll inside)"
    );
    for f in std::fs::read_dir(&shots).unwrap() {
        println!("  {}", f.unwrap().path().display());
    }
}
