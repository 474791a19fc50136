//! Settings of a fake org: credentials, token lifetime, seeded volume, schema file and
//! the faults it starts with. Every field has a default; `orgpool fake-org --help` lists
//! the flags that set them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How to run a fake org.
#[derive(Debug, Clone)]
pub struct FakeOrgConfig {
    /// Address to listen on (default `127.0.0.1:0`, an ephemeral port).
    pub listen: SocketAddr,
    /// Serve HTTPS with a generated self-signed certificate (default false).
    pub tls: bool,
    /// Write the certificate (PEM) here when `tls` is set, so clients can trust it.
    pub tls_cert_out: Option<PathBuf>,
    /// Connected-app consumer key (default `orgpool-fake-client`).
    pub client_id: String,
    /// Connected-app consumer secret (default `orgpool-fake-secret`).
    pub client_secret: String,
    /// The integration user's username (default `integration@orgpool.example`).
    pub username: String,
    /// The user's password (default `orgpool-fake-password`); the password grant also
    /// accepts it followed by `security_token`.
    pub password: String,
    /// Security token appended to the password by some clients (default `FAKETOKEN`).
    pub security_token: String,
    /// A refresh token the org accepts, as if issued by a web-server flow.
    pub refresh_token: String,
    /// PEM public key (or certificate) that JWT bearer assertions must be signed with;
    /// without one, signatures are not checked (claims still are).
    pub jwt_public_key: Option<String>,
    /// Access-token lifetime (default 2 hours, Salesforce's default session timeout).
    pub token_ttl: Duration,
    /// Daily API request allowance reported by `/limits` and `Sforce-Limit-Info`
    /// (default 100,000).
    pub api_limit: u64,
    /// A schema file with custom objects and fields.
    pub schema_file: Option<PathBuf>,
    /// Data to generate at start.
    pub seed: SeedConfig,
    /// Serve the fault-injection admin endpoints under `/__admin` (default false).
    pub admin: bool,
    /// Extra latency added to every request (default none).
    pub latency: Duration,
    /// How long a Bulk job waits before processing (default 200 ms).
    pub bulk_delay: Duration,
    /// Share of ingest records failing with `UNABLE_TO_LOCK_ROW` (default 0).
    pub ingest_failure_rate: f64,
    /// Churn to generate from the start.
    pub churn: Vec<ChurnSpec>,
    /// Where the Pub/Sub API (gRPC over TLS) listens (default `127.0.0.1:0`); `None`
    /// serves no Pub/Sub API.
    pub pubsub_listen: Option<SocketAddr>,
    /// How long change events are kept for replay (default 72 h, Salesforce's).
    pub event_retention: Duration,
    /// Keepalive interval of idle subscriptions (default 5 s).
    pub pubsub_keepalive: Duration,
}

/// Volume and shape of seeded data. Same seed and counts, same data.
#[derive(Debug, Clone)]
pub struct SeedConfig {
    /// RNG seed (default 1).
    pub seed: u64,
    /// Accounts (default 100).
    pub accounts: u64,
    /// Contacts per account (default 2).
    pub contacts_per_account: u64,
    /// Products, each with a standard price book entry (default 50).
    pub products: u64,
    /// Opportunities (default 500).
    pub opportunities: u64,
    /// Line items per opportunity (default 3).
    pub lines_per_opportunity: u64,
}

impl Default for SeedConfig {
    fn default() -> Self {
        SeedConfig {
            seed: 1,
            accounts: 100,
            contacts_per_account: 2,
            products: 50,
            opportunities: 500,
            lines_per_opportunity: 3,
        }
    }
}

/// Continuous changes to one object.
#[derive(Debug, Clone, PartialEq)]
pub struct ChurnSpec {
    /// The object (`Opportunity`).
    pub object: String,
    /// Inserts per second.
    pub inserts: f64,
    /// Updates per second.
    pub updates: f64,
    /// Deletes per second.
    pub deletes: f64,
}

impl ChurnSpec {
    /// Parses `Object:inserts=N,updates=N,deletes=N` (missing rates are 0).
    pub fn parse(text: &str) -> Result<ChurnSpec, String> {
        let (object, rest) = text.split_once(':').ok_or_else(|| {
            format!("churn {text:?}: expected Object:inserts=N,updates=N,deletes=N")
        })?;
        let mut spec = ChurnSpec {
            object: object.trim().to_string(),
            inserts: 0.0,
            updates: 0.0,
            deletes: 0.0,
        };
        for part in rest.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("churn {text:?}: {part:?} is not key=rate"))?;
            let rate: f64 = v
                .trim()
                .parse()
                .ok()
                .filter(|r: &f64| r.is_finite() && *r >= 0.0)
                .ok_or_else(|| {
                    format!("churn {text:?}: rate {v:?} is not a non-negative number")
                })?;
            match k.trim() {
                "inserts" => spec.inserts = rate,
                "updates" => spec.updates = rate,
                "deletes" => spec.deletes = rate,
                other => {
                    return Err(format!(
                        "churn {text:?}: unknown key {other:?}; use inserts, updates or deletes"
                    ));
                }
            }
        }
        Ok(spec)
    }
}

impl Default for FakeOrgConfig {
    fn default() -> Self {
        FakeOrgConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: false,
            tls_cert_out: None,
            client_id: "orgpool-fake-client".into(),
            client_secret: "orgpool-fake-secret".into(),
            username: "integration@orgpool.example".into(),
            password: "orgpool-fake-password".into(),
            security_token: "FAKETOKEN".into(),
            refresh_token: "5Aep861orgpoolFakeRefreshToken".into(),
            jwt_public_key: None,
            token_ttl: Duration::from_secs(2 * 3600),
            api_limit: 100_000,
            schema_file: None,
            seed: SeedConfig::default(),
            admin: false,
            latency: Duration::ZERO,
            bulk_delay: Duration::from_millis(200),
            ingest_failure_rate: 0.0,
            churn: Vec::new(),
            pubsub_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            event_retention: Duration::from_secs(72 * 3600),
            pubsub_keepalive: Duration::from_secs(5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ChurnSpec;

    #[test]
    fn churn_spec() {
        let s = ChurnSpec::parse("Opportunity:inserts=5,deletes=0.5").unwrap();
        assert_eq!(
            (s.object.as_str(), s.inserts, s.updates, s.deletes),
            ("Opportunity", 5.0, 0.0, 0.5)
        );
        assert!(ChurnSpec::parse("Opportunity").is_err());
        assert!(
            ChurnSpec::parse("Opportunity:creates=1")
                .unwrap_err()
                .contains("creates")
        );
        assert!(ChurnSpec::parse("Opportunity:inserts=-1").is_err());
    }
}
