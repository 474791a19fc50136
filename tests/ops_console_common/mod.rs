//! Shared by the console tests: the tokens, a client that does not follow redirects,
//! GET and form POST helpers, the CSRF token of a page, and a failed run to act on.
#![allow(dead_code)]

use crate::jobs_common::Env;

pub const TOKEN: &str = "console-token-0123456789abcdef";
pub const READ: &str = "console-read-only-0123456789";

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = client().get(url).header("accept", "text/html");
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// POSTs a form; returns the status, the `Location` and the body.
pub async fn post(url: &str, token: Option<&str>, form: &[(&str, &str)]) -> (u16, String, String) {
    let mut req = client().post(url).form(form);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (r.status().as_u16(), location, r.text().await.unwrap())
}

/// The CSRF token in a page's forms.
pub fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("the page has a form: {page}"))
        + "name=\"csrf\" value=\"".len();
    page[at..].split('"').next().unwrap().to_string()
}

/// A failed resync run of Opportunity with one failed work chunk: (run, chunk).
pub async fn failed_run(env: &Env) -> (i64, i64) {
    let (run,): (i64,) = sqlx::query_as(
        "INSERT INTO orgpool.runs (kind, object, lane, state, chunks_total, error, finished_at)
         VALUES ('resync', 'Opportunity', 'mirror:opportunity', 'failed', 1, 'boom', now()) RETURNING id",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO orgpool.chunks (run_id, kind, seq, step, state) VALUES ($1, 'resync', 0, 'plan', 'done')")
        .bind(run)
        .execute(&env.pool)
        .await
        .unwrap();
    let (chunk,): (i64,) = sqlx::query_as(
        "INSERT INTO orgpool.chunks (run_id, kind, seq, step, state, attempts, error, error_class, finished_at)
         VALUES ($1, 'resync', 1, 'work', 'failed', 5, 'the org said no', 'permanent', now()) RETURNING id",
    )
    .bind(run)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    (run, chunk)
}

pub async fn state_of(env: &Env, table: &str, id: i64) -> String {
    let (s,): (String,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT state FROM orgpool.{table} WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    s
}

pub async fn paused(env: &Env) -> bool {
    env.count("SELECT count(*) FROM orgpool.mappings WHERE object = 'Opportunity' AND paused")
        .await
        == 1
}
