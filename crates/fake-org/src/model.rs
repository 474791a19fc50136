//! The fake org's metadata: objects, fields and their Salesforce types. Standard objects
//! are built in `standard.rs`; custom ones come from a schema file (`schema_file.rs`).

use std::collections::HashMap;

use super::value::Value;

/// A Salesforce field type, as `describe` reports it in `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// The record Id.
    Id,
    /// A lookup or master-detail reference.
    Reference,
    /// Text of at most `length` characters.
    String,
    /// Long text.
    TextArea,
    /// One value of a list.
    Picklist,
    /// Several values of a list, `;`-separated.
    MultiPicklist,
    /// Editable picklist.
    Combobox,
    /// `true` / `false`.
    Boolean,
    /// Integer.
    Int,
    /// Floating point with precision and scale.
    Double,
    /// Money.
    Currency,
    /// A percentage.
    Percent,
    /// A calendar date.
    Date,
    /// A UTC instant.
    DateTime,
    /// A time of day.
    Time,
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
    /// A URL.
    Url,
    /// Encrypted text (shown masked to users without permission; plain here).
    EncryptedString,
    /// Binary content, base64 in JSON. Not readable by the Bulk API.
    Base64,
    /// A compound address (read-only, made of its component fields). Not readable by Bulk.
    Address,
    /// A compound geolocation (read-only, made of latitude/longitude). Not readable by Bulk.
    Location,
}

impl FieldType {
    /// The name `describe` uses.
    pub fn api_name(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::Reference => "reference",
            FieldType::String => "string",
            FieldType::TextArea => "textarea",
            FieldType::Picklist => "picklist",
            FieldType::MultiPicklist => "multipicklist",
            FieldType::Combobox => "combobox",
            FieldType::Boolean => "boolean",
            FieldType::Int => "int",
            FieldType::Double => "double",
            FieldType::Currency => "currency",
            FieldType::Percent => "percent",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::Time => "time",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::EncryptedString => "encryptedstring",
            FieldType::Base64 => "base64",
            FieldType::Address => "address",
            FieldType::Location => "location",
        }
    }

    /// Parses the `describe` name (used by schema files).
    pub fn from_api_name(name: &str) -> Option<FieldType> {
        const ALL: [FieldType; 22] = [
            FieldType::Id,
            FieldType::Reference,
            FieldType::String,
            FieldType::TextArea,
            FieldType::Picklist,
            FieldType::MultiPicklist,
            FieldType::Combobox,
            FieldType::Boolean,
            FieldType::Int,
            FieldType::Double,
            FieldType::Currency,
            FieldType::Percent,
            FieldType::Date,
            FieldType::DateTime,
            FieldType::Time,
            FieldType::Email,
            FieldType::Phone,
            FieldType::Url,
            FieldType::EncryptedString,
            FieldType::Base64,
            FieldType::Address,
            FieldType::Location,
        ];
        ALL.into_iter()
            .find(|t| t.api_name().eq_ignore_ascii_case(name))
    }

    /// The `soapType` `describe` reports.
    pub fn soap_type(self) -> &'static str {
        match self {
            FieldType::Id | FieldType::Reference => "tns:ID",
            FieldType::Boolean => "xsd:boolean",
            FieldType::Int => "xsd:int",
            FieldType::Double | FieldType::Currency | FieldType::Percent => "xsd:double",
            FieldType::Date => "xsd:date",
            FieldType::DateTime => "xsd:dateTime",
            FieldType::Time => "xsd:time",
            FieldType::Base64 => "xsd:base64Binary",
            FieldType::Address => "urn:address",
            FieldType::Location => "urn:location",
            _ => "xsd:string",
        }
    }

    /// Whether values of this type are text.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::String
                | FieldType::TextArea
                | FieldType::Picklist
                | FieldType::MultiPicklist
                | FieldType::Combobox
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
                | FieldType::EncryptedString
        )
    }

    /// Whether values of this type are numbers held as `f64`.
    pub fn is_decimal(self) -> bool {
        matches!(
            self,
            FieldType::Double | FieldType::Currency | FieldType::Percent
        )
    }

    /// Whether the field is a compound made of other fields (no storage of its own).
    pub fn is_compound(self) -> bool {
        matches!(self, FieldType::Address | FieldType::Location)
    }
}

/// One field of an object.
#[derive(Debug, Clone)]
pub struct FieldDef {
    /// API name (`Name`, `Orgpool_Key__c`).
    pub name: String,
    /// Label shown to users.
    pub label: String,
    /// Type.
    pub ftype: FieldType,
    /// Maximum length for text types.
    pub length: u32,
    /// Total digits for numbers.
    pub precision: u32,
    /// Digits after the point for numbers.
    pub scale: u32,
    /// Whether null is allowed.
    pub nillable: bool,
    /// Whether the API may set it on create.
    pub createable: bool,
    /// Whether the API may change it on update.
    pub updateable: bool,
    /// Whether values must be unique (case-insensitive).
    pub unique: bool,
    /// Whether it is an external Id (usable for upsert and relationship references).
    pub external_id: bool,
    /// Whether a value is filled in when none is given on create.
    pub defaulted_on_create: bool,
    /// Whether the value is computed by the org (formula, roll-up, auto-number).
    pub calculated: bool,
    /// Whether the field is an auto-number.
    pub auto_number: bool,
    /// Whether the field is the object's name field.
    pub name_field: bool,
    /// The objects a reference points to.
    pub reference_to: Vec<String>,
    /// The relationship name of a reference (`Account` for `AccountId`).
    pub relationship_name: Option<String>,
    /// Deleting the parent deletes this record (master-detail).
    pub cascade_delete: bool,
    /// Picklist values (first one is the default when `defaulted_on_create`).
    pub picklist: Vec<String>,
    /// Whether only listed picklist values are allowed.
    pub restricted_picklist: bool,
    /// The compound field this field is part of (`BillingAddress` for `BillingCity`).
    pub compound_name: Option<String>,
    /// Where the value lives in a row; `None` for compound fields.
    pub slot: Option<usize>,
    /// Whether this is a custom field.
    pub custom: bool,
    /// A constant default on create.
    pub default_value: Option<Value>,
}

impl FieldDef {
    /// A field with the defaults of an ordinary updateable, nillable field.
    pub fn new(name: &str, ftype: FieldType) -> FieldDef {
        let (length, precision, scale) = match ftype {
            FieldType::Id | FieldType::Reference => (18, 0, 0),
            FieldType::String | FieldType::EncryptedString | FieldType::Email => (80, 0, 0),
            FieldType::Phone => (40, 0, 0),
            FieldType::Url => (255, 0, 0),
            FieldType::TextArea => (32_000, 0, 0),
            FieldType::Picklist | FieldType::Combobox => (255, 0, 0),
            FieldType::MultiPicklist => (4099, 0, 0),
            FieldType::Int => (0, 9, 0),
            FieldType::Double => (0, 18, 2),
            FieldType::Currency => (0, 18, 2),
            FieldType::Percent => (0, 5, 2),
            _ => (0, 0, 0),
        };
        FieldDef {
            name: name.to_string(),
            label: label_of(name),
            ftype,
            length,
            precision,
            scale,
            nillable: ftype != FieldType::Boolean && ftype != FieldType::Id,
            createable: true,
            updateable: true,
            unique: false,
            external_id: false,
            defaulted_on_create: ftype == FieldType::Boolean,
            calculated: false,
            auto_number: false,
            name_field: false,
            reference_to: Vec::new(),
            relationship_name: None,
            cascade_delete: false,
            picklist: Vec::new(),
            restricted_picklist: false,
            compound_name: None,
            slot: None,
            custom: name.ends_with("__c") || name.ends_with("__s"),
            default_value: if ftype == FieldType::Boolean {
                Some(Value::Bool(false))
            } else {
                None
            },
        }
    }

    /// Whether `describe` would say the field must be given on create.
    pub fn required_on_create(&self) -> bool {
        !self.nillable && self.createable && !self.defaulted_on_create
    }

    /// Whether the Bulk API can read it.
    pub fn bulk_readable(&self) -> bool {
        !matches!(
            self.ftype,
            FieldType::Base64 | FieldType::Address | FieldType::Location
        )
    }
}

/// A label from an API name: `BillingCity` -> `Billing City`, `Orgpool_Key__c` -> `Orgpool Key`.
pub fn label_of(name: &str) -> String {
    let base = name
        .trim_end_matches("__c")
        .trim_end_matches("__s")
        .replace('_', " ");
    let mut out = String::with_capacity(base.len() + 4);
    let mut prev_lower = false;
    for c in base.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = c.is_ascii_lowercase();
        out.push(c);
    }
    out
}

/// One object (sObject type).
#[derive(Debug, Clone)]
pub struct ObjectDef {
    /// API name (`Account`, `Invoice__c`).
    pub name: String,
    /// Singular label.
    pub label: String,
    /// Plural label.
    pub label_plural: String,
    /// Three-character Id prefix.
    pub key_prefix: [u8; 3],
    /// Whether it is a custom object.
    pub custom: bool,
    /// Fields in describe order.
    pub fields: Vec<FieldDef>,
    /// Lower-cased field name -> index into `fields`.
    by_name: HashMap<String, usize>,
    /// Lower-cased relationship name -> index of the reference field.
    by_relationship: HashMap<String, usize>,
    /// Number of storage slots in a row.
    pub slots: usize,
}

impl ObjectDef {
    /// Builds an object from its fields, assigning storage slots and lookup tables.
    pub fn new(name: &str, key_prefix: [u8; 3], mut fields: Vec<FieldDef>) -> ObjectDef {
        let mut slots = 0;
        for f in &mut fields {
            if f.ftype.is_compound() {
                f.slot = None;
            } else {
                f.slot = Some(slots);
                slots += 1;
            }
        }
        let mut def = ObjectDef {
            name: name.to_string(),
            label: label_of(name),
            label_plural: format!("{}s", label_of(name)),
            key_prefix,
            custom: name.ends_with("__c"),
            fields,
            by_name: HashMap::new(),
            by_relationship: HashMap::new(),
            slots,
        };
        def.reindex();
        def
    }

    fn reindex(&mut self) {
        self.by_name.clear();
        self.by_relationship.clear();
        for (i, f) in self.fields.iter().enumerate() {
            self.by_name.insert(f.name.to_ascii_lowercase(), i);
            if let Some(rel) = &f.relationship_name {
                self.by_relationship.insert(rel.to_ascii_lowercase(), i);
            }
        }
    }

    /// Adds a field (custom fields from a schema file). Returns false if the name exists.
    pub fn add_field(&mut self, mut field: FieldDef) -> bool {
        if self.by_name.contains_key(&field.name.to_ascii_lowercase()) {
            return false;
        }
        if !field.ftype.is_compound() {
            field.slot = Some(self.slots);
            self.slots += 1;
        }
        self.fields.push(field);
        self.reindex();
        true
    }

    /// The field named `name` (case-insensitive).
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.field_index(name).map(|i| &self.fields[i])
    }

    /// Index into `fields` of the field named `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        if let Some(i) = self.by_name.get(name) {
            return Some(*i);
        }
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    /// The reference field whose relationship is named `rel` (case-insensitive).
    pub fn relationship(&self, rel: &str) -> Option<&FieldDef> {
        self.by_relationship
            .get(&rel.to_ascii_lowercase())
            .map(|i| &self.fields[*i])
    }

    /// The slot of the field named `name`; panics only on a programming error (a
    /// built-in field name that does not exist).
    pub fn slot(&self, name: &str) -> usize {
        self.field(name)
            .and_then(|f| f.slot)
            .unwrap_or_else(|| panic!("{}.{} has no slot", self.name, name))
    }

    /// The slot of `name` if the object has such a stored field.
    pub fn try_slot(&self, name: &str) -> Option<usize> {
        self.field(name).and_then(|f| f.slot)
    }

    /// The key prefix as text.
    pub fn prefix_str(&self) -> &str {
        std::str::from_utf8(&self.key_prefix).unwrap_or("000")
    }
}
