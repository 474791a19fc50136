//! Resolves a parsed SOQL query against the org's schema: field paths to columns,
//! literals to typed values, with Salesforce's `INVALID_FIELD` / `INVALID_TYPE` /
//! `INVALID_QUERY_FILTER_OPERATOR` errors.

use orgpool_soql::{self as soql, CompareOp, Expr, FieldPath, Literal, Query, SelectItem};

use super::super::ids::{self, RecordId};
use super::super::model::{FieldType, ObjectDef};
use super::super::schema::Schema;
use super::super::value::Value;
use super::QueryError;
use super::dates::{self, DateRange};

/// A resolved field path: references to follow, then a field.
#[derive(Debug, Clone)]
pub struct Column {
    /// The path as Salesforce spells it (`Account.Name`).
    pub header: String,
    /// Reference slots to follow, with the object each leads to.
    pub hops: Vec<Hop>,
    /// The object holding the final field.
    pub obj: usize,
    /// The final field's index in that object.
    pub field: usize,
}

/// One step through a reference field.
#[derive(Debug, Clone)]
pub struct Hop {
    /// Slot of the reference field on the current object.
    pub slot: usize,
    /// The relationship name as the schema spells it.
    pub relationship: String,
    /// The object it leads to.
    pub target: usize,
}

/// A filter ready to evaluate.
#[derive(Debug, Clone)]
pub enum Pred {
    /// All hold.
    And(Vec<Pred>),
    /// Any holds.
    Or(Vec<Pred>),
    /// Does not hold.
    Not(Box<Pred>),
    /// Comparison with a typed value.
    Cmp(Column, CompareOp, Value),
    /// Membership.
    In(Column, bool, Vec<Value>),
    /// Case-insensitive pattern match (pattern lower-cased).
    Like(Column, bool, String),
    /// Multi-select picklist includes/excludes; each inner list must all be present.
    Includes(Column, bool, Vec<Vec<String>>),
    /// Comparison with a relative date literal.
    Range(Column, CompareOp, DateRange),
}

/// A query resolved against the schema.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The object queried.
    pub obj: usize,
    /// Select-list columns (empty for `COUNT()`).
    pub columns: Vec<Column>,
    /// `SELECT COUNT()`.
    pub count_only: bool,
    /// The filter.
    pub filter: Option<Pred>,
    /// Sort keys: column, descending, nulls first.
    pub order: Vec<(Column, bool, bool)>,
    /// LIMIT.
    pub limit: Option<u64>,
    /// OFFSET.
    pub offset: Option<u64>,
}

/// Parses and resolves `text`.
pub fn compile(schema: &Schema, text: &str) -> Result<Compiled, QueryError> {
    let (query, spans) = soql::parse_with_spans(text)
        .map_err(|e| QueryError::Malformed(e.salesforce_message(text)))?;
    let mut span_iter = spans.into_iter();
    compile_query(schema, text, &query, &mut span_iter)
}

fn compile_query(
    schema: &Schema,
    text: &str,
    query: &Query,
    spans: &mut impl Iterator<Item = (FieldPath, usize)>,
) -> Result<Compiled, QueryError> {
    let obj = schema.index(&query.from).ok_or_else(|| {
        let offset = find_word(text, &query.from);
        QueryError::InvalidType(soql::caret_message(
            text,
            offset,
            &format!(
                "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
                query.from
            ),
        ))
    })?;
    let mut resolve = |path: &FieldPath| -> Result<Column, QueryError> {
        let offset = next_offset(spans, path);
        resolve_path(schema, obj, path)
            .map_err(|msg| QueryError::InvalidField(soql::caret_message(text, offset, &msg)))
    };
    let mut columns = Vec::new();
    let mut count_only = false;
    for item in &query.select {
        match item {
            SelectItem::Count => count_only = true,
            SelectItem::Field(p) => columns.push(resolve(p)?),
        }
    }
    let filter = match &query.filter {
        Some(e) => Some(compile_expr(schema, e, &mut resolve)?),
        None => None,
    };
    let mut order = Vec::new();
    for o in &query.order_by {
        let c = resolve(&o.field)?;
        order.push((c, o.descending, o.nulls_first.unwrap_or(!o.descending)));
    }
    Ok(Compiled {
        obj,
        columns,
        count_only,
        filter,
        order,
        limit: query.limit,
        offset: query.offset,
    })
}

fn next_offset(spans: &mut impl Iterator<Item = (FieldPath, usize)>, path: &FieldPath) -> usize {
    for (p, off) in spans.by_ref() {
        if &p == path {
            return off;
        }
    }
    0
}

fn find_word(text: &str, word: &str) -> usize {
    let lower = text.to_ascii_lowercase();
    let w = word.to_ascii_lowercase();
    lower
        .find(" from ")
        .and_then(|f| lower[f..].find(&w).map(|i| i + f))
        .unwrap_or(0)
}

/// Resolves `path` from object `obj`; the error is Salesforce's message.
pub fn resolve_path(schema: &Schema, obj: usize, path: &FieldPath) -> Result<Column, String> {
    let mut cur = obj;
    let mut hops = Vec::new();
    let mut header = Vec::new();
    let (last, rels) = path
        .parts
        .split_last()
        .ok_or_else(|| "empty field path".to_string())?;
    for rel in rels {
        let def = &schema.objects[cur];
        let f = def.relationship(rel).ok_or_else(|| {
            format!(
                "Didn't understand relationship '{rel}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
            )
        })?;
        let target = f
            .reference_to
            .first()
            .and_then(|t| schema.index(t))
            .ok_or_else(|| format!("relationship '{rel}' has no target"))?;
        let rel_name = f.relationship_name.clone().unwrap_or_default();
        header.push(rel_name.clone());
        hops.push(Hop {
            slot: f.slot.unwrap_or(0),
            relationship: rel_name,
            target,
        });
        cur = target;
    }
    let def = &schema.objects[cur];
    let field = def
        .field_index(last)
        .ok_or_else(|| no_such_column(last, def))?;
    header.push(def.fields[field].name.clone());
    Ok(Column {
        header: header.join("."),
        hops,
        obj: cur,
        field,
    })
}

/// Columns of `obj`'s own fields named in a comma-separated `list` (REST `fields=`),
/// or every field when `list` is `None`. The error is Salesforce's DML-style message.
pub fn direct_columns(
    def: &ObjectDef,
    obj: usize,
    list: Option<&str>,
) -> Result<Vec<Column>, String> {
    let column = |field: usize| Column {
        header: def.fields[field].name.clone(),
        hops: Vec::new(),
        obj,
        field,
    };
    match list {
        None => Ok((0..def.fields.len()).map(column).collect()),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .map(|name| {
                def.field_index(name).map(column).ok_or_else(|| {
                    format!("No such column '{name}' on sobject of type {}", def.name)
                })
            })
            .collect(),
    }
}

fn no_such_column(name: &str, def: &ObjectDef) -> String {
    format!(
        "No such column '{name}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
        def.name
    )
}

fn compile_expr(
    schema: &Schema,
    e: &Expr,
    resolve: &mut impl FnMut(&FieldPath) -> Result<Column, QueryError>,
) -> Result<Pred, QueryError> {
    Ok(match e {
        Expr::And(v) => Pred::And(
            v.iter()
                .map(|x| compile_expr(schema, x, resolve))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Or(v) => Pred::Or(
            v.iter()
                .map(|x| compile_expr(schema, x, resolve))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Not(x) => Pred::Not(Box::new(compile_expr(schema, x, resolve)?)),
        Expr::Compare { field, op, value } => {
            let col = resolve(field)?;
            let f = &schema.objects[col.obj].fields[col.field];
            if let Literal::DateLiteral { name, n } = value {
                check_filterable(schema, &col)?;
                if !matches!(f.ftype, FieldType::Date | FieldType::DateTime) {
                    return Err(type_mismatch(&f.name, f.ftype));
                }
                let range = dates::resolve(name, *n)
                    .ok_or_else(|| QueryError::Malformed(format!("unexpected token: {name}")))?;
                return Ok(Pred::Range(col, *op, range));
            }
            let v = literal_value(schema, &col, value, *op)?;
            Pred::Cmp(col, *op, v)
        }
        Expr::In {
            field,
            negated,
            values,
        } => {
            let col = resolve(field)?;
            let vals = values
                .iter()
                .map(|l| literal_value(schema, &col, l, CompareOp::Eq))
                .collect::<Result<_, _>>()?;
            Pred::In(col, *negated, vals)
        }
        Expr::Like {
            field,
            negated,
            pattern,
        } => {
            let col = resolve(field)?;
            let f = &schema.objects[col.obj].fields[col.field];
            if !(f.ftype.is_text() || matches!(f.ftype, FieldType::Id | FieldType::Reference)) {
                return Err(QueryError::FilterOperator(format!(
                    "invalid operator on {} field: LIKE",
                    f.ftype.api_name()
                )));
            }
            Pred::Like(col, *negated, pattern.to_lowercase())
        }
        Expr::Includes {
            field,
            excludes,
            values,
        } => {
            let col = resolve(field)?;
            let f = &schema.objects[col.obj].fields[col.field];
            if f.ftype != FieldType::MultiPicklist {
                return Err(QueryError::FilterOperator(format!(
                    "includes or excludes operator only valid on multipicklist field: {}",
                    f.name
                )));
            }
            let sets = values
                .iter()
                .map(|v| v.split(';').map(|s| s.trim().to_lowercase()).collect())
                .collect();
            Pred::Includes(col, *excludes, sets)
        }
    })
}

fn check_filterable(schema: &Schema, col: &Column) -> Result<(), QueryError> {
    let f = &schema.objects[col.obj].fields[col.field];
    if f.ftype.is_compound()
        || f.ftype == FieldType::Base64
        || f.ftype == FieldType::TextArea && f.length > 255
    {
        return Err(QueryError::InvalidField(format!(
            "field '{}' can not be filtered in a query call",
            f.name
        )));
    }
    Ok(())
}

fn type_mismatch(name: &str, t: FieldType) -> QueryError {
    let ty = match t {
        FieldType::DateTime => "dateTime",
        FieldType::Date => "date",
        FieldType::Boolean => "boolean",
        FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent => "double",
        _ => "string",
    };
    let quoting = if ty == "string" {
        "should be enclosed in quotes"
    } else {
        "should not be enclosed in quotes"
    };
    QueryError::FilterOperator(format!(
        "value of filter criterion for field '{name}' must be of type {ty} and {quoting}"
    ))
}

/// Converts a literal to a value comparable with the column's field.
fn literal_value(
    schema: &Schema,
    col: &Column,
    lit: &Literal,
    op: CompareOp,
) -> Result<Value, QueryError> {
    check_filterable(schema, col)?;
    let f = &schema.objects[col.obj].fields[col.field];
    let mismatch = || type_mismatch(&f.name, f.ftype);
    if let Literal::Null = lit {
        return Ok(Value::Null);
    }
    Ok(match f.ftype {
        FieldType::Id | FieldType::Reference => match lit {
            Literal::String(s) => {
                if matches!(op, CompareOp::Eq | CompareOp::Ne) && !ids::is_valid_shape(s) {
                    return Err(QueryError::FilterOperator(format!("invalid ID field: {s}")));
                }
                // Compared on the 15-character case-sensitive form.
                match RecordId::parse(s) {
                    Some(id) => Value::Id(id),
                    None => Value::text(&s[..s.len().min(15)]),
                }
            }
            _ => return Err(mismatch()),
        },
        FieldType::Boolean => match lit {
            Literal::Bool(b) => Value::Bool(*b),
            _ => return Err(mismatch()),
        },
        FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent => {
            match lit {
                Literal::Number(n) => Value::Num(n.parse::<f64>().map_err(|_| mismatch())?),
                _ => return Err(mismatch()),
            }
        }
        FieldType::Date => match lit {
            Literal::Date(d) => Value::Date(*d),
            _ => return Err(mismatch()),
        },
        FieldType::DateTime => match lit {
            Literal::DateTime(dt) => Value::DateTime(dt.timestamp_millis()),
            _ => return Err(mismatch()),
        },
        FieldType::Time => match lit {
            Literal::String(s) => super::super::value::from_text(f, s).map_err(|_| mismatch())?,
            _ => return Err(mismatch()),
        },
        _ => match lit {
            Literal::String(s) => Value::text(&s.to_lowercase()),
            _ => return Err(mismatch()),
        },
    })
}
