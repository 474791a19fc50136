//! A standard Salesforce client library drives the fake org unchanged.
//!
//! Starts the real `orgpool fake-org` binary with seeded data and runs
//! `tests/clients/jsforce/run.mjs` (jsforce, pinned in that directory's
//! package.json) against it: login, describe, query with paging, CRUD,
//! upsert by external Id, Bulk 2.0 query and ingest.
//!
//! `scripts/test` installs Node and the client. Without `node` on PATH or
//! without the installed client the test fails, so a missing client can never
//! pass as a run. On a machine without Node, `ORGPOOL_SKIP_NODE_TESTS=1` skips
//! it instead (saying so on stderr); under CI (env `CI` set) that opt-out is
//! refused and the test fails all the same.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const CLIENT_TIMEOUT: Duration = Duration::from_secs(180);

/// Kills the child process when dropped, so a failing test leaves nothing running.
struct KillOnDrop {
    name: &'static str,
    child: Child,
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // Errors mean it has exited already.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What `orgpool fake-org` prints on start.
#[derive(Debug, Default)]
struct FakeOrgInfo {
    url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

impl FakeOrgInfo {
    fn complete(&self) -> bool {
        self.url.is_some()
            && self.client_id.is_some()
            && self.client_secret.is_some()
            && self.username.is_some()
            && self.password.is_some()
    }

    /// Takes one stdout line: `orgpool fake-org: listening on URL`, or an
    /// indented `  <label padded to 15>value` credential line.
    fn take_line(&mut self, line: &str) {
        if let Some((_, url)) = line.split_once("listening on ") {
            self.url = Some(url.trim().to_string());
            return;
        }
        let Some(rest) = line.strip_prefix("  ") else {
            return;
        };
        let fields: [(&str, &mut Option<String>); 4] = [
            ("client id", &mut self.client_id),
            ("client secret", &mut self.client_secret),
            ("username", &mut self.username),
            ("password", &mut self.password),
        ];
        for (label, slot) in fields {
            if let Some(value) = rest.strip_prefix(label) {
                if value.starts_with(char::is_whitespace) && !value.trim().is_empty() {
                    *slot = Some(value.trim().to_string());
                }
                return;
            }
        }
    }
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// `ORGPOOL_SKIP_NODE_TESTS=1` outside CI.
fn skip_requested() -> bool {
    std::env::var("ORGPOOL_SKIP_NODE_TESTS").is_ok_and(|v| v == "1") && !under_ci()
}

/// Why the client cannot run, if it cannot.
fn client_missing(client_dir: &Path) -> Option<String> {
    if !node_available() {
        return Some("node is not on PATH".into());
    }
    let marker = client_dir.join("node_modules/jsforce/package.json");
    (!marker.is_file()).then(|| format!("{} has no node_modules/jsforce", client_dir.display()))
}

fn node_available() -> bool {
    Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Copies a child's output stream to this test's stderr (captured by the test
/// harness, shown when the test fails), line by line with a prefix.
fn forward_lines(stream: impl Read + Send + 'static, prefix: &'static str) {
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            match line {
                Ok(line) => eprintln!("{prefix}{line}"),
                Err(_) => break,
            }
        }
    });
}

/// Waits for the child to exit, killing it after `timeout`.
fn wait_with_timeout(guard: &mut KillOnDrop, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match guard.child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = guard.child.kill();
                let _ = guard.child.wait();
                return None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(100)),
            Err(e) => panic!("waiting for {}: {e}", guard.name),
        }
    }
}

fn start_fake_org() -> (KillOnDrop, FakeOrgInfo) {
    let child = Command::new(env!("CARGO_BIN_EXE_orgpool"))
        .args([
            "fake-org",
            "--listen",
            "127.0.0.1:0",
            "--opportunities",
            "3000",
            "--accounts",
            "300",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start `orgpool fake-org`");
    let mut guard = KillOnDrop {
        name: "orgpool fake-org",
        child,
    };
    let stdout = guard.child.stdout.take().expect("piped stdout");
    let stderr = guard.child.stderr.take().expect("piped stderr");
    forward_lines(stderr, "[fake-org stderr] ");

    // Read stdout on a thread so the wait is bounded; keep draining it
    // afterwards so the server never blocks on a full pipe.
    let (tx, rx) = mpsc::channel::<String>();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            eprintln!("[fake-org] {line}");
            // The receiver is gone once startup is parsed; keep draining.
            let _ = tx.send(line);
        }
    });

    let mut info = FakeOrgInfo::default();
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while !info.complete() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => info.take_line(&line),
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "`orgpool fake-org` did not print its URL and credentials within {STARTUP_TIMEOUT:?}; got {info:?}"
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = wait_with_timeout(&mut guard, Duration::from_secs(5));
                panic!(
                    "`orgpool fake-org` closed stdout before printing its URL and credentials \
                     (exit status {status:?}); got {info:?}"
                );
            }
        }
    }
    (guard, info)
}

#[test]
fn jsforce_drives_the_fake_org() {
    let client_dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/jsforce");

    if let Some(why) = client_missing(&client_dir) {
        if skip_requested() {
            eprintln!("skipping jsforce_drives_the_fake_org ({why}): ORGPOOL_SKIP_NODE_TESTS=1");
            return;
        }
        panic!(
            "{why}: run scripts/test, which installs Node and the jsforce test client \
             (outside CI, ORGPOOL_SKIP_NODE_TESTS=1 skips this test)"
        );
    }

    let (_fake_org, info) = start_fake_org();
    let url = info.url.clone().unwrap_or_default();
    eprintln!("fake org at {url}");

    let client = Command::new("node")
        .arg(client_dir.join("run.mjs"))
        .current_dir(&client_dir)
        .env("FAKE_ORG_URL", &url)
        .env("FAKE_ORG_CLIENT_ID", info.client_id.unwrap_or_default())
        .env(
            "FAKE_ORG_CLIENT_SECRET",
            info.client_secret.unwrap_or_default(),
        )
        .env("FAKE_ORG_USERNAME", info.username.unwrap_or_default())
        .env("FAKE_ORG_PASSWORD", info.password.unwrap_or_default())
        .stdin(Stdio::null())
        .spawn()
        .expect("start node");
    let mut client = KillOnDrop {
        name: "node run.mjs",
        child: client,
    };
    match wait_with_timeout(&mut client, CLIENT_TIMEOUT) {
        Some(status) => assert!(
            status.success(),
            "the jsforce client failed against the fake org ({status}); see its output above"
        ),
        None => panic!("the jsforce client did not finish within {CLIENT_TIMEOUT:?}"),
    }
}

#[test]
fn parses_the_fake_org_banner() {
    let mut info = FakeOrgInfo::default();
    for line in [
        "orgpool fake-org: listening on http://127.0.0.1:41234",
        "  client id      orgpool-client",
        "  client secret  s3cret value",
        "  username       admin@orgpool.test",
        "  password       pw",
    ] {
        assert!(!info.complete());
        info.take_line(line);
    }
    assert!(info.complete());
    assert_eq!(info.url.as_deref(), Some("http://127.0.0.1:41234"));
    assert_eq!(info.client_id.as_deref(), Some("orgpool-client"));
    assert_eq!(info.client_secret.as_deref(), Some("s3cret value"));
    assert_eq!(info.username.as_deref(), Some("admin@orgpool.test"));
    assert_eq!(info.password.as_deref(), Some("pw"));
}
