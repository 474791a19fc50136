//! The few HTTP calls the demo and the benchmarks make against an org (client-credentials
//! login, JSON GETs, a record PATCH, a Bulk API 2.0 query read page by page), in one place. The full
//! Salesforce client with retries and budgets is a separate module; this stays minimal.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Value as Json, json};

/// API version the demo and benchmarks speak.
const VERSION: &str = "v62.0";

/// A call to the org failed. The access token and client secret travel in headers and
/// form bodies, never in URLs, so no message carries them.
#[derive(Debug, thiserror::Error)]
pub enum OrgSessionError {
    /// The request failed or the org answered with an error status.
    #[error("request to the org failed: {0}; check the org's URL and that it runs")]
    Http(#[from] reqwest::Error),
    /// A Bulk query job ended without results.
    #[error("Bulk query job {id} ended {state}: {message}")]
    BulkJob {
        /// The job.
        id: String,
        /// `Failed` or `Aborted`.
        state: String,
        /// The org's `errorMessage`.
        message: String,
    },
}

/// A logged-in session.
#[derive(Debug, Clone)]
pub struct OrgSession {
    http: reqwest::Client,
    access: String,
    /// `{instance_url}`.
    pub instance: String,
    /// The identity URL of the token.
    pub identity: String,
}

/// One page of a Bulk query result, as the headers describe it.
#[derive(Debug, Clone, Copy)]
pub struct PageInfo {
    /// `Sforce-NumberOfRecords`.
    pub records: u64,
    /// Whether `Sforce-Locator` said this was the last page.
    pub last: bool,
}

impl OrgSession {
    /// Logs in with the client-credentials grant at `token_url`. `gzip` lets reqwest
    /// ask for compressed bodies (off when measuring raw throughput).
    pub async fn login(
        token_url: &str,
        client_id: &str,
        client_secret: &str,
        gzip: bool,
    ) -> Result<OrgSession, OrgSessionError> {
        let http = reqwest::Client::builder().gzip(gzip).build()?;
        let token: Json = http
            .post(token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", client_secret),
            ])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let text = |k: &str| token[k].as_str().unwrap_or_default().to_string();
        Ok(OrgSession {
            http,
            access: text("access_token"),
            instance: text("instance_url"),
            identity: text("id"),
        })
    }

    fn api(&self, path: &str) -> String {
        format!("{}/services/data/{VERSION}{path}", self.instance)
    }

    /// GET `path` under the versioned API (or a server-relative URL starting with
    /// `/services/`), with extra headers, as JSON.
    pub async fn get_json(
        &self,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Result<Json, OrgSessionError> {
        let url = if path.starts_with("/services/") {
            format!("{}{path}", self.instance)
        } else {
            self.api(path)
        };
        let mut req = self.http.get(url).query(query).bearer_auth(&self.access);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Ok(req.send().await?.error_for_status()?.json().await?)
    }

    /// PATCHes `body` to `path` under the versioned API (a record update).
    pub async fn patch_json(&self, path: &str, body: &Json) -> Result<(), OrgSessionError> {
        self.http
            .patch(self.api(path))
            .bearer_auth(&self.access)
            .json(body)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// Creates a Bulk API 2.0 query job and waits until it is complete; returns its id.
    pub async fn bulk_query(&self, soql: &str) -> Result<String, OrgSessionError> {
        let job: Json = self
            .http
            .post(self.api("/jobs/query"))
            .bearer_auth(&self.access)
            .json(&json!({"operation": "query", "query": soql}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = job["id"].as_str().unwrap_or_default().to_string();
        loop {
            let info = self
                .get_json(&format!("/jobs/query/{id}"), &[], &[])
                .await?;
            match info["state"].as_str() {
                Some("JobComplete") => return Ok(id),
                Some(state @ ("Failed" | "Aborted")) => {
                    return Err(OrgSessionError::BulkJob {
                        id,
                        state: state.to_string(),
                        message: info["errorMessage"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    });
                }
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    /// Reads every results page of job `id` (`max_records` rows a page), handing each
    /// body chunk to `on_chunk` as it arrives and each page's header figures to `on_page`.
    pub async fn bulk_pages(
        &self,
        id: &str,
        max_records: u64,
        mut on_chunk: impl FnMut(&Bytes),
        mut on_page: impl FnMut(PageInfo),
    ) -> Result<(), OrgSessionError> {
        let max = max_records.to_string();
        let mut locator: Option<String> = None;
        loop {
            let mut req = self
                .http
                .get(self.api(&format!("/jobs/query/{id}/results")))
                .query(&[("maxRecords", max.as_str())])
                .bearer_auth(&self.access);
            if let Some(l) = &locator {
                req = req.query(&[("locator", l)]);
            }
            let resp = req.send().await?.error_for_status()?;
            let header = |name: &str| {
                resp.headers()
                    .get(name)
                    .and_then(|h| h.to_str().ok())
                    .map(String::from)
            };
            let records = header("Sforce-NumberOfRecords")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let next = header("Sforce-Locator").unwrap_or_else(|| "null".into());
            let mut body = resp.bytes_stream();
            while let Some(chunk) = body.next().await {
                on_chunk(&chunk?);
            }
            let last = next == "null";
            on_page(PageInfo { records, last });
            if last {
                return Ok(());
            }
            locator = Some(next);
        }
    }
}
