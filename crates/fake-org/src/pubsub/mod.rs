//! Salesforce's Pub/Sub API (`eventbus.v1.PubSub` over gRPC, TLS with HTTP/2) with
//! Change Data Capture events: the store records every record change (`capture`), the
//! store lock's write guard turns each transaction into events (`store_lock`, `events`),
//! the bus keeps them for replay (`bus`), and the gRPC service serves topics, schemas
//! and subscriptions (`service`, `subscribe`, `listen`). See docs/fake-org.md.

pub mod avro_schema;
pub mod bus;
pub mod capture;
pub mod compound;
pub mod encode;
pub mod events;
pub mod listen;
pub mod proto;
mod service;
pub mod store_lock;
mod subscribe;
mod topic;

use std::sync::{Arc, OnceLock};

use avro_schema::EventSchema;
use bus::{BusSettings, EventBus};

use crate::store::Store;

/// What can go wrong in the Pub/Sub API.
#[derive(Debug, thiserror::Error)]
pub enum PubSubError {
    /// An object's event schema did not parse (a bug in the schema builder).
    #[error("change event schema of {0}")]
    Schema(String),
    /// A payload could not be encoded (a value that does not fit its schema: a bug).
    #[error("cannot encode the change event of {0}")]
    Encode(String),
    /// The Pub/Sub port could not be bound.
    #[error(
        "cannot listen for the Pub/Sub API on {addr}: {source}; pick another --pubsub-listen address"
    )]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TLS set-up failed.
    #[error("Pub/Sub TLS: {0}")]
    Tls(String),
}

/// The org's event state: the bus and each object's event schema.
#[derive(Debug)]
pub struct PubSubState {
    /// The retained events.
    pub bus: EventBus,
    schemas: Vec<OnceLock<Option<Arc<EventSchema>>>>,
}

impl PubSubState {
    /// State for an org with `objects` objects.
    pub fn new(objects: usize, settings: BusSettings) -> PubSubState {
        PubSubState {
            bus: EventBus::new(settings),
            schemas: (0..objects).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The event schema of object `obj` (built once; the org's metadata is fixed while
    /// it runs).
    pub fn schema(&self, store: &Store, obj: usize) -> Option<Arc<EventSchema>> {
        self.schemas
            .get(obj)?
            .get_or_init(|| {
                EventSchema::of(&store.schema.objects[obj])
                    .ok()
                    .map(Arc::new)
            })
            .clone()
    }

    /// The schema with id `id`, among the objects' schemas.
    pub fn schema_by_id(&self, store: &Store, id: &str) -> Option<Arc<EventSchema>> {
        (0..store.schema.objects.len())
            .filter_map(|o| self.schema(store, o))
            .find(|s| s.id == id)
    }
}
