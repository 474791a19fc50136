//! The Pub/Sub API messages, server and client, from the shared proto crate.

pub use orgpool_pubsub_proto::*;
