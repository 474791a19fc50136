//! The scheduler's change-event subscriber: Change Data Capture for mappings with
//! `events = true`. It runs inside the scheduler process, under a leader lock of its
//! own in Redis (one subscriber per org; a second scheduler's waits and takes over
//! within the lock's lifetime), keeps one stream per loaded mapping ([`stream`]), and
//! starts a `change_events` run for an object as soon as its events are stored
//! ([`dispatch`]); workers apply them. docs/events.md says why it lives here.

pub mod dispatch;
pub mod stream;
pub mod supervise;

pub use supervise::run;
