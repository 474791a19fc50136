//! One Bulk 1.0 ingest record applied through the store's write path (create, update,
//! upsert, delete, hard delete), which validates it, stamps `SystemModstamp` and
//! records the change, as REST and Bulk 2.0 writes do. Records come from CSV rows or
//! JSON objects; both become the same field assignments.

use serde_json::{Map, Value as Json};

use super::super::ids::RecordId;
use super::super::input::{self, CsvColumn};
use super::super::record_error::{RecordError, parse_id};
use super::super::store::{Assign, Store};
use super::job::Op;

/// What happened to one record.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The record's Id, when known.
    pub id: Option<RecordId>,
    /// Whether it was created.
    pub created: bool,
    /// Why it failed.
    pub error: Option<RecordError>,
}

impl Outcome {
    /// A failure.
    pub fn failed(id: Option<RecordId>, e: RecordError) -> Outcome {
        Outcome {
            id,
            created: false,
            error: Some(e),
        }
    }
}

/// A record as assignments plus the Id and external-Id key it names.
pub struct Input {
    /// Field assignments (or why they could not be made).
    pub assigns: Result<Vec<Assign>, RecordError>,
    /// The `Id` value given.
    pub id: String,
    /// The external-Id value given (upsert).
    pub key: String,
}

/// A CSV row as an [`Input`].
pub fn from_csv(
    header: &[String],
    cols: &[CsvColumn],
    row: &csv::StringRecord,
    ext: Option<&str>,
) -> Input {
    let cell = |name: &str| {
        header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .and_then(|c| row.get(c))
            .unwrap_or("")
            .to_string()
    };
    Input {
        assigns: Ok(input::from_csv_row(cols, row)),
        id: cell("Id"),
        key: ext.map(cell).unwrap_or_default(),
    }
}

/// A JSON record as an [`Input`].
pub fn from_json(store: &Store, obj: usize, map: &Map<String, Json>, ext: Option<&str>) -> Input {
    let get = |name: &str| match map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
        Some((_, Json::String(s))) => s.clone(),
        Some((_, Json::Number(n))) => n.to_string(),
        _ => String::new(),
    };
    Input {
        assigns: input::from_json(&store.schema, obj, map),
        id: get("Id"),
        key: ext.map(get).unwrap_or_default(),
    }
}

/// Applies one record.
pub fn apply(store: &mut Store, obj: usize, op: Op, ext: Option<&str>, rec: Input) -> Outcome {
    let mut assigns = match rec.assigns {
        Ok(a) => a,
        Err(e) => return Outcome::failed(None, e),
    };
    let by_id = matches!(op, Op::Update | Op::Delete | Op::HardDelete);
    let id = if by_id {
        match parse_id(&rec.id) {
            Ok(id) => Some(id),
            Err(e) => return Outcome::failed(None, e),
        }
    } else {
        None
    };
    let given = id.unwrap_or(RecordId::new(*b"000", 0));
    let result = match op {
        Op::Insert => store.create(obj, assigns, None).map(|id| (id, true)),
        Op::Update => {
            let id_field = store.schema.objects[obj].field_index("Id");
            assigns.retain(|a| Some(a.field) != id_field);
            store
                .update(obj, given, assigns, None)
                .map(|()| (given, false))
        }
        Op::Upsert => {
            let ext = ext.unwrap_or("Id");
            if rec.key.is_empty() {
                Err(RecordError::with_fields(
                    "MISSING_ARGUMENT",
                    format!("{ext} not specified"),
                    vec![ext.to_string()],
                ))
            } else {
                let field = store.schema.objects[obj].field_index(ext).unwrap_or(0);
                store.upsert(obj, field, &rec.key, assigns)
            }
        }
        Op::Delete => store.delete(obj, given).map(|()| (given, false)),
        Op::HardDelete => store.hard_delete(obj, given).map(|()| (given, false)),
        Op::Query | Op::QueryAll => Err(RecordError::new(
            "INVALID_OPERATION",
            "a query job takes no records",
        )),
    };
    match result {
        Ok((id, created)) => Outcome {
            id: Some(id),
            created,
            error: None,
        },
        Err(e) => Outcome::failed(id, e),
    }
}
