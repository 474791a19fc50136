//! The job queue: apalis 1.0 on Redis behind one module, with the guardrails its known
//! bugs need (unique worker names per start, explicit queue names, bounded concurrency,
//! fast idle polling, results persisted so tasks are acked, a poison payload moved aside
//! instead of stopping a worker, our own dead-task tools and trimming of what apalis leaves behind).

pub mod config;
pub mod keys;
pub mod poison;
pub mod queues;
pub mod supervisor;
pub mod task;
pub mod trim;

pub use config::QueueConfig;
pub use queues::{Depth, QueueError, Queues};
pub use supervisor::{ChunkRunner, RunnerError, run_queue};
pub use task::ChunkTask;
pub use trim::{TaskBound, Trimmed};
