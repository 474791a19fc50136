//! The ledger in Postgres: the source of truth for work. Runs and chunks are rows here
//! before anything goes to Redis; a chunk is claimed, heart-beaten and finished here, and
//! the mirror's per-object state (columns, watermark, errors) lives here too, with the
//! quote bookkeeping ([`quotes`], [`pushes`]) and the counts the status views read
//! ([`stats`]). A run's life (how it ends) is [`lifecycle`]'s alone. Every statement on
//! the `orgpool` control schema is in this module (`tests/layering.rs` checks it).

pub mod chunks;
pub mod console;
pub mod decode;
pub mod error;
pub mod events;
pub mod lifecycle;
pub mod mappings;
pub mod pushes;
pub mod quotes;
pub mod retention;
pub mod runs;
pub mod stats;

pub use chunks::{Chunk, Claim, NewChunk};
pub use decode::{decode, encode};
pub use error::LedgerError;
pub use lifecycle::{Closing, Ended, PlanRecord, RunState};
pub use mappings::MappingRow;
pub use runs::{Created, NewRun, Progress, Run};
