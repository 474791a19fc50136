//! Bulk API 2.0 query jobs. A job is evaluated in the background after the configured
//! processing delay; its result is the list of matching rows, and each results page is
//! rendered to CSV in small chunks while it is sent, so a page of any size streams in
//! bounded memory.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use parking_lot::Mutex;
use serde_json::{Value as Json, json};

use super::super::api_error::{ApiError, json_response};
use super::super::middleware::ApiVersion;
use super::super::query::{CsvWriter, QueryError, compile, execute};
use super::super::state::OrgState;
use super::common::{JobState, StatePatch, delimiter, json_body, line_ending, no_job, now_rest};

/// Rows rendered per chunk of a streamed page.
const CHUNK_ROWS: usize = 2_000;
/// Rows per page when the client gives no `maxRecords`.
const DEFAULT_PAGE: usize = 100_000;

/// A query job.
#[derive(Debug)]
pub struct QueryJob {
    /// Job id (`750...`).
    pub id: String,
    /// `query` or `queryAll`.
    pub operation: String,
    /// Object queried.
    pub object: String,
    /// The SOQL.
    pub query: String,
    /// State.
    pub state: JobState,
    /// When created.
    pub created: String,
    /// API version number.
    pub api_version: f64,
    /// Delimiter name and char.
    pub delimiter: (char, &'static str),
    /// CRLF line endings.
    pub crlf: bool,
    /// Result rows once complete.
    pub rows: Option<Arc<Vec<u64>>>,
    /// Writer for the result columns.
    pub writer: Option<CsvWriter>,
    /// Object index.
    pub obj: usize,
    /// Failure message.
    pub error: Option<String>,
    /// Milliseconds spent processing.
    pub processing_ms: u64,
}

impl QueryJob {
    fn info(&self, full: bool) -> Json {
        let mut j = json!({
            "id": self.id, "operation": self.operation, "object": self.object,
            "createdById": "", "createdDate": self.created, "systemModstamp": self.created,
            "state": self.state.as_str(), "concurrencyMode": "Parallel", "contentType": "CSV",
            "apiVersion": self.api_version, "lineEnding": if self.crlf { "CRLF" } else { "LF" },
            "columnDelimiter": self.delimiter.1,
        });
        if full {
            j["jobType"] = json!("V2Query");
            j["numberRecordsProcessed"] = json!(self.rows.as_ref().map_or(0, |r| r.len()));
            j["retries"] = json!(0);
            j["totalProcessingTime"] = json!(self.processing_ms);
            j["isPkChunkingSupported"] = json!(true);
            if let Some(e) = &self.error {
                j["errorMessage"] = json!(e);
            }
        }
        j
    }
}

fn version_number(v: &str) -> f64 {
    v.trim_start_matches('v').parse().unwrap_or(0.0)
}

/// `POST /jobs/query`.
pub async fn create_query(
    State(org): State<Arc<OrgState>>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req = json_body(&body)?;
    let operation = req.get("operation").and_then(Json::as_str).unwrap_or("");
    if operation != "query" && operation != "queryAll" {
        return Err(super::common::invalid_property("operation", operation));
    }
    let text = req
        .get("query")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string();
    let delim = delimiter(req.get("columnDelimiter").and_then(Json::as_str))?;
    let crlf = line_ending(req.get("lineEnding").and_then(Json::as_str))?;
    let (obj, object, writer) = {
        let store = org.store.read();
        let q = compile(&store.schema, &text).map_err(|e| ApiError::query(&e))?;
        check_bulk(&store.schema, &q).map_err(|e| ApiError::query(&e))?;
        let object = store.schema.objects[q.obj].name.clone();
        (
            q.obj,
            object,
            CsvWriter::new(q.columns.clone(), delim.0, crlf),
        )
    };
    let id = org.new_id(b"750");
    let job = Arc::new(Mutex::new(QueryJob {
        id: id.clone(),
        operation: operation.to_string(),
        object,
        query: text,
        state: JobState::UploadComplete,
        created: now_rest(),
        api_version: version_number(&v),
        delimiter: delim,
        crlf,
        rows: None,
        writer: Some(writer),
        obj,
        error: None,
        processing_ms: 0,
    }));
    let info = job.lock().info(false);
    org.query_jobs.lock().insert(id, job.clone());
    tokio::spawn(process(org.clone(), job));
    Ok(json_response(StatusCode::OK, &info))
}

/// What Bulk refuses that REST allows.
fn check_bulk(
    schema: &super::super::schema::Schema,
    q: &super::super::query::Compiled,
) -> Result<(), QueryError> {
    if q.count_only {
        return Err(QueryError::Unsupported(
            "Aggregate Relationships not supported in Bulk Query with CSV content type".into(),
        ));
    }
    if q.offset.is_some() {
        return Err(QueryError::Unsupported(
            "OFFSET not allowed in Bulk Query".into(),
        ));
    }
    for c in &q.columns {
        let f = &schema.objects[c.obj].fields[c.field];
        if f.ftype.is_compound() {
            return Err(QueryError::Unsupported(
                "Selecting compound data not supported in Bulk Query".into(),
            ));
        }
        if !f.bulk_readable() {
            return Err(QueryError::Unsupported(format!(
                "FeatureNotEnabled : Binary field '{}' is not supported by the Bulk API",
                f.name
            )));
        }
    }
    Ok(())
}

async fn process(org: Arc<OrgState>, job: Arc<Mutex<QueryJob>>) {
    let delay = org.faults.snapshot().bulk_delay;
    tokio::time::sleep(delay / 2).await;
    {
        let mut j = job.lock();
        if j.state != JobState::UploadComplete {
            return;
        }
        j.state = JobState::InProgress;
    }
    tokio::time::sleep(delay / 2).await;
    let started = std::time::Instant::now();
    let (text, all) = {
        let j = job.lock();
        (j.query.clone(), j.operation == "queryAll")
    };
    let org2 = org.clone();
    let result = tokio::task::spawn_blocking(move || {
        let store = org2.store.read();
        compile(&store.schema, &text).map(|q| execute(&store, &q, all))
    })
    .await;
    let mut j = job.lock();
    if j.state != JobState::InProgress {
        return;
    }
    j.processing_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(Ok(rows)) => {
            j.rows = Some(Arc::new(rows));
            j.state = JobState::JobComplete;
        }
        Ok(Err(e)) => {
            j.error = Some(e.to_string());
            j.state = JobState::Failed;
        }
        Err(_) => {
            j.error = Some("internal error".into());
            j.state = JobState::Failed;
        }
    }
}

fn find(org: &OrgState, id: &str) -> Result<Arc<Mutex<QueryJob>>, ApiError> {
    org.query_jobs.lock().get(id).cloned().ok_or_else(no_job)
}

/// `GET /jobs/query/{id}`.
pub async fn get_query(
    State(org): State<Arc<OrgState>>,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let job = find(&org, p.get("id").map(String::as_str).unwrap_or(""))?;
    let info = job.lock().info(true);
    Ok(json_response(StatusCode::OK, &info))
}

/// `GET /jobs/query`.
pub async fn list_query(State(org): State<Arc<OrgState>>) -> Response {
    let jobs: Vec<Json> = org
        .query_jobs
        .lock()
        .values()
        .map(|j| j.lock().info(false))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({"done": true, "records": jobs, "nextRecordsUrl": null}),
    )
}

/// `PATCH /jobs/query/{id}` with `{"state":"Aborted"}`.
pub async fn patch_query(
    State(org): State<Arc<OrgState>>,
    Path(p): Path<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let job = find(&org, p.get("id").map(String::as_str).unwrap_or(""))?;
    let patch: StatePatch =
        serde_json::from_slice(&body).map_err(|e| ApiError::json(e.to_string()))?;
    let mut j = job.lock();
    if patch.state != "Aborted" {
        return Err(super::common::invalid_property("state", &patch.state));
    }
    if j.state.terminal() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALIDJOBSTATE",
            format!("Aborting already {} job not allowed", j.state.as_str()),
        ));
    }
    j.state = JobState::Aborted;
    j.rows = None;
    Ok(json_response(StatusCode::OK, &j.info(false)))
}

/// `DELETE /jobs/query/{id}`: 204.
pub async fn delete_query(
    State(org): State<Arc<OrgState>>,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let id = p.get("id").cloned().unwrap_or_default();
    org.query_jobs.lock().remove(&id).ok_or_else(no_job)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn encode_locator(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(offset.to_string())
}

fn decode_locator(l: &str) -> Option<usize> {
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(l)
        .ok()?;
    String::from_utf8(b).ok()?.parse().ok()
}

/// `GET /jobs/query/{id}/results?locator=&maxRecords=`.
pub async fn results(
    State(org): State<Arc<OrgState>>,
    Path(p): Path<HashMap<String, String>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let job = find(&org, p.get("id").map(String::as_str).unwrap_or(""))?;
    let (rows, writer, obj) = {
        let j = job.lock();
        if j.state != JobState::JobComplete {
            let status = match j.state {
                JobState::UploadComplete | JobState::InProgress => "IN_PROGRESS",
                JobState::Aborted => "ABORTED",
                _ => "FAILED",
            };
            return Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "JOB_NOT_COMPLETE",
                format!(
                    "can only download query results of successfully completed bulk job with status: JOB_COMPLETE. Current status: {status}"
                ),
            ));
        }
        (j.rows.clone().unwrap_or_default(), j.writer.clone(), j.obj)
    };
    let Some(writer) = writer else {
        return Err(no_job());
    };
    let bad = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, "INVALIDLOCATOR", m.to_string());
    let offset = match q.get("locator").map(String::as_str) {
        None | Some("") => 0,
        Some(l) => decode_locator(l)
            .filter(|o| *o <= rows.len())
            .ok_or_else(|| bad("Invalid locator"))?,
    };
    let max = match q.get("maxRecords") {
        None => DEFAULT_PAGE,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad("maxRecords must be a positive integer"))?,
    };
    let end = offset.saturating_add(max).min(rows.len());
    let next = if end < rows.len() {
        encode_locator(end)
    } else {
        "null".to_string()
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut out = String::with_capacity(256 * 1024);
        let mut scratch = String::new();
        writer.header(&mut out);
        let mut i = offset;
        while i < end {
            let stop = (i + CHUNK_ROWS).min(end);
            {
                // A short read lock per chunk lets writers in between.
                let store = org.store.read();
                let table = store.table(obj);
                for seq in &rows[i..stop] {
                    if let Some(row) = table.get(*seq) {
                        writer.row(&store, row, &mut out, &mut scratch);
                    }
                }
            }
            i = stop;
            if tx
                .blocking_send(Ok(Bytes::from(std::mem::take(&mut out))))
                .is_err()
            {
                return; // client went away
            }
            out.reserve(256 * 1024);
        }
        if !out.is_empty() {
            let _ = tx.blocking_send(Ok(Bytes::from(out)));
        }
    });
    let mut resp =
        Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx)).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"));
    if let Ok(v) = HeaderValue::from_str(&next) {
        h.insert("Sforce-Locator", v);
    }
    if let Ok(v) = HeaderValue::from_str(&(end - offset.min(end)).to_string()) {
        h.insert("Sforce-NumberOfRecords", v);
    }
    Ok(resp)
}
