//! Quote generation through the job system: the mirror is loaded, a quote run prices the
//! selected Opportunities on two worker processes and upserts Quotes and lines through
//! Bulk API 2.0; every selected Opportunity ends with exactly one Quote whose lines and
//! totals match, none of the others has one, and running again adds nothing. Bad rules
//! fail before anything is sent. The run reads the tables the mappings name (schema
//! `crm` as well as `salesforce`).

mod jobs_common;
mod quotes_common;

use std::collections::HashMap;
use std::time::Duration;

use futures::TryStreamExt;
use jobs_common::{Env, QUOTE_MAPPINGS, run_id};
use orgpool::fake_org::FakeOrgConfig;
use orgpool::salesforce::Scope;
use quotes_common::{FAMILY_RULES, loaded_org, org_of};

/// The rules every test here starts from: every kind of discount.
const RULES: &str = FAMILY_RULES;

fn org(opportunities: u64) -> FakeOrgConfig {
    org_of(200, opportunities)
}

async fn loaded(name: &str, opportunities: u64) -> Env {
    loaded_org(name, org(opportunities), RULES, QUOTE_MAPPINGS).await
}

/// Checks the org against the mirror's selection and orgpool's computed lines.
async fn assert_quotes(env: &Env) {
    assert_quotes_in(env, "salesforce").await
}

/// [`assert_quotes`] for a mirror in `schema`.
async fn assert_quotes_in(env: &Env, schema: &str) {
    let selected: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT o.sfid FROM {schema}.opportunity o WHERE o.stagename IN ('Proposal/Price Quote', 'Negotiation/Review')
           AND NOT o.isclosed AND EXISTS (SELECT 1 FROM {schema}.opportunitylineitem l WHERE l.opportunityid = o.sfid)",
    )))
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert!(!selected.is_empty());
    let client = env.client().await;
    let quotes: Vec<serde_json::Value> = client
        .query(
            "SELECT Id, OpportunityId, Orgpool_Key__c FROM Quote",
            Scope::Live,
        )
        .try_collect()
        .await
        .unwrap();
    let mut per_opp: HashMap<String, usize> = HashMap::new();
    for q in &quotes {
        *per_opp
            .entry(q["OpportunityId"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(
        quotes.len(),
        selected.len(),
        "one Quote per selected Opportunity and no others"
    );
    for (s,) in &selected {
        assert_eq!(per_opp.get(s), Some(&1), "Opportunity {s}");
    }
    let lines: Vec<serde_json::Value> = client
        .query(
            "SELECT Orgpool_Key__c, TotalPrice, QuoteId FROM QuoteLineItem",
            Scope::Live,
        )
        .try_collect()
        .await
        .unwrap();
    let ours: Vec<(String, f64)> =
        sqlx::query_as("SELECT key, total::float8 FROM orgpool.quote_lines")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    let ours: HashMap<String, f64> = ours.into_iter().collect();
    let (expected,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM {schema}.opportunitylineitem l JOIN {schema}.opportunity o ON o.sfid = l.opportunityid
         WHERE o.stagename IN ('Proposal/Price Quote', 'Negotiation/Review') AND NOT o.isclosed",
    )))
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        lines.len() as i64,
        expected,
        "one line per Opportunity line item, no orphans"
    );
    let quote_ids: std::collections::HashSet<&str> =
        quotes.iter().map(|q| q["Id"].as_str().unwrap()).collect();
    for l in &lines {
        let key = l["Orgpool_Key__c"].as_str().unwrap();
        assert!(
            quote_ids.contains(l["QuoteId"].as_str().unwrap()),
            "line {key} belongs to a live Quote"
        );
        let org_total = l["TotalPrice"].as_f64().unwrap();
        let our_total = ours[key];
        // Both round ties up, in decimal: the same figure to the cent.
        assert_eq!(org_total, our_total, "line {key}");
    }
    let (pushed,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM orgpool.quotes WHERE state = 'pushed' AND sf_id IS NOT NULL",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        pushed as usize,
        selected.len(),
        "orgpool.quotes holds every Quote with its Salesforce Id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selected_opportunities_get_exactly_one_correct_quote_and_a_rerun_adds_nothing() {
    let env = loaded("quotes", 3_000).await;
    let out = env.ok(&["enqueue", "quotes", "--wait"]);
    assert!(out.contains("succeeded"), "{out}\n{}", env.logs());
    assert_quotes(&env).await;
    let out = env.ok(&["enqueue", "quotes", "--wait"]);
    assert!(out.contains("succeeded"), "{out}");
    assert_quotes(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotes_read_the_mapped_schema_and_a_missing_mapping_is_named() {
    // Every quote object mapped into schema `crm`; PricebookEntry left out at first.
    let crm = QUOTE_MAPPINGS.replace("\"\n", "\"\nschema = \"crm\"\n");
    let entry = "[[mapping]]\nobject = \"PricebookEntry\"\nschema = \"crm\"\n";
    assert!(crm.contains(entry), "{crm}");
    let mut env = Env::new("quotes_crm", org(300), &crm.replace(entry, "")).await;
    std::fs::write(&env.quotes, RULES).unwrap();
    env.spawn(&["worker"], &[]);
    let out = env.ok(&["enqueue", "initial-load", "--all", "--wait"]);
    assert_eq!(out.matches("succeeded").count(), 5, "{out}");
    let out = env.run(&["enqueue", "quotes"]);
    assert!(!out.status.success(), "a quote run without PricebookEntry");
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("PricebookEntry") && e.contains("jobs/mappings.toml"),
        "{e}"
    );
    std::fs::write(&env.mappings, &crm).unwrap();
    env.ok(&["enqueue", "initial-load", "PricebookEntry", "--wait"]);
    let out = env.ok(&["enqueue", "quotes", "--wait"]);
    assert!(out.contains("succeeded"), "{out}\n{}", env.logs());
    assert_quotes_in(&env, "crm").await;
    let (elsewhere,): (bool,) =
        sqlx::query_as("SELECT to_regclass('salesforce.opportunity') IS NOT NULL")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert!(!elsewhere, "nothing was mirrored into schema salesforce");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rules_and_selections_fail_before_anything_is_sent() {
    let env = loaded("quotes_bad", 300).await;
    let fail = |args: &[&str]| {
        let out = env.run(args);
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let e = fail(&["enqueue", "quotes", "--where", "Stage = 'x'"]);
    assert!(e.contains("Stage") && e.contains("mappings.toml"), "{e}");
    let e = fail(&["enqueue", "quotes", "--where", "StageName = "]);
    assert!(e.contains("not a valid SOQL condition"), "{e}");
    std::fs::write(
        &env.quotes,
        RULES.replace("family = \"Hardware\"", "family = \"Gadgets\""),
    )
    .unwrap();
    let e = fail(&["enqueue", "quotes"]);
    assert!(e.contains("Gadgets"), "{e}");
    std::fs::write(
        &env.quotes,
        RULES.replace("max_discount = 12", "max_discount = -3"),
    )
    .unwrap();
    let e = fail(&["enqueue", "quotes"]);
    assert!(e.contains("max_discount"), "{e}");
    let client = env.client().await;
    assert_eq!(
        client.count("SELECT COUNT() FROM Quote").await.unwrap(),
        0,
        "nothing sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_record_failures_are_kept_and_retried_until_every_quote_is_right() {
    let env = loaded("quotes_failures", 3_000).await;
    env.org.set_ingest_failure_rate(0.02);
    let out = env.ok(&["enqueue", "quotes", "--wait"]);
    assert!(out.contains("succeeded"), "{out}\n{}", env.logs());
    assert_quotes(&env).await;
    let (seen, open): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE NOT resolved) FROM orgpool.record_failures",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert!(seen > 0, "the failure rate refused some records");
    assert_eq!(open, 0, "every refused record was saved by a retry");
    assert!(env.ok(&["jobs", "failures"]).contains("no refused records"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_mid_push_waits_and_duplicates_nothing() {
    let env = loaded("quotes_outage", 3_000).await;
    std::fs::write(
        &env.quotes,
        RULES.replace("chunk_size = 500", "chunk_size = 100"),
    )
    .unwrap();
    env.org.set_latency(Duration::from_millis(40));
    let out = env.ok(&["enqueue", "quotes"]);
    let id = run_id(&out);
    env.eventually("a quote chunk done", Duration::from_secs(60), || async {
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM orgpool.chunks WHERE kind = 'quote_generation' AND step = 'work' AND state = 'done'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
        n >= 1
    })
    .await;
    env.org.outage(
        Duration::from_secs(15),
        orgpool::fake_org::OutageMode::Unavailable,
    );
    // Work remained when the outage began, and it waited (no attempt spent) instead of
    // failing or finishing through it.
    let left = env
        .count(&format!(
            "SELECT count(*) FROM orgpool.chunks WHERE run_id = {id} AND step = 'work' AND state <> 'done'"
        ))
        .await;
    assert!(
        left > 0,
        "the outage began after the run ended\n{}",
        env.logs()
    );
    env.eventually("a quote chunk to wait out the outage", Duration::from_secs(30), || async {
        env.count(&format!(
            "SELECT count(*) FROM orgpool.chunks WHERE run_id = {id} AND waits > 0 AND error_class = 'outage'"
        ))
        .await
            >= 1
    })
    .await;
    let (state,): (String,) = sqlx::query_as("SELECT state FROM orgpool.runs WHERE id = $1")
        .bind(id)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(state, "running", "the run waits through the outage");
    env.wait_succeeded(id, Duration::from_secs(180)).await;
    assert_quotes(&env).await;
    let spent = env
        .count(&format!(
            "SELECT count(*) FROM orgpool.chunks WHERE run_id = {id} AND waits > 0 AND attempts > 0"
        ))
        .await;
    assert_eq!(spent, 0, "waiting for the outage spent no attempt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_chunk_leaves_exactly_one_quote_each() {
    let mut env = Env::new("quotes_kill", org(3_000), QUOTE_MAPPINGS).await;
    std::fs::write(
        &env.quotes,
        RULES.replace("chunk_size = 500", "chunk_size = 100"),
    )
    .unwrap();
    env.spawn(&["worker"], &[]);
    let out = env.ok(&["enqueue", "initial-load", "--all", "--wait"]);
    assert_eq!(out.matches("succeeded").count(), 6, "{out}");
    env.org.set_latency(Duration::from_millis(60));
    let victim = env.spawn(&["worker", "--concurrency", "1"], &[]);
    let out = env.ok(&["enqueue", "quotes"]);
    let id = run_id(&out);
    let name = format!("-{victim}-");
    env.eventually("the victim to hold a quote chunk", Duration::from_secs(60), || async {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM orgpool.chunks WHERE kind = 'quote_generation' AND step = 'work' AND state = 'running' AND worker LIKE '%{name}%'"
        )))
        .fetch_one(&env.pool)
        .await
        .unwrap();
        n > 0
    })
    .await;
    env.signal(victim, "KILL");
    env.wait_succeeded(id, Duration::from_secs(180)).await;
    assert_quotes(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_requotes_only_opportunities_that_changed() {
    let mut env = loaded("quotes_schedule", 1_000).await;
    std::fs::write(
        &env.quotes,
        format!("{RULES}\n[schedule]\nevery = \"2s\"\n"),
    )
    .unwrap();
    env.spawn(&["scheduler", "--tick-seconds", "1"], &[]);
    let scheduled = |n: i64| {
        let env = &env;
        async move {
            let runs: Vec<(String, serde_json::Value)> = sqlx::query_as(
                "SELECT state, params FROM orgpool.runs WHERE kind = 'quote_generation' AND requested_by = 'scheduler' ORDER BY id",
            )
            .fetch_all(&env.pool)
            .await
            .unwrap();
            runs.iter().filter(|r| r.0 == "succeeded").count() as i64 >= n
        }
    };
    env.eventually(
        "a first scheduled quote run",
        Duration::from_secs(60),
        || scheduled(1),
    )
    .await;
    assert_quotes(&env).await;
    // Change one selected Opportunity, bring the mirror up to date, and the next
    // scheduled run quotes just that one.
    let (opp,): (String,) =
        sqlx::query_as("SELECT opportunity_sfid FROM orgpool.quotes ORDER BY key LIMIT 1")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    let client = env.client().await;
    client
        .update_records(
            "Opportunity",
            &[serde_json::json!({"Id": opp, "Name": "Changed"})],
        )
        .await
        .unwrap();
    // The scheduler resyncs too; repeat until a resync that began after the change ran.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        env.ok(&["enqueue", "resync", "Opportunity", "--wait"]);
        let (n,): (String,) =
            sqlx::query_as("SELECT name FROM salesforce.opportunity WHERE sfid = $1")
                .bind(&opp)
                .fetch_one(&env.pool)
                .await
                .unwrap();
        if n == "Changed" {
            break;
        }
    }
    env.eventually(
        "a scheduled run that re-quotes the change",
        Duration::from_secs(60),
        || async {
            let (name,): (String,) =
                sqlx::query_as("SELECT name FROM orgpool.quotes WHERE opportunity_sfid = $1")
                    .bind(&opp)
                    .fetch_one(&env.pool)
                    .await
                    .unwrap();
            name == "Changed quote"
        },
    )
    .await;
    // That run selected only what changed, not every Opportunity again. The name is
    // written when the Quote is computed, before its run ends, so wait for the run.
    let requoting = || async {
        let rows: Vec<(serde_json::Value,)> = sqlx::query_as(
            "SELECT summary FROM orgpool.runs WHERE kind = 'quote_generation' AND requested_by = 'scheduler' AND state = 'succeeded' ORDER BY id",
        )
        .fetch_all(&env.pool)
        .await
        .unwrap();
        let first = rows[0].0["selected"].as_i64().unwrap();
        let later = rows
            .iter()
            .skip(1)
            .filter_map(|r| r.0["selected"].as_i64())
            .filter(|n| *n > 0)
            .max()
            .unwrap_or(0);
        (first, later)
    };
    env.eventually(
        "the re-quoting run to succeed",
        Duration::from_secs(60),
        || async { requoting().await.1 > 0 },
    )
    .await;
    let (first, later) = requoting().await;
    assert!(later >= 1 && later < first, "re-quoted {later} of {first}");
    assert_quotes(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_removed_from_an_opportunity_leaves_no_orphan_on_requote() {
    let env = loaded("quotes_orphans", 1_000).await;
    env.ok(&["enqueue", "quotes", "--wait"]);
    assert_quotes(&env).await;
    let (line,): (String,) = sqlx::query_as(
        "SELECT opportunity_line_sfid FROM orgpool.quote_lines WHERE state = 'pushed' ORDER BY key LIMIT 1",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    let client = env.client().await;
    client
        .delete_records(std::slice::from_ref(&line))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    env.ok(&["enqueue", "resync", "--all", "--wait"]);
    let out = env.ok(&["enqueue", "quotes", "--wait"]);
    assert!(out.contains("succeeded"), "{out}\n{}", env.logs());
    assert_quotes(&env).await;
    let (left,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM orgpool.quote_lines WHERE opportunity_line_sfid = $1")
            .bind(&line)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(left, 0);
}
