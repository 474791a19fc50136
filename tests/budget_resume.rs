//! A spent API budget pauses the fleet, and the fleet resumes by itself once the org's
//! allowance is raised (its `/limits` re-checked once per period), or at once after
//! `orgpool budget clear`, with no process restarted. Real binaries: a worker, the
//! scheduler and `enqueue --wait` as child processes against an in-process fake org.
//!
//! The budget is spent the way the issue saw it: the fleet made some calls, then the
//! org's allowance fell below them, so the fleet's own window is over its share for a
//! whole rolling day (a limit wait of ~86,000 s before the fix).

mod jobs_common;

use std::time::{Duration, Instant};

use jobs_common::{Env, OPPORTUNITY_MAPPING, opportunities_org, run_id};
use orgpool::salesforce::{Client, SalesforceConfig};

/// Makes `calls` calls under the fleet's prefix, then lowers the org's allowance to 5
/// so the fleet (and the org) are over the share, and lets one refused call teach the
/// fleet the new limit, as a worker's call would.
async fn spend(env: &Env, calls: usize) {
    let c = env.org.config();
    let mut cfg = SalesforceConfig::new(&env.org.base_url, &c.client_id, &c.client_secret);
    cfg.limit_wait = Duration::ZERO;
    let redis = orgpool::redis_conn::connect(&env.redis_url).await.unwrap();
    let client = Client::new(cfg, redis, &env.prefix).unwrap();
    for _ in 0..calls {
        client
            .limits()
            .await
            .expect("limits while the org has room");
    }
    env.org.set_api_limit(5, false);
    let refused = client.limits().await.expect_err("the org is spent");
    assert_eq!(
        refused.class(),
        orgpool::salesforce::ErrorClass::Limit,
        "{refused}"
    );
    let (fleet, _, limit) = client.fleet().usage().await.unwrap();
    assert_eq!(limit, 5, "the fleet learned the lowered allowance");
    assert!(fleet > 4, "the fleet's window ({fleet}) is over 80% of 5");
}

/// `orgpool status --json`.
fn status(env: &Env) -> serde_json::Value {
    serde_json::from_str(&env.ok(&["status", "--json"])).expect("status JSON")
}

/// Waits until a chunk is put back for the budget; checks it was put back for at most
/// `recheck` (plus slack), never for the rolling window, and spent no attempt.
async fn wait_until_paused(env: &Env, recheck: u64) {
    env.eventually(
        "a chunk waiting on the budget",
        Duration::from_secs(60),
        || async {
            env.count("SELECT count(*) FROM orgpool.chunks WHERE state IN ('pending', 'queued') AND error_class = 'limit'")
                .await
                > 0
        },
    )
    .await;
    let far = env
        .count(&format!(
            "SELECT count(*) FROM orgpool.chunks WHERE not_before > now() + interval '{} seconds'",
            recheck + 5
        ))
        .await;
    assert_eq!(far, 0, "a limit wait was put back past the re-check period");
    assert_eq!(
        env.count("SELECT coalesce(max(attempts), 0)::bigint FROM orgpool.chunks")
            .await,
        0,
        "a limit wait spent an attempt"
    );
    let st = status(env);
    let paused = &st["api"]["paused"];
    assert_eq!(paused["reason"], "fleet", "{st:#}");
    let until: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(paused["until"].clone()).expect("an until-time");
    // The fleet's calls leave the 24-hour window a day after they were made.
    assert!(
        until > chrono::Utc::now() + chrono::Duration::hours(23),
        "{until}"
    );
    let text = env.ok(&["status"]);
    assert!(
        text.contains("paused by the API budget until ~"),
        "status does not say the fleet is paused:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raised_allowance_resumes_the_run_within_a_minute_without_restarts() {
    let recheck = 15;
    let mut env = Env::new(
        "budget_raise",
        opportunities_org(30, Duration::from_millis(20)),
        OPPORTUNITY_MAPPING,
    )
    .await;
    spend(&env, 10).await;
    let every = recheck.to_string();
    let settings = [("ORGPOOL_API_BUDGET_RECHECK_SECS", every.as_str())];
    env.spawn(&["worker"], &settings);
    let enqueue = env.spawn(
        &["enqueue", "initial-load", "Opportunity", "--wait"],
        &settings,
    );
    wait_until_paused(&env, recheck).await;
    // A scheduler started while the budget is spent keeps running (each check gives up
    // after 2 s, so before the fix it exited at once with the limit error).
    let scheduler = env.spawn(
        &["scheduler", "--tick-seconds", "1"],
        &[settings[0], ("SALESFORCE_LIMIT_WAIT_SECS", "2")],
    );
    assert!(
        !env.wait_exit(scheduler, Duration::from_secs(6)),
        "the scheduler exited while the budget was spent\n{}",
        env.logs()
    );
    let out = env.log_of("enqueue", 1);
    let first = out
        .lines()
        .find(|l| l.starts_with("run "))
        .unwrap_or_default();
    let id = run_id(first);
    assert!(
        out.contains(&format!("run {id}: paused by the API budget until ~")),
        "enqueue --wait does not say the run is paused:\n{out}"
    );

    env.org.set_api_limit(100_000, true);
    let raised = Instant::now();
    env.wait_succeeded(id, Duration::from_secs(60)).await;
    eprintln!(
        "run {id} succeeded {:.1} s after the allowance was raised",
        raised.elapsed().as_secs_f64()
    );
    assert!(env.wait_exit(enqueue, Duration::from_secs(10)));
    let out = env.log_of("enqueue", 1);
    assert!(out.contains("the API budget has room again"), "{out}");
    env.eventually(
        "the scheduler to check the mappings",
        Duration::from_secs(60),
        || async {
            env.log_of("scheduler", 2)
                .contains("mappings checked against the org")
        },
    )
    .await;
    // The org's figures are the org's current ones, not the stale spent ones.
    let api = status(&env)["api"].clone();
    assert!(api["paused"].is_null(), "{api:#}");
    assert_eq!(api["org_limit"], 100_000, "{api:#}");
    assert!(api["org_used"].as_u64().unwrap() < 1_000, "{api:#}");
    assert_eq!(
        env.count("SELECT count(*) FROM salesforce.opportunity")
            .await,
        30
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budget_clear_wakes_the_waiting_run_at_once() {
    // A long re-check period: only `budget clear` can make this run resume soon.
    let mut env = Env::new(
        "budget_clear",
        opportunities_org(20, Duration::from_millis(20)),
        OPPORTUNITY_MAPPING,
    )
    .await;
    spend(&env, 10).await;
    let settings = [("ORGPOOL_API_BUDGET_RECHECK_SECS", "600")];
    env.spawn(&["worker"], &settings);
    let id = run_id(&env.ok(&["enqueue", "initial-load", "Opportunity"]));
    wait_until_paused(&env, 600).await;
    // The org has room again, but the fleet would not look for ten minutes.
    env.org.set_api_limit(100_000, true);
    let out = env.ok(&["budget", "clear"]);
    assert!(
        out.contains("1 chunk(s) waiting on the budget woken"),
        "{out}"
    );
    let cleared = Instant::now();
    env.wait_succeeded(id, Duration::from_secs(30)).await;
    eprintln!(
        "run {id} succeeded {:.1} s after budget clear",
        cleared.elapsed().as_secs_f64()
    );
    assert_eq!(
        env.count("SELECT count(*) FROM salesforce.opportunity")
            .await,
        20
    );
}
