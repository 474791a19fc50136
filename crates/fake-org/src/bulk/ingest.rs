//! Bulk API 2.0 ingest jobs: create, one CSV upload, `UploadComplete`, background
//! processing record by record (with the injected `UNABLE_TO_LOCK_ROW` rate), then
//! `successfulResults` / `failedResults` / `unprocessedrecords` CSVs.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use rand::Rng;
use serde_json::{Value as Json, json};

use super::super::api_error::{ApiError, json_response};
use super::super::ids::RecordId;
use super::super::input::{self, CsvColumn};
use super::super::middleware::ApiVersion;
use super::super::origin::CallOrigin;
use super::super::query::quote_into;
use super::super::record_error::{RecordError, parse_id};
use super::super::state::OrgState;
use super::common::{
    JobState, StatePatch, delimiter, invalid_property, json_body, line_ending, no_job, now_rest,
};

/// Records written per store lock.
const BATCH: usize = 200;

/// The outcome of one uploaded record.
#[derive(Debug, Clone)]
enum Outcome {
    Ok(RecordId, bool),
    Failed(Option<RecordId>, String),
}

/// An ingest job.
#[derive(Debug)]
pub struct IngestJob {
    id: String,
    object: String,
    obj: usize,
    operation: String,
    external_id: Option<String>,
    state: JobState,
    created: String,
    api_version: f64,
    delimiter: (char, &'static str),
    crlf: bool,
    header: Vec<String>,
    rows: Vec<csv::StringRecord>,
    uploaded: bool,
    outcomes: Vec<Outcome>,
    error: Option<String>,
    processing_ms: u64,
    /// `changeOrigin` of its writes: the API version and client of the creating request.
    origin: String,
}

impl IngestJob {
    fn info(&self, full: bool, v: &str) -> Json {
        let mut j = json!({
            "id": self.id, "operation": self.operation, "object": self.object, "createdById": "",
            "createdDate": self.created, "systemModstamp": self.created, "state": self.state.as_str(),
            "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": self.api_version,
            "contentUrl": format!("services/data/{v}/jobs/ingest/{}/batches", self.id),
            "lineEnding": if self.crlf { "CRLF" } else { "LF" }, "columnDelimiter": self.delimiter.1,
        });
        if let Some(e) = &self.external_id {
            j["externalIdFieldName"] = json!(e);
        }
        if full {
            let failed = self
                .outcomes
                .iter()
                .filter(|o| matches!(o, Outcome::Failed(..)))
                .count();
            j["jobType"] = json!("V2Ingest");
            j["numberRecordsProcessed"] = json!(self.outcomes.len());
            j["numberRecordsFailed"] = json!(failed);
            j["retries"] = json!(0);
            j["totalProcessingTime"] = json!(self.processing_ms);
            j["apiActiveProcessingTime"] = json!(self.processing_ms);
            j["apexProcessingTime"] = json!(0);
            if let Some(e) = &self.error {
                j["errorMessage"] = json!(e);
            }
        }
        j
    }
}

const OPERATIONS: &[&str] = &["insert", "update", "upsert", "delete", "hardDelete"];

/// `POST /jobs/ingest`.
pub async fn create_ingest(
    State(org): State<Arc<OrgState>>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    origin: CallOrigin,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req = json_body(&body)?;
    let operation = req.get("operation").and_then(Json::as_str).unwrap_or("");
    if !OPERATIONS.contains(&operation) {
        return Err(invalid_property("operation", operation));
    }
    let object = req.get("object").and_then(Json::as_str).unwrap_or("");
    let (obj, object_name) = {
        let store = org.store.read();
        let obj = store.schema.index(object).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALIDJOB",
                format!("InvalidJob : Unable to find object: {object}"),
            )
        })?;
        (obj, store.schema.objects[obj].name.clone())
    };
    let external_id = req
        .get("externalIdFieldName")
        .and_then(Json::as_str)
        .map(String::from);
    if operation == "upsert" {
        let store = org.store.read();
        let def = &store.schema.objects[obj];
        let ok = external_id
            .as_deref()
            .and_then(|e| def.field(e))
            .is_some_and(|f| f.external_id || f.name == "Id");
        if !ok {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALIDJOB",
                format!(
                    "InvalidJob : Field name provided, {} does not match an External ID for {}",
                    external_id.unwrap_or_default(),
                    def.name
                ),
            ));
        }
    }
    let delim = delimiter(req.get("columnDelimiter").and_then(Json::as_str))?;
    let crlf = line_ending(req.get("lineEnding").and_then(Json::as_str))?;
    let id = org.new_id(b"750");
    let job = IngestJob {
        id: id.clone(),
        object: object_name,
        obj,
        operation: operation.to_string(),
        external_id: if operation == "upsert" {
            external_id
        } else {
            None
        },
        state: JobState::Open,
        created: now_rest(),
        api_version: v.trim_start_matches('v').parse().unwrap_or(0.0),
        delimiter: delim,
        crlf,
        header: Vec::new(),
        rows: Vec::new(),
        uploaded: false,
        outcomes: Vec::new(),
        error: None,
        processing_ms: 0,
        origin: origin.bulk(),
    };
    let info = job.info(false, &v);
    org.ingest_jobs.lock().insert(id, Arc::new(Mutex::new(job)));
    Ok(json_response(StatusCode::OK, &info))
}

fn find(org: &OrgState, p: &HashMap<String, String>) -> Result<Arc<Mutex<IngestJob>>, ApiError> {
    let id = p.get("id").map(String::as_str).unwrap_or("");
    org.ingest_jobs.lock().get(id).cloned().ok_or_else(no_job)
}

/// `PUT /jobs/ingest/{id}/batches`: 201, once per job.
pub async fn upload(
    State(org): State<Arc<OrgState>>,
    Path(p): Path<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let job = find(&org, &p)?;
    let mut j = job.lock();
    if j.uploaded {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "BULK_API_ERROR",
            format!(
                "Found multipe contents for job: <{}>, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.",
                &j.id[..15]
            ),
        ));
    }
    if j.state != JobState::Open {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "INVALIDJOBSTATE",
            format!("Job state is {}, cannot upload data", j.state.as_str()),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(j.delimiter.0 as u8)
        .has_headers(true)
        .from_reader(body.as_ref());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALIDBATCH",
                format!("InvalidBatch : Failed to parse CSV header: {e}"),
            )
        })?
        .iter()
        .map(String::from)
        .collect();
    let mut rows = Vec::new();
    for r in reader.records() {
        rows.push(r.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALIDBATCH",
                format!("InvalidBatch : Failed to parse CSV: {e}"),
            )
        })?);
    }
    j.header = header;
    j.rows = rows;
    j.uploaded = true;
    Ok(StatusCode::CREATED.into_response())
}

/// `PATCH /jobs/ingest/{id}`: `UploadComplete` or `Aborted`.
pub async fn patch_ingest(
    State(org): State<Arc<OrgState>>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    Path(p): Path<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let job = find(&org, &p)?;
    let patch: StatePatch =
        serde_json::from_slice(&body).map_err(|e| ApiError::json(e.to_string()))?;
    let mut j = job.lock();
    match patch.state.as_str() {
        "UploadComplete" => {
            if j.state != JobState::Open {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "INVALIDJOBSTATE",
                    format!("Closing already {} job not allowed", j.state.as_str()),
                ));
            }
            j.state = JobState::UploadComplete;
            tokio::spawn(process(org.clone(), job.clone()));
        }
        "Aborted" => {
            if j.state.terminal() {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "INVALIDJOBSTATE",
                    format!("Aborting already {} job not allowed", j.state.as_str()),
                ));
            }
            j.state = JobState::Aborted;
        }
        other => return Err(invalid_property("state", other)),
    }
    Ok(json_response(StatusCode::OK, &j.info(false, &v)))
}

async fn process(org: Arc<OrgState>, job: Arc<Mutex<IngestJob>>) {
    let faults = org.faults.snapshot();
    tokio::time::sleep(faults.bulk_delay / 2).await;
    let (columns, total) = {
        let mut j = job.lock();
        if j.state != JobState::UploadComplete {
            return;
        }
        j.state = JobState::InProgress;
        let store = org.store.read();
        let cols = input::csv_columns(&store.schema, j.obj, &j.header);
        (cols, j.rows.len())
    };
    tokio::time::sleep(faults.bulk_delay / 2).await;
    let columns = match columns {
        Ok(c) => c,
        Err(msg) => {
            let mut j = job.lock();
            j.error = Some(msg);
            j.state = JobState::Failed;
            return;
        }
    };
    let started = std::time::Instant::now();
    let mut done = 0;
    while done < total {
        let org2 = org.clone();
        let job2 = job.clone();
        let cols = columns.clone();
        let rate = org.faults.snapshot().ingest_failure_rate;
        let stop = (done + BATCH).min(total);
        let cont = tokio::task::spawn_blocking(move || {
            let mut j = job2.lock();
            if j.state != JobState::InProgress {
                return false;
            }
            let mut store = org2.store.write_from(j.origin.clone());
            let mut rng = rand::rng();
            for i in done..stop {
                let outcome = if rate > 0.0 && rng.random_bool(rate.min(1.0)) {
                    Outcome::Failed(None, RecordError::lock_failed().bulk_cell())
                } else {
                    apply(&mut store, &j, &cols, &j.rows[i])
                };
                j.outcomes.push(outcome);
            }
            true
        })
        .await
        .unwrap_or(false);
        if !cont {
            return;
        }
        done = stop;
    }
    let mut j = job.lock();
    if j.state == JobState::InProgress {
        j.processing_ms = started.elapsed().as_millis() as u64;
        j.state = JobState::JobComplete;
    }
}

fn apply(
    store: &mut super::super::store::Store,
    j: &IngestJob,
    cols: &[CsvColumn],
    row: &csv::StringRecord,
) -> Outcome {
    let obj = j.obj;
    let id_col = j.header.iter().position(|h| h.eq_ignore_ascii_case("Id"));
    let id_of = |row: &csv::StringRecord| -> Result<RecordId, RecordError> {
        let text = id_col.and_then(|c| row.get(c)).unwrap_or("");
        parse_id(text)
    };
    let mut assigns = input::from_csv_row(cols, row);
    let result: Result<(RecordId, bool), (Option<RecordId>, RecordError)> =
        match j.operation.as_str() {
            "insert" => store
                .create(obj, assigns, None)
                .map(|id| (id, true))
                .map_err(|e| (None, e)),
            "update" => match id_of(row) {
                Ok(id) => {
                    let id_field = store.schema.objects[obj].field_index("Id");
                    assigns.retain(|a| Some(a.field) != id_field);
                    store
                        .update(obj, id, assigns, None)
                        .map(|()| (id, false))
                        .map_err(|e| (Some(id), e))
                }
                Err(e) => Err((None, e)),
            },
            "upsert" => {
                let ext = j.external_id.clone().unwrap_or_default();
                let field = store.schema.objects[obj].field_index(&ext).unwrap_or(0);
                let key = j
                    .header
                    .iter()
                    .position(|h| h.eq_ignore_ascii_case(&ext))
                    .and_then(|c| row.get(c))
                    .unwrap_or("");
                if key.is_empty() {
                    Err((
                        None,
                        RecordError::with_fields(
                            "MISSING_ARGUMENT",
                            format!("{ext} not specified"),
                            vec![ext.clone()],
                        ),
                    ))
                } else {
                    store
                        .upsert(obj, field, key, assigns)
                        .map_err(|e| (None, e))
                }
            }
            "delete" => match id_of(row) {
                Ok(id) => store
                    .delete(obj, id)
                    .map(|()| (id, false))
                    .map_err(|e| (Some(id), e)),
                Err(e) => Err((None, e)),
            },
            _ => match id_of(row) {
                Ok(id) => store
                    .hard_delete(obj, id)
                    .map(|()| (id, false))
                    .map_err(|e| (Some(id), e)),
                Err(e) => Err((None, e)),
            },
        };
    match result {
        Ok((id, created)) => Outcome::Ok(id, created),
        Err((id, e)) => Outcome::Failed(id, e.bulk_cell()),
    }
}

/// `GET /jobs/ingest/{id}`.
pub async fn get_ingest(
    State(org): State<Arc<OrgState>>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let job = find(&org, &p)?;
    let info = job.lock().info(true, &v);
    Ok(json_response(StatusCode::OK, &info))
}

/// `GET /jobs/ingest`.
pub async fn list_ingest(
    State(org): State<Arc<OrgState>>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
) -> Response {
    let jobs: Vec<Json> = org
        .ingest_jobs
        .lock()
        .values()
        .map(|j| j.lock().info(false, &v))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({"done": true, "records": jobs, "nextRecordsUrl": null}),
    )
}

/// `DELETE /jobs/ingest/{id}`: 204.
pub async fn delete_ingest(
    State(org): State<Arc<OrgState>>,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let id = p.get("id").cloned().unwrap_or_default();
    org.ingest_jobs.lock().remove(&id).ok_or_else(no_job)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /jobs/ingest/{id}/{successfulResults|failedResults|unprocessedrecords}`
/// (`unprocessedRecords` too: the docs spell it both ways and clients follow either).
pub async fn ingest_results(
    State(org): State<Arc<OrgState>>,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let job = find(&org, &p)?;
    let kind = p.get("kind").cloned().unwrap_or_default();
    let j = job.lock();
    let d = j.delimiter.0;
    let nl = if j.crlf { "\r\n" } else { "\n" };
    let mut out = String::new();
    let line = |out: &mut String, first: &[&str], rec: Option<&csv::StringRecord>| {
        let mut cells: Vec<&str> = first.to_vec();
        match rec {
            Some(r) => cells.extend(r.iter()),
            None => cells.extend(j.header.iter().map(String::as_str)),
        }
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                out.push(d);
            }
            quote_into(c, out);
        }
        out.push_str(nl);
    };
    match kind.as_str() {
        "successfulResults" => {
            line(&mut out, &["sf__Id", "sf__Created"], None);
            for (o, r) in j.outcomes.iter().zip(&j.rows) {
                if let Outcome::Ok(id, created) = o {
                    line(
                        &mut out,
                        &[&id.to_string(), if *created { "true" } else { "false" }],
                        Some(r),
                    );
                }
            }
        }
        "failedResults" => {
            line(&mut out, &["sf__Id", "sf__Error"], None);
            for (o, r) in j.outcomes.iter().zip(&j.rows) {
                if let Outcome::Failed(id, err) = o {
                    let id = id.map(|i| i.to_string()).unwrap_or_default();
                    line(&mut out, &[&id, err], Some(r));
                }
            }
        }
        "unprocessedrecords" | "unprocessedRecords" => {
            line(&mut out, &[], None);
            if j.state.terminal() {
                for r in j.rows.iter().skip(j.outcomes.len()) {
                    line(&mut out, &[], Some(r));
                }
            }
        }
        _ => return Err(ApiError::not_found()),
    }
    let mut resp = out.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"));
    Ok(resp)
}
