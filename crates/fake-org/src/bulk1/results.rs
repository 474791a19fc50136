//! Bulk 1.0 batch results. A query batch lists its result ids (`GET …/result`) and each
//! result is a file (`GET …/result/{rid}`): CSV as Bulk writes it, or a JSON array of
//! records. An ingest batch's `…/result` is one row per record in upload order, with
//! `Id`, `Success`, `Created` and `Error` (CSV) or `id`, `success`, `created`,
//! `errors` (JSON).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value as Json, json};

use super::super::query::{CsvWriter, compile, quote_into, record_json};
use super::batch::{self, BatchState, Work};
use super::dml::Outcome;
use super::error::{Bulk1Error, Failure};
use super::job::Bulk1;
use super::wire::{Format, render_result_list, respond};

/// What Bulk 1.0 answers for a CSV query result without rows.
const NO_RECORDS: &str = "Records not found for this query";

fn not_completed(state: BatchState) -> Bulk1Error {
    Bulk1Error::InvalidBatch(format!(
        "Batch not completed (state {state:?}): wait until the batch is Completed"
    ))
}

/// `GET /job/{id}/batch/{bid}/result`.
pub async fn list(
    State(b1): State<Arc<Bulk1>>,
    headers: HeaderMap,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let (batch, format, _) = batch::find(&b1, &headers, &p)?;
    let b = batch.lock();
    if b.state != BatchState::Completed {
        return Err(not_completed(b.state).with(format));
    }
    match &b.work {
        Work::Query { result, .. } => {
            let ids: Vec<String> = result.iter().cloned().collect();
            Ok(render_result_list(format, &ids))
        }
        Work::Ingest(_, outcomes) => Ok(ingest_results(format, outcomes)),
    }
}

fn ingest_results(format: Format, outcomes: &[Outcome]) -> Response {
    let id = |o: &Outcome| o.id.map(|i| i.to_string());
    match format {
        Format::Json => {
            let rows: Vec<Json> = outcomes
                .iter()
                .map(|o| {
                    let errors: Vec<Json> = o.error.iter().map(|e| e.collection_json()).collect();
                    json!({"success": o.error.is_none(), "created": o.created, "id": id(o), "errors": errors})
                })
                .collect();
            respond(
                StatusCode::OK,
                "application/json",
                Json::from(rows).to_string(),
            )
        }
        Format::Xml => {
            let mut out = String::from("\"Id\",\"Success\",\"Created\",\"Error\"\n");
            for o in outcomes {
                let err = o.error.as_ref().map(|e| e.bulk_cell()).unwrap_or_default();
                let cells = [
                    id(o).unwrap_or_default(),
                    (o.error.is_none()).to_string(),
                    o.created.to_string(),
                    err,
                ];
                for (i, c) in cells.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    quote_into(c, &mut out);
                }
                out.push('\n');
            }
            respond(StatusCode::OK, "text/csv", out)
        }
    }
}

/// `GET /job/{id}/batch/{bid}/result/{rid}`.
pub async fn file(
    State(b1): State<Arc<Bulk1>>,
    headers: HeaderMap,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let (batch, format, obj) = batch::find(&b1, &headers, &p)?;
    let want = p.get("result").cloned().unwrap_or_default();
    let (soql, rows) = {
        let b = batch.lock();
        match &b.work {
            Work::Query {
                soql,
                rows: Some(rows),
                result: Some(rid),
                ..
            } if *rid == want => (soql.clone(), rows.clone()),
            _ => {
                return Err(Bulk1Error::InvalidUrl(format!(
                    "Invalid result id: {want}: list the batch's results first"
                ))
                .with(format));
            }
        }
    };
    let version = p.get("version").cloned().unwrap_or_default();
    let b1c = b1.clone();
    let body = tokio::task::spawn_blocking(move || {
        let store = b1c.org.store.read();
        let q = compile(&store.schema, &soql).ok()?;
        let table = store.table(obj);
        Some(match format {
            Format::Json => {
                let v = format!("v{version}");
                let recs: Vec<Json> = rows
                    .iter()
                    .filter_map(|s| table.get(*s))
                    .map(|row| record_json(&store, obj, row, &q.columns, &v))
                    .collect();
                Json::from(recs).to_string()
            }
            Format::Xml if rows.is_empty() => NO_RECORDS.to_string(),
            Format::Xml => {
                let w = CsvWriter::new(q.columns.clone(), ',', false);
                let (mut out, mut scratch) = (String::new(), String::new());
                w.header(&mut out);
                for row in rows.iter().filter_map(|s| table.get(*s)) {
                    w.row(&store, row, &mut out, &mut scratch);
                }
                out
            }
        })
    })
    .await
    .ok()
    .flatten()
    .ok_or_else(|| {
        Bulk1Error::InvalidBatch("The batch's query no longer compiles".into()).with(format)
    })?;
    let ct = match format {
        Format::Json => "application/json",
        Format::Xml => "text/csv",
    };
    Ok(respond(StatusCode::OK, ct, body))
}
