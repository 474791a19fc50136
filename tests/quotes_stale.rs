//! Quotes that no longer match the org: an Opportunity whose line items were all deleted
//! loses its orphan lines, and its Quote, like that of an Opportunity that left the
//! selection, is marked with `[stale] status` (the default action) or deleted
//! (`action = "delete"`); the Quotes still selected are untouched.

mod jobs_common;
mod quotes_common;

use std::time::Duration;

use jobs_common::{Env, QUOTE_MAPPINGS};
use quotes_common::{RULES, loaded, loaded_with, org_rows, selected};

/// Quotes everything, then deletes every line item of one selected Opportunity and
/// moves another out of the selection, and brings the mirror up to date. Returns
/// (emptied, moved, the rest).
async fn quote_then_change(env: &Env) -> (String, String, Vec<String>) {
    let out = env.ok(&["enqueue", "quotes", "--wait"]);
    assert!(out.contains("succeeded"), "{out}");
    let chosen = selected(env).await;
    assert!(chosen.len() >= 4, "{chosen:?}");
    let (emptied, moved) = (chosen[0].clone(), chosen[1].clone());
    let client = env.client().await;
    let lines = org_rows(
        env,
        &format!("SELECT Id FROM OpportunityLineItem WHERE OpportunityId = '{emptied}'"),
    )
    .await;
    let ids: Vec<String> = lines
        .iter()
        .map(|l| l["Id"].as_str().unwrap().to_string())
        .collect();
    assert!(!ids.is_empty());
    client.delete_records(&ids).await.unwrap();
    client
        .update_records(
            "Opportunity",
            &[serde_json::json!({"Id": moved, "StageName": "Prospecting"})],
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    env.ok(&["enqueue", "resync", "--all", "--wait"]);
    (emptied, moved, chosen[2..].to_vec())
}

async fn quote_of(env: &Env, opp: &str) -> Option<serde_json::Value> {
    let q = org_rows(
        env,
        &format!("SELECT Id, Status, LineItemCount FROM Quote WHERE OpportunityId = '{opp}'"),
    )
    .await;
    assert!(q.len() <= 1, "{q:?}");
    q.into_iter().next()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_quotes_are_marked_and_lose_their_orphan_lines() {
    let env = loaded("quotes_stale_mark", 60, RULES).await;
    let (emptied, moved, rest) = quote_then_change(&env).await;
    let out = env.ok(&["enqueue", "quotes", "--wait"]);
    assert!(out.contains("succeeded"), "{out}\n{}", env.logs());
    let e = quote_of(&env, &emptied)
        .await
        .expect("the emptied one's Quote stays");
    assert_eq!(e["Status"], "Stale");
    let orphans = org_rows(
        &env,
        &format!(
            "SELECT Id FROM QuoteLineItem WHERE QuoteId = '{}'",
            e["Id"].as_str().unwrap()
        ),
    )
    .await;
    assert!(
        orphans.is_empty(),
        "no line points at a deleted line item: {orphans:?}"
    );
    let m = quote_of(&env, &moved)
        .await
        .expect("the moved one's Quote stays");
    assert_eq!(m["Status"], "Stale");
    assert_eq!(
        m["LineItemCount"], 2,
        "its lines are still the Opportunity's"
    );
    for o in &rest {
        assert_eq!(quote_of(&env, o).await.unwrap()["Status"], "Draft", "{o}");
    }
    // Marked once: a later run leaves them be (and a re-selected one is re-quoted).
    let (stale,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM orgpool.quotes WHERE state = 'stale'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(stale, 2);
    let out = env.ok(&["enqueue", "quotes", "--wait"]);
    assert!(out.contains("succeeded"), "{out}");
    let (summary,): (serde_json::Value,) = sqlx::query_as(
        "SELECT summary FROM orgpool.runs WHERE kind = 'quote_generation' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(summary["stale"], 0, "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_quotes_are_deleted_when_the_rules_say_so() {
    let rules = format!("{RULES}\n[stale]\naction = \"delete\"\n");
    // On Heroku Connect column types (double precision, timestamp without time zone),
    // so quote runs are checked on both table layouts.
    let mappings = format!("column_types = \"heroku_connect\"\n{QUOTE_MAPPINGS}");
    let env = loaded_with("quotes_stale_delete", 60, &rules, &mappings).await;
    let (kind,): (String,) = sqlx::query_as(
        "SELECT data_type FROM information_schema.columns
         WHERE table_schema = 'salesforce' AND table_name = 'opportunitylineitem' AND column_name = 'quantity'",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(kind, "double precision");
    let (emptied, moved, rest) = quote_then_change(&env).await;
    let out = env.ok(&["enqueue", "quotes", "--wait"]);
    assert!(out.contains("succeeded"), "{out}\n{}", env.logs());
    assert!(quote_of(&env, &emptied).await.is_none());
    assert!(quote_of(&env, &moved).await.is_none());
    for o in &rest {
        assert_eq!(quote_of(&env, o).await.unwrap()["Status"], "Draft", "{o}");
    }
    let (left,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM orgpool.quotes WHERE opportunity_sfid = ANY($1)")
            .bind(vec![emptied, moved])
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(left, 0, "the ledger forgot them too");
}
