//! `orgpool dev`: running the Procfile's processes locally with counts per type,
//! prefixed output and a clean stop, plus the end-to-end demo that drives them (and its write-back step).

pub mod connections;
pub mod demo;
pub mod demo_events;
pub mod demo_writes;
pub mod error;
pub mod group;
pub mod output;
pub mod procfile;
pub mod session;

pub use error::DevError;
pub use procfile::Procfile;
pub use session::{DevOptions, run};
