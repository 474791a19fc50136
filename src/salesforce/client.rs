//! The client and its one request path. Every call goes through [`Client::send`], which
//! waits out a fleet outage, reserves API budget, attaches the shared token, replays once
//! after a token refresh, retries outage and limit failures with jittered backoff (within
//! the configured waits), records `Sforce-Limit-Info`, and counts the request in metrics.

use std::sync::Arc;
use std::time::Instant;

use redis::aio::ConnectionManager;
use reqwest::{Method, StatusCode};

use super::auth::{Session, TokenCache};
use super::backoff::Backoff;
use super::budget::Fleet;
use super::config::SalesforceConfig;
use super::error::{Classified, SfError, classify, parse_retry_after};
use super::request::{Api, Body, Request};
use super::rest::DescribeCache;
use crate::telemetry::salesforce as metrics;

/// A Salesforce API client. Cheap to clone; clones share the token, the HTTP pool and
/// the describe cache.
#[derive(Debug, Clone)]
pub struct Client {
    pub(super) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(super) struct Inner {
    pub(super) cfg: SalesforceConfig,
    pub(super) http: reqwest::Client,
    pub(super) tokens: TokenCache,
    pub(super) fleet: Fleet,
    pub(super) describe: DescribeCache,
    bootstrap: tokio::sync::OnceCell<()>,
}

impl Client {
    /// A client for `cfg` whose budget and outage flag live in Redis under `prefix`.
    /// Nothing is sent until the first call.
    pub fn new(
        cfg: SalesforceConfig,
        redis: ConnectionManager,
        prefix: &str,
    ) -> Result<Client, SfError> {
        let mut builder = reqwest::Client::builder()
            .gzip(cfg.gzip)
            .connect_timeout(cfg.connect_timeout)
            .read_timeout(cfg.read_timeout)
            .user_agent(concat!("orgpool/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &cfg.ca_cert_pem {
            let cert = reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|_| {
                SfError::permanent(
                    "CONFIG",
                    "SALESFORCE_CA_CERT does not hold a PEM certificate",
                )
            })?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder
            .build()
            .map_err(|e| SfError::permanent("CONFIG", format!("HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                tokens: TokenCache::new(&cfg),
                fleet: Fleet::new(redis, prefix, cfg.budget.clone()),
                describe: DescribeCache::default(),
                cfg,
                http,
                bootstrap: tokio::sync::OnceCell::new(),
            }),
        })
    }

    /// The settings.
    pub fn config(&self) -> &SalesforceConfig {
        &self.inner.cfg
    }

    /// The fleet budget and outage flag.
    pub fn fleet(&self) -> &Fleet {
        &self.inner.fleet
    }

    /// Logins this process performed (one per expiry, however many tasks saw it).
    pub fn logins(&self) -> u64 {
        self.inner.tokens.logins()
    }

    /// Logs in now (a start-up health check); returns the instance URL.
    pub async fn login(&self) -> Result<String, SfError> {
        let s = self.session().await?;
        Ok(s.instance_url.clone())
    }

    /// Logs in again unless the session of `generation` was already replaced (the
    /// Pub/Sub API refused it).
    pub(super) async fn refresh_session(&self, generation: u64) -> Result<(), SfError> {
        self.inner
            .tokens
            .refresh(&self.inner.http, &self.inner.cfg, Some(generation))
            .await?;
        Ok(())
    }

    pub(super) async fn session(&self) -> Result<Arc<Session>, SfError> {
        self.inner
            .tokens
            .session(&self.inner.http, &self.inner.cfg)
            .await
    }

    /// `{instance}/services/data/vXX.X{path}` for API paths, `{instance}{path}` for
    /// `/services/...`, or the URL itself.
    fn url(&self, session: &Session, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else if path.starts_with("/services/") {
            format!("{}{path}", session.instance_url)
        } else {
            format!(
                "{}/services/data/v{}{path}",
                session.instance_url, self.inner.cfg.api_version
            )
        }
    }

    /// Sends `req` until it succeeds (2xx or 304) or fails in a way retrying here cannot
    /// fix; see the module doc.
    pub async fn send(&self, req: &Request) -> Result<reqwest::Response, SfError> {
        self.bootstrap().await?;
        self.send_inner(req).await
    }

    /// Before the first call, learn the org's allowance (`/limits`) unless the fleet
    /// already knows it, so the very first burst of calls is already budgeted.
    async fn bootstrap(&self) -> Result<(), SfError> {
        self.inner
            .bootstrap
            .get_or_try_init(|| async {
                if self.inner.fleet.org_limit().await?.is_none() {
                    self.send_inner(&Request::new(Api::Rest, Method::GET, "/limits"))
                        .await?;
                }
                Ok::<(), SfError>(())
            })
            .await?;
        Ok(())
    }

    async fn send_inner(&self, req: &Request) -> Result<reqwest::Response, SfError> {
        let cfg = &self.inner.cfg;
        let mut backoff = Backoff::new(cfg.backoff_base, cfg.backoff_max);
        let mut outage_since: Option<Instant> = None;
        let mut limit_since: Option<Instant> = None;
        let mut replayed_after: Option<u64> = None;
        loop {
            self.wait_until_up(&mut outage_since, &mut backoff).await?;
            self.reserve_budget().await?;
            let session = match self.session().await {
                Ok(s) => s,
                Err(e @ SfError::Outage { .. }) => {
                    self.outage_pause(&e, &mut outage_since, &mut backoff)
                        .await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let started = Instant::now();
            let sent = self.build(&session, req).send().await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    metrics::RequestFinished {
                        api: req.api.label(),
                        outcome: "outage",
                        took: started.elapsed(),
                    }
                    .emit();
                    let err = SfError::from_transport(&e);
                    if !req.replay_safe && !e.is_connect() {
                        return Err(err);
                    }
                    self.outage_pause(&err, &mut outage_since, &mut backoff)
                        .await?;
                    continue;
                }
            };
            self.record_limit_info(&resp).await;
            let status = resp.status();
            if status.is_success() || status == StatusCode::NOT_MODIFIED {
                let outcome = if status == StatusCode::NOT_MODIFIED {
                    "not_modified"
                } else {
                    "ok"
                };
                metrics::RequestFinished {
                    api: req.api.label(),
                    outcome,
                    took: started.elapsed(),
                }
                .emit();
                return Ok(resp);
            }
            let retry_after = resp
                .headers()
                .get("Retry-After")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let body = resp.text().await.unwrap_or_default();
            match classify(status.as_u16(), retry_after, &body) {
                Classified::ExpiredSession => {
                    metrics::RequestFinished {
                        api: req.api.label(),
                        outcome: "expired_session",
                        took: started.elapsed(),
                    }
                    .emit();
                    if replayed_after == Some(session.generation) {
                        return Err(SfError::Auth {
                            flow: cfg.flow.name(),
                            detail: "a freshly issued token was rejected with INVALID_SESSION_ID".into(),
                            fix: "check that the user has API access and the connected app's policies allow this flow".into(),
                        });
                    }
                    let fresh = self
                        .inner
                        .tokens
                        .refresh(&self.inner.http, cfg, Some(session.generation))
                        .await?;
                    replayed_after = Some(fresh.generation);
                }
                Classified::Error(err) => {
                    metrics::RequestFinished {
                        api: req.api.label(),
                        outcome: err.class().label(),
                        took: started.elapsed(),
                    }
                    .emit();
                    match &err {
                        SfError::Outage { .. } => {
                            let unavailable = body.contains("SERVER_UNAVAILABLE");
                            if !req.replay_safe && !unavailable {
                                return Err(err);
                            }
                            self.outage_pause(&err, &mut outage_since, &mut backoff)
                                .await?;
                        }
                        SfError::Limit { retry_after, .. } => {
                            self.inner.fleet.org_exhausted().await?;
                            let since = *limit_since.get_or_insert_with(Instant::now);
                            if since.elapsed() >= cfg.limit_wait {
                                return Err(err);
                            }
                            let d = backoff.next_delay(*retry_after);
                            tokio::time::sleep(
                                d.min(cfg.limit_wait.saturating_sub(since.elapsed())),
                            )
                            .await;
                        }
                        _ => return Err(err),
                    }
                }
            }
        }
    }

    pub(super) fn build(&self, session: &Session, req: &Request) -> reqwest::RequestBuilder {
        let mut b = self
            .inner
            .http
            .request(req.method.clone(), self.url(session, &req.path))
            .bearer_auth(session.access_token.expose())
            .header(
                "Sforce-Call-Options",
                format!("client={}", super::pubsub::CLIENT_NAME),
            );
        if !req.query.is_empty() {
            b = b.query(&req.query);
        }
        for (k, v) in &req.headers {
            b = b.header(*k, v);
        }
        match &req.body {
            Some(Body::Json(j)) => b.json(j),
            Some(Body::Bytes(ct, data)) => b.header("Content-Type", *ct).body(data.clone()),
            None => b,
        }
    }
}
