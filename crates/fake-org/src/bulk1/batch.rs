//! Bulk 1.0 batches: `POST /job/{id}/batch` (SOQL for query jobs; CSV or a JSON array
//! of records for ingest jobs, per the job's `contentType`), `GET /job/{id}/batch`,
//! `GET /job/{id}/batch/{bid}` and `GET …/request`. Batches move Queued → InProgress →
//! Completed or Failed; NotProcessed when the job is aborted first, or for the
//! original batch of a PK-chunked query.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use parking_lot::Mutex;
use serde_json::{Map, Value as Json};

use super::dml::Outcome;
use super::error::{Bulk1Error, Failure};
use super::job::{Bulk1, JobState};
use super::process;
use super::wire::{Fields, Format, Val, now, render, render_batch_list, respond};

/// Records Salesforce takes in one batch.
const MAX_RECORDS: usize = 10_000;

/// A batch's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchState {
    /// Waiting.
    Queued,
    /// Running.
    InProgress,
    /// Done (records may still have failed one by one).
    Completed,
    /// The whole batch failed (`stateMessage` says why).
    Failed,
    /// Will not run.
    NotProcessed,
}

impl BatchState {
    fn as_str(self) -> &'static str {
        match self {
            BatchState::Queued => "Queued",
            BatchState::InProgress => "InProgress",
            BatchState::Completed => "Completed",
            BatchState::Failed => "Failed",
            BatchState::NotProcessed => "NotProcessed",
        }
    }
}

/// Ingest records as uploaded.
#[derive(Debug, Clone)]
pub enum Records {
    /// A CSV header and rows.
    Csv(Vec<String>, Vec<csv::StringRecord>),
    /// JSON objects.
    Json(Vec<Map<String, Json>>),
}

impl Records {
    /// How many records.
    pub fn len(&self) -> usize {
        match self {
            Records::Csv(_, r) => r.len(),
            Records::Json(r) => r.len(),
        }
    }
}

/// What a batch holds.
#[derive(Debug)]
pub enum Work {
    /// A query, optionally limited to one PK chunk (sequence numbers `lo..hi`).
    Query {
        /// The SOQL.
        soql: String,
        /// The chunk's sequence range.
        range: Option<(u64, u64)>,
        /// Matching rows once Completed.
        rows: Option<Arc<Vec<u64>>>,
        /// The result id once Completed.
        result: Option<String>,
    },
    /// Records to write and, once run, their outcomes.
    Ingest(Records, Vec<Outcome>),
}

/// A batch.
#[derive(Debug)]
pub struct Batch {
    /// `751…`.
    pub id: String,
    /// The job.
    pub job_id: String,
    /// State.
    pub state: BatchState,
    /// Why it failed or was not processed.
    pub message: Option<String>,
    /// When created.
    pub created: String,
    /// When last changed.
    pub modstamp: String,
    /// Records processed.
    pub processed: usize,
    /// Records failed.
    pub failed: usize,
    /// Milliseconds spent.
    pub processing_ms: u64,
    /// The request as sent (`GET …/request`).
    pub request: Bytes,
    /// The work.
    pub work: Work,
}

impl Batch {
    /// A new queued batch.
    pub fn new(id: String, job_id: String, request: Bytes, work: Work) -> Batch {
        let created = now();
        Batch {
            id,
            job_id,
            state: BatchState::Queued,
            message: None,
            modstamp: created.clone(),
            created,
            processed: 0,
            failed: 0,
            processing_ms: 0,
            request,
            work,
        }
    }

    /// Moves to `state`.
    pub fn set(&mut self, state: BatchState, message: Option<String>) {
        self.state = state;
        self.message = message;
        self.modstamp = now();
    }

    /// The `batchInfo` fields.
    pub fn info(&self) -> Fields {
        let mut f: Fields = vec![
            ("id", Val::S(self.id.clone())),
            ("jobId", Val::S(self.job_id.clone())),
            ("state", Val::S(self.state.as_str().into())),
        ];
        if let Some(m) = &self.message {
            f.push(("stateMessage", Val::S(m.clone())));
        }
        f.extend([
            ("createdDate", Val::S(self.created.clone())),
            ("systemModstamp", Val::S(self.modstamp.clone())),
            ("numberRecordsProcessed", Val::N(self.processed as u64)),
            ("numberRecordsFailed", Val::N(self.failed as u64)),
            ("totalProcessingTime", Val::N(self.processing_ms)),
            ("apiActiveProcessingTime", Val::N(self.processing_ms)),
            ("apexProcessingTime", Val::N(0)),
        ]);
        f
    }
}

fn parse_records(format: Format, body: &[u8]) -> Result<Records, Bulk1Error> {
    let records = match format {
        Format::Json => {
            let v: Json = serde_json::from_slice(body).map_err(|e| {
                Bulk1Error::InvalidBatch(format!("Failed to parse the JSON batch: {e}"))
            })?;
            let Json::Array(items) = v else {
                return Err(Bulk1Error::InvalidBatch(
                    "A JSON batch must be an array of records".into(),
                ));
            };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Json::Object(m) => out.push(m),
                    _ => {
                        return Err(Bulk1Error::InvalidBatch(
                            "Every item of a JSON batch must be a record object".into(),
                        ));
                    }
                }
            }
            Records::Json(out)
        }
        Format::Xml => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(true)
                .from_reader(body);
            let header = reader
                .headers()
                .map_err(|e| Bulk1Error::InvalidBatch(format!("Failed to parse CSV header: {e}")))?
                .iter()
                .map(String::from)
                .collect();
            let rows = reader
                .records()
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Bulk1Error::InvalidBatch(format!("Failed to parse CSV: {e}")))?;
            Records::Csv(header, rows)
        }
    };
    if records.len() > MAX_RECORDS {
        return Err(Bulk1Error::InvalidBatch(format!(
            "Records in a batch cannot exceed {MAX_RECORDS}: split the {} records into several batches",
            records.len()
        )));
    }
    Ok(records)
}

fn ids<'a>(p: &'a HashMap<String, String>, key: &str) -> &'a str {
    p.get(key).map(String::as_str).unwrap_or("")
}

/// `POST /job/{id}/batch`.
pub async fn add(
    State(b1): State<Arc<Bulk1>>,
    headers: HeaderMap,
    Path(p): Path<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, Failure> {
    let job = b1.job_of(&headers, &p)?;
    let mut j = job.lock();
    let format = j.format();
    if j.state != JobState::Open {
        return Err(Bulk1Error::InvalidJobState(format!(
            "Unable to create batch: job {} is not open",
            j.id
        ))
        .with(format));
    }
    let work = if j.op.is_query() {
        let soql = std::str::from_utf8(&body)
            .map_err(|_| Bulk1Error::InvalidBatch("the query is not UTF-8".into()).with(format))?
            .trim()
            .to_string();
        Work::Query {
            soql,
            range: None,
            rows: None,
            result: None,
        }
    } else {
        let records = parse_records(format, &body).map_err(|e| e.with(format))?;
        Work::Ingest(records, Vec::new())
    };
    let batch = Arc::new(Mutex::new(Batch::new(
        b1.org.new_id(b"751"),
        j.id.clone(),
        body,
        work,
    )));
    j.batches.push(batch.clone());
    let info = batch.lock().info();
    process::spawn(b1.clone(), &j, batch);
    Ok(render(format, StatusCode::CREATED, "batchInfo", info))
}

/// `GET /job/{id}/batch`.
pub async fn list(
    State(b1): State<Arc<Bulk1>>,
    headers: HeaderMap,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let job = b1.job_of(&headers, &p)?;
    let j = job.lock();
    let items = j.batches.iter().map(|b| b.lock().info()).collect();
    Ok(render_batch_list(j.format(), items))
}

/// The batch `{batch}` of job `{job}`, and the job's format.
pub fn find(
    b1: &Bulk1,
    headers: &HeaderMap,
    p: &HashMap<String, String>,
) -> Result<(Arc<Mutex<Batch>>, Format, usize), Failure> {
    let job = b1.job_of(headers, p)?;
    let j = job.lock();
    let want = ids(p, "batch");
    let batch = j
        .batches
        .iter()
        .find(|b| b.lock().id == want)
        .cloned()
        .ok_or_else(|| {
            Bulk1Error::InvalidBatch(format!("Invalid batch id: {want}")).with(j.format())
        })?;
    Ok((batch, j.format(), j.obj))
}

/// `GET /job/{id}/batch/{bid}`.
pub async fn info(
    State(b1): State<Arc<Bulk1>>,
    headers: HeaderMap,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let (batch, format, _) = find(&b1, &headers, &p)?;
    let info = batch.lock().info();
    Ok(render(format, StatusCode::OK, "batchInfo", info))
}

/// `GET /job/{id}/batch/{bid}/request`: the batch as uploaded.
pub async fn request(
    State(b1): State<Arc<Bulk1>>,
    headers: HeaderMap,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let (batch, format, _) = find(&b1, &headers, &p)?;
    let b = batch.lock();
    let ct = match (&b.work, format) {
        (Work::Query { .. }, _) => "text/plain",
        (_, Format::Json) => "application/json",
        (_, Format::Xml) => "text/csv",
    };
    Ok(respond(
        StatusCode::OK,
        ct,
        String::from_utf8_lossy(&b.request).into_owned(),
    ))
}
