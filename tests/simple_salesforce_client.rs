//! simple-salesforce, the most used Python Salesforce client, drives the fake org
//! unchanged: SOAP login with username, password and security token, a REST query,
//! and Bulk API 1.0 query and insert (`tests/clients/simple-salesforce/check.py`).
//!
//! The fake org runs with `--tls` (the client only speaks https) and the script trusts
//! its certificate through `REQUESTS_CA_BUNDLE`. `scripts/test` installs Python and
//! the pinned client into `tests/clients/simple-salesforce/.venv`; without them the
//! test fails, so a missing client never passes as a run. Outside CI,
//! `ORGPOOL_SKIP_PYTHON_TESTS=1` skips it instead, saying so.

mod client_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use client_common::{KillOnDrop, start_fake_org, under_ci, wait_with_timeout};

const CLIENT_TIMEOUT: Duration = Duration::from_secs(180);

#[test]
fn simple_salesforce_drives_the_fake_org() {
    let dir: PathBuf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/simple-salesforce");
    let python = dir.join(".venv/bin/python");
    let installed = python.is_file()
        && Command::new(&python)
            .args(["-c", "import simple_salesforce"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !installed {
        let why = format!("{} cannot import simple_salesforce", python.display());
        if std::env::var("ORGPOOL_SKIP_PYTHON_TESTS").is_ok_and(|v| v == "1") && !under_ci() {
            eprintln!("skipping ({why}): ORGPOOL_SKIP_PYTHON_TESTS=1");
            return;
        }
        panic!(
            "{why}: run scripts/test, which installs Python and the simple-salesforce test \
             client (outside CI, ORGPOOL_SKIP_PYTHON_TESTS=1 skips this test)"
        );
    }

    let tmp = std::env::temp_dir().join(format!("orgpool-simple-sf-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let cert = tmp.join("fake-org.pem");
    let cert_arg = cert.to_string_lossy().into_owned();
    let (_org, banner) = start_fake_org(
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls",
            "--tls-cert-out",
            &cert_arg,
            "--accounts",
            "40",
            "--opportunities",
            "100",
            "--bulk-delay-ms",
            "20",
        ],
        &["username", "password", "security token"],
    );
    let url = banner.url.clone().unwrap_or_default();
    assert!(url.starts_with("https://"), "{url}");

    let mut child = Command::new(&python);
    child.arg(dir.join("check.py")).current_dir(&dir);
    banner.pass_to(
        &mut child,
        &[
            ("FAKE_ORG_USERNAME", "username"),
            ("FAKE_ORG_PASSWORD", "password"),
            ("FAKE_ORG_TOKEN", "security token"),
        ],
    );
    let child = child
        .env("REQUESTS_CA_BUNDLE", &cert)
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .stdin(Stdio::null())
        .spawn()
        .expect("start python");
    let mut client = KillOnDrop {
        name: "check.py",
        child,
    };
    let status = wait_with_timeout(&mut client, CLIENT_TIMEOUT);
    let _ = std::fs::remove_dir_all(&tmp);
    match status {
        Some(s) => assert!(
            s.success(),
            "simple-salesforce failed against the fake org ({s}); see its output above"
        ),
        None => panic!("simple-salesforce did not finish within {CLIENT_TIMEOUT:?}"),
    }
}
