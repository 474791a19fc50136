//! The client and its one request path. Every call goes through [`Client::send`], which
//! waits out a fleet outage, reserves API budget, attaches the shared token, replays once
//! after a token refresh, retries outage and limit failures with jittered backoff (within
//! the configured waits), records `Sforce-Limit-Info`, and counts the request in metrics.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis::aio::ConnectionManager;
use reqwest::{Method, StatusCode};

use super::auth::{Session, TokenCache};
use super::backoff::Backoff;
use super::budget::{Fleet, Reservation};
use super::config::{BudgetConfig, SalesforceConfig};
use super::error::{Classified, SfError, classify, parse_retry_after};
use super::rest::DescribeCache;
use crate::telemetry::salesforce as metrics;

/// Which API a request belongs to (a metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// REST: describe, query, collections, limits.
    Rest,
    /// Bulk API 2.0 query jobs and results.
    BulkQuery,
    /// Bulk API 2.0 ingest jobs, uploads and results.
    BulkIngest,
}

impl Api {
    /// `rest`, `bulk_query` or `bulk_ingest`.
    pub fn label(self) -> &'static str {
        match self {
            Api::Rest => "rest",
            Api::BulkQuery => "bulk_query",
            Api::BulkIngest => "bulk_ingest",
        }
    }
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// JSON.
    Json(serde_json::Value),
    /// Raw bytes with a content type (CSV uploads).
    Bytes(&'static str, Bytes),
}

/// One API request, kept so it can be replayed.
#[derive(Debug, Clone)]
pub struct Request {
    /// For metrics.
    pub api: Api,
    /// HTTP method.
    pub method: Method,
    /// `/query` (under the versioned API), `/services/...` (under the instance) or a
    /// full URL.
    pub path: String,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Option<Body>,
    /// Whether sending it twice is harmless. A request that is not is only retried when
    /// Salesforce cannot have acted on it (connection refused, 503 unavailable).
    pub replay_safe: bool,
}

impl Request {
    /// A replay-safe request without body.
    pub fn new(api: Api, method: Method, path: impl Into<String>) -> Request {
        Request {
            api,
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            replay_safe: true,
        }
    }

    /// Adds a query parameter.
    pub fn param(mut self, k: &str, v: impl Into<String>) -> Request {
        self.query.push((k.to_string(), v.into()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, k: &'static str, v: impl Into<String>) -> Request {
        self.headers.push((k, v.into()));
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: serde_json::Value) -> Request {
        self.body = Some(Body::Json(body));
        self
    }

    /// Marks the request as unsafe to send twice.
    pub fn not_replay_safe(mut self) -> Request {
        self.replay_safe = false;
        self
    }
}

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

    async fn session(&self) -> Result<Arc<Session>, SfError> {
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

    fn build(&self, session: &Session, req: &Request) -> reqwest::RequestBuilder {
        let mut b = self
            .inner
            .http
            .request(req.method.clone(), self.url(session, &req.path))
            .bearer_auth(session.access_token.expose())
            .header("Sforce-Call-Options", "client=orgpool");
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

    /// Records `Sforce-Limit-Info: api-usage=USED/LIMIT` in the fleet state.
    async fn record_limit_info(&self, resp: &reqwest::Response) {
        let Some((used, limit)) = resp
            .headers()
            .get("Sforce-Limit-Info")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_limit_info)
        else {
            return;
        };
        if let Err(e) = self.inner.fleet.report_usage(used, limit).await {
            tracing::warn!(error = %e, "could not record API usage");
        }
    }

    /// Waits for a slot in the fleet budget, up to `limit_wait`. While the budget is
    /// spent, the fleet probes the org's `/limits` once per re-check period (whoever
    /// takes the probe lock), so a raised allowance or a reset usage is seen although
    /// no other request goes out; the wait handed back is at most that period.
    async fn reserve_budget(&self) -> Result<(), SfError> {
        let since = Instant::now();
        let limit_wait = self.inner.cfg.limit_wait;
        let recheck = self.inner.cfg.budget.recheck;
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(30));
        let mut probed = false;
        loop {
            match self.inner.fleet.reserve(1).await? {
                Reservation::Granted { .. } => return Ok(()),
                Reservation::Denied {
                    reason,
                    used,
                    allowed,
                    wait,
                } => {
                    if !probed
                        && worth_probing(reason, allowed, wait, &self.inner.cfg.budget)
                        && self.inner.fleet.take_budget_probe(recheck).await?
                    {
                        probed = true;
                        if self.probe_limits().await {
                            continue;
                        }
                    }
                    let left = limit_wait.saturating_sub(since.elapsed());
                    let hint = (!wait.is_zero()).then_some(wait);
                    if left.is_zero() {
                        let detail = match reason {
                            "org" => format!(
                                "the org's reported usage has reached this deployment's share ({allowed} requests in 24 hours)"
                            ),
                            _ => format!(
                                "the fleet has made {used} requests in its rolling window and may make {allowed} (the lower of ORGPOOL_API_BUDGET_CAP and ORGPOOL_API_BUDGET_SHARE of the org's daily allowance)"
                            ),
                        };
                        // Never the whole window: the allowance may be raised or the
                        // usage reset meanwhile, so waiters look again within a period.
                        return Err(SfError::Limit {
                            detail,
                            retry_after: Some(hint.unwrap_or(recheck).min(recheck)),
                        });
                    }
                    let d = match hint {
                        // Wake just after the slot frees, spread a little.
                        Some(w) => w + backoff.next_delay(None).mul_f64(0.1),
                        None => backoff.next_delay(None),
                    };
                    // Look again every few seconds: a `budget clear` or another
                    // process's probe may have made room.
                    tokio::time::sleep(d.min(left).min(Duration::from_secs(5))).await;
                    if since.elapsed() >= recheck {
                        probed = false;
                    }
                }
            }
        }
    }

    /// Asks the org's `/limits` for its current usage, outside the budget (it is sent
    /// because the budget is spent, once per period for the whole fleet), and stores
    /// the answer in place of the old figures. A refusal with `REQUEST_LIMIT_EXCEEDED`
    /// still carries `Sforce-Limit-Info`. True when the figures were replaced.
    async fn probe_limits(&self) -> bool {
        let req = Request::new(Api::Rest, Method::GET, "/limits");
        let mut refreshed = false;
        loop {
            let Ok(session) = self.session().await else {
                return false;
            };
            let started = Instant::now();
            let Ok(resp) = self.build(&session, &req).send().await else {
                metrics::RequestFinished {
                    api: "rest",
                    outcome: "outage",
                    took: started.elapsed(),
                }
                .emit();
                return false;
            };
            let status = resp.status();
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                refreshed = true;
                let cfg = &self.inner.cfg;
                if self
                    .inner
                    .tokens
                    .refresh(&self.inner.http, cfg, Some(session.generation))
                    .await
                    .is_err()
                {
                    return false;
                }
                continue;
            }
            let header = resp
                .headers()
                .get("Sforce-Limit-Info")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_limit_info);
            let body: Option<serde_json::Value> = if status.is_success() {
                resp.json().await.ok()
            } else {
                None
            };
            metrics::RequestFinished {
                api: "rest",
                outcome: if status.is_success() { "ok" } else { "limit" },
                took: started.elapsed(),
            }
            .emit();
            // The body's DailyApiRequests is the org's own count; the header says the same.
            let figures = body.as_ref().and_then(daily_requests).or(header);
            let Some((used, limit)) = figures else {
                return false;
            };
            tracing::info!(used, limit, "API budget spent: re-checked the org's usage");
            return self.inner.fleet.set_org_usage(used, limit).await.is_ok();
        }
    }

    /// Flags the outage for the fleet and sleeps, or gives up after `outage_wait`.
    async fn outage_pause(
        &self,
        err: &SfError,
        since: &mut Option<Instant>,
        backoff: &mut Backoff,
    ) -> Result<(), SfError> {
        let first = *since.get_or_insert_with(Instant::now);
        let wait = self.inner.cfg.outage_wait;
        tracing::warn!(error = %err, "Salesforce outage; waiting");
        let ttl = wait.max(Duration::from_secs(60));
        self.inner.fleet.set_outage(&err.to_string(), ttl).await?;
        if first.elapsed() >= wait {
            return Err(err.clone());
        }
        let d = backoff.next_delay(err.retry_after());
        tokio::time::sleep(d.min(wait.saturating_sub(first.elapsed()))).await;
        Ok(())
    }

    /// While the fleet's outage flag is set: probe (one process at a time) and wait.
    async fn wait_until_up(
        &self,
        outage_since: &mut Option<Instant>,
        backoff: &mut Backoff,
    ) -> Result<(), SfError> {
        let fleet = &self.inner.fleet;
        loop {
            let Some(detail) = fleet.outage().await? else {
                return Ok(());
            };
            let since = *outage_since.get_or_insert_with(Instant::now);
            let d = backoff.next_delay(None);
            if fleet.take_probe(d).await? {
                if self.probe().await {
                    tracing::info!("Salesforce answers again; clearing the outage flag");
                    fleet.clear_outage().await?;
                    return Ok(());
                }
                fleet
                    .set_outage(
                        &detail,
                        self.inner.cfg.outage_wait.max(Duration::from_secs(60)),
                    )
                    .await?;
            }
            if since.elapsed() >= self.inner.cfg.outage_wait {
                return Err(SfError::Outage {
                    detail: format!("the fleet has flagged an outage: {detail}"),
                    retry_after: Some(d),
                });
            }
            tokio::time::sleep(d).await;
        }
    }

    /// Whether the org answers its unauthenticated versions URL.
    async fn probe(&self) -> bool {
        let base = match self
            .inner
            .tokens
            .session(&self.inner.http, &self.inner.cfg)
            .await
        {
            Ok(s) => s.instance_url.clone(),
            Err(_) => self.inner.cfg.login_url.clone(),
        };
        let started = Instant::now();
        let ok = matches!(
            self.inner
                .http
                .get(format!("{base}/services/data/"))
                .timeout(Duration::from_secs(10))
                .send()
                .await,
            Ok(r) if r.status().is_success()
        );
        metrics::RequestFinished {
            api: "rest",
            outcome: if ok { "ok" } else { "outage" },
            took: started.elapsed(),
        }
        .emit();
        ok
    }
}

/// Whether the org's answer could end a denial sooner than waiting does: the org's usage
/// may have been reset, or its allowance raised (which lifts the fleet's ceiling unless
/// the deployment's own cap is what binds). A window that frees a slot within the
/// re-check period needs no probe; each probe is one more call on a spent allowance.
fn worth_probing(reason: &str, allowed: u64, wait: Duration, budget: &BudgetConfig) -> bool {
    match reason {
        "org" => true,
        _ => budget.cap != Some(allowed) && (wait.is_zero() || wait > budget.recheck),
    }
}

/// `/limits`' `DailyApiRequests` → `(used, max)`.
fn daily_requests(limits: &serde_json::Value) -> Option<(u64, u64)> {
    let d = &limits["DailyApiRequests"];
    let max = d["Max"].as_u64()?;
    Some((max.saturating_sub(d["Remaining"].as_u64()?), max))
}

/// `api-usage=16/100000[; ...]` → `(16, 100000)`.
pub fn parse_limit_info(v: &str) -> Option<(u64, u64)> {
    let part = v
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("api-usage="))?;
    let (used, limit) = part.split_once('/')?;
    Some((used.trim().parse().ok()?, limit.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_only_when_the_org_could_end_the_wait_sooner() {
        let budget = BudgetConfig {
            cap: Some(15),
            ..Default::default()
        };
        let day = Duration::from_secs(86_333);
        assert!(worth_probing("org", 15, Duration::ZERO, &budget));
        // The deployment's cap binds: no org figure can lift it.
        assert!(!worth_probing("fleet", 15, day, &budget));
        // The share binds and the window frees nothing for a day: the limit may rise.
        assert!(worth_probing("fleet", 8, day, &budget));
        // A slot frees within the re-check period anyway.
        assert!(!worth_probing("fleet", 8, Duration::from_secs(2), &budget));
    }

    #[test]
    fn parses_limit_info() {
        assert_eq!(parse_limit_info("api-usage=16/100000"), Some((16, 100_000)));
        assert_eq!(
            parse_limit_info("api-usage=3/15000; per-app-api-usage=17/250(appName=x)"),
            Some((3, 15_000))
        );
        assert_eq!(parse_limit_info("per-app-api-usage=1/2"), None);
    }
}
