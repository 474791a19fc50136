//! `git push heroku main` as a dyno would run it: the slug is a clean archive of the
//! committed HEAD (so an uncommitted file does not count) laid out as the Rust
//! buildpack leaves it (the built executable copied to `target/release/`; this test
//! uses the debug build as the artefact), and each Procfile command runs as a dyno runs
//! it: an empty environment but the config vars, `HOME` and the working directory at
//! the app, the stack's `PATH`, the app's `.profile.d/*.sh` and `.profile` sourced, then
//! the command in bash. `release` migrates a fresh database, `web` answers `/healthz`,
//! the scheduler reads the slug's `jobs/mappings.toml` and the worker loads what it
//! schedules; SIGTERM (how a dyno is stopped) ends each cleanly. Without the profile
//! scripts the bare `orgpool` is not found, which is what the slug layout must fix.

mod jobs_common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use jobs_common::{drop_database, free_port, seeded_org};
use sqlx::PgPool;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `PATH` on a Cedar dyno before any profile script runs.
const DYNO_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// What a dyno does: a login bash sources the profile scripts, then runs the command
/// string as `bash -c` does (a single command replaces the shell).
const STARTUP: &str = r#"for f in "$HOME"/.profile.d/*.sh; do [ -r "$f" ] && . "$f"; done
[ -r "$HOME/.profile" ] && . "$HOME/.profile"
exec /bin/bash -c "$1""#;

/// The slug: HEAD's files and the buildpack's `target/release/orgpool`.
struct Slug {
    dir: PathBuf,
}

impl Slug {
    fn build() -> Slug {
        let dir = std::env::temp_dir().join(format!(
            "orgpool-slug-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let app = dir.join("app");
        std::fs::create_dir_all(&app).unwrap();
        let mut archive = Command::new("git")
            .args(["-C", ROOT, "archive", "--format=tar", "HEAD"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("git runs");
        let untar = Command::new("tar")
            .arg("-x")
            .arg("-C")
            .arg(&app)
            .stdin(archive.stdout.take().unwrap())
            .status()
            .expect("tar runs");
        assert!(archive.wait().unwrap().success(), "git archive HEAD");
        assert!(untar.success(), "git archive HEAD | tar -x");
        // The buildpack: `rm -rf target/`, build, copy the executables of the release
        // folder into the slug's target/release/.
        let release = app.join("target/release");
        std::fs::create_dir_all(&release).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_orgpool"), release.join("orgpool")).unwrap();
        Slug { dir }
    }

    fn app(&self) -> PathBuf {
        self.dir.join("app")
    }

    /// The Procfile's command for `kind`, as committed.
    fn command(&self, kind: &str) -> String {
        let text = std::fs::read_to_string(self.app().join("Procfile")).expect("a Procfile");
        orgpool::dev::Procfile::parse("Procfile", &text)
            .unwrap()
            .get(kind)
            .unwrap_or_else(|| panic!("the Procfile has no {kind}"))
            .command
            .clone()
    }

    /// A dyno running `command` with `config` vars (and nothing else of this process's
    /// environment), output to `log`.
    fn dyno(&self, command: &str, config: &[(&str, String)], log: &Path) -> Command {
        let mut c = Command::new("/bin/bash");
        c.env_clear()
            .current_dir(self.app())
            .env("HOME", self.app())
            .env("PATH", DYNO_PATH)
            .args(["--noprofile", "--norc", "-c", STARTUP, "dyno", command])
            // A dyno of its own: stopping it signals every process in it.
            .process_group(0);
        for (k, v) in config {
            c.env(k, v);
        }
        let file = std::fs::File::create(log).unwrap();
        c.stdout(file.try_clone().unwrap()).stderr(file);
        c
    }
}

impl Drop for Slug {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Dynos that are SIGKILLed if a test fails before stopping them.
struct Dynos(Vec<(String, Child, PathBuf)>);

impl Dynos {
    fn log(&self, name: &str) -> String {
        let (_, _, path) = self.0.iter().find(|(n, _, _)| n == name).unwrap();
        std::fs::read_to_string(path).unwrap_or_default()
    }

    fn all_logs(&self) -> String {
        self.0
            .iter()
            .map(|(n, _, _)| format!("==> {n}\n{}", self.log(n)))
            .collect()
    }

    /// SIGTERM to every process of the dyno, as Heroku stops one; true when it exited
    /// 0 within 30 s.
    fn stop(&mut self, name: &str) -> bool {
        let (_, child, _) = self.0.iter_mut().find(|(n, _, _)| n == name).unwrap();
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", child.id())])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Dynos {
    fn drop(&mut self) {
        for (_, c, _) in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into())
}

/// A new, empty database (not migrated: that is the release phase's job).
async fn empty_database() -> (String, String) {
    let db = format!(
        "orgpool_test_heroku_{}_{}",
        std::process::id(),
        rand::random::<u16>()
    );
    let admin = PgPool::connect(&admin_url())
        .await
        .expect("Postgres answers");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let mut u = url::Url::parse(&admin_url()).unwrap();
    u.set_path(&format!("/{db}"));
    (db, u.to_string())
}

async fn wait_for(what: &str, dynos: &Dynos, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("timed out waiting for {what}\n{}", dynos.all_logs());
}

fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn without_the_profile_scripts_a_dyno_cannot_find_orgpool() {
    let slug = Slug::build();
    let out = Command::new("/bin/bash")
        .env_clear()
        .current_dir(slug.app())
        .env("HOME", slug.app())
        .env("PATH", DYNO_PATH)
        .args(["--noprofile", "--norc", "-c", &slug.command("release")])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(127),
        "the stack's PATH alone finds an orgpool (one installed on this machine hides what the slug must provide): {}",
        output_text(&out)
    );
}

#[test]
fn the_slug_holds_what_the_buildpack_reads() {
    let slug = Slug::build();
    let app = slug.app();
    let config = std::fs::read_to_string(app.join("RustConfig")).expect("RustConfig is committed");
    assert!(
        config.contains(r#"RUST_CARGO_BUILD_FLAGS="--release --locked --bin orgpool""#),
        "{config}"
    );
    // What bin/detect looks for, and where the buildpack puts the binary.
    assert!(app.join("Cargo.toml").exists() && app.join("Cargo.lock").exists());
    let profile = std::fs::read_to_string(app.join(".profile.d/orgpool.sh")).unwrap();
    assert!(profile.contains("$HOME/target/release"), "{profile}");
    // Every Procfile command is a subcommand of the binary.
    for kind in ["release", "web", "scheduler", "worker"] {
        let command = slug.command(kind);
        let log = slug.dir.join(format!("{kind}-help.log"));
        let status = slug
            .dyno(&format!("{command} --help"), &[], &log)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "{command} --help: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_procfile_command_runs_as_a_dyno_runs_it() {
    let slug = Slug::build();
    let (db, db_url) = empty_database().await;
    let org = orgpool::fake_org::start(seeded_org(20, 40, 1))
        .await
        .unwrap();
    let c = org.config();
    let prefix = format!("orgpool-test:heroku:{}", rand::random::<u32>());
    // The config vars: add-on URLs, app.json's settings; no ORGPOOL_MAPPINGS, so the
    // processes read the slug's jobs/ files from their working directory.
    let config: Vec<(&str, String)> = vec![
        ("DATABASE_URL", db_url.clone()),
        ("REDIS_URL", orgpool::redis_conn::url_from_env()),
        ("ORGPOOL_REDIS_PREFIX", prefix),
        ("SALESFORCE_LOGIN_URL", org.base_url.clone()),
        ("SALESFORCE_CLIENT_ID", c.client_id.clone()),
        ("SALESFORCE_CLIENT_SECRET", c.client_secret.clone()),
        ("ORGPOOL_WEB_TOKEN", "a-token-of-sixteen-or-more".into()),
        ("WORKER_CONCURRENCY", "2".into()),
        ("RUST_LOG", "info".into()),
    ];
    let with = |extra: &[(&'static str, String)]| {
        let mut all = config.clone();
        all.extend(extra.iter().cloned());
        all
    };

    let log = slug.dir.join("release.log");
    let status = slug
        .dyno(
            &slug.command("release"),
            &with(&[("DYNO", "release.1".into())]),
            &log,
        )
        .status()
        .unwrap();
    let release_log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "release: {release_log}");
    assert!(
        release_log.contains("migration(s) applied"),
        "{release_log}"
    );
    let pool = PgPool::connect(&db_url).await.unwrap();
    let (migrated,): (bool,) = sqlx::query_as("SELECT to_regclass('orgpool.runs') IS NOT NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(migrated, "release created the control schema");

    let port = free_port();
    let mut dynos = Dynos(Vec::new());
    for (kind, extra) in [
        (
            "web",
            vec![("DYNO", "web.1".to_string()), ("PORT", port.to_string())],
        ),
        ("scheduler", vec![("DYNO", "scheduler.1".to_string())]),
        ("worker", vec![("DYNO", "worker.1".to_string())]),
    ] {
        let log = slug.dir.join(format!("{kind}.log"));
        let child = slug
            .dyno(&slug.command(kind), &with(&extra), &log)
            .spawn()
            .unwrap();
        dynos.0.push((kind.to_string(), child, log));
    }

    let url = format!("http://127.0.0.1:{port}/healthz");
    wait_for("web to answer /healthz", &dynos, async || {
        reqwest::get(&url)
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;
    // The scheduler recorded the slug's six mappings; the worker loaded them.
    wait_for("the slug's mappings loaded", &dynos, async || {
        let (mapped, ready): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE state = 'ready') FROM orgpool.mappings",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        mapped == 6 && ready == 6
    })
    .await;
    assert!(
        dynos.log("worker").contains("worker started"),
        "{}",
        dynos.all_logs()
    );
    for kind in ["web", "worker", "scheduler"] {
        assert!(
            dynos.stop(kind),
            "{kind} stops cleanly on SIGTERM\n{}",
            dynos.all_logs()
        );
    }
    pool.close().await;
    drop(dynos);
    drop_database(&db).await;
}
