//! The set of objects an org has, with lookups by name and by key prefix.

use std::collections::HashMap;
use std::path::Path;

use super::model::ObjectDef;
use super::schema_file::{self, SchemaError};
use super::standard::standard_objects;
use super::validation::ValidationRule;

/// All objects of the org.
#[derive(Debug, Clone)]
pub struct Schema {
    /// Objects in `sobjects` order.
    pub objects: Vec<ObjectDef>,
    by_name: HashMap<String, usize>,
    by_prefix: HashMap<[u8; 3], usize>,
    /// When the metadata last changed (ms since epoch), for describe `If-Modified-Since`.
    pub modified_ms: i64,
    /// Validation rules from the schema file (checked against the objects on load).
    pub validation_rules: Vec<ValidationRule>,
}

impl Schema {
    /// The standard objects plus those of `file`, if given.
    pub fn load(file: Option<&Path>) -> Result<Schema, SchemaError> {
        let mut objects = standard_objects();
        let rules = match file {
            Some(path) => schema_file::load(path, &mut objects)?,
            None => Vec::new(),
        };
        let mut schema = Schema::from_objects(objects);
        schema.validation_rules = rules;
        schema.check_references()?;
        Ok(schema)
    }

    /// Builds the lookup tables.
    pub fn from_objects(objects: Vec<ObjectDef>) -> Schema {
        let by_name = objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name.to_ascii_lowercase(), i))
            .collect();
        let by_prefix = objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.key_prefix, i))
            .collect();
        // Whole seconds, as HTTP dates carry no more.
        let modified_ms = chrono::Utc::now().timestamp() * 1000;
        Schema {
            objects,
            by_name,
            by_prefix,
            modified_ms,
            validation_rules: Vec::new(),
        }
    }

    fn check_references(&self) -> Result<(), SchemaError> {
        for o in &self.objects {
            for f in &o.fields {
                for to in &f.reference_to {
                    if self.index(to).is_none() {
                        return Err(SchemaError::Invalid(format!(
                            "{}.{} refers to {to}, which is not an object of this org",
                            o.name, f.name
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Index of the object named `name` (case-insensitive).
    pub fn index(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    /// The object named `name` (case-insensitive).
    pub fn object(&self, name: &str) -> Option<&ObjectDef> {
        self.index(name).map(|i| &self.objects[i])
    }

    /// Index of the object whose Ids start with `prefix`.
    pub fn index_by_prefix(&self, prefix: [u8; 3]) -> Option<usize> {
        self.by_prefix.get(&prefix).copied()
    }
}
