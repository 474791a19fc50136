//! A loaded mirror for quote tests: a small seeded org, the quote objects mapped and
//! loaded by two workers, rules written, and readers of the org's Quotes.
#![allow(dead_code)]

use std::time::Duration;

use futures::TryStreamExt;
use orgpool::fake_org::FakeOrgConfig;
use orgpool::salesforce::Scope;

use crate::jobs_common::{Env, QUOTE_MAPPINGS, seeded_org};

// The rule files are built from literal pieces so each stays a `&str` constant.
/// The two-stage selection and the discount cap.
macro_rules! selection_rules {
    () => {
        r#"
[selection]
where = "StageName IN ('Proposal/Price Quote', 'Negotiation/Review') AND IsClosed = false"
chunk_size = 500

[pricing]
max_discount = 12
"#
    };
}

/// Region and quantity-tier discounts.
macro_rules! region_tier_rules {
    () => {
        r#"[[pricing.region]]
name = "EMEA"
countries = ["Germany", "France", "United Kingdom"]
discount = 5
[[pricing.tier]]
min_quantity = 5
discount = 2
"#
    };
}

/// Rules selecting two stages, with no discount but the cap.
pub const SELECTION_RULES: &str = selection_rules!();

/// Rules selecting two stages, with region and tier discounts.
pub const RULES: &str = concat!(selection_rules!(), region_tier_rules!());

/// [`RULES`] plus a product family discount (Hardware).
pub const FAMILY_RULES: &str = concat!(
    selection_rules!(),
    region_tier_rules!(),
    "[[pricing.family]]\nfamily = \"Hardware\"\ndiscount = 3\n"
);

/// A fake org of `opportunities` with two lines each.
pub fn org(opportunities: u64) -> FakeOrgConfig {
    org_of(20, opportunities)
}

/// A fake org of `accounts` and `opportunities` with two lines each.
pub fn org_of(accounts: u64, opportunities: u64) -> FakeOrgConfig {
    FakeOrgConfig {
        bulk_delay: Duration::from_millis(10),
        ..seeded_org(accounts, opportunities, 2)
    }
}

/// The world with its mirror loaded and `rules` in place.
pub async fn loaded(name: &str, opportunities: u64, rules: &str) -> Env {
    loaded_with(name, opportunities, rules, QUOTE_MAPPINGS).await
}

/// [`loaded`] with its own mappings file.
pub async fn loaded_with(name: &str, opportunities: u64, rules: &str, mappings: &str) -> Env {
    loaded_org(name, org(opportunities), rules, mappings).await
}

/// [`loaded_with`] on an org of its own.
pub async fn loaded_org(name: &str, org: FakeOrgConfig, rules: &str, mappings: &str) -> Env {
    let mut env = Env::new(name, org, mappings).await;
    std::fs::write(&env.quotes, rules).unwrap();
    env.spawn(&["worker"], &[]);
    env.spawn(&["worker"], &[]);
    let out = env.ok(&["enqueue", "initial-load", "--all", "--wait"]);
    assert_eq!(out.matches("succeeded").count(), 6, "{out}");
    env
}

/// The selected Opportunities (with line items) in the mirror.
pub async fn selected(env: &Env) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT o.sfid FROM salesforce.opportunity o WHERE o.stagename IN ('Proposal/Price Quote', 'Negotiation/Review')
           AND NOT o.isclosed AND EXISTS (SELECT 1 FROM salesforce.opportunitylineitem l WHERE l.opportunityid = o.sfid)
         ORDER BY o.sfid",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

/// Live records of a SOQL query in the org.
pub async fn org_rows(env: &Env, soql: &str) -> Vec<serde_json::Value> {
    env.client()
        .await
        .query(soql, Scope::Live)
        .try_collect()
        .await
        .unwrap()
}

/// The run's state.
pub async fn state(env: &Env, id: i64) -> String {
    let (s,): (String,) = sqlx::query_as("SELECT state FROM orgpool.runs WHERE id = $1")
        .bind(id)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    s
}
