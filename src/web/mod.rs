//! The web process (`orgpool web`): fleet-level `/metrics`, `/healthz`, the HTML status
//! page, and the enqueue API, all read from Postgres and Redis so one instance serves
//! the whole fleet.

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod metrics;
pub mod page;
pub mod page_events;
pub mod server;
pub mod snapshot;

pub use config::WebConfig;
pub use error::WebError;
pub use server::{WebState, router, serve};
