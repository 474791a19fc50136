//! The client's waits: the fleet's API budget (reserve, record the org's reported usage,
//! probe `/limits` while it is spent) and a fleet outage (pause, wait until Salesforce
//! answers, probe). [`Client::send`] calls them around every request.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

use super::backoff::Backoff;
use super::budget::Reservation;
use super::client::Client;
use super::config::BudgetConfig;
use super::error::SfError;
use super::request::{Api, Request};
use crate::telemetry::salesforce as metrics;

impl Client {
    /// Records `Sforce-Limit-Info: api-usage=USED/LIMIT` in the fleet state.
    pub(super) async fn record_limit_info(&self, resp: &reqwest::Response) {
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
    pub(super) async fn reserve_budget(&self) -> Result<(), SfError> {
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
    pub(super) async fn probe_limits(&self) -> bool {
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
    pub(super) async fn outage_pause(
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
    pub(super) async fn wait_until_up(
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
    pub(super) async fn probe(&self) -> bool {
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
