//! Benchmarks behind `orgpool bench ...`: each prints its result next to a baseline
//! measured in the same run.

pub mod fake_org;
pub mod mem;
