//! The job kinds and what runs them: one module per kind (`initial_load` with
//! `reload`, `resync`, `reconcile`, `quote_generation`, `write_back`, `change_events`) with its typed arguments, chunk
//! spec and plan / work / finalize steps; the [`registry`] that lists them once; the
//! [`runner`] that gives every chunk the same life (claim, heartbeat, recorded
//! outcome); and the dispatch that keeps the ledger's chunks in Redis.

pub mod change_events;
pub mod context;
pub mod dispatch;
pub mod enqueue;
pub mod error;
pub mod initial_load;
pub mod kind;
pub mod mirror_sync;
pub mod push;
pub mod quote_generation;
pub mod reconcile;
pub mod registry;
pub mod resync;
pub mod runner;
pub mod settings;
pub mod write_back;

pub use context::JobContext;
pub use error::JobError;
pub use initial_load::InitialLoad;
pub use kind::{Job, JobKind, Outcome, Plan, Planned};
pub use quote_generation::QuoteGeneration;
pub use reconcile::Reconcile;
pub use registry::Kind;
pub use resync::Resync;
pub use runner::Runner;
pub use settings::JobSettings;
pub use write_back::WriteBack;
