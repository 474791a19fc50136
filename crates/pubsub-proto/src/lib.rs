//! The generated Pub/Sub API messages, server and client (from proto/pubsub_api.proto,
//! compiled by build.rs), shared by orgpool's subscriber and the fake org's server so
//! the two can never disagree on the wire.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

tonic::include_proto!("eventbus.v1");
