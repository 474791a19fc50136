//! The subscriber's supervisor: holds the events leader lock, keeps a stream running
//! for each mapping that has `events = true` and a loaded table (a table not loaded yet
//! gets its stream once its load is done; its load and first resync cover what came
//! before), stops streams whose mapping was turned off, and runs the dispatcher.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::dispatch::dispatch;
use super::stream::{self, StreamCtx};
use crate::app::Services;
use crate::ledger;
use crate::salesforce::pubsub::PubSub;
use crate::scheduler::Leader;

/// How often the supervisor looks at the mappings and the lock.
const LOOK: Duration = Duration::from_secs(2);
/// How often the dispatcher looks when not woken.
const POLL: Duration = Duration::from_secs(1);
/// While runs are under way the dispatcher looks this often.
const BUSY: Duration = Duration::from_millis(100);

struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Runs until `shutdown`.
pub async fn run(s: Services, leader: Leader, mut shutdown: watch::Receiver<bool>) {
    let Some(client) = s.client.clone() else {
        return;
    };
    let pubsub = match PubSub::new(&client, &s.settings.events.pubsub_url) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "change events are off: the Pub/Sub API client cannot be built; fix SALESFORCE_PUBSUB_URL");
            return;
        }
    };
    let stored = Arc::new(Notify::new());
    let dispatcher = tokio::spawn(dispatch_loop(s.clone(), stored.clone(), shutdown.clone()));
    let mut running: HashMap<String, Running> = HashMap::new();
    let mut leading = false;
    loop {
        let wanted = match wanted(&s).await {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "change events: mappings not readable");
                Vec::new()
            }
        };
        let lead = if wanted.is_empty() && !leading {
            false
        } else {
            match leader.acquire().await {
                Ok(held) => held,
                Err(e) => {
                    tracing::warn!(error = %e, "change events: leader lock unavailable (Redis?)");
                    false
                }
            }
        };
        if lead != leading {
            tracing::info!(
                leading = lead,
                "change events: subscriber leadership changed"
            );
            leading = lead;
        }
        let keep: Vec<&str> = if lead {
            wanted.iter().map(|(o, _)| o.as_str()).collect()
        } else {
            Vec::new()
        };
        running.retain(|object, r| {
            let alive = keep.contains(&object.as_str()) && !r.task.is_finished();
            if !alive {
                let _ = r.stop.send(true);
            }
            alive
        });
        for (object, interval) in &wanted {
            if !lead || running.contains_key(object) {
                continue;
            }
            let (stop, rx) = watch::channel(false);
            let ctx = StreamCtx {
                s: s.clone(),
                pubsub: pubsub.clone(),
                stored: stored.clone(),
                interval: *interval,
            };
            let task = tokio::spawn(stream::run(ctx, object.clone(), rx));
            running.insert(object.clone(), Running { stop, task });
        }
        tokio::select! {
            _ = tokio::time::sleep(LOOK) => {}
            _ = shutdown.wait_for(|s| *s) => break,
        }
    }
    for r in running.values() {
        let _ = r.stop.send(true);
    }
    dispatcher.abort();
    let _ = leader.release().await;
}

/// The mappings that want a stream: `events = true`, loaded and not paused (a paused
/// mapping's stream stops; its subscription row keeps the replay id, so resuming picks
/// up where it stopped). A mapping switched off loses its subscription row and inbox.
async fn wanted(s: &Services) -> Result<Vec<(String, Duration)>, ledger::LedgerError> {
    let rows = ledger::mappings::all(&s.pool).await?;
    let subs = ledger::events::subscriptions(&s.pool).await?;
    let mut out = Vec::new();
    for row in &rows {
        let Ok(m) = row.mapping() else { continue };
        if m.events {
            if row.watermark.is_some() && row.state != "loading" && !row.paused {
                out.push((row.object.clone(), m.interval()));
            } else if row.paused
                && let Some(sub) = subs
                    .iter()
                    .find(|s| s.object == row.object && s.state != "stopped")
            {
                // Its stream is being stopped; say why where status reads it (a stream
                // that went live meanwhile is marked again on the next look).
                let why = format!("mapping paused: `orgpool mappings resume {}`", row.object);
                ledger::events::set_state(&s.pool, &row.object, &sub.topic, "stopped", Some(&why))
                    .await?;
            }
        } else if subs
            .iter()
            .any(|s| s.object == row.object && s.state != "stopped")
        {
            ledger::events::remove(&s.pool, &row.object).await?;
        }
    }
    Ok(out)
}

async fn dispatch_loop(s: Services, stored: Arc<Notify>, shutdown: watch::Receiver<bool>) {
    let mut busy = false;
    loop {
        if *shutdown.borrow() {
            return;
        }
        tokio::select! {
            _ = stored.notified() => {}
            _ = tokio::time::sleep(if busy { BUSY } else { POLL }) => {}
        }
        busy = dispatch(&s).await;
    }
}
