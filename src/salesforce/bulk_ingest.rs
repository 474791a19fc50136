//! Bulk API 2.0 ingest: the rows are written as CSV and split into as many jobs as the
//! upload limit needs (100 MB raw by default, under Salesforce's 150 MB after base64);
//! each job is created, uploaded once, closed, then all are polled together and their
//! successful, failed and unprocessed results are parsed per record, so callers learn
//! exactly which records failed and why.
//!
//! Values are sent as given: an empty string leaves a field unchanged and `#N/A` sets
//! it to null, as the Bulk API defines.

use bytes::Bytes;
use reqwest::Method;
use serde_json::json;

use super::bulk_query::JobInfo;
use super::client::Client;
use super::error::SfError;
use super::request::{Api, Body, Request};

/// What an ingest job does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Create records.
    Insert,
    /// Update records by `Id`.
    Update,
    /// Create or update records by an external-Id field.
    Upsert {
        /// The external-Id field (`Orgpool_Key__c`).
        external_id: String,
    },
    /// Delete records by `Id` (to the recycle bin).
    Delete,
    /// Delete records by `Id` for good.
    HardDelete,
}

impl Operation {
    /// The API's name for it.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Upsert { .. } => "upsert",
            Operation::Delete => "delete",
            Operation::HardDelete => "hardDelete",
        }
    }
}

/// A record Salesforce saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedRecord {
    /// Its Id.
    pub id: String,
    /// Whether it was created (not updated).
    pub created: bool,
    /// The values sent, in [`IngestOutcome::header`] order.
    pub values: Vec<String>,
}

/// A record Salesforce refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRecord {
    /// Its Id, when it had one.
    pub id: Option<String>,
    /// The error code (`UNABLE_TO_LOCK_ROW`, `REQUIRED_FIELD_MISSING`, ...).
    pub code: String,
    /// Salesforce's message.
    pub message: String,
    /// Fields named by the error.
    pub fields: Vec<String>,
    /// The values sent, in [`IngestOutcome::header`] order.
    pub values: Vec<String>,
}

/// What became of every record sent.
#[derive(Debug, Clone, Default)]
pub struct IngestOutcome {
    /// The jobs, in their final state.
    pub jobs: Vec<JobInfo>,
    /// The columns sent.
    pub header: Vec<String>,
    /// Saved records.
    pub saved: Vec<SavedRecord>,
    /// Refused records.
    pub failed: Vec<FailedRecord>,
    /// Records a failed or aborted job never processed (values in header order).
    pub unprocessed: Vec<Vec<String>>,
}

impl IngestOutcome {
    /// The index of a column in `header`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
    }
}

/// CSV parts of at most `max_bytes` each, every part with the header.
#[derive(Debug)]
pub struct CsvParts {
    header_line: Vec<u8>,
    max_bytes: usize,
    parts: Vec<Vec<u8>>,
}

impl CsvParts {
    /// Empty parts for `header`.
    pub fn new(header: &[String], max_bytes: usize) -> CsvParts {
        let mut header_line = Vec::new();
        write_row(&mut header_line, header.iter().map(String::as_str));
        CsvParts {
            header_line,
            max_bytes,
            parts: Vec::new(),
        }
    }

    /// Adds a row, starting a new part when this one would grow past the limit.
    pub fn push<'a>(&mut self, row: impl IntoIterator<Item = &'a str>) -> Result<(), SfError> {
        let mut line = Vec::new();
        write_row(&mut line, row);
        if self.header_line.len() + line.len() > self.max_bytes {
            return Err(SfError::permanent(
                "RECORD_TOO_LARGE",
                format!(
                    "one record is {} bytes, over the {}-byte upload limit",
                    line.len(),
                    self.max_bytes
                ),
            ));
        }
        match self.parts.last_mut() {
            Some(p) if p.len() + line.len() <= self.max_bytes => p.extend_from_slice(&line),
            _ => {
                let mut p = self.header_line.clone();
                p.extend_from_slice(&line);
                self.parts.push(p);
            }
        }
        Ok(())
    }

    /// The parts.
    pub fn into_parts(self) -> Vec<Vec<u8>> {
        self.parts
    }
}

fn write_row<'a>(out: &mut Vec<u8>, row: impl IntoIterator<Item = &'a str>) {
    for (i, v) in row.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if v.contains([',', '"', '\n', '\r']) || v.starts_with(' ') || v.ends_with(' ') {
            out.push(b'"');
            out.extend_from_slice(v.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(v.as_bytes());
        }
    }
    out.push(b'\n');
}

impl Client {
    /// Sends `rows` (values in `header` order) to `object` with `op`, and waits for
    /// every job to finish.
    pub async fn bulk_ingest(
        &self,
        object: &str,
        op: &Operation,
        header: &[String],
        rows: impl IntoIterator<Item = Vec<String>>,
    ) -> Result<IngestOutcome, SfError> {
        let mut parts = CsvParts::new(header, self.config().ingest_max_bytes);
        for row in rows {
            if row.len() != header.len() {
                return Err(SfError::permanent(
                    "INVALID_ROW",
                    format!(
                        "a row has {} values for {} columns",
                        row.len(),
                        header.len()
                    ),
                ));
            }
            parts.push(row.iter().map(String::as_str))?;
        }
        let mut ids = Vec::new();
        for part in parts.into_parts() {
            match self.ingest_job(object, op, part).await {
                Ok(id) => ids.push(id),
                Err(e) => {
                    for id in &ids {
                        self.abort_ingest(id).await;
                    }
                    return Err(e);
                }
            }
        }
        let mut outcome = IngestOutcome {
            header: header.to_vec(),
            ..Default::default()
        };
        let started = std::time::Instant::now();
        for id in ids {
            let info = self.wait_for_job(Api::BulkIngest, "ingest", &id).await?;
            let waited = started.elapsed();
            self.collect_results(&id, header.len(), &mut outcome)
                .await?;
            tracing::debug!(
                job = %id,
                object,
                processed = info.number_records_processed,
                waited_ms = waited.as_millis() as u64,
                results_ms = (started.elapsed() - waited).as_millis() as u64,
                "ingest job done"
            );
            outcome.jobs.push(info);
        }
        Ok(outcome)
    }

    /// Creates, uploads and closes one job; returns its Id.
    async fn ingest_job(
        &self,
        object: &str,
        op: &Operation,
        csv: Vec<u8>,
    ) -> Result<String, SfError> {
        let mut spec = json!({
            "object": object,
            "operation": op.name(),
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        });
        if let Operation::Upsert { external_id } = op {
            spec["externalIdFieldName"] = json!(external_id);
        }
        let job: JobInfo = self
            .get_json(Request::new(Api::BulkIngest, Method::POST, "/jobs/ingest").json(spec))
            .await?;
        // One upload per job: a replayed PUT would be refused, so it is never replayed.
        let mut upload = Request::new(
            Api::BulkIngest,
            Method::PUT,
            format!("/jobs/ingest/{}/batches", job.id),
        )
        .not_replay_safe();
        upload.body = Some(Body::Bytes("text/csv", Bytes::from(csv)));
        if let Err(e) = self.send(&upload).await {
            self.abort_ingest(&job.id).await;
            return Err(e);
        }
        let _: JobInfo = self
            .get_json(
                Request::new(
                    Api::BulkIngest,
                    Method::PATCH,
                    format!("/jobs/ingest/{}", job.id),
                )
                .json(json!({"state": "UploadComplete"})),
            )
            .await?;
        Ok(job.id)
    }

    /// Aborts a job, best effort (it expires on its own otherwise).
    async fn abort_ingest(&self, id: &str) {
        let req = Request::new(Api::BulkIngest, Method::PATCH, format!("/jobs/ingest/{id}"))
            .json(json!({"state": "Aborted"}));
        if let Err(e) = self.send(&req).await {
            tracing::warn!(job = %id, error = %e, "could not abort ingest job");
        }
    }

    async fn results_csv(
        &self,
        id: &str,
        kind: &str,
    ) -> Result<csv::Reader<std::io::Cursor<Bytes>>, SfError> {
        let resp = self
            .send(
                &Request::new(
                    Api::BulkIngest,
                    Method::GET,
                    format!("/jobs/ingest/{id}/{kind}/"),
                )
                .header("Accept", "text/csv"),
            )
            .await?;
        let body = resp
            .bytes()
            .await
            .map_err(|e| SfError::from_transport(&e))?;
        Ok(csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(std::io::Cursor::new(body)))
    }

    async fn collect_results(
        &self,
        id: &str,
        width: usize,
        out: &mut IngestOutcome,
    ) -> Result<(), SfError> {
        let bad = |e: csv::Error| {
            SfError::permanent(
                "UNEXPECTED_RESPONSE",
                format!("ingest job {id} results: {e}"),
            )
        };
        let mut r = self.results_csv(id, "successfulResults").await?;
        for rec in r.records() {
            let rec = rec.map_err(bad)?;
            out.saved.push(SavedRecord {
                id: rec.get(0).unwrap_or_default().to_string(),
                created: rec.get(1) == Some("true"),
                values: tail(&rec, 2, width),
            });
        }
        let mut r = self.results_csv(id, "failedResults").await?;
        for rec in r.records() {
            let rec = rec.map_err(bad)?;
            let (code, message, fields) = parse_error_cell(rec.get(1).unwrap_or_default());
            out.failed.push(FailedRecord {
                id: rec.get(0).filter(|s| !s.is_empty()).map(str::to_string),
                code,
                message,
                fields,
                values: tail(&rec, 2, width),
            });
        }
        let mut r = self.results_csv(id, "unprocessedrecords").await?;
        for rec in r.records() {
            let rec = rec.map_err(bad)?;
            out.unprocessed.push(tail(&rec, 0, width));
        }
        Ok(())
    }
}

fn tail(rec: &csv::StringRecord, skip: usize, width: usize) -> Vec<String> {
    rec.iter()
        .skip(skip)
        .take(width)
        .map(str::to_string)
        .collect()
}

/// Splits an `sf__Error` cell, `CODE:message:field,field --`.
pub fn parse_error_cell(cell: &str) -> (String, String, Vec<String>) {
    let cell = cell.trim().trim_end_matches("--").trim_end();
    let Some((code, rest)) = cell.split_once(':') else {
        return ("UNKNOWN_ERROR".into(), cell.to_string(), Vec::new());
    };
    let (message, fields) = match rest.rsplit_once(':') {
        Some((m, f)) => (m, f),
        None => (rest, ""),
    };
    let fields = fields
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    (code.trim().to_string(), message.trim().to_string(), fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_error_cells() {
        assert_eq!(
            parse_error_cell(
                "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 200 records: 001x,001y:--"
            ),
            (
                "UNABLE_TO_LOCK_ROW".into(),
                "unable to obtain exclusive access to this record or 200 records: 001x,001y".into(),
                vec![]
            )
        );
        assert_eq!(
            parse_error_cell("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"),
            (
                "REQUIRED_FIELD_MISSING".into(),
                "Required fields are missing: [Name]".into(),
                vec!["Name".into()]
            )
        );
    }

    #[test]
    fn splits_parts_under_the_limit_each_with_the_header() {
        let header = vec!["Name".to_string(), "Note".to_string()];
        let mut parts = CsvParts::new(&header, 40);
        for i in 0..6 {
            parts.push([format!("n{i}").as_str(), "a, \"b\""]).unwrap();
        }
        let parts = parts.into_parts();
        assert!(parts.len() > 1);
        for p in &parts {
            assert!(p.len() <= 40, "{}", String::from_utf8_lossy(p));
            assert!(p.starts_with(b"Name,Note\n"));
        }
        let rows: usize = parts
            .iter()
            .map(|p| p.iter().filter(|b| **b == b'\n').count() - 1)
            .sum();
        assert_eq!(rows, 6);
        let mut tiny = CsvParts::new(&header, 12);
        assert!(tiny.push(["a very long value", "x"]).is_err());
    }
}
