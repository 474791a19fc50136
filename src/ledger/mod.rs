//! The ledger in Postgres: the source of truth for work. Runs and chunks are rows here
//! before anything goes to Redis; a chunk is claimed, heart-beaten and finished here, and
//! the mirror's per-object state (columns, watermark, errors) lives here too.

pub mod chunks;
pub mod error;
pub mod mappings;
pub mod runs;

pub use chunks::{Chunk, Claim, NewChunk};
pub use error::LedgerError;
pub use mappings::MappingRow;
pub use runs::{Created, Progress, Run, RunKind};
