//! Shared by the change-event tests: a fake org with Accounts and Opportunities, an
//! Account mapping with `events = true` (polled only hourly, so a change that arrives
//! in seconds came through its event), and helpers to write the org through REST and
//! wait for the mirror.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::{Value as Json, json};

use crate::jobs_common::{self, Env};

/// Account with events; Opportunity polled only.
pub const MAPPINGS: &str = r#"
[[mapping]]
object = "Account"
fields = ["Name", "Industry", "Phone", "AnnualRevenue", "LastModifiedDate"]
events = true
poll_interval = "1h"

[[mapping]]
object = "Opportunity"
fields = ["Name", "StageName", "Amount"]
poll_interval = "1h"
"#;

/// A world with a scheduler and `workers` workers, every mapping loaded and the
/// Account subscription live.
pub async fn started(name: &str, workers: usize) -> Env {
    started_with(name, workers, MAPPINGS, &[]).await
}

/// Like [`started`] with other mappings and extra environment.
pub async fn started_with(
    name: &str,
    workers: usize,
    mappings: &str,
    extra: &[(&str, &str)],
) -> Env {
    let mut env = Env::new(name, jobs_common::seeded_org(5, 5, 0), mappings).await;
    env.spawn(&["scheduler", "--tick-seconds", "1"], extra);
    for _ in 0..workers {
        env.spawn(&["worker"], extra);
    }
    let e = &env;
    e.eventually(
        "every mapping loaded",
        Duration::from_secs(60),
        || async move {
            e.count("SELECT count(*) FROM orgpool.mappings WHERE state <> 'ready'")
                .await
                == 0
                && e.count("SELECT count(*) FROM orgpool.mappings WHERE watermark IS NOT NULL")
                    .await
                    > 0
        },
    )
    .await;
    live(e).await;
    // The first resyncs after the loads run once; the test's changes come after them.
    e.eventually("the first resyncs done", Duration::from_secs(60), || async move {
        e.count("SELECT count(*) FROM orgpool.runs WHERE kind = 'resync' AND state = 'succeeded'")
            .await
            >= 2
            && e.count(
                "SELECT count(*) FROM orgpool.runs WHERE kind <> 'change_events' AND state IN ('planning', 'running')",
            )
            .await
                == 0
    })
    .await;
    env
}

/// Waits until the Account subscription is live.
pub async fn live(env: &Env) {
    env.eventually("the Account subscription live", Duration::from_secs(60), || async move {
        env.count("SELECT count(*) FROM orgpool.subscriptions WHERE object = 'Account' AND state = 'live'")
            .await
            == 1
    })
    .await;
}

/// The REST base of the org's API.
pub fn api(env: &Env) -> String {
    format!("{}/services/data/v62.0", env.org.base_url)
}

/// A bearer token for REST calls as a client makes them.
pub async fn token(env: &Env) -> String {
    let c = env.org.config();
    let r: Json = reqwest::Client::new()
        .post(env.org.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_string()
}

/// Sends a REST call; panics on a non-2xx answer. Returns the JSON body (Null if none).
pub async fn rest(env: &Env, method: reqwest::Method, path: &str, body: Option<Json>) -> Json {
    let t = token(env).await;
    let mut req = reqwest::Client::new()
        .request(method.clone(), format!("{}{path}", api(env)))
        .bearer_auth(t);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Json::Null)
}

/// Creates an Account through REST; returns its Id.
pub async fn create_account(env: &Env, name: &str) -> String {
    let r = rest(
        env,
        reqwest::Method::POST,
        "/sobjects/Account",
        Some(json!({"Name": name, "Industry": "Energy", "Phone": "555-0100"})),
    )
    .await;
    r["id"].as_str().unwrap().to_string()
}

/// The mirror's `column` of Account `id` (None: no row, Some(None): null).
pub async fn account_cell(env: &Env, id: &str, column: &str) -> Option<Option<String>> {
    sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(format!(
        "SELECT {column}::text FROM salesforce.account WHERE sfid = $1"
    )))
    .bind(id)
    .fetch_optional(&env.pool)
    .await
    .unwrap()
}

/// Waits until the mirror's `column` of Account `id` is `want` (None: the row is gone).
pub async fn until_cell(
    env: &Env,
    what: &str,
    id: &str,
    column: &str,
    want: Option<Option<&str>>,
    limit: Duration,
) {
    let want: Option<Option<String>> = want.map(|w| w.map(str::to_string));
    env.eventually(what, limit, || {
        let want = want.clone();
        async move { account_cell(env, id, column).await == want }
    })
    .await;
}

/// Resync runs so far (a change that needed one to arrive did not come by event).
pub async fn resyncs(env: &Env) -> i64 {
    env.count("SELECT count(*) FROM orgpool.runs WHERE kind = 'resync'")
        .await
}

/// Events applied to the Account mirror so far.
pub async fn applied(env: &Env) -> i64 {
    env.count("SELECT coalesce(sum(applied), 0)::bigint FROM orgpool.subscriptions")
        .await
}

/// Restores deleted records with the SOAP partner `undelete` call, as a client sends
/// it; panics unless every id came back.
pub async fn soap_undelete(env: &Env, ids: &[&str]) {
    let t = token(env).await;
    let ids: String = ids
        .iter()
        .map(|i| format!("<urn:ids>{i}</urn:ids>"))
        .collect();
    let envelope = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">
  <soapenv:Header><urn:SessionHeader><urn:sessionId>{t}</urn:sessionId></urn:SessionHeader></soapenv:Header>
  <soapenv:Body><urn:undelete>{ids}</urn:undelete></soapenv:Body>
</soapenv:Envelope>"#
    );
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/services/Soap/u/62.0/{}",
            env.org.base_url,
            env.org.org_id()
        ))
        .header("Content-Type", "text/xml; charset=utf-8")
        .header("SOAPAction", "undelete")
        .body(envelope)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body = resp.text().await.unwrap();
    assert!(status.is_success(), "undelete: {status} {body}");
    assert!(
        !body.contains("<success>false</success>"),
        "undelete: {body}"
    );
}

/// The Ids of the first `n` mirrored Accounts.
pub async fn accounts(env: &Env, n: i64) -> Vec<String> {
    sqlx::query_scalar("SELECT sfid::text FROM salesforce.account ORDER BY sfid LIMIT $1")
        .bind(n)
        .fetch_all(&env.pool)
        .await
        .unwrap()
}
