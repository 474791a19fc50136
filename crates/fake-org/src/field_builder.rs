//! Chainable tweaks for building field definitions compactly (standard objects and
//! schema files).

use super::model::{FieldDef, FieldType};
use super::value::Value;

impl FieldDef {
    /// Text length.
    pub fn len(mut self, n: u32) -> Self {
        self.length = n;
        self
    }

    /// Required: not nillable, no default.
    pub fn req(mut self) -> Self {
        self.nillable = false;
        self.defaulted_on_create = false;
        self
    }

    /// Read-only: computed or system-maintained.
    pub fn ro(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self
    }

    /// Settable on create only.
    pub fn create_only(mut self) -> Self {
        self.updateable = false;
        self
    }

    /// Calculated by the org (roll-up, formula, derived).
    pub fn calc(mut self) -> Self {
        self.calculated = true;
        self.createable = false;
        self.updateable = false;
        self
    }

    /// A reference to `to` under the relationship name `rel`.
    pub fn refers(mut self, to: &[&str], rel: &str) -> Self {
        self.reference_to = to.iter().map(|s| s.to_string()).collect();
        self.relationship_name = Some(rel.to_string());
        self
    }

    /// Master-detail: deleting the parent deletes this record.
    pub fn cascade(mut self) -> Self {
        self.cascade_delete = true;
        self
    }

    /// Picklist values.
    pub fn values(mut self, values: &[&str]) -> Self {
        self.picklist = values.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Restricted picklist.
    pub fn restricted(mut self) -> Self {
        self.restricted_picklist = true;
        self
    }

    /// Unique, case-insensitive external Id.
    pub fn unique_external_id(mut self) -> Self {
        self.unique = true;
        self.external_id = true;
        self
    }

    /// The object's name field.
    pub fn name_field(mut self) -> Self {
        self.name_field = true;
        self
    }

    /// Number precision and scale.
    pub fn num(mut self, precision: u32, scale: u32) -> Self {
        self.precision = precision;
        self.scale = scale;
        self
    }

    /// Part of the compound field `compound`.
    pub fn part_of(mut self, compound: &str) -> Self {
        self.compound_name = Some(compound.to_string());
        self
    }

    /// Filled in when not given on create.
    pub fn default(mut self, v: Value) -> Self {
        self.default_value = Some(v);
        self.defaulted_on_create = true;
        self
    }

    /// Filled in by the org on create (not a constant).
    pub fn defaulted(mut self) -> Self {
        self.defaulted_on_create = true;
        self
    }

    /// An auto-number.
    pub fn auto_number(mut self) -> Self {
        self.auto_number = true;
        self.calculated = false;
        self.createable = false;
        self.updateable = false;
        self.defaulted_on_create = true;
        self.nillable = false;
        self
    }
}

/// Shorthand constructor.
pub fn f(name: &str, ftype: FieldType) -> FieldDef {
    FieldDef::new(name, ftype)
}

/// The system fields every object has, in describe order (Id first).
pub fn system_fields(with_owner: bool) -> Vec<FieldDef> {
    let mut v = vec![
        f("Id", FieldType::Id).ro(),
        f("IsDeleted", FieldType::Boolean).ro().defaulted(),
    ];
    if with_owner {
        v.push(
            f("OwnerId", FieldType::Reference)
                .refers(&["User"], "Owner")
                .req()
                .defaulted(),
        );
    }
    v.extend([
        f("CreatedDate", FieldType::DateTime).ro().defaulted(),
        f("CreatedById", FieldType::Reference)
            .refers(&["User"], "CreatedBy")
            .ro()
            .defaulted(),
        f("LastModifiedDate", FieldType::DateTime).ro().defaulted(),
        f("LastModifiedById", FieldType::Reference)
            .refers(&["User"], "LastModifiedBy")
            .ro()
            .defaulted(),
        f("SystemModstamp", FieldType::DateTime).ro().defaulted(),
    ]);
    for x in &mut v {
        x.nillable = false;
    }
    v
}

/// An address compound with its components: `Billing` gives `BillingStreet` ...
/// `BillingAddress`.
pub fn address(prefix: &str) -> Vec<FieldDef> {
    let compound = format!("{prefix}Address");
    vec![
        f(&format!("{prefix}Street"), FieldType::TextArea)
            .len(255)
            .part_of(&compound),
        f(&format!("{prefix}City"), FieldType::String)
            .len(40)
            .part_of(&compound),
        f(&format!("{prefix}State"), FieldType::String)
            .len(80)
            .part_of(&compound),
        f(&format!("{prefix}PostalCode"), FieldType::String)
            .len(20)
            .part_of(&compound),
        f(&format!("{prefix}Country"), FieldType::String)
            .len(80)
            .part_of(&compound),
        f(&format!("{prefix}Latitude"), FieldType::Double)
            .num(18, 15)
            .part_of(&compound),
        f(&format!("{prefix}Longitude"), FieldType::Double)
            .num(18, 15)
            .part_of(&compound),
        f(&format!("{prefix}GeocodeAccuracy"), FieldType::Picklist)
            .values(&[
                "Address",
                "NearAddress",
                "Block",
                "Street",
                "ExtendedZip",
                "Zip",
                "City",
                "County",
                "State",
                "Unknown",
            ])
            .part_of(&compound),
        f(&compound, FieldType::Address).ro(),
    ]
}

/// A geolocation compound `name` (ending `__c`) with its `__Latitude__s` /
/// `__Longitude__s` components.
pub fn location(name: &str, scale: u32) -> Vec<FieldDef> {
    let base = name.trim_end_matches("__c");
    vec![
        f(&format!("{base}__Latitude__s"), FieldType::Double)
            .num(18, scale)
            .part_of(name),
        f(&format!("{base}__Longitude__s"), FieldType::Double)
            .num(18, scale)
            .part_of(name),
        f(name, FieldType::Location).ro(),
    ]
}
