//! Everything a running fake org holds: the store, faults, issued tokens, open REST
//! query cursors and Bulk jobs. Shared by all handlers behind an `Arc`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use parking_lot::Mutex;

use super::bulk::{IngestJob, QueryJob};
use super::config::FakeOrgConfig;
use super::faults::Faults;
use super::ids::RecordId;
use super::pubsub::PubSubState;
use super::pubsub::bus::BusSettings;
use super::pubsub::store_lock::StoreLock;
use super::query::Column;
use super::store::Store;

/// An open REST query: the matching rows, read page by page through `nextRecordsUrl`.
#[derive(Debug)]
pub struct Cursor {
    /// The object queried.
    pub obj: usize,
    /// The select list.
    pub columns: Vec<Column>,
    /// Matching sequence numbers in result order.
    pub seqs: Arc<Vec<u64>>,
    /// Rows per page.
    pub batch: usize,
    /// When it was last read (cursors expire after 15 idle minutes).
    pub touched: Instant,
}

/// A running org.
#[derive(Debug)]
pub struct OrgState {
    /// Settings it was started with.
    pub config: FakeOrgConfig,
    /// The records.
    /// The records; every write transaction publishes its change events.
    pub store: StoreLock,
    /// Injected faults and API usage.
    pub faults: Faults,
    /// Access token -> expiry.
    pub tokens: Mutex<HashMap<String, Instant>>,
    /// REST query cursors by query id.
    pub cursors: Mutex<HashMap<String, Cursor>>,
    /// Bulk query jobs by id.
    pub query_jobs: Mutex<HashMap<String, Arc<Mutex<QueryJob>>>>,
    /// Bulk ingest jobs by id.
    pub ingest_jobs: Mutex<HashMap<String, Arc<Mutex<IngestJob>>>>,
    /// The org Id (`00D...`).
    pub org_id: String,
    /// `http(s)://host:port`, known once listening.
    pub base_url: OnceLock<String>,
    next_id: AtomicU64,
}

impl OrgState {
    /// A new org around `store`.
    pub fn new(config: FakeOrgConfig, store: Store) -> OrgState {
        let faults = Faults::new(
            config.latency,
            config.bulk_delay,
            config.ingest_failure_rate,
            config.api_limit,
        );
        let objects = store.schema.objects.len();
        let settings = BusSettings {
            retention: config.event_retention,
            keepalive: config.pubsub_keepalive,
            ..BusSettings::default()
        };
        OrgState {
            org_id: RecordId::new(*b"00D", 1).to_string(),
            config,
            store: StoreLock::new(store, Arc::new(PubSubState::new(objects, settings))),
            faults,
            tokens: Mutex::new(HashMap::new()),
            cursors: Mutex::new(HashMap::new()),
            query_jobs: Mutex::new(HashMap::new()),
            ingest_jobs: Mutex::new(HashMap::new()),
            base_url: OnceLock::new(),
            next_id: AtomicU64::new(1),
        }
    }

    /// A new Id with `prefix` for server-side objects (jobs `750`, query cursors `01g`).
    pub fn new_id(&self, prefix: &[u8; 3]) -> String {
        RecordId::new(*prefix, self.next_id.fetch_add(1, Ordering::Relaxed)).to_string()
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> &str {
        self.base_url.get().map(String::as_str).unwrap_or("")
    }
}
