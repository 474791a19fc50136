//! The scheduler process: plans and starts due runs, keeps the ledger's chunks in
//! Redis, closes finished runs. Safe to run twice: a Redis leader lock picks one, and
//! the ledger refuses a second active run per object anyway.

pub mod catalog;
pub mod error;
pub mod leader;
pub mod quotes;
pub mod tick;

pub use error::SchedulerError;
pub use leader::Leader;
pub use tick::{Tick, tick};
