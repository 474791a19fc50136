//! `rediss://` with a self-signed certificate, as Heroku Redis serves it: a TLS-only
//! Redis server of the test's own; with `REDIS_TLS_INSECURE=true` a worker and
//! `enqueue` run a load through it, without it the connection is refused with a
//! message that names the setting.

mod jobs_common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use jobs_common::{Env, free_port, opportunities_org, run_id, wait_port};

const MAPPINGS: &str = r#"
[[mapping]]
object = "Opportunity"
fields = ["Name", "Amount"]
poll_interval = "60m"
"#;

struct TlsRedis(Child, std::path::PathBuf);

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn tls_redis(port: u16) -> TlsRedis {
    let dir = std::env::temp_dir().join(format!("orgpool-redis-tls-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, cert.cert.pem()).unwrap();
    std::fs::write(&k, cert.key_pair.serialize_pem()).unwrap();
    let child = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
        .arg("--tls-cert-file")
        .arg(&c)
        .arg("--tls-key-file")
        .arg(&k)
        .arg("--tls-ca-cert-file")
        .arg(&c)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server is installed (scripts/test installs it)");
    wait_port(port, "TLS redis-server");
    TlsRedis(child, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_self_signed_rediss_server_works_with_redis_tls_insecure() {
    let port = free_port();
    let _redis = tls_redis(port);
    let mut env = Env::new(
        "redistls",
        opportunities_org(3_000, Duration::from_millis(10)),
        MAPPINGS,
    )
    .await;
    env.redis_url = format!("rediss://127.0.0.1:{port}");

    let refused = env.run(&["status"]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success(),
        "an unverifiable certificate is refused by default"
    );
    assert!(err.contains("REDIS_URL") || err.contains("Redis"), "{err}");

    env.spawn(&["worker"], &[("REDIS_TLS_INSECURE", "true")]);
    let out = env
        .command(&["enqueue", "initial-load", "Opportunity"])
        .env("REDIS_TLS_INSECURE", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.wait_succeeded(run_id(&stdout), Duration::from_secs(120))
        .await;
    assert_eq!(
        env.count("SELECT count(*) FROM salesforce.opportunity")
            .await,
        3_000
    );
}
