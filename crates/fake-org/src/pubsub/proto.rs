//! The generated Pub/Sub API messages, server and client (from proto/pubsub_api.proto,
//! compiled by build.rs). Public so tests and tools can use the client.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

tonic::include_proto!("eventbus.v1");
