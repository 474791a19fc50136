//! sObject Collections: create, update, upsert and delete up to 200 records per request
//! (Salesforce's limit), sent in as many requests as needed. Results come back in input
//! order, one per record, with Salesforce's per-record errors.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::client::Client;
use super::error::SfError;
use super::request::{Api, Request};

/// Records per Collections request.
pub const BATCH: usize = 200;

/// One record's error.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RecordError {
    /// `REQUIRED_FIELD_MISSING`, `DUPLICATE_VALUE`, ...
    pub status_code: String,
    /// Salesforce's message.
    pub message: String,
    /// Fields involved.
    #[serde(default)]
    pub fields: Vec<String>,
}

/// One record's result.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct SaveResult {
    /// The record's Id (absent when creation failed).
    #[serde(default)]
    pub id: Option<String>,
    /// Whether it was saved.
    pub success: bool,
    /// Whether an upsert created it.
    #[serde(default)]
    pub created: Option<bool>,
    /// Why not.
    #[serde(default)]
    pub errors: Vec<RecordError>,
}

impl Client {
    /// Creates `records` (JSON objects of field values) of `object`.
    pub async fn create_records(
        &self,
        object: &str,
        records: &[Json],
    ) -> Result<Vec<SaveResult>, SfError> {
        let mut out = Vec::with_capacity(records.len());
        for batch in records.chunks(BATCH) {
            let req = Request::new(Api::Rest, Method::POST, "/composite/sobjects")
                .json(json!({"allOrNone": false, "records": typed(object, batch)}))
                .not_replay_safe();
            out.extend(self.save(req, batch.len()).await?);
        }
        Ok(out)
    }

    /// Updates `records`, each carrying its `Id`.
    pub async fn update_records(
        &self,
        object: &str,
        records: &[Json],
    ) -> Result<Vec<SaveResult>, SfError> {
        let mut out = Vec::with_capacity(records.len());
        for batch in records.chunks(BATCH) {
            let req = Request::new(Api::Rest, Method::PATCH, "/composite/sobjects")
                .json(json!({"allOrNone": false, "records": typed(object, batch)}));
            out.extend(self.save(req, batch.len()).await?);
        }
        Ok(out)
    }

    /// Upserts `records` keyed by the external-Id field `key`.
    pub async fn upsert_records(
        &self,
        object: &str,
        key: &str,
        records: &[Json],
    ) -> Result<Vec<SaveResult>, SfError> {
        let mut out = Vec::with_capacity(records.len());
        for batch in records.chunks(BATCH) {
            let req = Request::new(
                Api::Rest,
                Method::PATCH,
                format!("/composite/sobjects/{object}/{key}"),
            )
            .json(json!({"allOrNone": false, "records": typed(object, batch)}));
            out.extend(self.save(req, batch.len()).await?);
        }
        Ok(out)
    }

    /// Deletes records by Id.
    pub async fn delete_records(&self, ids: &[String]) -> Result<Vec<SaveResult>, SfError> {
        let mut out = Vec::with_capacity(ids.len());
        for batch in ids.chunks(BATCH) {
            let req = Request::new(Api::Rest, Method::DELETE, "/composite/sobjects")
                .param("ids", batch.join(","))
                .param("allOrNone", "false");
            out.extend(self.save(req, batch.len()).await?);
        }
        Ok(out)
    }

    async fn save(&self, req: Request, expected: usize) -> Result<Vec<SaveResult>, SfError> {
        let results: Vec<SaveResult> = self.get_json(req).await?;
        if results.len() != expected {
            return Err(SfError::permanent(
                "UNEXPECTED_RESPONSE",
                format!("sent {expected} records but got {} results", results.len()),
            ));
        }
        Ok(results)
    }
}

/// Adds `attributes.type` to each record, as Collections requires.
fn typed(object: &str, records: &[Json]) -> Vec<Json> {
    records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if let Some(map) = r.as_object_mut() {
                map.insert("attributes".into(), json!({"type": object}));
            }
            r
        })
        .collect()
}
