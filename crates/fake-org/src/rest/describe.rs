//! `sobjects` (the global describe) and `sobjects/{Obj}/describe`, with the keys real
//! describe results carry and `If-Modified-Since` support.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};

use super::super::api_error::{ApiError, json_response};
use super::super::middleware::ApiVersion;
use super::super::model::{FieldDef, FieldType, ObjectDef};
use super::super::state::OrgState;

fn urls(def: &ObjectDef, v: &str) -> Json {
    let base = format!("/services/data/{v}/sobjects/{}", def.name);
    json!({
        "sobject": base,
        "describe": format!("{base}/describe"),
        "rowTemplate": format!("{base}/{{ID}}"),
    })
}

fn summary(def: &ObjectDef, v: &str) -> Json {
    json!({
        "name": def.name,
        "label": def.label,
        "labelPlural": def.label_plural,
        "keyPrefix": def.prefix_str(),
        "custom": def.custom,
        "createable": true, "updateable": true, "deletable": true, "undeletable": true,
        "queryable": true, "retrieveable": true, "replicateable": true, "searchable": true,
        "layoutable": true, "triggerable": true, "mergeable": false, "feedEnabled": false,
        "customSetting": false, "deprecatedAndHidden": false, "activateable": false,
        "urls": urls(def, v),
    })
}

/// `GET /sobjects`.
pub async fn global(
    State(org): State<Arc<OrgState>>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
) -> Response {
    let store = org.store.read();
    let list: Vec<Json> = store
        .schema
        .objects
        .iter()
        .map(|o| summary(o, &v))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list}),
    )
}

/// The object segment of a describe route (the nested `version` capture is ignored).
#[derive(Debug, serde::Deserialize)]
pub struct ObjectPath {
    obj: String,
}

/// `GET /sobjects/{Obj}`: basic information.
pub async fn basic(
    State(org): State<Arc<OrgState>>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    Path(ObjectPath { obj }): Path<ObjectPath>,
) -> Response {
    let name = obj.as_str();
    let store = org.store.read();
    match store.schema.object(name) {
        Some(def) => json_response(
            StatusCode::OK,
            &json!({"objectDescribe": summary(def, &v), "recentItems": []}),
        ),
        None => ApiError::not_found().into_response(),
    }
}

/// `GET /sobjects/{Obj}/describe`.
pub async fn describe(
    State(org): State<Arc<OrgState>>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    headers: HeaderMap,
    Path(ObjectPath { obj }): Path<ObjectPath>,
) -> Response {
    let name = obj.as_str();
    let store = org.store.read();
    let schema = &store.schema;
    let Some(def) = schema.object(name) else {
        return ApiError::not_found().into_response();
    };
    let modified = chrono::DateTime::from_timestamp_millis(schema.modified_ms).unwrap_or_default();
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|h| h.to_str().ok())
        .and_then(|s| chrono::DateTime::parse_from_rfc2822(s).ok());
    if since.is_some_and(|s| s.timestamp() >= modified.timestamp()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut body = summary(def, &v);
    let fields: Vec<Json> = def.fields.iter().map(field_json).collect();
    let children: Vec<Json> = schema
        .objects
        .iter()
        .flat_map(|c| {
            c.fields
                .iter()
                .filter(|f| f.reference_to.iter().any(|t| t == &def.name))
                .map(move |f| {
                    json!({
                        "cascadeDelete": f.cascade_delete, "childSObject": c.name, "deprecatedAndHidden": false,
                        "field": f.name, "junctionIdListNames": [], "junctionReferenceTo": [],
                        "relationshipName": if f.cascade_delete { Json::String(format!("{}s", c.name)) } else { Json::Null },
                        "restrictedDelete": false,
                    })
                })
        })
        .collect();
    body["fields"] = Json::Array(fields);
    body["childRelationships"] = Json::Array(children);
    body["recordTypeInfos"] = json!([{
        "active": true, "available": true, "defaultRecordTypeMapping": true, "developerName": "Master",
        "master": true, "name": "Master", "recordTypeId": "012000000000000AAA",
        "urls": {"layout": format!("/services/data/{v}/sobjects/{}/describe/layouts/012000000000000AAA", def.name)},
    }]);
    body["compactLayoutable"] = json!(true);
    body["hasSubtypes"] = json!(false);
    body["isSubtype"] = json!(false);
    body["listviewable"] = Json::Null;
    body["lookupLayoutable"] = Json::Null;
    body["mruEnabled"] = json!(true);
    body["namedLayoutInfos"] = json!([]);
    body["networkScopeFieldName"] = Json::Null;
    body["searchLayoutable"] = json!(true);
    body["supportedScopes"] = json!([{"label": "All", "name": "everything"}]);
    body["actionOverrides"] = json!([]);
    let mut resp = json_response(StatusCode::OK, &body);
    if let Ok(h) = HeaderValue::from_str(&modified.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
    {
        resp.headers_mut().insert(header::LAST_MODIFIED, h);
    }
    resp
}

fn field_json(f: &FieldDef) -> Json {
    let numeric = f.ftype.is_decimal();
    let text = f.ftype.is_text() || matches!(f.ftype, FieldType::Id | FieldType::Reference);
    let length = if text { f.length } else { 0 };
    json!({
        "aggregatable": !matches!(f.ftype, FieldType::TextArea | FieldType::Base64 | FieldType::Address | FieldType::Location),
        "autoNumber": f.auto_number,
        "byteLength": if text { f.length * 3 } else { 0 },
        "calculated": f.calculated,
        "calculatedFormula": Json::Null,
        "cascadeDelete": f.cascade_delete,
        "caseSensitive": false,
        "compoundFieldName": f.compound_name,
        "controllerName": Json::Null,
        "createable": f.createable,
        "custom": f.custom,
        "defaultValue": f.default_value.as_ref().map(|v| v.to_json()),
        "defaultValueFormula": Json::Null,
        "defaultedOnCreate": f.defaulted_on_create,
        "dependentPicklist": false,
        "deprecatedAndHidden": false,
        "digits": if f.ftype == FieldType::Int { f.precision } else { 0 },
        "displayLocationInDecimal": false,
        "encrypted": f.ftype == FieldType::EncryptedString,
        "externalId": f.external_id,
        "extraTypeInfo": Json::Null,
        "filterable": !matches!(f.ftype, FieldType::TextArea | FieldType::Base64 | FieldType::Address | FieldType::Location),
        "filteredLookupInfo": Json::Null,
        "groupable": !numeric && !matches!(f.ftype, FieldType::TextArea | FieldType::Base64 | FieldType::Address | FieldType::Location | FieldType::DateTime),
        "highScaleNumber": false,
        "htmlFormatted": false,
        "idLookup": f.ftype == FieldType::Id || f.external_id || f.unique,
        "inlineHelpText": Json::Null,
        "label": f.label,
        "length": length,
        "mask": Json::Null,
        "maskType": Json::Null,
        "name": f.name,
        "nameField": f.name_field,
        "namePointing": f.reference_to.len() > 1,
        "nillable": f.nillable,
        "permissionable": f.nillable && !f.calculated,
        "picklistValues": f.picklist.iter().enumerate().map(|(i, p)| json!({
            "active": true, "defaultValue": i == 0 && f.defaulted_on_create, "label": p, "validFor": Json::Null, "value": p,
        })).collect::<Vec<_>>(),
        "polymorphicForeignKey": f.reference_to.len() > 1,
        "precision": if numeric { f.precision } else { 0 },
        "queryByDistance": false,
        "referenceTargetField": Json::Null,
        "referenceTo": f.reference_to,
        "relationshipName": f.relationship_name,
        "relationshipOrder": if f.cascade_delete { json!(0) } else { Json::Null },
        "restrictedDelete": false,
        "restrictedPicklist": f.restricted_picklist,
        "scale": if numeric { f.scale } else { 0 },
        "searchPrefilterable": false,
        "soapType": f.ftype.soap_type(),
        "sortable": !matches!(f.ftype, FieldType::TextArea | FieldType::Base64 | FieldType::Address | FieldType::Location | FieldType::MultiPicklist),
        "type": f.ftype.api_name(),
        "unique": f.unique,
        "updateable": f.updateable,
        "writeRequiresMasterRead": false,
    })
}
