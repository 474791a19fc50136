//! The scheduler process: plans and starts due runs, keeps the ledger's chunks in
//! Redis, closes finished runs, and starts write-back runs as changes are captured. Safe to run twice: a Redis leader lock picks one, and
//! the ledger refuses a second active run per object anyway.

pub mod catalog;
pub mod error;
pub mod events;
pub mod leader;
pub mod quotes;
pub mod retention;
pub mod tick;
pub mod write_back;

pub use error::SchedulerError;
pub use leader::Leader;
pub use tick::{Tick, tick};
