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

mod client_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use client_common::{Banner, KillOnDrop, start_fake_org, under_ci, wait_with_timeout};

const CLIENT_TIMEOUT: Duration = Duration::from_secs(180);

/// The banner lines the client needs besides the URL.
const CREDENTIALS: [&str; 4] = ["client id", "client secret", "username", "password"];

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

    let (_fake_org, banner) = start_fake_org(
        &[
            "--listen",
            "127.0.0.1:0",
            "--opportunities",
            "3000",
            "--accounts",
            "300",
        ],
        &CREDENTIALS,
    );
    let url = banner.url.clone().unwrap_or_default();
    eprintln!("fake org at {url}");

    let mut client = Command::new("node");
    client
        .arg(client_dir.join("run.mjs"))
        .current_dir(&client_dir);
    banner.pass_to(
        &mut client,
        &[
            ("FAKE_ORG_CLIENT_ID", "client id"),
            ("FAKE_ORG_CLIENT_SECRET", "client secret"),
            ("FAKE_ORG_USERNAME", "username"),
            ("FAKE_ORG_PASSWORD", "password"),
        ],
    );
    let client = client.stdin(Stdio::null()).spawn().expect("start node");
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
    let mut banner = Banner::default();
    for line in [
        "orgpool fake-org: listening on http://127.0.0.1:41234",
        "  client id      orgpool-client",
        "  client secret  s3cret value",
        "  username       admin@orgpool.test",
        "  password       pw",
    ] {
        assert!(!banner.has(&CREDENTIALS));
        banner.take_line(line);
    }
    assert!(banner.has(&CREDENTIALS));
    assert_eq!(banner.url.as_deref(), Some("http://127.0.0.1:41234"));
    assert_eq!(banner.get("client id"), Some("orgpool-client"));
    assert_eq!(banner.get("client secret"), Some("s3cret value"));
    assert_eq!(banner.get("username"), Some("admin@orgpool.test"));
    assert_eq!(banner.get("password"), Some("pw"));
}
