//! sObject Collections (`/composite/sobjects`): create, update, upsert and delete up to
//! 200 records per call, with per-record results (`statusCode` errors) and `allOrNone`
//! rollback; and retrieve by Ids.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use rand::Rng;
use serde_json::{Map, Value as Json, json};

use super::super::api_error::{ApiError, json_response};
use super::super::ids::RecordId;
use super::super::input;
use super::super::middleware::ApiVersion;
use super::super::origin::CallOrigin;
use super::super::query::{direct_columns, record_json};
use super::super::record_error::RecordError;
use super::super::state::OrgState;
use super::super::store::{Row, Store};

const MAX_RECORDS: usize = 200;

enum Op {
    Create,
    Update,
    Upsert(String),
}

fn parse_body(body: &Bytes) -> Result<(bool, Vec<Map<String, Json>>), ApiError> {
    let v: Json = serde_json::from_slice(body)
        .map_err(|e| ApiError::json(format!("Unexpected character in the request body: {e}")))?;
    let all_or_none = v.get("allOrNone").and_then(Json::as_bool).unwrap_or(false);
    let records = v
        .get("records")
        .and_then(Json::as_array)
        .ok_or_else(|| ApiError::json("The request body needs a records array"))?;
    if records.len() > MAX_RECORDS {
        return Err(too_many());
    }
    let maps = records
        .iter()
        .map(|r| {
            r.as_object()
                .cloned()
                .ok_or_else(|| ApiError::json("Each record must be a JSON object"))
        })
        .collect::<Result<_, _>>()?;
    Ok((all_or_none, maps))
}

fn too_many() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "EXCEEDED_ID_LIMIT",
        "record limit reached. cannot submit more than 200 records into this call",
    )
}

type Undo = Vec<(usize, u64, Option<Row>)>;

/// The injected `UNABLE_TO_LOCK_ROW` share (`ingest_failure_rate`), per record, as
/// concurrent writers to the same parent make real Collections calls fail.
struct LockFaults {
    rate: f64,
    rng: rand::rngs::ThreadRng,
}

impl LockFaults {
    fn new(org: &OrgState) -> LockFaults {
        LockFaults {
            rate: org.faults.snapshot().ingest_failure_rate.clamp(0.0, 1.0),
            rng: rand::rng(),
        }
    }

    fn roll(&mut self) -> Result<(), RecordError> {
        if self.rate > 0.0 && self.rng.random_bool(self.rate) {
            return Err(RecordError::lock_failed());
        }
        Ok(())
    }
}

fn one(
    store: &mut Store,
    op: &Op,
    fixed_obj: Option<usize>,
    rec: &Map<String, Json>,
    undo: &mut Undo,
) -> Result<(RecordId, bool), RecordError> {
    let obj = match fixed_obj {
        Some(o) => o,
        None => {
            let ty = rec
                .get("attributes")
                .and_then(|a| a.get("type"))
                .and_then(Json::as_str);
            match (
                ty,
                rec.get("id")
                    .or_else(|| rec.get("Id"))
                    .and_then(Json::as_str)
                    .and_then(RecordId::parse),
            ) {
                (Some(t), _) => store.schema.index(t).ok_or_else(|| {
                    RecordError::new(
                        "INVALID_TYPE",
                        format!("sObject type '{t}' is not supported."),
                    )
                })?,
                (None, Some(id)) => store
                    .schema
                    .index_by_prefix(id.prefix())
                    .ok_or_else(|| RecordError::new("MALFORMED_ID", "malformed id"))?,
                (None, None) => {
                    return Err(RecordError::new(
                        "INVALID_TYPE",
                        "Must send a concrete entity type.",
                    ));
                }
            }
        }
    };
    let mut map = rec.clone();
    let id_text = map
        .remove("id")
        .or_else(|| map.remove("Id"))
        .and_then(|v| v.as_str().map(String::from));
    let assigns = input::from_json(&store.schema, obj, &map)?;
    match op {
        Op::Create => {
            let seq = store.table(obj).issued() + 1;
            let id = store.create(obj, assigns, None)?;
            undo.push((obj, seq, None));
            Ok((id, true))
        }
        Op::Update => {
            let text = id_text.ok_or_else(|| {
                RecordError::with_fields(
                    "MISSING_ARGUMENT",
                    "Id not specified in an update call",
                    vec![],
                )
            })?;
            let id = RecordId::parse(&text).ok_or_else(|| {
                RecordError::with_fields(
                    "MALFORMED_ID",
                    format!("invalid cross reference id: {text}"),
                    vec!["Id".into()],
                )
            })?;
            let snap = store.snapshot(obj, id.seq());
            store.update(obj, id, assigns, None)?;
            undo.push((obj, id.seq(), snap));
            Ok((id, false))
        }
        Op::Upsert(field) => {
            let def = &store.schema.objects[obj];
            let f = def
                .field_index(field)
                .filter(|i| def.fields[*i].external_id || def.fields[*i].name == "Id")
                .ok_or_else(|| {
                    RecordError::new(
                        "INVALID_FIELD",
                        format!(
                            "Field name provided, {field} does not match an External ID for {}",
                            def.name
                        ),
                    )
                })?;
            let key = rec
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(field))
                .and_then(|(_, v)| {
                    v.as_str()
                        .map(String::from)
                        .or_else(|| v.as_number().map(|n| n.to_string()))
                })
                .ok_or_else(|| {
                    RecordError::with_fields(
                        "MISSING_ARGUMENT",
                        format!("{field} not specified"),
                        vec![field.clone()],
                    )
                })?;
            let existing = store.find_unique(obj, f, &key);
            let snap = existing.and_then(|s| store.snapshot(obj, s));
            let next = store.table(obj).issued() + 1;
            let (id, created) = store.upsert(obj, f, &key, assigns)?;
            undo.push((
                obj,
                if created { next } else { id.seq() },
                if created { None } else { snap },
            ));
            Ok((id, created))
        }
    }
}

fn run(
    org: &OrgState,
    origin: &CallOrigin,
    op: Op,
    fixed: Option<&str>,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let (all_or_none, records) = parse_body(body)?;
    let mut locks = LockFaults::new(org);
    let mut store = org.store.write_from(origin.rest());
    let fixed_obj = match fixed {
        Some(n) => Some(store.schema.index(n).ok_or_else(ApiError::not_found)?),
        None => None,
    };
    let mut undo: Undo = Vec::new();
    let mut results: Vec<Result<(RecordId, bool), RecordError>> = Vec::new();
    let mut failed = false;
    for rec in &records {
        if failed && all_or_none {
            break;
        }
        let r = locks
            .roll()
            .and_then(|()| one(&mut store, &op, fixed_obj, rec, &mut undo));
        failed |= r.is_err();
        results.push(r);
    }
    let upsert = matches!(op, Op::Upsert(_));
    let rolled_back = failed && all_or_none;
    if rolled_back {
        for (obj, seq, row) in undo.into_iter().rev() {
            store.restore(obj, seq, row);
        }
    }
    let out: Vec<Json> = (0..records.len())
        .map(|i| match results.get(i) {
            Some(Err(e)) => json!({"success": false, "errors": [e.collection_json()]}),
            Some(Ok(_)) | None if rolled_back => json!({"success": false, "errors": [{
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
                "fields": [],
            }]}),
            Some(Ok((id, created))) => {
                let mut j = json!({"id": id.to_string(), "success": true, "errors": []});
                if upsert {
                    j["created"] = json!(created);
                }
                j
            }
            None => json!({"success": false, "errors": []}),
        })
        .collect();
    Ok(json_response(StatusCode::OK, &Json::Array(out)))
}

/// `POST /composite/sobjects`.
pub async fn create(
    State(org): State<Arc<OrgState>>,
    origin: CallOrigin,
    body: Bytes,
) -> Result<Response, ApiError> {
    run(&org, &origin, Op::Create, None, &body)
}

/// `PATCH /composite/sobjects`.
pub async fn update(
    State(org): State<Arc<OrgState>>,
    origin: CallOrigin,
    body: Bytes,
) -> Result<Response, ApiError> {
    run(&org, &origin, Op::Update, None, &body)
}

/// `PATCH /composite/sobjects/{Obj}/{ExtField}`.
pub async fn upsert(
    State(org): State<Arc<OrgState>>,
    origin: CallOrigin,
    Path(p): Path<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let obj = p.get("obj").cloned().unwrap_or_default();
    let field = p.get("field").cloned().unwrap_or_default();
    run(&org, &origin, Op::Upsert(field), Some(&obj), &body)
}

/// `DELETE /composite/sobjects?ids=a,b&allOrNone=false`.
pub async fn delete(
    State(org): State<Arc<OrgState>>,
    origin: CallOrigin,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let ids: Vec<String> = q
        .get("ids")
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if ids.len() > MAX_RECORDS {
        return Err(too_many());
    }
    let all_or_none = q
        .get("allOrNone")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut locks = LockFaults::new(&org);
    let mut store = org.store.write_from(origin.rest());
    let mut undo: Undo = Vec::new();
    let mut results: Vec<(String, Result<(), RecordError>)> = Vec::new();
    for text in &ids {
        let r = (|| {
            locks.roll()?;
            let id = RecordId::parse(text).ok_or_else(|| {
                RecordError::with_fields("MALFORMED_ID", format!("malformed id {text}"), vec![])
            })?;
            let obj = store
                .schema
                .index_by_prefix(id.prefix())
                .ok_or_else(|| RecordError::new("MALFORMED_ID", format!("malformed id {text}")))?;
            let snap = store.snapshot(obj, id.seq());
            store.delete(obj, id)?;
            undo.push((obj, id.seq(), snap));
            Ok(())
        })();
        results.push((text.clone(), r));
    }
    let failed = results.iter().any(|(_, r)| r.is_err());
    if failed && all_or_none {
        for (obj, seq, row) in undo.into_iter().rev() {
            store.restore(obj, seq, row);
        }
    }
    let out: Vec<Json> = results
        .into_iter()
        .map(|(id, r)| match r {
            Ok(()) if failed && all_or_none => json!({"id": id, "success": false, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []}]}),
            Ok(()) => json!({"id": id, "success": true, "errors": []}),
            Err(e) => json!({"success": false, "errors": [e.collection_json()]}),
        })
        .collect();
    Ok(json_response(StatusCode::OK, &Json::Array(out)))
}

/// `GET /composite/sobjects/{Obj}?ids=...&fields=...`.
pub async fn retrieve(
    State(org): State<Arc<OrgState>>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    Path(p): Path<HashMap<String, String>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let store = org.store.read();
    let obj = store
        .schema
        .index(p.get("obj").map(String::as_str).unwrap_or(""))
        .ok_or_else(ApiError::not_found)?;
    let def = &store.schema.objects[obj];
    let fields = q.get("fields").ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "MISSING_ARGUMENT",
            "fields is required",
        )
    })?;
    let cols = direct_columns(def, obj, Some(fields))
        .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, "INVALID_FIELD", m))?;
    let out: Vec<Json> = q
        .get("ids")
        .map(|s| s.split(',').collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|text| {
            RecordId::parse(text.trim())
                .filter(|id| id.prefix() == def.key_prefix)
                .and_then(|id| store.table(obj).get(id.seq()))
                .filter(|r| !r.deleted)
                .map(|row| record_json(&store, obj, row, &cols, &v))
                .unwrap_or(Json::Null)
        })
        .collect();
    Ok(json_response(StatusCode::OK, &Json::Array(out)))
}
