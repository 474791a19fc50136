//! One mapped object's event stream: subscribe to `/data/<Object>ChangeEvent` from
//! where the ledger says (the newest event in the inbox, else the last one applied,
//! else LATEST for a table just loaded, whose earlier changes its resync covers),
//! store each response's events in the inbox before asking for more, and wake the
//! dispatcher. On a failure it subscribes again from the stored position: a refused
//! session logs in again; a lost stream, a replay id past retention and gap events
//! make the next resync of the object due (the healing), so nothing is missed even
//! when the stream cannot say what it lost.

use std::sync::Arc;

use tokio::sync::{Notify, watch};

use crate::app::Services;
use crate::ledger::{self, events::Received};
use crate::salesforce::pubsub::{Event, PubSub, PubSubError, Start, Subscription, topic_of};
use crate::telemetry::events as telemetry;

/// What one stream needs.
#[derive(Clone)]
pub struct StreamCtx {
    /// Postgres, queues, settings.
    pub s: Services,
    /// The Pub/Sub client.
    pub pubsub: PubSub,
    /// Woken when events are stored.
    pub stored: Arc<Notify>,
    /// The mapping's resync interval (a gap makes its next resync due now).
    pub interval: std::time::Duration,
}

/// Runs `object`'s stream until `stop` turns true.
pub async fn run(ctx: StreamCtx, object: String, mut stop: watch::Receiver<bool>) {
    let topic = topic_of(&object);
    let mut failures = 0u32;
    let mut from_latest = false;
    loop {
        let outcome = tokio::select! {
            r = subscribed(&ctx, &object, &topic, from_latest) => r,
            _ = stop.wait_for(|s| *s) => return,
        };
        from_latest = false;
        let pause = match outcome {
            Ok(()) => {
                // The server ended the stream: subscribe again from the stored position,
                // and let a resync cover whatever the break hid.
                heal(&ctx, &object, "stream_lost").await;
                failures = 0;
                std::time::Duration::from_millis(100)
            }
            Err((e, live)) => {
                if live {
                    failures = 0;
                }
                failures += 1;
                let (state, pause) = match &e {
                    // Logged in again already: subscribe at once, unless that keeps
                    // failing (a login that works for REST but not for the Pub/Sub API).
                    PubSubError::Unauthenticated if failures <= 1 => {
                        ("retrying", std::time::Duration::ZERO)
                    }
                    PubSubError::Unauthenticated => {
                        ("retrying", ctx.s.settings.events.backoff(failures - 1))
                    }
                    PubSubError::ReplayInvalid => {
                        heal(&ctx, &object, "replay_expired").await;
                        if let Err(e) = ledger::events::forget_position(&ctx.s.pool, &object).await
                        {
                            tracing::warn!(object, error = %e, "expired replay id not forgotten");
                        }
                        from_latest = true;
                        ("healing", std::time::Duration::ZERO)
                    }
                    PubSubError::Unavailable(_) if live => {
                        // A live stream that broke: subscribe again at once (the server
                        // drops streams now and then); backoff only if that fails too.
                        heal(&ctx, &object, "stream_lost").await;
                        ("retrying", std::time::Duration::from_millis(100))
                    }
                    e if e.retryable() => ("retrying", ctx.s.settings.events.backoff(failures)),
                    // Refused (no such topic, CDC not enabled): say so and look again
                    // rarely; the fix is in Salesforce's setup.
                    _ => ("stopped", std::time::Duration::from_secs(60)),
                };
                let detail = e.to_string();
                set_state(&ctx, &object, &topic, state, Some(&detail)).await;
                pause
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// One subscription's life. Err carries whether it had gone live first.
async fn subscribed(
    ctx: &StreamCtx,
    object: &str,
    topic: &str,
    from_latest: bool,
) -> Result<(), (PubSubError, bool)> {
    let resume = if from_latest {
        None
    } else {
        ledger::events::resume_point(&ctx.s.pool, object)
            .await
            .map_err(|e| (PubSubError::Unavailable(format!("ledger: {e}")), false))?
    };
    let start = resume.map_or(Start::Latest, Start::After);
    // Checks the topic (CDC enabled for the object, the user may subscribe) first, so
    // a refusal names the topic.
    match ctx.pubsub.topic_schema_id(topic).await {
        Ok(_) => {}
        Err(PubSubError::Unauthenticated) => return Err(relogin(ctx, None).await),
        Err(e) => return Err((e, false)),
    }
    let credit = ctx.s.settings.events.credit;
    let mut sub = match ctx.pubsub.subscribe(topic, &start, credit).await {
        Ok(sub) => sub,
        Err(PubSubError::Unauthenticated) => return Err(relogin(ctx, None).await),
        Err(e) => return Err((e, false)),
    };
    set_state(ctx, object, topic, "live", None).await;
    let mut outstanding = credit;
    loop {
        let resp = match sub.next().await {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(()),
            Err(PubSubError::Unauthenticated) => return Err(relogin(ctx, Some(&sub)).await),
            Err(e) => return Err((e, true)),
        };
        if resp.events.is_empty() {
            continue;
        }
        outstanding -= resp.events.len() as i32;
        store(ctx, object, resp.events)
            .await
            .map_err(|e| (e, true))?;
        // Stored: ask for as many again, so at most `credit` wait unstored.
        if outstanding <= credit / 2 {
            sub.request(credit - outstanding)
                .await
                .map_err(|e| (e, true))?;
            outstanding = credit;
        }
    }
}

async fn relogin(ctx: &StreamCtx, sub: Option<&Subscription>) -> (PubSubError, bool) {
    match ctx.pubsub.refresh(sub.map(|s| s.generation)).await {
        Ok(()) => (PubSubError::Unauthenticated, sub.is_some()),
        Err(e) => (e, sub.is_some()),
    }
}

/// Decodes and stores one response's events; gap events make a resync due.
async fn store(
    ctx: &StreamCtx,
    object: &str,
    events: Vec<orgpool_pubsub_proto::ConsumerEvent>,
) -> Result<(), PubSubError> {
    let mut received = Vec::with_capacity(events.len());
    let mut decoded: Vec<Event> = Vec::with_capacity(events.len());
    for ce in events {
        let Some(pe) = ce.event else { continue };
        let schema = ctx.pubsub.schema(&pe.schema_id).await?;
        match schema.decode(&pe.payload) {
            Ok(e) => {
                let commit_at = chrono::DateTime::from_timestamp_millis(e.commit_ms)
                    .unwrap_or_else(chrono::Utc::now);
                received.push(Received {
                    replay_id: ce.replay_id,
                    commit_at,
                    event: serde_json::to_value(&e).unwrap_or_default(),
                });
                decoded.push(e);
            }
            Err(err) => {
                // Not applicable, so what it changed is read by the next resync.
                tracing::warn!(object, error = %err, "change event not readable; a resync covers it");
                heal(ctx, object, "unreadable").await;
            }
        }
    }
    let new = ledger::events::store(&ctx.s.pool, object, &received)
        .await
        .map_err(|e| PubSubError::Unavailable(format!("ledger: {e}")))?;
    telemetry::Received {
        object,
        events: &decoded,
        new,
    }
    .emit();
    if decoded.iter().any(|e| e.change_type.is_gap()) {
        heal(ctx, object, "gap_event").await;
    }
    ctx.stored.notify_one();
    Ok(())
}

/// Makes the object's next resync due once the resync lag has passed.
async fn heal(ctx: &StreamCtx, object: &str, cause: &'static str) {
    telemetry::Gap { object, cause }.emit();
    let at = ctx.s.settings.resync_covering_now();
    if let Err(e) = ledger::mappings::resync_due_by(&ctx.s.pool, object, at, ctx.interval).await {
        tracing::warn!(object, error = %e, "gap resync not scheduled; the regular resync covers it");
    }
    let _ = ledger::events::count_gap(&ctx.s.pool, object).await;
}

async fn set_state(
    ctx: &StreamCtx,
    object: &str,
    topic: &str,
    state: &'static str,
    detail: Option<&str>,
) {
    telemetry::SubscriptionState {
        object,
        state,
        detail,
    }
    .emit();
    if let Err(e) = ledger::events::set_state(&ctx.s.pool, object, topic, state, detail).await {
        tracing::warn!(object, error = %e, "subscription state not recorded");
    }
}
