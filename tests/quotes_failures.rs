//! Quote runs that real data can finish: records Salesforce refuses for good (Quotes of
//! Opportunities deleted in the org since the mirror saw them get
//! `INVALID_CROSS_REFERENCE_KEY`) do not fail the run: it ends `succeeded_with_failures`
//! with the records listed, `enqueue --wait` exits 2 saying so, and after the data is
//! fixed `jobs retry --records` prices just those again, once. Pushed lines name the
//! Opportunity line they were priced from, and line totals match the org's to the cent.
//! A price book that does not exist is refused at enqueue, naming the ones that do.

mod jobs_common;
mod quotes_common;

use std::collections::HashMap;
use std::time::Duration;

use jobs_common::run_id;
use orgpool::fake_org::ids::RecordId;
use quotes_common::{RULES, loaded, org_rows, selected, state};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_records_end_the_run_with_failures_and_retry_records_saves_just_them() {
    let env = loaded("quotes_refused", 80, RULES).await;
    let chosen = selected(&env).await;
    assert!(chosen.len() >= 6, "{chosen:?}");
    let victims: Vec<String> = chosen.iter().take(3).cloned().collect();
    // Delete three selected Opportunities in the org (the mirror still has them),
    // keeping their rows (and their line items') to restore later: the "fix".
    let saved = env.org.with_store_mut(|store| {
        let opp = store.schema.index("Opportunity").unwrap();
        let oli = store.schema.index("OpportunityLineItem").unwrap();
        let lines: Vec<u64> = (1..=store.table(oli).issued()).collect();
        let mut rows = Vec::new();
        for v in &victims {
            let id = RecordId::parse(v).unwrap();
            rows.push((opp, id.seq(), store.snapshot(opp, id.seq())));
        }
        for s in &lines {
            rows.push((oli, *s, store.snapshot(oli, *s)));
        }
        for v in &victims {
            store.delete(opp, RecordId::parse(v).unwrap()).unwrap();
        }
        rows
    });
    // A few locked rows on top, as in the field: those are retried and saved.
    env.org.set_ingest_failure_rate(0.03);
    let out = env.run(&["enqueue", "quotes", "--wait"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{stdout}\n{stderr}\n{}",
        env.logs()
    );
    assert!(
        stderr.contains("succeeded_with_failures")
            && stderr.contains("3 record(s) refused")
            && stderr.contains("jobs retry --records"),
        "{stderr}"
    );
    let id = run_id(&stdout);
    assert_eq!(state(&env, id).await, "succeeded_with_failures");
    let failures = env.ok(&["jobs", "failures"]);
    for v in &victims {
        assert!(
            failures.contains(v.as_str()) && failures.contains("INVALID_CROSS_REFERENCE_KEY"),
            "{v}: {failures}"
        );
    }
    let status: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).unwrap();
    let shown = status["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("run {id} in status: {status}"));
    assert_eq!(shown["state"], "succeeded_with_failures");
    assert_eq!(shown["records_refused"], 3);
    let quotes = org_rows(&env, "SELECT Id, OpportunityId FROM Quote").await;
    assert_eq!(
        quotes.len(),
        chosen.len() - 3,
        "every other Quote was saved"
    );

    // The fix: no more locked rows, the Opportunities restored.
    env.org.set_ingest_failure_rate(0.0);
    env.org.with_store_mut(|store| {
        for (obj, seq, row) in saved {
            store.restore(obj, seq, row);
        }
    });
    let out = env.ok(&["jobs", "retry", "--records"]);
    assert!(
        out.contains(&format!("run {id} re-opened: 1 chunk(s)")),
        "{out}"
    );
    env.wait_succeeded(id, Duration::from_secs(120)).await;
    assert!(env.ok(&["jobs", "failures"]).contains("no refused records"));
    let quotes = org_rows(&env, "SELECT Id, OpportunityId FROM Quote").await;
    let mut per_opp: HashMap<String, usize> = HashMap::new();
    for q in &quotes {
        *per_opp
            .entry(q["OpportunityId"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(quotes.len(), chosen.len(), "{per_opp:?}");
    for o in &chosen {
        assert_eq!(per_opp.get(o), Some(&1), "one Quote for {o}");
    }
    // The retry priced the three alone: the other Quotes were pushed once.
    let (extra,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM orgpool.chunks WHERE run_id = $1 AND step = 'work' AND spec->'opportunities' @> $2",
    )
    .bind(id)
    .bind(serde_json::json!(victims))
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        extra, 2,
        "the first chunk and the retry's, which holds just them"
    );
    let (retry_spec,): (serde_json::Value,) = sqlx::query_as(
        "SELECT spec FROM orgpool.chunks WHERE run_id = $1 AND step = 'work' ORDER BY seq DESC LIMIT 1",
    )
    .bind(id)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(retry_spec["opportunities"], serde_json::json!(victims));

    // Every line names its Opportunity line item, and totals match the org's.
    let lines = org_rows(
        &env,
        "SELECT Orgpool_Key__c, OpportunityLineItemId, TotalPrice FROM QuoteLineItem",
    )
    .await;
    assert_eq!(lines.len(), chosen.len() * 2);
    let ours: Vec<(String, String, f64)> = sqlx::query_as(
        "SELECT key, opportunity_line_sfid::text, total::float8 FROM orgpool.quote_lines",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    let ours: HashMap<String, (String, f64)> =
        ours.into_iter().map(|(k, l, t)| (k, (l, t))).collect();
    for l in &lines {
        let key = l["Orgpool_Key__c"].as_str().unwrap();
        let (item, total) = &ours[key];
        assert_eq!(
            l["OpportunityLineItemId"].as_str(),
            Some(item.as_str()),
            "{l}"
        );
        assert_eq!(l["TotalPrice"].as_f64(), Some(*total), "{l}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_price_book_that_does_not_exist_is_refused_at_enqueue_naming_the_ones_that_do() {
    let env = loaded(
        "quotes_book",
        20,
        &RULES.replace("[pricing]", "[pricing]\nprice_book = \"No Such Book\""),
    )
    .await;
    let out = env.run(&["enqueue", "quotes"]);
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("\"No Such Book\"")
            && e.contains("\"Standard Price Book\"")
            && e.contains("pricing.price_book"),
        "{e}"
    );
    let (runs,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM orgpool.runs WHERE kind = 'quote_generation'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(runs, 0, "no run was started");
}
