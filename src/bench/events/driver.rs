//! The benchmark's own changes: `rate` REST updates a second to the seeded
//! Opportunities, each setting `Description` to `bench-<n>`, with the moment
//! Salesforce answered (the change is committed then) kept per change.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::json;
use tokio::sync::watch;

use crate::bench::BenchError;
use crate::fake_org::FakeOrgConfig;
use crate::org_session::OrgSession;

/// Change number -> when the org confirmed it.
pub type Commits = Arc<Mutex<HashMap<u64, Instant>>>;

/// Changes records of `ids` at `rate` a second until `stop`; returns the commits.
pub async fn drive(
    token_url: String,
    ids: Vec<String>,
    rate: u64,
    mut stop: watch::Receiver<bool>,
) -> Result<Commits, BenchError> {
    let d = FakeOrgConfig::default();
    let session = Arc::new(
        OrgSession::login(&token_url, &d.client_id, &d.client_secret, false)
            .await
            .map_err(BenchError::other)?,
    );
    let commits: Commits = Arc::default();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(1) as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n = 0u64;
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        n += 1;
        let id = ids[(n as usize * 7919) % ids.len()].clone();
        let (session, commits) = (session.clone(), commits.clone());
        tasks.spawn(async move {
            let body = json!({"Description": format!("bench-{n}")});
            if session
                .patch_json(&format!("/sobjects/Opportunity/{id}"), &body)
                .await
                .is_ok()
            {
                commits.lock().insert(n, Instant::now());
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    Ok(commits)
}
