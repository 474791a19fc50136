//! Custom objects and fields from a schema file (TOML), so tests and demos can run the
//! fake org with the shape of a real org. The format is documented in
//! `docs/fake-org.md`; an example covering every field type is
//! `examples/fake-org-schema.toml`.

use std::path::Path;

use serde::Deserialize;

use super::field_builder::{f, location, system_fields};
use super::model::{FieldDef, FieldType, ObjectDef};
use super::validation::ValidationRule;
use super::value::{Value, from_text};

/// Why a schema file was refused.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The file could not be read.
    #[error("cannot read schema file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys.
    #[error("schema file {path}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// What the TOML parser said (names the key and line).
        message: String,
    },
    /// A definition does not make sense.
    #[error("schema file: {0}")]
    Invalid(String),
}

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaFile {
    /// New objects.
    #[serde(default)]
    pub object: Vec<ObjectSpec>,
    /// Extra fields on existing (standard) objects.
    #[serde(default)]
    pub field: Vec<ExtraFieldSpec>,
    /// Validation rules (checked once every object is defined).
    #[serde(default)]
    pub validation_rule: Vec<ValidationRule>,
}

/// A new object.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectSpec {
    /// API name; custom objects end in `__c`. A name without `__c` defines a standard
    /// object the fake org does not build in (for example `Order`).
    pub name: String,
    /// Three-character Id prefix (custom objects conventionally use `a00`..`a9z`).
    pub key_prefix: String,
    /// Label; default derived from the name.
    pub label: Option<String>,
    /// Plural label; default label + "s".
    pub label_plural: Option<String>,
    /// `text` (default) or `autonumber`: the type of the `Name` field.
    #[serde(default)]
    pub name_type: Option<String>,
    /// Whether the object has an owner (default true; false for detail objects).
    #[serde(default = "yes")]
    pub owner: bool,
    /// Its fields besides the system fields and `Name`.
    #[serde(default)]
    pub field: Vec<FieldSpec>,
}

fn yes() -> bool {
    true
}

/// A field on an existing object.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraFieldSpec {
    /// The object to add it to.
    pub object: String,
    /// The field.
    #[serde(flatten)]
    pub spec: FieldSpec,
}

/// One field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// API name (custom fields end in `__c`).
    pub name: String,
    /// Salesforce type name as describe reports it (`string`, `currency`, `location` ...).
    #[serde(rename = "type")]
    pub ftype: String,
    /// Label; default derived from the name.
    pub label: Option<String>,
    /// Text length (default 80 for string, 32000 for textarea ...).
    pub length: Option<u32>,
    /// Number precision (default 18).
    pub precision: Option<u32>,
    /// Number scale (default 2; 0 for int).
    pub scale: Option<u32>,
    /// Must be given on create (default false).
    #[serde(default)]
    pub required: bool,
    /// Unique values (default false).
    #[serde(default)]
    pub unique: bool,
    /// External Id (default false).
    #[serde(default)]
    pub external_id: bool,
    /// Picklist values.
    #[serde(default)]
    pub values: Vec<String>,
    /// Only listed picklist values are allowed (default false).
    #[serde(default)]
    pub restricted: bool,
    /// For references: the parent object.
    pub reference_to: Option<String>,
    /// For references: relationship name (default: name with `__c` -> `__r`).
    pub relationship_name: Option<String>,
    /// For references: deleting the parent deletes the child (default false).
    #[serde(default)]
    pub master_detail: bool,
    /// Read-only (a formula or roll-up; stays null unless seeded) (default false).
    #[serde(default)]
    pub read_only: bool,
    /// A constant default on create, as text.
    pub default: Option<String>,
}

/// Reads and applies a schema file to `objects`; returns its validation rules.
pub fn load(path: &Path, objects: &mut Vec<ObjectDef>) -> Result<Vec<ValidationRule>, SchemaError> {
    let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let mut file: SchemaFile = toml::from_str(&text).map_err(|e| SchemaError::Syntax {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let rules = std::mem::take(&mut file.validation_rule);
    apply(file, objects)?;
    super::validation::compile(objects, &rules).map_err(SchemaError::Invalid)?;
    Ok(rules)
}

/// Applies a parsed schema to `objects` (its validation rules are the caller's).
pub fn apply(file: SchemaFile, objects: &mut Vec<ObjectDef>) -> Result<(), SchemaError> {
    for spec in file.object {
        if objects
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case(&spec.name))
        {
            return Err(SchemaError::Invalid(format!(
                "object {} is defined twice; rename it or add fields to it with [[field]] object = \"{}\"",
                spec.name, spec.name
            )));
        }
        let prefix: [u8; 3] = spec
            .key_prefix
            .as_bytes()
            .try_into()
            .ok()
            .filter(|p: &[u8; 3]| p.iter().all(u8::is_ascii_alphanumeric))
            .ok_or_else(|| {
                SchemaError::Invalid(format!(
                    "object {}: key_prefix must be 3 letters or digits, got {:?}",
                    spec.name, spec.key_prefix
                ))
            })?;
        if objects.iter().any(|o| o.key_prefix == prefix) {
            return Err(SchemaError::Invalid(format!(
                "object {}: key_prefix {} is already used; pick another",
                spec.name, spec.key_prefix
            )));
        }
        let mut fields = system_fields(spec.owner);
        let name_field = match spec.name_type.as_deref().unwrap_or("text") {
            "text" => f("Name", FieldType::String).len(80).req().name_field(),
            "autonumber" => f("Name", FieldType::String)
                .len(30)
                .auto_number()
                .name_field(),
            other => {
                return Err(SchemaError::Invalid(format!(
                    "object {}: name_type {other:?} is not text or autonumber",
                    spec.name
                )));
            }
        };
        fields.push(name_field);
        let mut def = ObjectDef::new(&spec.name, prefix, fields);
        def.custom = spec.name.ends_with("__c");
        if let Some(l) = spec.label {
            def.label_plural = spec.label_plural.unwrap_or_else(|| format!("{l}s"));
            def.label = l;
        } else if let Some(p) = spec.label_plural {
            def.label_plural = p;
        }
        for fs in spec.field {
            add(&mut def, fs)?;
        }
        objects.push(def);
    }
    for extra in file.field {
        let obj = objects
            .iter_mut()
            .find(|o| o.name.eq_ignore_ascii_case(&extra.object))
            .ok_or_else(|| {
                SchemaError::Invalid(format!(
                    "[[field]] {}: no object named {}; define it under [[object]] first",
                    extra.spec.name, extra.object
                ))
            })?;
        add(obj, extra.spec)?;
    }
    Ok(())
}

fn add(obj: &mut ObjectDef, spec: FieldSpec) -> Result<(), SchemaError> {
    let where_ = format!("{}.{}", obj.name, spec.name);
    let ftype = FieldType::from_api_name(&spec.ftype).ok_or_else(|| {
        SchemaError::Invalid(format!(
            "{where_}: unknown type {:?}; use one of id, reference, string, textarea, picklist, multipicklist, combobox, boolean, int, double, currency, percent, date, datetime, time, email, phone, url, encryptedstring, base64, address, location",
            spec.ftype
        ))
    })?;
    if !spec
        .name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        || !spec.name.starts_with(|c: char| c.is_ascii_alphabetic())
    {
        return Err(SchemaError::Invalid(format!(
            "{where_}: a field name is letters, digits and underscores, starting with a letter"
        )));
    }
    let mut new_fields: Vec<FieldDef> = match ftype {
        FieldType::Id => {
            return Err(SchemaError::Invalid(format!(
                "{where_}: every object already has its Id; declare a reference instead"
            )));
        }
        FieldType::Location => location(&spec.name, spec.scale.unwrap_or(6)),
        FieldType::Address => {
            return Err(SchemaError::Invalid(format!(
                "{where_}: custom address fields are not supported; add the component fields (Street, City ...) as strings"
            )));
        }
        _ => vec![f(&spec.name, ftype)],
    };
    let main = new_fields
        .last_mut()
        .ok_or_else(|| SchemaError::Invalid(where_.clone()))?;
    if let Some(l) = spec.label {
        main.label = l;
    }
    if let Some(n) = spec.length {
        main.length = n;
    }
    if ftype.is_decimal() || ftype == FieldType::Int {
        main.precision = spec.precision.unwrap_or(main.precision);
        main.scale = spec.scale.unwrap_or(main.scale);
    }
    if spec.required {
        main.nillable = false;
        main.defaulted_on_create = false;
    }
    main.unique = spec.unique;
    main.external_id = spec.external_id;
    if spec.external_id
        && !(ftype.is_text() || ftype == FieldType::Int || ftype == FieldType::Double)
    {
        return Err(SchemaError::Invalid(format!(
            "{where_}: only text, email, int and double fields can be external Ids"
        )));
    }
    main.picklist = spec.values;
    main.restricted_picklist = spec.restricted;
    if ftype == FieldType::Reference {
        let to = spec.reference_to.ok_or_else(|| {
            SchemaError::Invalid(format!(
                "{where_}: a reference needs reference_to = \"Object\""
            ))
        })?;
        let rel = spec
            .relationship_name
            .unwrap_or_else(|| spec.name.trim_end_matches("__c").to_string() + "__r");
        main.reference_to = vec![to];
        main.relationship_name = Some(rel);
        main.cascade_delete = spec.master_detail;
        if spec.master_detail {
            main.nillable = false;
            main.updateable = false;
        }
    }
    if spec.read_only {
        main.createable = false;
        main.updateable = false;
        main.calculated = true;
    }
    if let Some(d) = spec.default {
        let v = from_text(main, &d)
            .map_err(|e| SchemaError::Invalid(format!("{where_}: default: {}", e.0)))?;
        main.default_value = Some(v);
        main.defaulted_on_create = true;
    } else if ftype == FieldType::Boolean {
        main.default_value = Some(Value::Bool(false));
    }
    for fd in new_fields {
        if !obj.add_field(fd) {
            return Err(SchemaError::Invalid(format!(
                "{where_}: {} already has a field of that name",
                obj.name
            )));
        }
    }
    Ok(())
}
