//! The `change_events` job kind: Change Data Capture events applied to the mirror.

pub mod apply;
pub mod fetch;
pub mod fold;
pub mod kind;
pub mod settings;

pub use kind::{ChangeEvents, ChangeEventsArgs, EventsChunk};
pub use settings::EventSettings;
