//! The child processes of `orgpool dev`: each started as `sh -c "exec COMMAND"` in a
//! process group of its own (so the terminal's Ctrl-C reaches only `orgpool dev`, which
//! then stops them in order) and with a parent-death signal (so they go too if `orgpool
//! dev` itself is killed). Stopping sends SIGTERM to every group, waits for the grace
//! period, then sends SIGKILL to what is left.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Command;
use tokio::sync::mpsc;

use super::DevError;
use super::output::{Label, forward};

/// One process to start.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `worker.2`.
    pub name: String,
    /// The Procfile command.
    pub command: String,
    /// Extra environment.
    pub env: Vec<(String, String)>,
}

struct Member {
    name: String,
    pid: i32,
    running: bool,
}

/// Running processes.
pub struct Group {
    members: Vec<Member>,
    exits: mpsc::UnboundedReceiver<(usize, Option<ExitStatus>)>,
    tx: mpsc::UnboundedSender<(usize, Option<ExitStatus>)>,
    width: usize,
}

fn command(spec: &Spec) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("exec {}", spec.command))
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: the closure runs in the forked child before exec and only makes one
    // async-signal-safe system call (prctl).
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(std::io::Error::from)
        });
    }
    cmd
}

impl Group {
    /// An empty group whose labels are padded to `width`.
    pub fn new(width: usize) -> Group {
        let (tx, exits) = mpsc::unbounded_channel();
        Group {
            members: Vec::new(),
            exits,
            tx,
            width,
        }
    }

    /// Starts `spec`; returns its process id.
    pub fn spawn(&mut self, spec: &Spec) -> Result<i32, DevError> {
        let index = self.members.len();
        let mut child = command(spec).spawn().map_err(|source| DevError::Spawn {
            name: spec.name.clone(),
            command: spec.command.clone(),
            source,
        })?;
        let label = Label::new(&spec.name, index, self.width);
        if let Some(out) = child.stdout.take() {
            forward(label.clone(), out);
        }
        if let Some(err) = child.stderr.take() {
            forward(label, err);
        }
        let pid = child.id().map_or(0, |p| p as i32);
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let status = child.wait().await.ok();
            let _ = tx.send((index, status));
        });
        self.members.push(Member {
            name: spec.name.clone(),
            pid,
            running: true,
        });
        Ok(pid)
    }

    /// Process ids of the processes still running.
    pub fn pids(&self) -> Vec<i32> {
        self.members
            .iter()
            .filter(|m| m.running)
            .map(|m| m.pid)
            .collect()
    }

    /// Waits until some process exits; returns its name and status.
    pub async fn next_exit(&mut self) -> Option<(String, Option<ExitStatus>)> {
        let (i, status) = self.exits.recv().await?;
        self.members[i].running = false;
        Some((self.members[i].name.clone(), status))
    }

    /// Stops every process: SIGTERM, then SIGKILL after `grace`. Returns the names of
    /// the processes that had to be killed.
    pub async fn stop(&mut self, grace: Duration) -> Vec<String> {
        self.signal(Signal::SIGTERM);
        let deadline = tokio::time::Instant::now() + grace;
        while self.members.iter().any(|m| m.running) {
            match tokio::time::timeout_at(deadline, self.next_exit()).await {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        let killed: Vec<String> = self
            .members
            .iter()
            .filter(|m| m.running)
            .map(|m| m.name.clone())
            .collect();
        if !killed.is_empty() {
            self.signal(Signal::SIGKILL);
            while self.members.iter().any(|m| m.running) {
                if tokio::time::timeout(Duration::from_secs(5), self.next_exit())
                    .await
                    .ok()
                    .flatten()
                    .is_none()
                {
                    break;
                }
            }
        }
        killed
    }

    fn signal(&self, sig: Signal) {
        for m in self.members.iter().filter(|m| m.running && m.pid > 0) {
            let _ = killpg(Pid::from_raw(m.pid), sig);
        }
    }
}

/// Runs `spec` to completion with its output labelled; returns its exit status.
pub async fn run_once(spec: &Spec, width: usize) -> Result<ExitStatus, DevError> {
    let mut g = Group::new(width);
    g.spawn(spec)?;
    match g.next_exit().await {
        Some((_, Some(status))) => Ok(status),
        _ => Err(DevError::Spawn {
            name: spec.name.clone(),
            command: spec.command.clone(),
            source: std::io::Error::other("lost track of the process"),
        }),
    }
}
