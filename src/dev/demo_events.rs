//! The demo's change-event step: mappings with `events = true` (Opportunity in the
//! repository's jobs/mappings.toml) get their changes from the org's Pub/Sub API while
//! the org churns; the demo waits for the subscription before the churn and for every
//! stored event to be applied after it, then reports the counts, before any resync.

use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::DevError;
use crate::ledger;

/// Waits (up to `limit`) until every subscription is live; false if there is none.
pub async fn wait_live(pool: &PgPool, limit: Duration) -> Result<bool, DevError> {
    let t = Instant::now();
    loop {
        let subs = ledger::events::subscriptions(pool).await?;
        if !subs.is_empty() && subs.iter().all(|s| s.state == "live") {
            return Ok(true);
        }
        if t.elapsed() > limit {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the inbox is empty, then prints each subscription's counts.
pub async fn report(pool: &PgPool) -> Result<(), DevError> {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        if ledger::events::backlog(pool).await?.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for s in ledger::events::subscriptions(pool).await? {
        println!(
            "   change events: {} received {}, applied {} (stream {}); its table has them before any resync:",
            s.object, s.received, s.applied, s.state
        );
    }
    Ok(())
}
