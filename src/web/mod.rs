//! The web process (`orgpool web`): fleet-level `/metrics`, `/healthz`, the HTML status
//! page, the operations console (run history, a page per run and per mapping, and
//! actions as POST forms), and the enqueue API, all read from Postgres and Redis so one
//! instance serves the whole fleet.

pub mod access;
pub mod actions;
pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod layout;
pub mod mapping_page;
pub mod metrics;
pub mod page;
pub mod page_events;
pub mod run_page;
pub mod runs_page;
pub mod server;
pub mod snapshot;

pub use config::WebConfig;
pub use error::WebError;
pub use server::{WebState, router, serve};
