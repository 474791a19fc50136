//! The event bus: every change event the org commits, in replay-id order, kept for the
//! retention window so subscribers can replay; wakes subscribers when events arrive and
//! ends every subscription on the `drop subscriptions` fault.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::watch;

use super::avro_schema::EventSchema;
use crate::value::Value;

/// A committed change event (or gap / overflow event).
#[derive(Debug)]
pub struct ChangeEvent {
    /// Position in the stream (sent as 8 bytes, big-endian).
    pub replay: u64,
    /// `EventUuid` (the `ProducerEvent.id`).
    pub uuid: String,
    /// When it was committed (for retention).
    pub at: Instant,
    /// The object's event schema the payload is written with.
    pub schema: Arc<EventSchema>,
    /// The header.
    pub header: Header,
    /// Field values carried: `(value slot, value)`; other fields are null.
    pub fields: Vec<(usize, Value)>,
}

/// `ChangeEventHeader` before encoding; field lists are value slots.
#[derive(Debug, Clone)]
pub struct Header {
    /// Object name.
    pub entity: String,
    /// Ids of the records this change hit.
    pub record_ids: Vec<String>,
    /// Index into [`super::avro_schema::CHANGE_TYPES`].
    pub change_type: usize,
    /// `changeOrigin`: the API call that made the change (empty for churn and admin).
    pub origin: String,
    /// Shared by the events of one transaction.
    pub transaction_key: String,
    /// 1, 2, ... within the transaction.
    pub sequence_number: i32,
    /// Epoch ms.
    pub commit_timestamp: i64,
    /// Increases with every transaction.
    pub commit_number: i64,
    /// The user Id.
    pub commit_user: String,
    /// Slots changed (updates).
    pub changed: Vec<usize>,
    /// Slots set to null (updates).
    pub nulled: Vec<usize>,
}

/// Retention and pacing, changeable at run time (admin, tests).
#[derive(Debug, Clone)]
pub struct BusSettings {
    /// How long events are kept for replay (default 72 h, Salesforce's).
    pub retention: Duration,
    /// At most this many events are kept (default 1,000,000) so a long churn run does
    /// not grow memory without bound; older ones go first, as if past retention.
    pub max_events: usize,
    /// A keepalive response goes out after this long without events (default 5 s).
    pub keepalive: Duration,
    /// Changes to one object in one transaction past this many are replaced by one
    /// `GAP_OVERFLOW` event (default 100,000, Salesforce's).
    pub overflow_threshold: usize,
}

impl Default for BusSettings {
    fn default() -> Self {
        BusSettings {
            retention: Duration::from_secs(72 * 3600),
            max_events: 1_000_000,
            keepalive: Duration::from_secs(5),
            overflow_threshold: 100_000,
        }
    }
}

/// The retained events.
#[derive(Debug)]
pub struct EventBus {
    log: Mutex<Log>,
    settings: Mutex<BusSettings>,
    latest: watch::Sender<u64>,
    drops: watch::Sender<u64>,
}

#[derive(Debug)]
struct Log {
    events: VecDeque<Arc<ChangeEvent>>,
    next_replay: u64,
    commit_number: i64,
}

/// Replay ids start high, as real ones do, so code that treats them as small numbers
/// or as contiguous from 0 shows up in tests.
const FIRST_REPLAY: u64 = 0x0000_0100_0000_0001;

impl EventBus {
    /// An empty bus.
    pub fn new(settings: BusSettings) -> EventBus {
        EventBus {
            log: Mutex::new(Log {
                events: VecDeque::new(),
                next_replay: FIRST_REPLAY,
                commit_number: 10_000_000_000,
            }),
            settings: Mutex::new(settings),
            latest: watch::channel(FIRST_REPLAY - 1).0,
            drops: watch::channel(0).0,
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> BusSettings {
        self.settings.lock().clone()
    }

    /// Changes the settings.
    pub fn update_settings(&self, f: impl FnOnce(&mut BusSettings)) {
        f(&mut self.settings.lock());
    }

    /// The next commit number (one per transaction).
    pub fn next_commit(&self) -> i64 {
        let mut log = self.log.lock();
        log.commit_number += 1;
        log.commit_number
    }

    /// Appends events (replay ids assigned here, in order) and wakes subscribers.
    pub fn publish(&self, events: Vec<super::events::Draft>) {
        if events.is_empty() {
            return;
        }
        let settings = self.settings();
        let mut log = self.log.lock();
        let now = Instant::now();
        for (schema, header, fields) in events {
            let replay = log.next_replay;
            log.next_replay += 1;
            log.events.push_back(Arc::new(ChangeEvent {
                replay,
                uuid: uuid_v4(),
                at: now,
                schema,
                header,
                fields,
            }));
        }
        purge(&mut log, &settings, now);
        let latest = log.next_replay - 1;
        drop(log);
        self.latest.send_replace(latest);
    }

    /// The newest replay id issued (before any event: one less than the first).
    pub fn latest(&self) -> u64 {
        *self.latest.borrow()
    }

    /// The oldest replay id still retained, if any.
    pub fn earliest(&self) -> Option<u64> {
        let mut log = self.log.lock();
        purge(&mut log, &self.settings(), Instant::now());
        log.events.front().map(|e| e.replay)
    }

    /// Whether a subscriber may resume after `replay`: the next event is still kept (or
    /// none was purged past it). Ids never issued are refused too.
    pub fn can_resume_after(&self, replay: u64) -> bool {
        if replay > self.latest() || replay < FIRST_REPLAY - 1 {
            return false;
        }
        match self.earliest() {
            Some(first) => replay + 1 >= first,
            // Nothing retained: only the newest position is still meaningful.
            None => replay == self.latest(),
        }
    }

    /// Up to `max` events after `after` for which `keep` holds, and the position
    /// reached: the last event returned, or the newest id when fewer than `max` matched.
    pub fn after(
        &self,
        after: u64,
        max: usize,
        keep: impl Fn(&ChangeEvent) -> bool,
    ) -> (Vec<Arc<ChangeEvent>>, u64) {
        let log = self.log.lock();
        let start = log.events.partition_point(|e| e.replay <= after);
        let mut out = Vec::new();
        let mut reached = after;
        for e in log.events.range(start..) {
            if out.len() == max {
                return (out, reached);
            }
            reached = e.replay;
            if keep(e) {
                out.push(e.clone());
            }
        }
        (out, reached.max(log.next_replay - 1))
    }

    /// Wakes on new events.
    pub fn watch_latest(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }

    /// Wakes when subscriptions are to be dropped.
    pub fn watch_drops(&self) -> watch::Receiver<u64> {
        self.drops.subscribe()
    }

    /// Ends every open subscription (fault, or the org stopping).
    pub fn drop_subscriptions(&self) {
        self.drops.send_modify(|n| *n += 1);
    }

    /// Events retained now.
    pub fn len(&self) -> usize {
        self.log.lock().events.len()
    }

    /// Whether no event is retained.
    pub fn is_empty(&self) -> bool {
        self.log.lock().events.is_empty()
    }
}

fn purge(log: &mut Log, settings: &BusSettings, now: Instant) {
    while let Some(front) = log.events.front() {
        let expired = now.saturating_duration_since(front.at) > settings.retention;
        if expired || log.events.len() > settings.max_events {
            log.events.pop_front();
        } else {
            break;
        }
    }
}

/// A random (version 4) UUID in its usual text form.
pub fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}
