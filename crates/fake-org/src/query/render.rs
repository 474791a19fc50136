//! Query rows on the wire: REST JSON records (with `attributes` and nested parent
//! objects) and Bulk API 2.0 CSV (every value quoted, columns in SELECT order, parent
//! fields named by their path, nulls as `""`).

use serde_json::{Map, Value as Json, json};

use super::super::model::FieldType;
use super::super::store::{Row, Store};
use super::super::value::Value;
use super::compile::Column;
use super::eval::column_value;

/// The REST JSON of one record for the select list `columns`.
pub fn record_json(
    store: &Store,
    obj: usize,
    row: &Row,
    columns: &[Column],
    version: &str,
) -> Json {
    let def = &store.schema.objects[obj];
    let mut map = Map::new();
    map.insert(
        "attributes".into(),
        attributes(&def.name, row_id(store, obj, row).as_deref(), version),
    );
    for col in columns {
        insert_column(store, &mut map, row, col, 0, version);
    }
    Json::Object(map)
}

fn attributes(ty: &str, id: Option<&str>, version: &str) -> Json {
    match id {
        Some(id) => {
            json!({"type": ty, "url": format!("/services/data/{version}/sobjects/{ty}/{id}")})
        }
        None => json!({"type": ty}),
    }
}

fn row_id(store: &Store, obj: usize, row: &Row) -> Option<String> {
    let slot = store.schema.objects[obj].try_slot("Id")?;
    row.values[slot].as_id().map(|i| i.to_string())
}

fn insert_column(
    store: &Store,
    map: &mut Map<String, Json>,
    row: &Row,
    col: &Column,
    depth: usize,
    version: &str,
) {
    if depth < col.hops.len() {
        let hop = &col.hops[depth];
        let parent = match &row.values[hop.slot] {
            Value::Id(id) => store.table(hop.target).get(id.seq()),
            _ => None,
        };
        let Some(parent) = parent else {
            map.insert(hop.relationship.clone(), Json::Null);
            return;
        };
        let entry = map.entry(hop.relationship.clone()).or_insert_with(|| {
            let tdef = &store.schema.objects[hop.target];
            let mut m = Map::new();
            m.insert(
                "attributes".into(),
                attributes(
                    &tdef.name,
                    row_id(store, hop.target, parent).as_deref(),
                    version,
                ),
            );
            Json::Object(m)
        });
        if let Json::Object(m) = entry {
            insert_column(store, m, parent, col, depth + 1, version);
        }
        return;
    }
    let def = &store.schema.objects[col.obj];
    let f = &def.fields[col.field];
    let v = match f.ftype {
        FieldType::Address | FieldType::Location => {
            compound_json(store, col.obj, row, &f.name, f.ftype)
        }
        _ => {
            let single = Column {
                hops: Vec::new(),
                ..col.clone()
            };
            column_value(store, &single, row).to_json()
        }
    };
    map.insert(f.name.clone(), v);
}

/// The JSON object of an address or location compound, from its component fields.
pub fn compound_json(store: &Store, obj: usize, row: &Row, name: &str, ftype: FieldType) -> Json {
    let def = &store.schema.objects[obj];
    let mut m = Map::new();
    let mut any = false;
    for f in def
        .fields
        .iter()
        .filter(|f| f.compound_name.as_deref() == Some(name))
    {
        let key = if ftype == FieldType::Location {
            if f.name.ends_with("__Latitude__s") {
                "latitude".to_string()
            } else {
                "longitude".to_string()
            }
        } else {
            let prefix = name.trim_end_matches("Address");
            let rest = f.name.strip_prefix(prefix).unwrap_or(&f.name);
            let mut k = rest.to_string();
            if let Some(first) = k.get_mut(0..1) {
                first.make_ascii_lowercase();
            }
            k
        };
        let v = f
            .slot
            .map(|s| row.values[s].to_json())
            .unwrap_or(Json::Null);
        any |= !v.is_null();
        m.insert(key, v);
    }
    if any { Json::Object(m) } else { Json::Null }
}

/// Writes Bulk API 2.0 CSV for a fixed select list.
#[derive(Debug, Clone)]
pub struct CsvWriter {
    columns: Vec<Column>,
    delimiter: char,
    line_ending: &'static str,
}

impl CsvWriter {
    /// A writer for `columns` with the job's delimiter and line ending.
    pub fn new(columns: Vec<Column>, delimiter: char, crlf: bool) -> CsvWriter {
        CsvWriter {
            columns,
            delimiter,
            line_ending: if crlf { "\r\n" } else { "\n" },
        }
    }

    /// The header line.
    pub fn header(&self, out: &mut String) {
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(self.delimiter);
            }
            quote_into(&c.header, out);
        }
        out.push_str(self.line_ending);
    }

    /// One row.
    pub fn row(&self, store: &Store, row: &Row, out: &mut String, scratch: &mut String) {
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(self.delimiter);
            }
            scratch.clear();
            column_value(store, c, row).write_csv(scratch);
            quote_into(scratch, out);
        }
        out.push_str(self.line_ending);
    }
}

/// Appends `"value"` with inner quotes doubled.
pub fn quote_into(v: &str, out: &mut String) {
    out.push('"');
    if v.contains('"') {
        out.push_str(&v.replace('"', "\"\""));
    } else {
        out.push_str(v);
    }
    out.push('"');
}
