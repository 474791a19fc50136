//! What the console refuses, against the real `orgpool web` binary and real Postgres
//! and Redis: the read-only token sees every page without a button and its actions
//! answer 403; a form without the CSRF token, with a wrong one, from another origin or
//! without a token is 403; bad forms and queries are refused with a message naming the
//! problem; the login form (wrong token 401, cookie flags, `next` kept on this site).
//! Each refusal changes nothing in the ledger.

mod jobs_common;
mod ops_console_common;

use std::time::Duration;

use jobs_common::{Env, OPPORTUNITY_MAPPING, free_port, opportunities_org};
use ops_console_common::*;

#[tokio::test(flavor = "multi_thread")]
async fn the_console_refuses_what_a_viewer_may_not_do_and_says_why() {
    let org = opportunities_org(100, Duration::from_millis(10));
    let mut env = Env::new("console_refusals", org, OPPORTUNITY_MAPPING).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    env.spawn(
        &["web", "--port", &port.to_string()],
        &[
            ("ORGPOOL_WEB_TOKEN", TOKEN),
            ("ORGPOOL_WEB_READ_TOKEN", READ),
        ],
    );
    env.wait_http_ok(&format!("{base}/healthz")).await;
    let (code, page) = get(&format!("{base}/runs"), Some(TOKEN)).await;
    assert_eq!(code, 200, "{page}");
    let csrf = csrf_of(&page);
    // The mapping is in the ledger once a run of it was asked for (no worker runs it).
    let (code, _, body) = post(
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
    sqlx::query("UPDATE orgpool.runs SET state = 'cancelled', finished_at = now()")
        .execute(&env.pool)
        .await
        .unwrap();

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
