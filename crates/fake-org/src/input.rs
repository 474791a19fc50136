//! Client input to field assignments: a REST JSON record, or a Bulk CSV header and row.
//! Unknown fields are refused with Salesforce's messages; a relationship name with an
//! external Id (`"Quote": {"Orgpool_Key__c": "k"}` in JSON, `Quote.Orgpool_Key__c` in
//! CSV) refers to a parent without its Salesforce Id.

use serde_json::{Map, Value as Json};

use super::model::FieldType;
use super::record_error::RecordError;
use super::schema::Schema;
use super::store::{Assign, Input};
use super::value::Value;

/// Assignments from a REST JSON object (its `attributes` key ignored).
pub fn from_json(
    schema: &Schema,
    obj: usize,
    map: &Map<String, Json>,
) -> Result<Vec<Assign>, RecordError> {
    let def = &schema.objects[obj];
    let mut out = Vec::with_capacity(map.len());
    for (key, val) in map {
        if key == "attributes" {
            continue;
        }
        if let Some(field) = def.field_index(key) {
            if def.fields[field].ftype.is_compound() {
                return Err(RecordError::with_fields(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    format!(
                        "Unable to create/update fields: {key}. Please check the security settings of this field and verify that it is read/write for your profile or permission set."
                    ),
                    vec![key.clone()],
                ));
            }
            out.push(Assign {
                field,
                input: Input::Json(val.clone()),
            });
            continue;
        }
        if let (Some(rel), Json::Object(inner)) = (def.relationship(key), val) {
            let target_name = inner
                .get("attributes")
                .and_then(|a| a.get("type"))
                .and_then(Json::as_str)
                .or(rel.reference_to.first().map(String::as_str))
                .unwrap_or("");
            let target = schema
                .index(target_name)
                .ok_or_else(|| no_such_column(key, &def.name))?;
            let (ext, v) = inner
                .iter()
                .find(|(k, _)| *k != "attributes")
                .ok_or_else(|| {
                    RecordError::new(
                        "JSON_PARSER_ERROR",
                        format!("{key}: a relationship needs one external Id field"),
                    )
                })?;
            let field = external_field(schema, target, ext)?;
            let value = match v {
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                _ => {
                    return Err(RecordError::new(
                        "JSON_PARSER_ERROR",
                        format!("{key}.{ext}: expected a string"),
                    ));
                }
            };
            let ref_field = def.field_index(&rel.name).unwrap_or(0);
            out.push(Assign {
                field: ref_field,
                input: Input::ExtRef {
                    object: target,
                    field,
                    value,
                },
            });
            continue;
        }
        return Err(no_such_column(key, &def.name));
    }
    Ok(out)
}

fn no_such_column(key: &str, object: &str) -> RecordError {
    RecordError::with_fields(
        "INVALID_FIELD",
        format!("No such column '{key}' on sobject of type {object}"),
        vec![key.to_string()],
    )
}

fn external_field(schema: &Schema, obj: usize, name: &str) -> Result<usize, RecordError> {
    let def = &schema.objects[obj];
    match def.field_index(name) {
        Some(i) if def.fields[i].external_id || def.fields[i].ftype == FieldType::Id => Ok(i),
        _ => Err(RecordError::with_fields(
            "INVALID_FIELD",
            format!(
                "Field name provided, {name} does not match an External ID for {}",
                def.name
            ),
            vec![name.to_string()],
        )),
    }
}

/// How one CSV column maps to the object.
#[derive(Debug, Clone)]
pub enum CsvColumn {
    /// A field, by index.
    Field(usize),
    /// A parent by external Id: reference field index, parent object, its external field.
    Ref(usize, usize, usize),
}

/// Maps a Bulk CSV header; the error is the job's failure message.
pub fn csv_columns(
    schema: &Schema,
    obj: usize,
    header: &[String],
) -> Result<Vec<CsvColumn>, String> {
    let def = &schema.objects[obj];
    header
        .iter()
        .map(|h| {
            if let Some(i) = def.field_index(h) {
                if def.fields[i].ftype.is_compound() {
                    return Err(format!("InvalidBatch : Field name not found : {h}"));
                }
                return Ok(CsvColumn::Field(i));
            }
            if let Some((rel, ext)) = h.split_once('.')
                && let Some(r) = def.relationship(rel)
            {
                let target = r
                    .reference_to
                    .first()
                    .and_then(|t| schema.index(t))
                    .ok_or_else(|| format!("InvalidBatch : Field name not found : {h}"))?;
                let ext_field = external_field(schema, target, ext)
                    .map_err(|e| format!("InvalidBatch : {}", e.message))?;
                let ref_field = def.field_index(&r.name).unwrap_or(0);
                return Ok(CsvColumn::Ref(ref_field, target, ext_field));
            }
            Err(format!("InvalidBatch : Field name not found : {h}"))
        })
        .collect()
}

/// Assignments from one CSV row. An empty cell leaves the field unchanged; `#N/A` sets null.
pub fn from_csv_row(columns: &[CsvColumn], row: &csv::StringRecord) -> Vec<Assign> {
    let mut out = Vec::with_capacity(columns.len());
    for (col, cell) in columns.iter().zip(row.iter()) {
        if cell.is_empty() {
            continue;
        }
        let null = cell == "#N/A";
        match col {
            CsvColumn::Field(i) => out.push(Assign {
                field: *i,
                input: if null {
                    Input::Value(Value::Null)
                } else {
                    Input::Text(cell.to_string())
                },
            }),
            CsvColumn::Ref(f, obj, ext) => out.push(Assign {
                field: *f,
                input: if null {
                    Input::Value(Value::Null)
                } else {
                    Input::ExtRef {
                        object: *obj,
                        field: *ext,
                        value: cell.to_string(),
                    }
                },
            }),
        }
    }
    out
}
