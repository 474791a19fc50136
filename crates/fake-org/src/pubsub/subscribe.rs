//! One Subscribe stream: the first FetchRequest names the topic and where to start
//! (LATEST, EARLIEST, or CUSTOM after a replay id); every FetchRequest adds
//! `num_requested` credit (at most 100 pending, as Salesforce caps it) without moving
//! the position. Events go out only against credit; when there is nothing to send a
//! keepalive (no events) goes out every `keepalive`. Every response carries the
//! 8-byte `latest_replay_id`. A later request whose token (or `auth_refresh`) is no
//! longer live ends the stream with UNAUTHENTICATED.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tonic::{Code, Status, Streaming};

use super::encode;
use super::proto::{ConsumerEvent, FetchRequest, FetchResponse, ProducerEvent};
use super::service::status;
use super::topic::Topic;
use crate::auth;
use crate::state::OrgState;

/// Salesforce's cap on pending requested events per subscription.
const MAX_PENDING: i32 = 100;

/// Starts serving `input`; the receiver yields the responses.
pub fn start(
    org: Arc<OrgState>,
    token: String,
    input: Streaming<FetchRequest>,
) -> mpsc::Receiver<Result<FetchResponse, Status>> {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        if let Err(s) = run(org, token, input, &tx).await {
            let _ = tx.send(Err(s)).await;
        }
    });
    rx
}

fn replay_bytes(r: u64) -> Vec<u8> {
    r.to_be_bytes().to_vec()
}

fn invalid_replay() -> Status {
    status(
        Code::InvalidArgument,
        "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted",
        "The Replay ID validation failed.",
    )
}

async fn run(
    org: Arc<OrgState>,
    mut token: String,
    mut input: Streaming<FetchRequest>,
    tx: &mpsc::Sender<Result<FetchResponse, Status>>,
) -> Result<(), Status> {
    let bus = &org.store.pubsub.bus;
    let mut drops = bus.watch_drops();
    drops.borrow_and_update();
    let mut latest = bus.watch_latest();
    let Some(first) = input.next().await.transpose()? else {
        return Ok(());
    };
    let (topic, names) = {
        let store = org.store.read();
        let names: Vec<String> = store
            .schema
            .objects
            .iter()
            .map(|o| o.name.clone())
            .collect();
        let topic = Topic::parse(&store, &first.topic_name).ok_or_else(|| {
            status(
                Code::NotFound,
                "sfdc.platform.eventbus.grpc.topic.not.found",
                &format!(
                    "Topic {} not found or the user lacks permission to access it.",
                    first.topic_name
                ),
            )
        })?;
        (topic, names)
    };
    let mut position = match first.replay_preset {
        1 => bus.earliest().map_or(bus.latest(), |e| e - 1),
        2 => {
            let bytes: [u8; 8] = first
                .replay_id
                .as_slice()
                .try_into()
                .map_err(|_| invalid_replay())?;
            let r = u64::from_be_bytes(bytes);
            if !bus.can_resume_after(r) {
                return Err(invalid_replay());
            }
            r
        }
        _ => bus.latest(),
    };
    let mut credit = first.num_requested.clamp(0, MAX_PENDING);
    let rpc_id = super::bus::uuid_v4();
    let keepalive = bus.settings().keepalive;
    let mut idle_since = tokio::time::Instant::now();
    loop {
        if credit > 0 {
            let (events, reached) =
                bus.after(position, credit as usize, |e| topic.carries(&names, e));
            position = reached;
            if !events.is_empty() {
                let mut out = Vec::with_capacity(events.len());
                for e in &events {
                    let payload =
                        encode::payload(e).map_err(|err| Status::internal(err.to_string()))?;
                    out.push(ConsumerEvent {
                        event: Some(ProducerEvent {
                            id: e.uuid.clone(),
                            schema_id: e.schema.id.clone(),
                            payload,
                            headers: Vec::new(),
                        }),
                        replay_id: replay_bytes(e.replay),
                    });
                }
                credit -= out.len() as i32;
                let resp = FetchResponse {
                    events: out,
                    latest_replay_id: replay_bytes(position),
                    rpc_id: rpc_id.clone(),
                    pending_num_requested: credit,
                };
                if tx.send(Ok(resp)).await.is_err() {
                    return Ok(());
                }
                idle_since = tokio::time::Instant::now();
                continue;
            }
        }
        tokio::select! {
            req = input.next() => {
                let Some(req) = req.transpose()? else { return Ok(()) };
                if !req.auth_refresh.is_empty() {
                    token = req.auth_refresh.clone();
                }
                if !auth::session_live(&org, &token) {
                    return Err(status(
                        Code::Unauthenticated,
                        "sfdc.platform.eventbus.grpc.service.auth.error",
                        "An authentication exception occurred.",
                    ));
                }
                credit = (credit + req.num_requested.max(0)).min(MAX_PENDING);
            }
            _ = latest.changed() => {}
            _ = drops.changed() => {
                return Err(status(
                    Code::Unavailable,
                    "sfdc.platform.eventbus.grpc.service.unavailable",
                    "The service is unavailable. Try again later.",
                ));
            }
            _ = tokio::time::sleep_until(idle_since + keepalive) => {
                let resp = FetchResponse {
                    events: Vec::new(),
                    latest_replay_id: replay_bytes(position),
                    rpc_id: rpc_id.clone(),
                    pending_num_requested: credit,
                };
                if tx.send(Ok(resp)).await.is_err() {
                    return Ok(());
                }
                idle_since = tokio::time::Instant::now();
            }
        }
    }
}
