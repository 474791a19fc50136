//! Bulk API 2.0 query: create a job, poll it with backoff until it completes, then read
//! its results as one stream of CSV bytes: the header once, then every page's rows, page
//! by page (`maxRecords`, `Sforce-Locator`), gzip-compressed on the wire. Nothing is
//! buffered beyond the chunk in hand, so a caller can pipe it into `COPY ... FROM STDIN`.
//!
//! Each page's rows are counted as they pass and checked against its
//! `Sforce-NumberOfRecords`, and the total against the job's `numberRecordsProcessed`; a
//! mismatch is an error. A page whose body breaks off is fetched again (its locator is
//! stable) and resumes after the bytes already delivered.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::backoff::Backoff;
use super::client::Client;
use super::csv_rows::RecordScanner;
use super::error::{ErrorClass, SfError};
use super::request::{Api, Request};
use super::rest::Scope;
use crate::telemetry::salesforce as metrics;

/// A Bulk job's status, as `GET /jobs/{query|ingest}/{id}` reports it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobInfo {
    /// Job Id (`750...`).
    pub id: String,
    /// `query`, `queryAll`, `insert`, `upsert`, ...
    #[serde(default)]
    pub operation: String,
    /// `Open`, `UploadComplete`, `InProgress`, `JobComplete`, `Failed`, `Aborted`.
    pub state: String,
    /// Records processed so far.
    #[serde(default)]
    pub number_records_processed: u64,
    /// Records that failed (ingest).
    #[serde(default)]
    pub number_records_failed: u64,
    /// Why the job failed.
    #[serde(default)]
    pub error_message: Option<String>,
}

impl JobInfo {
    /// Whether the job has stopped.
    pub fn is_final(&self) -> bool {
        matches!(self.state.as_str(), "JobComplete" | "Failed" | "Aborted")
    }
}

/// The state as a metric label.
pub fn state_label(state: &str) -> &'static str {
    match state {
        "JobComplete" => "job_complete",
        "Failed" => "failed",
        "Aborted" => "aborted",
        _ => "other",
    }
}

impl Client {
    /// Runs `soql` as a Bulk query job and returns its results once the job completes.
    pub async fn bulk_query(&self, soql: &str, scope: Scope) -> Result<BulkResults, SfError> {
        let operation = if scope == Scope::All {
            "queryAll"
        } else {
            "query"
        };
        let job: JobInfo = self
            .get_json(
                Request::new(Api::BulkQuery, Method::POST, "/jobs/query").json(json!({
                    "operation": operation,
                    "query": soql,
                    "contentType": "CSV",
                    "columnDelimiter": "COMMA",
                    "lineEnding": "LF",
                })),
            )
            .await?;
        let done = self.wait_for_job(Api::BulkQuery, "query", &job.id).await?;
        if done.state != "JobComplete" {
            return Err(SfError::Permanent {
                status: 0,
                code: "BULK_JOB_FAILED".into(),
                message: format!(
                    "Bulk query job {} ended {}: {}",
                    done.id,
                    done.state,
                    done.error_message.unwrap_or_default()
                ),
            });
        }
        Ok(BulkResults {
            client: self.clone(),
            job_id: done.id,
            expected: done.number_records_processed,
            locator: None,
            finished: false,
            rows: 0,
            pages: 0,
            header: Vec::new(),
            page: None,
        })
    }

    /// Polls a Bulk job until it reaches a final state.
    pub(super) async fn wait_for_job(
        &self,
        api: Api,
        kind: &str,
        id: &str,
    ) -> Result<JobInfo, SfError> {
        // Each poll waits a third of the time the job has taken so far (50 ms to 10 s):
        // a job is seen done at most a third late, and a long job costs only a
        // logarithmic number of polls against the API allowance.
        let started = std::time::Instant::now();
        loop {
            let info: JobInfo = self
                .get_json(Request::new(api, Method::GET, format!("/jobs/{kind}/{id}")))
                .await?;
            if info.is_final() {
                let op = if info.operation.is_empty() {
                    kind
                } else {
                    &info.operation
                };
                metrics::BulkJobEnded {
                    operation: op,
                    state: state_label(&info.state),
                }
                .emit();
                return Ok(info);
            }
            tokio::time::sleep(poll_delay(started.elapsed())).await;
        }
    }
}

/// The wait before the next status poll of a job that has run for `elapsed`.
fn poll_delay(elapsed: Duration) -> Duration {
    (elapsed / 3).clamp(Duration::from_millis(50), Duration::from_secs(10))
}

/// The results of a completed Bulk query job.
pub struct BulkResults {
    client: Client,
    job_id: String,
    expected: u64,
    /// `None` before the first page.
    locator: Option<String>,
    finished: bool,
    rows: u64,
    pages: u64,
    /// The first page's header row, to check later pages against.
    header: Vec<u8>,
    page: Option<Page>,
}

impl std::fmt::Debug for BulkResults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkResults")
            .field("job_id", &self.job_id)
            .field("expected", &self.expected)
            .field("rows", &self.rows)
            .field("pages", &self.pages)
            .finish()
    }
}

struct Page {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    declared: u64,
    next: String,
    scanner: RecordScanner,
    /// Decoded bytes of this page consumed so far (for resuming after a break).
    consumed: u64,
    /// Whether this page's header row has passed (pages after the first drop it).
    header_done: bool,
    header_seen: Vec<u8>,
}

impl BulkResults {
    /// The job's Id.
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// Rows the job says it produced.
    pub fn expected_rows(&self) -> u64 {
        self.expected
    }

    /// Data rows delivered so far (all counted pages).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Pages read so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The next chunk of CSV: the header row first, then data rows; `None` at the end,
    /// once every count has been checked.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, SfError> {
        loop {
            if self.page.is_none() {
                if self.finished {
                    return Ok(None);
                }
                let page =
                    Self::open_page(&self.client, &self.job_id, self.locator.as_deref(), 0).await?;
                self.page = Some(page);
            }
            let page = self.page.as_mut().expect("page is open");
            match page.body.next().await {
                Some(Ok(chunk)) => {
                    if let Some(out) = self.take(chunk)? {
                        return Ok(Some(out));
                    }
                }
                Some(Err(e)) => {
                    let err = SfError::from_transport(&e);
                    tracing::warn!(job = %self.job_id, error = %err, "results page broke off; fetching it again");
                    self.resume_page(err).await?;
                }
                None => self.end_page()?,
            }
        }
    }

    /// All chunks as a stream.
    pub fn into_stream(self) -> BoxStream<'static, Result<Bytes, SfError>> {
        futures::stream::try_unfold(self, |mut r| async move {
            Ok(r.next_chunk().await?.map(|c| (c, r)))
        })
        .boxed()
    }

    /// Requests a results page (an associated fn: `self` holds a non-`Sync` body
    /// stream, so it must not be borrowed shared across an await).
    async fn open_page(
        client: &Client,
        job_id: &str,
        locator: Option<&str>,
        skip: u64,
    ) -> Result<Page, SfError> {
        let cfg = client.config();
        let mut req = Request::new(
            Api::BulkQuery,
            Method::GET,
            format!("/jobs/query/{job_id}/results"),
        )
        .param("maxRecords", cfg.bulk_page_rows.to_string())
        .header("Accept", "text/csv");
        if let Some(l) = locator {
            req = req.param("locator", l);
        }
        let resp = client.send(&req).await?;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let declared = header("Sforce-NumberOfRecords")
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| {
                SfError::permanent(
                    "UNEXPECTED_RESPONSE",
                    "a results page came without Sforce-NumberOfRecords",
                )
            })?;
        let next = header("Sforce-Locator").unwrap_or_else(|| "null".into());
        let mut body = resp.bytes_stream().boxed();
        // Resuming: drop what was already delivered from this page.
        let mut left = skip;
        let mut first = None;
        while left > 0 {
            match body.next().await {
                Some(Ok(c)) if (c.len() as u64) <= left => left -= c.len() as u64,
                Some(Ok(c)) => {
                    first = Some(c.slice(left as usize..));
                    left = 0;
                }
                Some(Err(e)) => return Err(SfError::from_transport(&e)),
                None => {
                    return Err(SfError::permanent(
                        "UNEXPECTED_RESPONSE",
                        "a results page fetched again was shorter than before",
                    ));
                }
            }
        }
        if let Some(c) = first {
            body = futures::stream::once(async move { Ok(c) })
                .chain(body)
                .boxed();
        }
        Ok(Page {
            body,
            declared,
            next,
            scanner: RecordScanner::default(),
            consumed: skip,
            header_done: false,
            header_seen: Vec::new(),
        })
    }

    /// Fetches the current page again after its body broke off, within the client's
    /// outage wait.
    async fn resume_page(&mut self, err: SfError) -> Result<(), SfError> {
        let cfg = self.client.config();
        let mut backoff = Backoff::new(cfg.backoff_base, cfg.backoff_max);
        let started = Instant::now();
        let mut old = self.page.take().expect("page is open");
        loop {
            tokio::time::sleep(backoff.next_delay(None)).await;
            let reopened = Self::open_page(
                &self.client,
                &self.job_id,
                self.locator.as_deref(),
                old.consumed,
            )
            .await;
            match reopened {
                Ok(mut p) => {
                    // Keep the counting state: the new body continues where the old broke.
                    p.scanner = std::mem::take(&mut old.scanner);
                    p.header_done = old.header_done;
                    p.header_seen = std::mem::take(&mut old.header_seen);
                    self.page = Some(p);
                    return Ok(());
                }
                Err(e)
                    if matches!(e.class(), ErrorClass::Outage | ErrorClass::Limit)
                        && started.elapsed() < cfg.outage_wait =>
                {
                    continue;
                }
                Err(_) if started.elapsed() >= cfg.outage_wait => return Err(err),
                Err(e) => return Err(e),
            }
        }
    }

    /// Counts a chunk and drops a repeated header; returns what to hand on.
    fn take(&mut self, chunk: Bytes) -> Result<Option<Bytes>, SfError> {
        let first_page = self.pages == 0;
        let page = self.page.as_mut().expect("page is open");
        page.consumed += chunk.len() as u64;
        let header_end = page.scanner.scan(&chunk);
        let mut from = 0;
        if !page.header_done {
            let upto = header_end.unwrap_or(chunk.len());
            page.header_seen.extend_from_slice(&chunk[..upto]);
            if header_end.is_some() {
                page.header_done = true;
                let seen = std::mem::take(&mut page.header_seen);
                if first_page {
                    self.header = seen;
                } else if seen != self.header {
                    return Err(SfError::permanent(
                        "RESULTS_MISMATCH",
                        format!(
                            "Bulk job {}: page {} has different columns than page 1",
                            self.job_id,
                            self.pages + 1
                        ),
                    ));
                }
            }
            if !first_page {
                from = upto;
            }
        }
        let rest = chunk.slice(from..);
        Ok((!rest.is_empty()).then_some(rest))
    }

    /// Checks the finished page's row count and moves to the next.
    fn end_page(&mut self) -> Result<(), SfError> {
        let page = self.page.take().expect("page is open");
        let rows = page.scanner.records().saturating_sub(1);
        if page.scanner.in_quotes() || rows != page.declared {
            return Err(SfError::permanent(
                "RESULTS_MISMATCH",
                format!(
                    "Bulk job {}: page {} held {rows} rows but Sforce-NumberOfRecords said {}",
                    self.job_id,
                    self.pages + 1,
                    page.declared
                ),
            ));
        }
        self.rows += rows;
        self.pages += 1;
        if page.next == "null" || page.next.is_empty() {
            self.finished = true;
            if self.rows != self.expected {
                return Err(SfError::permanent(
                    "RESULTS_MISMATCH",
                    format!(
                        "Bulk job {}: read {} rows but the job processed {}",
                        self.job_id, self.rows, self.expected
                    ),
                ));
            }
        } else {
            self.locator = Some(page.next);
        }
        Ok(())
    }
}

#[cfg(test)]
mod poll_tests {
    use super::*;

    #[test]
    fn polls_follow_the_job_age_within_bounds() {
        assert_eq!(poll_delay(Duration::ZERO), Duration::from_millis(50));
        assert_eq!(poll_delay(Duration::from_secs(3)), Duration::from_secs(1));
        assert_eq!(
            poll_delay(Duration::from_secs(600)),
            Duration::from_secs(10)
        );
    }
}
