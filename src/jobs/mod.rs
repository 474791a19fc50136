//! The job kinds and what runs them: one module per kind (`initial_load`, `resync`,
//! `reconcile`, `quote_generation`) with its plan and work steps, the runner that gives every chunk the same
//! life (claim, heartbeat, classified outcome), and the dispatch that keeps the ledger's
//! chunks in Redis.

pub mod context;
pub mod dispatch;
pub mod enqueue;
pub mod error;
pub mod initial_load;
pub mod mirror_sync;
pub mod quote_generation;
pub mod reconcile;
pub mod resync;
pub mod runner;
pub mod settings;

pub use context::JobContext;
pub use error::{JobError, Next};
pub use initial_load::InitialLoad;
pub use quote_generation::QuoteGeneration;
pub use reconcile::Reconcile;
pub use resync::Resync;
pub use runner::{JobKind, Plan, Runner};
pub use settings::JobSettings;

/// Every queue a worker serves, by kind name.
pub const KINDS: [&str; 4] = [
    InitialLoad::KIND,
    Resync::KIND,
    Reconcile::KIND,
    QuoteGeneration::KIND,
];
