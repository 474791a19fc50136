//! The REST API handlers under `/services/data/vXX.X/`.

pub mod composite;
pub mod describe;
pub mod query;
pub mod records;
pub mod versions;
