//! Helpers for tests that drive the `orgpool fake-org` binary with a published client
//! library in a child process: start the org, read its banner, run the client with a
//! bound wait, and kill whatever is left when the test ends.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Kills the child process when dropped, so a failing test leaves nothing running.
pub struct KillOnDrop {
    pub name: &'static str,
    pub child: Child,
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // Errors mean it has exited already.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What `orgpool fake-org` prints on start: the URL and `  label  value` lines.
#[derive(Debug, Default)]
pub struct Banner {
    pub url: Option<String>,
    pub values: Vec<(String, String)>,
}

impl Banner {
    /// Takes one stdout line.
    pub fn take_line(&mut self, line: &str) {
        if let Some((_, url)) = line.split_once("listening on ") {
            self.url = Some(url.trim().to_string());
        } else if let Some(rest) = line.strip_prefix("  ")
            && rest.len() > 15
        {
            let (label, value) = rest.split_at(15);
            self.values
                .push((label.trim().to_string(), value.trim().to_string()));
        }
    }

    /// The value of a banner line.
    pub fn get(&self, label: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.as_str())
    }

    /// Passes the banner to a client: the URL as `FAKE_ORG_URL` and each `(variable,
    /// label)` pair's value (empty when missing) as that variable.
    pub fn pass_to(&self, cmd: &mut Command, vars: &[(&str, &str)]) {
        cmd.env("FAKE_ORG_URL", self.url.as_deref().unwrap_or_default());
        for (var, label) in vars {
            cmd.env(var, self.get(label).unwrap_or_default());
        }
    }

    /// Whether the URL and every one of `labels` have been seen.
    pub fn has(&self, labels: &[&str]) -> bool {
        self.url.is_some() && labels.iter().all(|l| self.get(l).is_some())
    }
}

/// Whether the tests run under CI (env `CI` set), where no opt-out is honoured.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Copies a child's output to this test's stderr, line by line with a prefix.
pub fn forward_lines(stream: impl Read + Send + 'static, prefix: &'static str) {
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
pub fn wait_with_timeout(guard: &mut KillOnDrop, timeout: Duration) -> Option<ExitStatus> {
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

/// Starts `orgpool fake-org ARGS` and waits until its banner has the URL and `labels`.
pub fn start_fake_org(args: &[&str], labels: &[&str]) -> (KillOnDrop, Banner) {
    // A port of its own for the Pub/Sub API too, so two client tests never collide.
    let child = Command::new(env!("CARGO_BIN_EXE_orgpool"))
        .arg("fake-org")
        .args(["--pubsub-listen", "127.0.0.1:0"])
        .args(args)
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
    // Keep draining stdout after startup so the server never blocks on a full pipe.
    let (tx, rx) = mpsc::channel::<String>();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            eprintln!("[fake-org] {line}");
            let _ = tx.send(line);
        }
    });
    let mut banner = Banner::default();
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while !banner.has(labels) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => banner.take_line(&line),
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "`orgpool fake-org` did not print its banner within {STARTUP_TIMEOUT:?}; got {banner:?}"
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = wait_with_timeout(&mut guard, Duration::from_secs(5));
                panic!(
                    "`orgpool fake-org` closed stdout before printing its banner \
                     (exit status {status:?}); got {banner:?}"
                );
            }
        }
    }
    (guard, banner)
}
