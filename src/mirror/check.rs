//! A mapping checked against the org's describe: every problem collected (a field that
//! does not exist or that the Bulk API cannot read, a relationship column whose
//! relationship the object does not have, an index on a field that is not mapped, an
//! `upsert_field` that is not an External ID), each naming the mapping and the fix; or,
//! when there is none, the exact columns to load ([`Resolved`]), each with describe's
//! createable / updateable for write-back. The scheduler, the job plan steps and
//! `orgpool mappings check` all use [`check_against`].

use super::mapping::{Column, Fields, Mapping, MappingError, invalid, relationship};
use super::types::{self, ColumnTypes};
use crate::salesforce::{Describe, FieldDescribe};

/// A mapping checked against the org: the columns to load, in Bulk query order.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The mapping.
    pub mapping: Mapping,
    /// Columns, `sfid` first, then `systemmodstamp` and `isdeleted`, then the rest.
    pub columns: Vec<Column>,
}

/// The fields every mirror needs to sync.
const SYSTEM: [&str; 3] = ["Id", "SystemModstamp", "IsDeleted"];

impl Resolved {
    /// Checks `mapping` against the object's describe; the first problem if any (see
    /// [`check_against`] for all of them).
    pub fn new(mapping: &Mapping, describe: &Describe) -> Result<Resolved, MappingError> {
        check_against(mapping, describe).map_err(|mut all| all.remove(0))
    }

    /// The Bulk query that reads the mapped fields.
    pub fn soql(&self) -> String {
        let fields: Vec<&str> = self.columns.iter().map(|c| c.field.as_str()).collect();
        format!("SELECT {} FROM {}", fields.join(", "), self.mapping.object)
    }
}

/// Checks `mapping` against its object's describe: the columns to load, or every
/// problem found (never empty).
pub fn check_against(
    mapping: &Mapping,
    describe: &Describe,
) -> Result<Resolved, Vec<MappingError>> {
    let o = &mapping.object;
    let mode = mapping.column_types();
    let mut problems = Vec::new();
    // In the list's order: the Bulk query and the table follow it.
    let mut wanted: Vec<Column> = Vec::new();
    match &mapping.fields {
        Fields::All(_) => wanted.extend(describe.fields.iter().filter_map(|f| column(f, mode))),
        Fields::List(names) => {
            for n in names {
                match describe.field(n) {
                    Some(f) => match types::column_type(f, mode) {
                        Ok(_) => wanted.extend(column(f, mode)),
                        Err(e) => problems.push(invalid(o, e.to_string())),
                    },
                    // A relationship column: its lookup is checked here; the parent's
                    // field is not (that takes the parent's describe) but Salesforce
                    // refuses the Bulk query naming it, with its message kept.
                    None => match relationship::resolve(n, describe) {
                        Some(Ok(c)) => wanted.push(c),
                        Some(Err(p)) => problems.push(invalid(o, p)),
                        None => problems.push(invalid(o, format!("field {n} does not exist on {}; check the spelling (custom fields end in __c) or remove it", describe.name))),
                    },
                }
            }
        }
    }
    let mut columns: Vec<Column> = Vec::new();
    for name in SYSTEM {
        match describe.field(name) {
            Some(f) => columns.extend(column(f, mode)),
            None => problems.push(invalid(
                o,
                format!(
                    "{} has no {name} field, so it cannot be mirrored by SystemModstamp polling",
                    describe.name
                ),
            )),
        }
    }
    for c in wanted {
        if c.relationship.is_none() && SYSTEM.iter().any(|s| s.eq_ignore_ascii_case(&c.field)) {
            continue;
        }
        if columns.iter().any(|x| x.name == c.name) {
            problems.push(invalid(o, format!("field {} is listed twice", c.field)));
            continue;
        }
        columns.push(c);
    }
    for name in &mapping.indexes {
        // Id and SystemModstamp are indexed on every table already.
        if ["Id", "SystemModstamp"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(name))
        {
            continue;
        }
        // A relationship column may be named by its path or its column.
        match columns.iter_mut().find(|c| {
            c.field.eq_ignore_ascii_case(name)
                || (c.relationship.is_some() && c.name.eq_ignore_ascii_case(name))
        }) {
            Some(c) => c.hc_index = true,
            None => problems.push(invalid(
                o,
                format!("indexes names {name}, which is not a mapped field of {}; add it to fields or remove it from indexes", describe.name),
            )),
        }
    }
    if let Some(up) = &mapping.upsert_field {
        problems.extend(check_upsert(mapping, describe, &columns, up));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Resolved {
        mapping: mapping.clone(),
        columns,
    })
}

/// `upsert_field` must be an External ID field of the object, and mapped (write-back
/// matches rows by its column).
fn check_upsert(
    mapping: &Mapping,
    describe: &Describe,
    columns: &[Column],
    up: &str,
) -> Option<MappingError> {
    let o = &mapping.object;
    let candidates = || {
        let names: Vec<&str> = describe
            .fields
            .iter()
            .filter(|f| f.external_id)
            .map(|f| f.name.as_str())
            .collect();
        if names.is_empty() {
            format!(
                "{} has none; create one in Salesforce or remove upsert_field",
                describe.name
            )
        } else {
            format!(
                "External ID fields of {}: {}",
                describe.name,
                names.join(", ")
            )
        }
    };
    let Some(f) = describe.field(up) else {
        return Some(invalid(
            o,
            format!(
                "upsert_field {up} does not exist on {}; {}",
                describe.name,
                candidates()
            ),
        ));
    };
    if !f.external_id {
        return Some(invalid(
            o,
            format!(
                "upsert_field {up} is not an External ID field; {}",
                candidates()
            ),
        ));
    }
    if !columns.iter().any(|c| c.field.eq_ignore_ascii_case(up)) {
        return Some(invalid(
            o,
            format!("upsert_field {up} is not among the mapped fields; add it to fields"),
        ));
    }
    None
}

/// The column of a field the mode can mirror (`None` when it cannot: reported by the
/// caller).
fn column(f: &FieldDescribe, mode: ColumnTypes) -> Option<Column> {
    let pg_type = types::column_type(f, mode).ok()?;
    // Write-back never sets these; Salesforce does.
    let system = SYSTEM.iter().any(|s| s.eq_ignore_ascii_case(&f.name));
    let name = if f.name.eq_ignore_ascii_case("Id") {
        "sfid".to_string()
    } else {
        types::pg_name(&f.name)
    };
    Some(Column {
        indexed: f.field_type == "reference" && name != "sfid",
        hc_index: false,
        create: f.createable && !system,
        update: f.updateable && !system,
        relationship: None,
        references: f.reference_to.clone(),
        calculated: f.calculated,
        field: f.name.clone(),
        name,
        pg_type,
    })
}
