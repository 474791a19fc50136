//! The operations console against the real `orgpool web` binary, real Postgres and
//! Redis and the fake org: every page loads (for the operator, for the read-only token,
//! through the login form's cookie), each action changes the ledger as it should
//! (start, retry a run and a chunk, cancel, pause and resume, also from the CLI), the
//! read-only token and forms without the CSRF token or from another origin are refused
//! with 403 and change nothing, and bad forms and queries are refused with a clear
//! message.

mod jobs_common;

use std::time::Duration;

use jobs_common::{Env, OPPORTUNITY_MAPPING, free_port, opportunities_org};

const TOKEN: &str = "console-token-0123456789abcdef";
const READ: &str = "console-read-only-0123456789";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = client().get(url).header("accept", "text/html");
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// POSTs a form; returns the status, the `Location` and the body.
async fn post(url: &str, token: Option<&str>, form: &[(&str, &str)]) -> (u16, String, String) {
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
fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("the page has a form: {page}"))
        + "name=\"csrf\" value=\"".len();
    page[at..].split('"').next().unwrap().to_string()
}

/// A failed resync run of Opportunity with one failed work chunk: (run, chunk).
async fn failed_run(env: &Env) -> (i64, i64) {
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

async fn state_of(env: &Env, table: &str, id: i64) -> String {
    let (s,): (String,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT state FROM orgpool.{table} WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    s
}

async fn paused(env: &Env) -> bool {
    env.count("SELECT count(*) FROM orgpool.mappings WHERE object = 'Opportunity' AND paused")
        .await
        == 1
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_shows_every_page_and_its_actions_change_the_ledger() {
    let org = opportunities_org(1_500, Duration::from_millis(50));
    let mut env = Env::new("console", org, OPPORTUNITY_MAPPING).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    env.spawn(
        &["web", "--port", &port.to_string()],
        &[
            ("ORGPOOL_WEB_TOKEN", TOKEN),
            ("ORGPOOL_WEB_READ_TOKEN", READ),
        ],
    );
    let worker = env.spawn(&["worker"], &[("WORKER_CONCURRENCY", "1")]);
    env.wait_http_ok(&format!("{base}/healthz")).await;

    // Without a credential a browser gets the login form, anything else the challenge.
    let (code, body) = get(&format!("{base}/runs"), None).await;
    assert_eq!(code, 401);
    assert!(body.contains("action=\"/login\""), "{body}");

    // Start a run from the console's form, as `orgpool enqueue initial_load` would.
    let (code, runs_page) = get(&format!("{base}/runs"), Some(TOKEN)).await;
    assert_eq!(code, 200, "{runs_page}");
    let csrf = csrf_of(&runs_page);
    let (code, location, body) = post(
        &format!("{base}/runs"),
        Some(TOKEN),
        &[
            ("csrf", &csrf),
            ("kind", "initial_load"),
            ("object", "Opportunity"),
        ],
    )
    .await;
    assert_eq!(code, 303, "{body}");
    let load: i64 = location
        .trim_start_matches("/runs/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("a run's page: {location}"));
    env.wait_succeeded(load, Duration::from_secs(120)).await;
    // The rest is about the ledger alone: no worker picks up what is retried.
    env.signal(worker, "KILL");
    assert!(env.wait_exit(worker, Duration::from_secs(10)));

    // Every page loads, with what it is for.
    for (path, wants) in [
        ("/", vec!["Mappings", "/mappings/Opportunity"]),
        (
            "/runs",
            vec!["initial_load", "Start a run", "<time datetime="],
        ),
        (
            "/runs?kind=initial_load&object=opportunity&state=succeeded&window=1h",
            vec![&format!("/runs/{load}\"") as &str, "1 run(s) match"],
        ),
        (
            "/runs?state=failed",
            vec!["0 run(s) match", "No run matches."],
        ),
        (
            &format!("/runs/{load}") as &str,
            vec![
                "succeeded",
                "Chunks",
                "Parameters",
                "Plan summary",
                "Records Salesforce refused",
            ],
        ),
        (
            "/mappings/Opportunity",
            vec![
                "1500 rows",
                "watermark",
                "Recent runs",
                "no subscription",
                "Pause",
            ],
        ),
    ] {
        let (code, page) = get(&format!("{base}{path}"), Some(TOKEN)).await;
        assert_eq!(code, 200, "{path}: {page}");
        for w in wants {
            assert!(page.contains(w), "{path} shows {w:?}\n{page}");
        }
        assert!(
            !page.contains(TOKEN) && !page.contains(READ),
            "{path} leaks a token"
        );
    }

    // Retry a failed run: its failed chunk is pending again with fresh attempts.
    let (run, chunk) = failed_run(&env).await;
    let (code, page) = get(&format!("{base}/runs/{run}"), Some(TOKEN)).await;
    assert_eq!(code, 200);
    assert!(
        page.contains("Retry 1 failed chunk(s)") && page.contains("the org said no"),
        "{page}"
    );
    let (code, location, body) = post(
        &format!("{base}/runs/{run}/retry"),
        Some(TOKEN),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        (code, location.as_str()),
        (303, format!("/runs/{run}?done=retried").as_str()),
        "{body}"
    );
    assert_eq!(state_of(&env, "runs", run).await, "running");
    assert!(matches!(
        state_of(&env, "chunks", chunk).await.as_str(),
        "pending" | "queued"
    ));
    assert_eq!(
        env.count(&format!(
            "SELECT attempts::bigint FROM orgpool.chunks WHERE id = {chunk}"
        ))
        .await,
        0
    );
    // A run with nothing failed is refused, saying so.
    let (code, _, body) = post(
        &format!("{base}/runs/{load}/retry"),
        Some(TOKEN),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(code, 409);
    assert!(body.contains("has no failed chunk"), "{body}");

    // Cancel it: the run ends cancelled, its open chunks too; again is a 409.
    let (code, location, _) = post(
        &format!("{base}/runs/{run}/cancel"),
        Some(TOKEN),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        (code, location),
        (303, format!("/runs/{run}?done=cancelled"))
    );
    assert_eq!(state_of(&env, "runs", run).await, "cancelled");
    assert_eq!(state_of(&env, "chunks", chunk).await, "cancelled");
    let (code, _, body) = post(
        &format!("{base}/runs/{run}/cancel"),
        Some(TOKEN),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(code, 409);
    assert!(body.contains("already ended"), "{body}");

    // Retry one chunk of another failed run.
    let (run2, chunk2) = failed_run(&env).await;
    let (code, location, body) = post(
        &format!("{base}/chunks/{chunk2}/retry"),
        Some(TOKEN),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        (code, location),
        (303, format!("/runs/{run2}?done=retried")),
        "{body}"
    );
    assert_eq!(state_of(&env, "runs", run2).await, "running");

    // Pause and resume, from the console and from the CLI; status shows it.
    let (code, location, _) = post(
        &format!("{base}/mappings/opportunity/pause"),
        Some(TOKEN),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        (code, location.as_str()),
        (303, "/mappings/Opportunity?done=paused")
    );
    assert!(paused(&env).await);
    let (_, page) = get(&format!("{base}/mappings/Opportunity"), Some(TOKEN)).await;
    assert!(page.contains("PAUSED") && page.contains("Resume"), "{page}");
    let (_, status) = get(&format!("{base}/api/status"), Some(TOKEN)).await;
    assert!(status.contains("\"paused\":true"), "{status}");
    assert!(env.ok(&["status"]).contains("PAUSED"));
    let (code, _, _) = post(
        &format!("{base}/mappings/Opportunity/resume"),
        Some(TOKEN),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(code, 303);
    assert!(!paused(&env).await);
    assert!(
        env.ok(&["mappings", "pause", "Opportunity"])
            .contains("paused")
    );
    assert!(paused(&env).await);
    assert!(
        env.ok(&["mappings", "pause", "Opportunity"])
            .contains("already paused")
    );
    assert!(
        env.ok(&["mappings", "resume", "Opportunity"])
            .contains("resumed")
    );
    assert!(!paused(&env).await);
    let out = env.run(&["mappings", "pause", "Contract"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no mapping for Contract"));

    // The read-only token sees every page, without a button, and cannot act.
    let (run3, chunk3) = failed_run(&env).await;
    for path in [
        "/",
        "/runs",
        &format!("/runs/{run3}"),
        "/mappings/Opportunity",
    ] {
        let (code, page) = get(&format!("{base}{path}"), Some(READ)).await;
        assert_eq!(code, 200, "{path}");
        assert!(
            !page.contains("name=\"csrf\""),
            "{path} offers the reader a form"
        );
        assert!(page.contains("read-only"), "{path}");
    }
    for path in [
        format!("/runs/{run3}/retry"),
        format!("/chunks/{chunk3}/retry"),
        format!("/runs/{run3}/cancel"),
        "/mappings/Opportunity/pause".to_string(),
    ] {
        let (code, _, body) = post(&format!("{base}{path}"), Some(READ), &[("csrf", &csrf)]).await;
        assert_eq!(code, 403, "{path}");
        assert!(body.contains("read-only"), "{body}");
    }
    let (code, _, _) = post(
        &format!("{base}/runs"),
        Some(READ),
        &[
            ("csrf", &csrf),
            ("kind", "resync"),
            ("object", "Opportunity"),
        ],
    )
    .await;
    assert_eq!(code, 403);
    let api = client()
        .post(format!("{base}/api/runs"))
        .bearer_auth(READ)
        .json(&serde_json::json!({"kind": "resync", "object": "Opportunity"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status().as_u16(), 403);

    // Without the CSRF token, with a wrong one, from another origin, or with no token.
    for (token, form_csrf, origin, why) in [
        (Some(TOKEN), "", None, "CSRF token"),
        (Some(TOKEN), "0000", None, "CSRF token"),
        (
            Some(TOKEN),
            csrf.as_str(),
            Some("http://evil.example"),
            "another site",
        ),
        (None, csrf.as_str(), None, "sign in"),
    ] {
        let mut req = client()
            .post(format!("{base}/runs/{run3}/cancel"))
            .form(&[("csrf", form_csrf)]);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 403, "{why}");
        let body = r.text().await.unwrap();
        assert!(body.contains(why), "{why}: {body}");
    }
    assert_eq!(
        state_of(&env, "runs", run3).await,
        "failed",
        "nothing was done"
    );
    assert_eq!(state_of(&env, "chunks", chunk3).await, "failed");
    assert!(!paused(&env).await);

    // Bad forms and queries say what is wrong and start nothing.
    let runs_before = env.count("SELECT count(*) FROM orgpool.runs").await;
    for (form, code, says) in [
        (
            vec![("kind", "resink"), ("object", "Opportunity")],
            422,
            "initial_load",
        ),
        (
            vec![("kind", "resync"), ("object", "Contract")],
            422,
            "not mapped",
        ),
        (vec![("kind", "resync")], 400, "needs a kind"),
    ] {
        let mut form = form;
        form.push(("csrf", &csrf));
        let (got, _, body) = post(&format!("{base}/runs"), Some(TOKEN), &form).await;
        assert_eq!(got, code, "{form:?}: {body}");
        assert!(body.contains(says), "{form:?}: {body}");
    }
    assert_eq!(
        env.count("SELECT count(*) FROM orgpool.runs").await,
        runs_before
    );
    for (path, code, says) in [
        ("/runs?state=exploded", 400, "not a run state"),
        ("/runs?window=3w", 400, "not one of 1h"),
        ("/runs?page=0", 400, "whole number"),
        ("/runs/abc", 400, "not a run id"),
        ("/runs/999999", 404, "no run 999999"),
        ("/mappings/Contract", 404, "No mapping"),
    ] {
        let (got, body) = get(&format!("{base}{path}"), Some(TOKEN)).await;
        assert_eq!(got, code, "{path}: {body}");
        assert!(body.contains(says), "{path}: {body}");
    }
    let (code, _, body) = post(
        &format!("{base}/runs/abc/cancel"),
        Some(TOKEN),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(code, 400, "{body}");

    // The login form: a wrong token is 401; the read-only one sets a cookie that opens
    // the pages (and still cannot act); the cookie is not the token.
    let (code, _, body) = post(
        &format!("{base}/login"),
        None,
        &[("token", "not-the-token-at-all"), ("next", "/runs")],
    )
    .await;
    assert_eq!(code, 401);
    assert!(body.contains("not the token"), "{body}");
    let r = client()
        .post(format!("{base}/login"))
        .form(&[("token", READ), ("next", "//evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/", "next stays on this site");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains(READ), "the cookie is not the token");
    let session = cookie.split(';').next().unwrap().to_string();
    let r = client()
        .get(format!("{base}/runs/{run3}"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = client()
        .post(format!("{base}/runs/{run3}/cancel"))
        .header("cookie", &session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(state_of(&env, "runs", run3).await, "failed");

    let logs = env.logs();
    assert!(
        !logs.contains(TOKEN) && !logs.contains(READ),
        "a token leaks into the logs"
    );
}
