//! `orgpool dev`: the local equivalent of `heroku local`. Reads the Procfile, starts the
//! fake org in-process unless `SALESFORCE_LOGIN_URL` points at a real one (a build
//! without the cargo feature `fake-org` needs one), runs the
//! `release` type once, then starts every other type with its count as child processes
//! (`DYNO`, `PORT` for web, `METRICS_PORT` for the scheduler and workers), forwards their
//! output with prefixes, and on Ctrl-C or SIGTERM stops them all. With `--demo` it also
//! drives the main job end to end (see [`super::demo`]).

use std::path::PathBuf;
use std::time::Duration;

use super::DevError;
use super::demo::{self, LocalOrg};
use super::group::{Group, Spec, run_once};
use super::procfile::{Procfile, RELEASE};

/// Options of a dev session.
#[derive(Debug, Clone)]
pub struct DevOptions {
    /// The Procfile.
    pub procfile: PathBuf,
    /// `--scale` entries (`worker=3,web=1`).
    pub scale: Vec<String>,
    /// Drive the demo once everything is up.
    pub demo: bool,
    /// Stop everything once the demo is done instead of waiting for Ctrl-C.
    pub exit_after_demo: bool,
    /// The first web process's port.
    pub port: u16,
    /// The scheduler's metrics port; workers get the following ones (0: none).
    pub metrics_base: u16,
    /// Opportunities the fake org is seeded with.
    pub opportunities: u64,
}

/// How long processes get to finish after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(30);

/// Runs a session until Ctrl-C (or the end of the demo with `exit_after_demo`).
pub async fn run(opts: DevOptions) -> Result<(), DevError> {
    let path = opts.procfile.display().to_string();
    let text =
        std::fs::read_to_string(&opts.procfile).map_err(|source| DevError::ReadProcfile {
            path: path.clone(),
            source,
        })?;
    let procfile = Procfile::parse(&path, &text)?;
    let counts = procfile.counts(&opts.scale)?;
    let mut shutdown = crate::app::shutdown_signal();

    let mut env: Vec<(String, String)> = vec![("PATH".into(), path_with_this_binary()?)];
    let org = start_org(&opts, &mut env).await?;
    let setup = if opts.demo {
        Some(demo::prepare(&mut env, org.is_some()).await?)
    } else {
        None
    };
    let width = counts
        .iter()
        .map(|(n, c)| n.len() + 1 + c.to_string().len())
        .max()
        .unwrap_or(8)
        .max(RELEASE.len() + 2);

    if let Some(t) = procfile.get(RELEASE) {
        let spec = Spec {
            name: format!("{RELEASE}.1"),
            command: t.command.clone(),
            env: with(&env, &[("DYNO", &format!("{RELEASE}.1"))]),
        };
        let status = run_once(&spec, width).await?;
        if !status.success() {
            return Err(DevError::ReleaseFailed {
                command: t.command.clone(),
                status,
            });
        }
    }

    // The demo's own pool is small ([`demo::prepare`]); count it with the formation's.
    let own = if setup.is_some() {
        crate::pg_pool::COMMAND
    } else {
        0
    };
    super::connections::report(&procfile, &counts, &env, own).await;

    let mut group = Group::new(width);
    let mut workers = 0;
    for t in procfile.types.iter().filter(|t| t.name != RELEASE) {
        for i in 1..=counts[&t.name] {
            let name = format!("{}.{i}", t.name);
            let mut extra: Vec<(&str, String)> = vec![("DYNO", name.clone())];
            if t.name == "web" {
                extra.push(("PORT", (opts.port + i as u16 - 1).to_string()));
            }
            if opts.metrics_base > 0 {
                match t.name.as_str() {
                    "scheduler" if i == 1 => {
                        extra.push(("METRICS_PORT", opts.metrics_base.to_string()))
                    }
                    "worker" => {
                        workers += 1;
                        extra.push(("METRICS_PORT", (opts.metrics_base + workers).to_string()));
                    }
                    _ => {}
                }
            }
            let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let pid = group.spawn(&Spec {
                name: name.clone(),
                command: t.command.clone(),
                env: with(&env, &extra),
            })?;
            println!("orgpool dev: {name} started, pid {pid}");
        }
    }
    let web = counts.get("web").copied().unwrap_or(0) > 0;
    let urls = urls(&opts, web, workers);
    println!("orgpool dev: started {}", summary(&counts));
    println!("{urls}");

    let mut outcome: Result<(), DevError> = Ok(());
    if let Some(setup) = &setup {
        let flow = demo::run(setup, org.as_deref(), web.then_some(opts.port));
        tokio::select! {
            r = flow => {
                outcome = r;
                if outcome.is_ok() {
                    println!("{urls}");
                }
            }
            exit = group.next_exit() => outcome = Err(died(exit)),
            _ = shutdown.wait_for(|s| *s) => {}
        }
    }
    let stop_now = opts.exit_after_demo && opts.demo || outcome.is_err() || *shutdown.borrow();
    if !stop_now {
        println!("orgpool dev: running; press Ctrl-C to stop every process");
        tokio::select! {
            exit = group.next_exit() => outcome = Err(died(exit)),
            _ = shutdown.wait_for(|s| *s) => {}
        }
    }
    println!("orgpool dev: stopping {} process(es)", group.pids().len());
    let killed = group.stop(GRACE).await;
    if !killed.is_empty() {
        eprintln!(
            "orgpool dev: killed after {} s: {}",
            GRACE.as_secs(),
            killed.join(", ")
        );
    }
    if let Some(s) = &setup {
        s.cleanup().await;
    }
    drop(org);
    outcome
}

fn died(exit: Option<(String, Option<std::process::ExitStatus>)>) -> DevError {
    match exit {
        Some((name, status)) => DevError::ChildExited {
            name,
            status: status.map_or("unknown status".into(), |s| s.to_string()),
        },
        None => DevError::LostChildren,
    }
}

/// Starts the fake org unless a real one is configured, and points the children at it.
async fn start_org(
    opts: &DevOptions,
    env: &mut Vec<(String, String)>,
) -> Result<Option<Box<dyn LocalOrg>>, DevError> {
    if std::env::var_os("SALESFORCE_LOGIN_URL").is_some() {
        println!("orgpool dev: using the org at SALESFORCE_LOGIN_URL");
        return Ok(None);
    }
    start_fake_org(opts, env).await.map(Some)
}

#[cfg(not(feature = "fake-org"))]
async fn start_fake_org(
    _opts: &DevOptions,
    _env: &mut Vec<(String, String)>,
) -> Result<Box<dyn LocalOrg>, DevError> {
    Err(DevError::other(crate::without_fake_org(
        "without SALESFORCE_LOGIN_URL, `orgpool dev` (and `orgpool demo`)",
        true,
    )))
}

#[cfg(feature = "fake-org")]
async fn start_fake_org(
    opts: &DevOptions,
    env: &mut Vec<(String, String)>,
) -> Result<Box<dyn LocalOrg>, DevError> {
    use crate::fake_org::{self, FakeOrgConfig, SeedConfig};
    let config = FakeOrgConfig {
        seed: SeedConfig {
            opportunities: opts.opportunities,
            accounts: (opts.opportunities / 10).max(10),
            ..SeedConfig::default()
        },
        // The demo's write-back step needs an External ID on Account.
        schema_file: if opts.demo {
            Some(super::demo_writes::schema_file()?)
        } else {
            None
        },
        ..FakeOrgConfig::default()
    };
    let org = fake_org::start(config.clone()).await?;
    println!(
        "orgpool dev: fake org at {} ({} Opportunities); set SALESFORCE_LOGIN_URL to use a real org",
        org.base_url, opts.opportunities
    );
    env.push(("SALESFORCE_LOGIN_URL".into(), org.base_url.clone()));
    env.push(("SALESFORCE_CLIENT_ID".into(), config.client_id.clone()));
    env.push((
        "SALESFORCE_CLIENT_SECRET".into(),
        config.client_secret.clone(),
    ));
    // Change events: the org's Pub/Sub API, and its certificate to trust.
    if let Some(url) = &org.pubsub_url {
        let pem = std::env::temp_dir().join(format!("orgpool-dev-{}-ca.pem", std::process::id()));
        std::fs::write(&pem, &org.pubsub_cert_pem).map_err(|e| {
            DevError::other(format!(
                "cannot write the fake org's certificate to {}: {e}",
                pem.display()
            ))
        })?;
        println!("orgpool dev: fake org Pub/Sub API at {url}");
        env.push(("SALESFORCE_PUBSUB_URL".into(), url.clone()));
        env.push(("SALESFORCE_CA_CERT".into(), pem.display().to_string()));
    }
    Ok(Box::new(org))
}

/// `PATH` with this binary's folder first, so the Procfile's `orgpool` is this build.
fn path_with_this_binary() -> Result<String, DevError> {
    let exe = std::env::current_exe().map_err(DevError::CurrentExe)?;
    let dir = exe.parent().ok_or(DevError::NoBinaryFolder)?;
    let rest = std::env::var("PATH").unwrap_or_default();
    Ok(format!("{}:{rest}", dir.display()))
}

fn with(env: &[(String, String)], extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out = env.to_vec();
    out.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    out
}

fn summary(counts: &std::collections::BTreeMap<String, usize>) -> String {
    counts
        .iter()
        .map(|(n, c)| format!("{n}={c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn urls(opts: &DevOptions, web: bool, workers: u16) -> String {
    let mut out = String::new();
    if web {
        out.push_str(&format!(
            "  status page  http://127.0.0.1:{p}/\n  metrics      http://127.0.0.1:{p}/metrics (fleet: queues, runs, lag, API budget)\n",
            p = opts.port
        ));
    }
    if opts.metrics_base > 0 && workers > 0 {
        out.push_str(&format!(
            "  worker metrics http://127.0.0.1:{}-{}/metrics; Prometheus: prometheus --config.file=grafana/prometheus.yml",
            opts.metrics_base + 1,
            opts.metrics_base + workers
        ));
    }
    out
}
