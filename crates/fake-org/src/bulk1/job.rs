//! Bulk 1.0 jobs: the job table, `POST /job` (an XML `jobInfo` or, with
//! `Content-Type: application/json`, a JSON one), `GET /job/{id}` and `POST /job/{id}`
//! with state `Closed` or `Aborted`. A job's `contentType` picks the format of all its
//! later responses; `Sforce-Enable-PKChunking` on create turns on PK chunking.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::Value as Json;

use super::super::origin::{Api, change_origin, client_of};
use super::super::state::OrgState;
use super::batch::{Batch, BatchState};
use super::error::{Bulk1Error, Failure};
use super::routes::Bulk1Version;
use super::wire::{Fields, Format, Val, now, render};

/// Salesforce's default PK chunk size.
const DEFAULT_CHUNK: usize = 100_000;
/// The largest chunk size Salesforce accepts.
const MAX_CHUNK: usize = 250_000;

/// Bulk 1.0 state of one org: its jobs.
#[derive(Debug)]
pub struct Bulk1 {
    /// The org.
    pub org: Arc<OrgState>,
    jobs: Mutex<HashMap<String, Arc<Mutex<Job>>>>,
}

impl Bulk1 {
    /// No jobs yet.
    pub fn new(org: Arc<OrgState>) -> Bulk1 {
        Bulk1 {
            org,
            jobs: Mutex::new(HashMap::new()),
        }
    }

    /// The job `id`, or `InvalidJob`.
    pub fn job(&self, id: &str) -> Result<Arc<Mutex<Job>>, Bulk1Error> {
        self.jobs
            .lock()
            .get(id)
            .cloned()
            .ok_or_else(|| Bulk1Error::InvalidJob(format!("Invalid job id: {id}")))
    }

    /// The job a request's path names (`{job}`); unknown, `InvalidJob` in the format
    /// the request was sent in.
    pub fn job_of(
        &self,
        headers: &HeaderMap,
        p: &HashMap<String, String>,
    ) -> Result<Arc<Mutex<Job>>, Failure> {
        let id = p.get("job").map(String::as_str).unwrap_or("");
        self.job(id)
            .map_err(|e| e.with(Format::of_request(headers)))
    }
}

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Taking batches.
    Open,
    /// No more batches; queued ones still run.
    Closed,
    /// Stopped; queued batches are not processed.
    Aborted,
}

impl JobState {
    fn as_str(self) -> &'static str {
        match self {
            JobState::Open => "Open",
            JobState::Closed => "Closed",
            JobState::Aborted => "Aborted",
        }
    }
}

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `insert`.
    Insert,
    /// `update`.
    Update,
    /// `upsert` on the job's external Id field.
    Upsert,
    /// `delete` (to the recycle bin).
    Delete,
    /// `hardDelete`.
    HardDelete,
    /// `query`.
    Query,
    /// `queryAll` (deleted rows too).
    QueryAll,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "insert" => Op::Insert,
            "update" => Op::Update,
            "upsert" => Op::Upsert,
            "delete" => Op::Delete,
            "hardDelete" => Op::HardDelete,
            "query" => Op::Query,
            "queryAll" => Op::QueryAll,
            _ => return None,
        })
    }

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Insert => "insert",
            Op::Update => "update",
            Op::Upsert => "upsert",
            Op::Delete => "delete",
            Op::HardDelete => "hardDelete",
            Op::Query => "query",
            Op::QueryAll => "queryAll",
        }
    }

    /// Whether the job's batches are SOQL.
    pub fn is_query(self) -> bool {
        matches!(self, Op::Query | Op::QueryAll)
    }
}

/// PK chunking settings from `Sforce-Enable-PKChunking`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkChunking {
    /// Records per chunk.
    pub size: usize,
    /// The Id chunking starts from (inclusive).
    pub start_row: Option<String>,
}

/// A Bulk 1.0 job.
#[derive(Debug)]
pub struct Job {
    /// `750…`.
    pub id: String,
    /// The operation.
    pub op: Op,
    /// The object's API name.
    pub object: String,
    /// The object's index.
    pub obj: usize,
    /// `externalIdFieldName` (upsert).
    pub external_id: Option<String>,
    /// `CSV` or `JSON`.
    pub content: Format,
    /// `Parallel` or `Serial`.
    pub concurrency: &'static str,
    /// State.
    pub state: JobState,
    /// When created.
    pub created: String,
    /// When last changed.
    pub modstamp: String,
    /// `62.0`.
    pub api_version: f64,
    /// PK chunking, for query jobs.
    pub pk_chunking: Option<PkChunking>,
    /// Batches in creation order.
    pub batches: Vec<Arc<Mutex<Batch>>>,
    /// Batches of a job are processed one at a time, in order.
    pub lane: Arc<tokio::sync::Mutex<()>>,
    /// `changeOrigin` of its writes: the version and client of the creating request.
    pub origin: String,
}

impl Job {
    /// The `jobInfo` fields.
    pub fn info(&self, user: &str) -> Fields {
        let mut counts = [0u64; 4];
        let (mut processed, mut failed, mut ms) = (0u64, 0u64, 0u64);
        for b in &self.batches {
            let b = b.lock();
            match b.state {
                BatchState::Queued => counts[0] += 1,
                BatchState::InProgress => counts[1] += 1,
                BatchState::Completed => counts[2] += 1,
                BatchState::Failed => counts[3] += 1,
                BatchState::NotProcessed => {}
            }
            processed += b.processed as u64;
            failed += b.failed as u64;
            ms += b.processing_ms;
        }
        let content = match self.content {
            Format::Json => "JSON",
            Format::Xml => "CSV",
        };
        let mut f: Fields = vec![
            ("id", Val::S(self.id.clone())),
            ("operation", Val::S(self.op.as_str().into())),
            ("object", Val::S(self.object.clone())),
            ("createdById", Val::S(user.into())),
            ("createdDate", Val::S(self.created.clone())),
            ("systemModstamp", Val::S(self.modstamp.clone())),
            ("state", Val::S(self.state.as_str().into())),
            ("concurrencyMode", Val::S(self.concurrency.into())),
            ("contentType", Val::S(content.into())),
            ("numberBatchesQueued", Val::N(counts[0])),
            ("numberBatchesInProgress", Val::N(counts[1])),
            ("numberBatchesCompleted", Val::N(counts[2])),
            ("numberBatchesFailed", Val::N(counts[3])),
            ("numberBatchesTotal", Val::N(self.batches.len() as u64)),
            ("numberRecordsProcessed", Val::N(processed)),
            ("numberRetries", Val::N(0)),
            ("apiVersion", Val::F(self.api_version)),
            ("numberRecordsFailed", Val::N(failed)),
            ("totalProcessingTime", Val::N(ms)),
            ("apiActiveProcessingTime", Val::N(ms)),
            ("apexProcessingTime", Val::N(0)),
        ];
        if let Some(e) = &self.external_id {
            f.insert(3, ("externalIdFieldName", Val::S(e.clone())));
        }
        f
    }

    /// The format of this job's bodies.
    pub fn format(&self) -> Format {
        self.content
    }
}

/// A `jobInfo` request, from XML or JSON.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobInfoIn {
    #[serde(default)]
    operation: Option<String>,
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    external_id_field_name: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    concurrency_mode: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

/// Reads a `jobInfo` body in `format`.
fn parse_info(format: Format, body: &[u8]) -> Result<JobInfoIn, Bulk1Error> {
    match format {
        Format::Xml => {
            let text = std::str::from_utf8(body)
                .map_err(|_| Bulk1Error::ClientInput("the jobInfo is not UTF-8".into()))?;
            quick_xml::de::from_str(text).map_err(|e| {
                Bulk1Error::ClientInput(format!("Unable to parse the XML jobInfo: {e}"))
            })
        }
        Format::Json => {
            // Some clients send concurrencyMode as 0 (Parallel) / 1 (Serial).
            let mut v: Json = serde_json::from_slice(body).map_err(|e| {
                Bulk1Error::ClientInput(format!("Unable to parse the JSON jobInfo: {e}"))
            })?;
            if let Some(n) = v.get("concurrencyMode").and_then(Json::as_u64) {
                v["concurrencyMode"] = Json::from(if n == 1 { "Serial" } else { "Parallel" });
            }
            serde_json::from_value(v).map_err(|e| {
                Bulk1Error::ClientInput(format!("Unable to parse the JSON jobInfo: {e}"))
            })
        }
    }
}

/// Parses `Sforce-Enable-PKChunking`: `true`, `false`, or `chunkSize=N; startRow=ID`.
pub fn parse_pk_chunking(value: &str) -> Result<Option<PkChunking>, Bulk1Error> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("false") {
        return Ok(None);
    }
    let mut out = PkChunking {
        size: DEFAULT_CHUNK,
        start_row: None,
    };
    if v.eq_ignore_ascii_case("true") {
        return Ok(Some(out));
    }
    for part in v.split([';', ',']).map(str::trim).filter(|p| !p.is_empty()) {
        let (k, val) = part.split_once('=').unwrap_or((part, ""));
        match k.trim() {
            k if k.eq_ignore_ascii_case("chunkSize") => {
                out.size = val
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_CHUNK).contains(n))
                    .ok_or_else(|| {
                        Bulk1Error::InvalidJob(format!(
                            "Invalid chunkSize '{}' in Sforce-Enable-PKChunking: use 1 to {MAX_CHUNK}",
                            val.trim()
                        ))
                    })?;
            }
            k if k.eq_ignore_ascii_case("startRow") => out.start_row = Some(val.trim().into()),
            // `parent=` names the parent of a sharing object; chunking is by the
            // queried object's Id here either way.
            k if k.eq_ignore_ascii_case("parent") => {}
            k if k.eq_ignore_ascii_case("true") => {}
            other => {
                return Err(Bulk1Error::InvalidJob(format!(
                    "Unknown option '{other}' in Sforce-Enable-PKChunking: use chunkSize=N, startRow=ID or parent=OBJECT"
                )));
            }
        }
    }
    Ok(Some(out))
}

/// `POST /job`.
pub async fn create(
    State(b1): State<Arc<Bulk1>>,
    Extension(Bulk1Version(version)): Extension<Bulk1Version>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failure> {
    let req_format = Format::of_request(&headers);
    let fail = |e: Bulk1Error| e.with(req_format);
    let spec = parse_info(req_format, &body).map_err(fail)?;
    let op_name = spec.operation.as_deref().unwrap_or("");
    let op = Op::parse(op_name).ok_or_else(|| {
        fail(Bulk1Error::InvalidJob(format!(
            "Invalid operation '{op_name}': use insert, update, upsert, delete, hardDelete, query or queryAll"
        )))
    })?;
    let content = match spec.content_type.as_deref().unwrap_or("CSV") {
        "CSV" => Format::Xml,
        "JSON" => Format::Json,
        other => {
            return Err(fail(Bulk1Error::InvalidJob(format!(
                "contentType {other} is not served by the fake org: use CSV or JSON"
            ))));
        }
    };
    let concurrency = match spec.concurrency_mode.as_deref().unwrap_or("Parallel") {
        "Parallel" => "Parallel",
        "Serial" => "Serial",
        other => {
            return Err(fail(Bulk1Error::InvalidJob(format!(
                "Invalid concurrencyMode '{other}': use Parallel or Serial"
            ))));
        }
    };
    let object_in = spec.object.as_deref().unwrap_or("");
    let (obj, object, external_id) = {
        let store = b1.org.store.read();
        let obj = store.schema.index(object_in).ok_or_else(|| {
            fail(Bulk1Error::InvalidJob(format!(
                "Unable to find object: {object_in}"
            )))
        })?;
        let def = &store.schema.objects[obj];
        let ext = if op == Op::Upsert {
            let name = spec.external_id_field_name.clone().unwrap_or_default();
            let f = def
                .field(&name)
                .filter(|f| f.external_id || f.name == "Id")
                .ok_or_else(|| {
                    fail(Bulk1Error::InvalidJob(format!(
                        "Field name provided, {name} does not match an External ID for {}",
                        def.name
                    )))
                })?;
            Some(f.name.clone())
        } else {
            None
        };
        (obj, def.name.clone(), ext)
    };
    let pk_chunking = match headers
        .get("Sforce-Enable-PKChunking")
        .and_then(|v| v.to_str().ok())
    {
        Some(v) if op.is_query() => parse_pk_chunking(v).map_err(fail)?,
        _ => None,
    };
    let id = b1.org.new_id(b"750");
    let created = now();
    let job = Job {
        id: id.clone(),
        op,
        object,
        obj,
        external_id,
        content,
        concurrency,
        state: JobState::Open,
        modstamp: created.clone(),
        created,
        api_version: version,
        pk_chunking,
        batches: Vec::new(),
        lane: Arc::new(tokio::sync::Mutex::new(())),
        origin: change_origin(
            Api::Bulk,
            &format!("{version:.1}"),
            client_of(&headers).as_deref(),
        ),
    };
    let user = b1.org.store.read().user.to_string();
    let info = job.info(&user);
    b1.jobs.lock().insert(id, Arc::new(Mutex::new(job)));
    Ok(render(content, StatusCode::CREATED, "jobInfo", info))
}

/// `GET /job/{id}`.
pub async fn get(
    State(b1): State<Arc<Bulk1>>,
    headers: HeaderMap,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let job = b1.job_of(&headers, &p)?;
    let user = b1.org.store.read().user.to_string();
    let j = job.lock();
    Ok(render(j.format(), StatusCode::OK, "jobInfo", j.info(&user)))
}

/// `POST /job/{id}` with a `jobInfo` whose state is `Closed` or `Aborted`.
pub async fn update(
    State(b1): State<Arc<Bulk1>>,
    headers: HeaderMap,
    Path(p): Path<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, Failure> {
    let req_format = Format::of_request(&headers);
    let job = b1.job_of(&headers, &p)?;
    let spec = parse_info(req_format, &body).map_err(|e| e.with(req_format))?;
    let user = b1.org.store.read().user.to_string();
    let mut j = job.lock();
    let format = j.format();
    let want = spec.state.as_deref().unwrap_or("");
    match want {
        "Closed" | "Aborted" => {}
        other => {
            return Err(Bulk1Error::InvalidJobState(format!(
                "Invalid state '{other}': a job can be set to Closed or Aborted"
            ))
            .with(format));
        }
    }
    if j.state != JobState::Open && !(want == "Aborted" && j.state == JobState::Closed) {
        return Err(Bulk1Error::InvalidJobState(format!(
            "{} Job cannot be set to {want}",
            j.state.as_str()
        ))
        .with(format));
    }
    if want == "Aborted" {
        j.state = JobState::Aborted;
        for b in &j.batches {
            let mut b = b.lock();
            if b.state == BatchState::Queued {
                b.state = BatchState::NotProcessed;
            }
        }
    } else {
        j.state = JobState::Closed;
    }
    j.modstamp = now();
    Ok(render(format, StatusCode::OK, "jobInfo", j.info(&user)))
}
