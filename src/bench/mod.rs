//! Benchmarks behind `orgpool bench ...`: each prints its result next to a baseline
//! measured in the same run.

pub mod child_org;
pub mod error;
pub mod events;
pub mod fake_org;
pub mod fleet;
pub mod load;
pub mod mem;
pub mod quotes;
pub mod sf_query;
pub mod write_back;

pub use error::BenchError;
