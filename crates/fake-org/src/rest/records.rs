//! sObject rows: create, read, update, delete, and read / upsert by external Id.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as Json, json};

use super::super::api_error::{ApiError, json_response};
use super::super::ids::RecordId;
use super::super::input;
use super::super::middleware::ApiVersion;
use super::super::origin::CallOrigin;
use super::super::query::{direct_columns, record_json};
use super::super::record_error::RecordError;
use super::super::state::OrgState;
use super::super::store::{Store, malformed_id};

/// Path parameters of the record routes.
#[derive(Debug, serde::Deserialize)]
pub struct RecordPath {
    obj: String,
    id: Option<String>,
    field: Option<String>,
    value: Option<String>,
}

fn object(store: &Store, name: &str) -> Result<usize, ApiError> {
    store.schema.index(name).ok_or_else(ApiError::not_found)
}

fn body_map(body: &Bytes) -> Result<Map<String, Json>, ApiError> {
    match serde_json::from_slice::<Json>(body) {
        Ok(Json::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::json("Expected a JSON object for the record")),
        Err(e) => Err(ApiError::json(format!(
            "Unexpected character in the request body: {e}"
        ))),
    }
}

/// `POST /sobjects/{Obj}`.
pub async fn create(
    State(org): State<Arc<OrgState>>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    origin: CallOrigin,
    Path(p): Path<RecordPath>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let map = body_map(&body)?;
    let mut store = org.store.write_from(origin.rest());
    let obj = object(&store, &p.obj)?;
    let assigns = input::from_json(&store.schema, obj, &map).map_err(|e| ApiError::record(&e))?;
    let id = store
        .create(obj, assigns, None)
        .map_err(|e| ApiError::record(&e))?;
    let name = store.schema.objects[obj].name.clone();
    let mut resp = json_response(
        StatusCode::CREATED,
        &json!({"id": id.to_string(), "success": true, "errors": []}),
    );
    if let Ok(h) = HeaderValue::from_str(&format!("/services/data/{v}/sobjects/{name}/{id}")) {
        resp.headers_mut().insert(header::LOCATION, h);
    }
    Ok(resp)
}

/// The Id a path names, or the error Salesforce gives for an unparseable one (it reads
/// a non-Id segment as an external-Id field name).
fn parse_id(store: &Store, obj: usize, text: &str) -> Result<RecordId, ApiError> {
    match RecordId::parse(text) {
        Some(id) if id.prefix() == store.schema.objects[obj].key_prefix => Ok(id),
        Some(_) => Err(ApiError::record(&malformed_id(
            &store.schema.objects[obj],
            text,
        ))),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {text}"),
        )),
    }
}

/// The JSON of a whole record (or of the listed fields).
fn full_record(
    store: &Store,
    obj: usize,
    seq: u64,
    fields: Option<&str>,
    v: &str,
) -> Result<Json, ApiError> {
    let def = &store.schema.objects[obj];
    let cols = direct_columns(def, obj, fields)
        .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, "INVALID_FIELD", m))?;
    let row = store.table(obj).get(seq).ok_or_else(ApiError::not_found)?;
    Ok(record_json(store, obj, row, &cols, v))
}

/// `GET /sobjects/{Obj}/{id}`.
pub async fn get(
    State(org): State<Arc<OrgState>>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    Path(p): Path<RecordPath>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let store = org.store.read();
    let obj = object(&store, &p.obj)?;
    let id = parse_id(&store, obj, p.id.as_deref().unwrap_or(""))?;
    match store.table(obj).get(id.seq()) {
        Some(r) if !r.deleted => {}
        _ => return Err(ApiError::not_found()),
    }
    let body = full_record(
        &store,
        obj,
        id.seq(),
        q.get("fields").map(String::as_str),
        &v,
    )?;
    Ok(json_response(StatusCode::OK, &body))
}

/// `PATCH /sobjects/{Obj}/{id}`: 204.
pub async fn update(
    State(org): State<Arc<OrgState>>,
    origin: CallOrigin,
    Path(p): Path<RecordPath>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let map = body_map(&body)?;
    let mut store = org.store.write_from(origin.rest());
    let obj = object(&store, &p.obj)?;
    let id = parse_id(&store, obj, p.id.as_deref().unwrap_or(""))?;
    if !store.issued(obj, id) {
        return Err(ApiError::not_found());
    }
    let assigns = input::from_json(&store.schema, obj, &map).map_err(|e| ApiError::record(&e))?;
    store
        .update(obj, id, assigns, None)
        .map_err(|e| ApiError::record(&e))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /sobjects/{Obj}/{id}`: 204.
pub async fn delete(
    State(org): State<Arc<OrgState>>,
    origin: CallOrigin,
    Path(p): Path<RecordPath>,
) -> Result<Response, ApiError> {
    let mut store = org.store.write_from(origin.rest());
    let obj = object(&store, &p.obj)?;
    let id = parse_id(&store, obj, p.id.as_deref().unwrap_or(""))?;
    if !store.issued(obj, id) {
        return Err(ApiError::not_found());
    }
    store.delete(obj, id).map_err(|e| ApiError::record(&e))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn external_field(store: &Store, obj: usize, name: &str) -> Result<usize, ApiError> {
    let def = &store.schema.objects[obj];
    match def.field_index(name) {
        Some(i) if def.fields[i].external_id || def.fields[i].name == "Id" => Ok(i),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {name}"),
        )),
    }
}

/// `GET /sobjects/{Obj}/{ExtField}/{value}`.
pub async fn get_by_external(
    State(org): State<Arc<OrgState>>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    Path(p): Path<RecordPath>,
) -> Result<Response, ApiError> {
    let store = org.store.read();
    let obj = object(&store, &p.obj)?;
    let field = external_field(&store, obj, p.field.as_deref().unwrap_or(""))?;
    let value = p.value.as_deref().unwrap_or("");
    let seq = if store.schema.objects[obj].fields[field].name == "Id" {
        parse_id(&store, obj, value)?.seq()
    } else {
        store
            .find_unique(obj, field, value)
            .ok_or_else(ApiError::not_found)?
    };
    let body = full_record(&store, obj, seq, None, &v)?;
    Ok(json_response(StatusCode::OK, &body))
}

/// `PATCH /sobjects/{Obj}/{ExtField}/{value}`: 201 when created, 200 when updated.
pub async fn upsert(
    State(org): State<Arc<OrgState>>,
    origin: CallOrigin,
    Path(p): Path<RecordPath>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let map = body_map(&body)?;
    let mut store = org.store.write_from(origin.rest());
    let obj = object(&store, &p.obj)?;
    let field = external_field(&store, obj, p.field.as_deref().unwrap_or(""))?;
    let assigns = input::from_json(&store.schema, obj, &map).map_err(|e| ApiError::record(&e))?;
    let (id, created) = store
        .upsert(obj, field, p.value.as_deref().unwrap_or(""), assigns)
        .map_err(|e: RecordError| ApiError::record(&e))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(
        status,
        &json!({"id": id.to_string(), "success": true, "errors": [], "created": created}),
    ))
}
