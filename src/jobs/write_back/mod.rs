//! The `write_back` job kind: the app's changes to `read_write` mirror tables, captured
//! in `<schema>._trigger_log`, sent to Salesforce in order and exactly once (see
//! [`kind`] for the run's shape and docs/write-back.md for the user's view).

pub mod calls;
pub mod changes;
pub mod conflict;
pub mod kind;
pub mod plan;
pub mod refusals;
pub mod send;
pub mod settings;
pub mod values;

pub use kind::{Via, WriteBack, WriteBackArgs, WriteBackChunk};
pub use settings::WriteBackSettings;
