//! A fake org in a child process (`orgpool fake-org`), so a benchmark's or test's memory
//! figures are the client's alone. The child is killed when the handle drops.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::BenchError;

/// A running child fake org.
#[derive(Debug)]
pub struct ChildOrg {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Its Pub/Sub API, `https://127.0.0.1:PORT`.
    pub pubsub_url: Option<String>,
    /// The certificate file its Pub/Sub API serves (for `SALESFORCE_CA_CERT`).
    pub cert_file: std::path::PathBuf,
    /// None for a second handle on an org another one owns ([`ChildOrg::shared`]).
    child: Option<Child>,
}

impl ChildOrg {
    /// Starts `orgpool fake-org` (this executable unless `exe` says otherwise) on a free
    /// port with `args`, and waits until it has seeded and listens.
    pub async fn spawn(
        exe: Option<&std::path::Path>,
        args: &[&str],
    ) -> Result<ChildOrg, BenchError> {
        let exe = match exe {
            Some(p) => p.to_path_buf(),
            None => std::env::current_exe()?,
        };
        let cert_file = std::env::temp_dir().join(format!(
            "orgpool-bench-org-{}-{}.pem",
            std::process::id(),
            rand::random::<u32>()
        ));
        let mut child = Command::new(exe)
            .arg("fake-org")
            .args(["--listen", "127.0.0.1:0", "--pubsub-listen", "127.0.0.1:0"])
            .arg("--tls-cert-out")
            .arg(&cert_file)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().ok_or(BenchError::NoStdout)?;
        let mut lines = BufReader::new(stdout).lines();
        let mut base_url = None;
        let mut pubsub_url = None;
        let wait = async {
            while let Some(line) = lines.next_line().await? {
                if let Some(url) = line.strip_prefix("orgpool fake-org: listening on ") {
                    base_url = Some(url.trim().to_string());
                }
                if let Some(rest) = line.trim_start().strip_prefix("pubsub") {
                    pubsub_url = rest.split_whitespace().next().map(str::to_string);
                }
                if line.trim_start().starts_with("seeded") {
                    return Ok(());
                }
            }
            Err(BenchError::OrgExited)
        };
        tokio::time::timeout(Duration::from_secs(600), wait)
            .await
            .map_err(|_| BenchError::OrgTimeout)??;
        // Keep draining its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let base_url = base_url.ok_or(BenchError::OrgNoUrl)?;
        Ok(ChildOrg {
            base_url,
            pubsub_url,
            cert_file,
            child: Some(child),
        })
    }

    /// A second handle on this org, for another fleet on it; stopping it does nothing.
    pub fn shared(&self) -> ChildOrg {
        ChildOrg {
            base_url: self.base_url.clone(),
            pubsub_url: self.pubsub_url.clone(),
            cert_file: self.cert_file.clone(),
            child: None,
        }
    }

    /// The environment a scheduler needs for the org's change events.
    pub fn events_env(&self) -> Vec<(&'static str, String)> {
        match &self.pubsub_url {
            Some(url) => vec![
                ("SALESFORCE_PUBSUB_URL", url.clone()),
                ("SALESFORCE_CA_CERT", self.cert_file.display().to_string()),
            ],
            None => Vec::new(),
        }
    }

    /// `{base}/services/oauth2/token`.
    pub fn token_url(&self) -> String {
        format!("{}/services/oauth2/token", self.base_url)
    }

    /// Stops it (the owning handle only).
    pub async fn stop(mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill().await;
            let _ = std::fs::remove_file(&self.cert_file);
        }
    }
}
