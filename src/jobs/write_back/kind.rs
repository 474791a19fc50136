//! `write_back`: sends the changes an app made to `read_write` mirror tables (captured
//! in `<schema>._trigger_log`) to Salesforce. A run covers one schema (its `object` is
//! the schema's name) and holds its lane `write_back:<schema>`, so one run at a time
//! takes a schema's waiting rows: its plan step claims them (`NEW` to `PENDING`) and
//! cuts them into chunks per table, parents' tables before their children's, every
//! change of one record in one chunk; any worker sends a chunk, through sObject
//! Collections or, from `ORGPOOL_WRITE_BACK_BULK_THRESHOLD` records, Bulk API 2.0
//! ingest. Runs are started by the scheduler's write-back listener (`LISTEN
//! orgpool_write_back`) as soon as a change is captured.

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::{plan, send};
use crate::jobs::error::JobError;
use crate::jobs::kind::{Job, JobKind, Outcome, Plan};
use crate::ledger::Chunk;

/// The job kind.
pub struct WriteBack;

/// A write-back run takes no arguments: the run's object is the schema.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteBackArgs {}

/// Which API a chunk goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// sObject Collections, 200 records a request.
    Collections,
    /// Bulk API 2.0 ingest jobs.
    Bulk,
}

/// One chunk: log rows of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteBackChunk {
    /// The mirror table (`contact`).
    pub table: String,
    /// Which API.
    pub via: Via,
    /// `_trigger_log` ids, in log order; every row of a record the run took is here.
    pub log_ids: Vec<i32>,
}

impl JobKind for WriteBack {
    const QUEUE: &'static str = "write_back";
    type Args = WriteBackArgs;
    type Chunk = WriteBackChunk;

    fn plan<'a>(
        job: &'a Job<'a, WriteBackArgs>,
    ) -> BoxFuture<'a, Result<Plan<WriteBackChunk>, JobError>> {
        Box::pin(plan::plan(job))
    }

    fn work<'a>(
        job: &'a Job<'a, WriteBackArgs>,
        _chunk: &'a Chunk,
        spec: &'a WriteBackChunk,
    ) -> BoxFuture<'a, Result<Outcome, JobError>> {
        Box::pin(send::work(job, spec))
    }

    fn finalize<'a>(
        _job: &'a Job<'a, WriteBackArgs>,
        _conn: &'a mut PgConnection,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async { Ok(()) })
    }
}
