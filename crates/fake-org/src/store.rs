//! The org's records: one table per object, unique and parent->child indexes, the
//! `SystemModstamp` clock, and the write path every API goes through (create, update,
//! upsert, soft and hard delete) with Salesforce's validation and derived fields.

use std::collections::HashMap;
use std::sync::Arc;

use super::ids::{self, RecordId};
use super::model::{FieldDef, FieldType, ObjectDef};
use super::pubsub::capture::{Capture, Kind};
use super::record_error::RecordError;
use super::rules;
use super::schema::Schema;
use super::validation::{self, CompiledRule, ValidationRule};
use super::value::{self, Value};

mod undelete;

/// One stored record.
#[derive(Debug, Clone)]
pub struct Row {
    /// Values by slot.
    pub values: Box<[Value]>,
    /// Soft-deleted (in the recycle bin; visible to queryAll only).
    pub deleted: bool,
    /// Deleted along with its master-detail parent, not by itself: it comes back when
    /// the parent is undeleted and cannot be undeleted on its own.
    pub cascaded: bool,
}

/// The records of one object. Sequence number `n` lives at `rows[n - 1]`; Ids are issued
/// in order, so rows are in Id order.
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<Option<Row>>,
    live: usize,
    deleted: usize,
    /// slot -> lower-cased value -> sequence number, for unique fields.
    unique: HashMap<usize, HashMap<String, u64>>,
    /// slot of a master-detail reference -> parent sequence -> child sequences.
    children: HashMap<usize, HashMap<u64, Vec<u64>>>,
    auto_number: u64,
}

impl Table {
    /// Rows ever issued (the highest sequence number).
    pub fn issued(&self) -> u64 {
        self.rows.len() as u64
    }

    /// The row with sequence number `seq`, unless hard-deleted.
    pub fn get(&self, seq: u64) -> Option<&Row> {
        let i = usize::try_from(seq).ok()?.checked_sub(1)?;
        self.rows.get(i).and_then(Option::as_ref)
    }

    /// Rows not hard-deleted and not in the recycle bin.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Rows in the recycle bin.
    pub fn deleted(&self) -> usize {
        self.deleted
    }

    /// Children of `parent` through the master-detail field in `slot`.
    pub fn children_of(&self, slot: usize, parent: u64) -> &[u64] {
        self.children
            .get(&slot)
            .and_then(|m| m.get(&parent))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// A value a client asked to write into one field.
#[derive(Debug, Clone)]
pub enum Input {
    /// A JSON value from a REST body.
    Json(serde_json::Value),
    /// A Bulk CSV cell.
    Text(String),
    /// A typed value (seeding, churn).
    Value(Value),
    /// A parent named by one of its external-Id fields (`Quote.Orgpool_Key__c`).
    ExtRef {
        /// The parent object.
        object: usize,
        /// Index of the external-Id field on the parent.
        field: usize,
        /// Its value.
        value: String,
    },
}

/// One field assignment: index into the object's `fields`, and the input.
#[derive(Debug, Clone)]
pub struct Assign {
    /// Field index.
    pub field: usize,
    /// What to write.
    pub input: Input,
}

/// The whole org's data.
#[derive(Debug)]
pub struct Store {
    /// Metadata.
    pub schema: Arc<Schema>,
    tables: Vec<Table>,
    last_ms: i64,
    /// The API user every record is owned by and modified by.
    pub user: RecordId,
    /// The standard price book, once created.
    pub standard_pricebook: Option<RecordId>,
    /// The time of the write in progress, so roll-ups carry the same stamp (seeding
    /// backdates writes).
    current: Option<i64>,
    /// Validation rules in force (schema file, then admin).
    validation: Vec<CompiledRule>,
    /// Changes of the transaction in progress, for Change Data Capture events.
    pub(crate) capture: Capture,
}

impl Store {
    /// An empty org with its integration user.
    pub fn new(schema: Arc<Schema>, username: &str) -> Store {
        let tables = schema.objects.iter().map(|_| Table::default()).collect();
        let user_obj = schema.index("User").unwrap_or(0);
        let mut store = Store {
            // The schema file's rules are switched on after seeding, as a rule activated
            // in an org with data does not touch existing records.
            validation: Vec::new(),
            user: RecordId::new(schema.objects[user_obj].key_prefix, 1),
            schema,
            tables,
            last_ms: 0,
            standard_pricebook: None,
            current: None,
            capture: Capture::default(),
        };
        let assigns = store.assigns(
            user_obj,
            &[
                ("Username", Value::text(username)),
                ("LastName", Value::text("Integration")),
                ("FirstName", Value::text("Orgpool")),
                ("Email", Value::text(username)),
                ("Alias", Value::text("orgpool")),
            ],
        );
        if let Ok(id) = store.create(user_obj, assigns, None) {
            store.user = id;
        }
        store
    }

    /// Replaces the validation rules in force; the error names the bad rule.
    pub fn set_validation_rules(&mut self, specs: &[ValidationRule]) -> Result<(), String> {
        self.validation = validation::compile(&self.schema.objects, specs)?;
        Ok(())
    }

    /// The validation rules in force, as given.
    pub fn validation_rules(&self) -> Vec<ValidationRule> {
        self.validation.iter().map(|r| r.spec.clone()).collect()
    }

    /// The table of object `obj`.
    pub fn table(&self, obj: usize) -> &Table {
        &self.tables[obj]
    }

    /// Object index and row of an Id, whatever its object.
    pub fn resolve(&self, id: RecordId) -> Option<(usize, &Row)> {
        let obj = self.schema.index_by_prefix(id.prefix())?;
        self.tables[obj].get(id.seq()).map(|r| (obj, r))
    }

    /// A stored value by field name (used by rules); `Null` when absent.
    pub fn value_of(&self, obj: usize, seq: u64, field: &str) -> Value {
        let def = &self.schema.objects[obj];
        match (def.try_slot(field), self.tables[obj].get(seq)) {
            (Some(slot), Some(row)) => row.values[slot].clone(),
            _ => Value::Null,
        }
    }

    /// Builds typed assignments from `(field name, value)` pairs of built-in names.
    pub fn assigns(&self, obj: usize, pairs: &[(&str, Value)]) -> Vec<Assign> {
        let def = &self.schema.objects[obj];
        pairs
            .iter()
            .filter_map(|(name, v)| {
                def.field_index(name).map(|field| Assign {
                    field,
                    input: Input::Value(v.clone()),
                })
            })
            .collect()
    }

    /// The modstamp for a change now: whole seconds, never going backwards.
    pub fn tick(&mut self) -> i64 {
        let now = chrono::Utc::now().timestamp() * 1000;
        self.last_ms = self.last_ms.max(now);
        self.last_ms
    }

    /// Creates a record. `at` backdates it (seeding); otherwise it is stamped now.
    pub fn create(
        &mut self,
        obj: usize,
        assigns: Vec<Assign>,
        at: Option<i64>,
    ) -> Result<RecordId, RecordError> {
        let schema = self.schema.clone();
        let def = &schema.objects[obj];
        let mut values = vec![Value::Null; def.slots].into_boxed_slice();
        let mut given = vec![false; def.fields.len()];
        for a in assigns {
            let f = &def.fields[a.field];
            if !f.createable {
                return Err(not_writable(f, "create"));
            }
            let v = self.convert(def, f, a.input)?;
            if let Some(slot) = f.slot {
                values[slot] = v;
                given[a.field] = true;
            }
        }
        let now = at.unwrap_or_else(|| self.tick());
        let seq = self.tables[obj].issued() + 1;
        let id = RecordId::new(def.key_prefix, seq);
        for (i, f) in def.fields.iter().enumerate() {
            let Some(slot) = f.slot else { continue };
            match f.name.as_str() {
                "Id" => values[slot] = Value::Id(id),
                "IsDeleted" => values[slot] = Value::Bool(false),
                "CreatedDate" | "LastModifiedDate" | "SystemModstamp" => {
                    values[slot] = Value::DateTime(now)
                }
                "CreatedById" | "LastModifiedById" => values[slot] = Value::Id(self.user),
                "OwnerId" if values[slot].is_null() => values[slot] = Value::Id(self.user),
                _ if f.auto_number => {
                    self.tables[obj].auto_number += 1;
                    values[slot] = Value::text(&format!("{:08}", self.tables[obj].auto_number));
                }
                _ if !given[i] && values[slot].is_null() => {
                    if let Some(d) = &f.default_value {
                        values[slot] = d.clone();
                    }
                }
                _ => {}
            }
        }
        let missing: Vec<String> = def
            .fields
            .iter()
            .filter(|f| f.required_on_create() && f.slot.is_some_and(|s| values[s].is_null()))
            .map(|f| f.name.clone())
            .collect();
        if !missing.is_empty() {
            return Err(RecordError::with_fields(
                "REQUIRED_FIELD_MISSING",
                format!("Required fields are missing: [{}]", missing.join(", ")),
                missing,
            ));
        }
        rules::derive(self, obj, &mut values, None)?;
        validation::check(&self.validation, obj, &values)?;
        self.check_unique(obj, &values, None)?;
        self.insert_row(obj, seq, values);
        self.capture.record(obj, seq, Kind::Create, []);
        self.current = Some(now);
        rules::after_write(self, obj, seq, None);
        self.current = None;
        Ok(id)
    }

    /// Updates a record (`at` backdates the change, for churn replay and seeding).
    pub fn update(
        &mut self,
        obj: usize,
        id: RecordId,
        assigns: Vec<Assign>,
        at: Option<i64>,
    ) -> Result<(), RecordError> {
        let schema = self.schema.clone();
        let def = &schema.objects[obj];
        if id.prefix() == def.key_prefix && !self.issued(obj, id) {
            // An Id this org never issued (another org's, made up): Salesforce reports
            // it as a bad reference, not as deleted.
            return Err(RecordError::new(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
            ));
        }
        let seq = self.live_seq(obj, id)?;
        let old = self.tables[obj]
            .get(seq)
            .map(|r| r.values.clone())
            .ok_or_else(RecordError::not_found)?;
        let mut values = old.clone();
        for a in assigns {
            let f = &def.fields[a.field];
            if f.name == "Id" {
                continue;
            }
            let calculated = f.calculated || !f.createable;
            if calculated && !f.updateable {
                return Err(not_writable(f, "update"));
            }
            let v = self.convert(def, f, a.input)?;
            if !f.updateable {
                // Create-only fields (master-detail parents) may be re-sent unchanged, as
                // upserts do; changing them is refused.
                if f.slot.is_some_and(|s| values[s] == v) {
                    continue;
                }
                return Err(not_writable(f, "update"));
            }
            if v.is_null() && !f.nillable {
                return Err(RecordError::with_fields(
                    "REQUIRED_FIELD_MISSING",
                    format!("Required fields are missing: [{}]", f.name),
                    vec![f.name.clone()],
                ));
            }
            if let Some(slot) = f.slot {
                values[slot] = v;
            }
        }
        let now = at.unwrap_or_else(|| self.tick());
        stamp(def, &mut values, now, self.user);
        rules::derive(self, obj, &mut values, Some(&old))?;
        validation::check(&self.validation, obj, &values)?;
        self.check_unique(obj, &values, Some(seq))?;
        let mut changed: Vec<usize> = (0..old.len()).filter(|&s| old[s] != values[s]).collect();
        // CDC lists LastModifiedDate as changed by every update, even within its second.
        changed.extend(def.try_slot("LastModifiedDate"));
        self.replace_row(obj, seq, values);
        self.capture.record(obj, seq, Kind::Update, changed);
        self.current = Some(now);
        rules::after_write(self, obj, seq, Some(&old));
        self.current = None;
        Ok(())
    }

    /// Upserts by an external-Id field (or `Id`): returns the Id and whether it was created.
    pub fn upsert(
        &mut self,
        obj: usize,
        key_field: usize,
        key: &str,
        mut assigns: Vec<Assign>,
    ) -> Result<(RecordId, bool), RecordError> {
        let schema = self.schema.clone();
        let def = &schema.objects[obj];
        let kf = &def.fields[key_field];
        if kf.ftype == FieldType::Id {
            let id = RecordId::parse(key).ok_or_else(|| malformed_id(def, key))?;
            self.update(obj, id, assigns, None)?;
            return Ok((id, false));
        }
        assigns.retain(|a| a.field != key_field);
        match self.find_unique(obj, key_field, key) {
            Some(seq) => {
                let id = RecordId::new(def.key_prefix, seq);
                self.update(obj, id, assigns, None)?;
                Ok((id, false))
            }
            None => {
                assigns.push(Assign {
                    field: key_field,
                    input: Input::Text(key.to_string()),
                });
                self.create(obj, assigns, None).map(|id| (id, true))
            }
        }
    }

    /// Moves a record (and its master-detail children) to the recycle bin.
    pub fn delete(&mut self, obj: usize, id: RecordId) -> Result<(), RecordError> {
        let seq = self.live_seq(obj, id)?;
        let now = self.tick();
        self.soft_delete(obj, seq, now, false);
        Ok(())
    }

    /// Deletes a record for good (Bulk `hardDelete`, emptying the recycle bin).
    pub fn hard_delete(&mut self, obj: usize, id: RecordId) -> Result<(), RecordError> {
        if id.prefix() != self.schema.objects[obj].key_prefix {
            return Err(malformed_id(&self.schema.objects[obj], &id.to_string()));
        }
        let seq = id.seq();
        if self.tables[obj].get(seq).is_none() {
            return Err(RecordError::new("ENTITY_IS_DELETED", "entity is deleted"));
        }
        let schema = self.schema.clone();
        let children = self.cascade_children(&schema, obj, seq);
        for (cobj, cseq) in children {
            if self.tables[cobj].get(cseq).is_some() {
                let _ =
                    self.hard_delete(cobj, RecordId::new(schema.objects[cobj].key_prefix, cseq));
            }
        }
        let Some(row) = self.tables[obj].rows[(seq - 1) as usize].take() else {
            return Ok(());
        };
        let t = &mut self.tables[obj];
        if row.deleted {
            t.deleted -= 1;
        } else {
            t.live -= 1;
            unindex_unique(&schema.objects[obj], t, &row.values);
            // Emptying the recycle bin is not captured; a live record deleted for good is.
            self.capture.record(obj, seq, Kind::Delete, []);
        }
        unindex_children(&schema.objects[obj], t, seq, &row.values);
        rules::after_delete(self, obj, &row.values);
        Ok(())
    }

    /// Empties the recycle bin of object `obj`; returns how many records went.
    pub fn empty_recycle_bin(&mut self, obj: usize) -> usize {
        let prefix = self.schema.objects[obj].key_prefix;
        let seqs: Vec<u64> = (1..=self.tables[obj].issued())
            .filter(|s| self.tables[obj].get(*s).is_some_and(|r| r.deleted))
            .collect();
        for s in &seqs {
            let _ = self.hard_delete(obj, RecordId::new(prefix, *s));
        }
        seqs.len()
    }

    fn soft_delete(&mut self, obj: usize, seq: u64, now: i64, cascaded: bool) {
        let schema = self.schema.clone();
        let def = &schema.objects[obj];
        let user = self.user;
        let Some(row) = self.tables[obj].rows[(seq - 1) as usize].as_mut() else {
            return;
        };
        if row.deleted {
            return;
        }
        row.deleted = true;
        row.cascaded = cascaded;
        if let Some(s) = def.try_slot("IsDeleted") {
            row.values[s] = Value::Bool(true);
        }
        stamp(def, &mut row.values, now, user);
        let values = row.values.clone();
        self.capture.record(obj, seq, Kind::Delete, []);
        let t = &mut self.tables[obj];
        t.live -= 1;
        t.deleted += 1;
        unindex_unique(def, t, &values);
        for (cobj, cseq) in self.cascade_children(&schema, obj, seq) {
            self.soft_delete(cobj, cseq, now, true);
        }
        rules::after_delete(self, obj, &values);
    }

    fn cascade_children(&self, schema: &Schema, obj: usize, seq: u64) -> Vec<(usize, u64)> {
        let parent = &schema.objects[obj].name;
        let mut out = Vec::new();
        for (cobj, cdef) in schema.objects.iter().enumerate() {
            for f in &cdef.fields {
                if f.cascade_delete
                    && f.reference_to.iter().any(|t| t == parent)
                    && let Some(slot) = f.slot
                {
                    out.extend(
                        self.tables[cobj]
                            .children_of(slot, seq)
                            .iter()
                            .map(|c| (cobj, *c)),
                    );
                }
            }
        }
        out
    }

    /// Finds a live record by a unique field's value (case-insensitive).
    pub fn find_unique(&self, obj: usize, field: usize, key: &str) -> Option<u64> {
        let slot = self.schema.objects[obj].fields[field].slot?;
        self.tables[obj]
            .unique
            .get(&slot)?
            .get(&key.to_lowercase())
            .copied()
    }

    /// Whether `id` of `obj` was ever issued here (it may since have been deleted).
    pub fn issued(&self, obj: usize, id: RecordId) -> bool {
        (1..=self.tables[obj].issued()).contains(&id.seq())
    }

    /// The sequence number of a live record of `obj`, or the error the API gives.
    pub fn live_seq(&self, obj: usize, id: RecordId) -> Result<u64, RecordError> {
        let def = &self.schema.objects[obj];
        if id.prefix() != def.key_prefix {
            return Err(malformed_id(def, &id.to_string()));
        }
        match self.tables[obj].get(id.seq()) {
            Some(r) if r.deleted => Err(RecordError::deleted()),
            Some(_) => Ok(id.seq()),
            None => Err(RecordError::new("ENTITY_IS_DELETED", "entity is deleted")),
        }
    }

    /// Overwrites calculated values directly (rules' roll-ups); bumps the modstamp.
    pub fn set_calculated(&mut self, obj: usize, seq: u64, pairs: &[(usize, Value)], bump: bool) {
        let now = match (bump, self.current) {
            (false, _) => None,
            (true, Some(at)) => Some(at),
            (true, None) => Some(self.tick()),
        };
        let schema = self.schema.clone();
        let user = self.user;
        if let Some(row) = self.tables[obj]
            .rows
            .get_mut((seq - 1) as usize)
            .and_then(Option::as_mut)
        {
            let mut changed = false;
            for (slot, v) in pairs {
                if row.values[*slot] != *v {
                    row.values[*slot] = v.clone();
                    changed = true;
                }
            }
            if let (true, Some(now)) = (changed, now) {
                stamp(&schema.objects[obj], &mut row.values, now, user);
            }
        }
    }

    /// A copy of a row as it is now (`None` if not issued or hard-deleted), for undo.
    pub fn snapshot(&self, obj: usize, seq: u64) -> Option<Row> {
        self.tables[obj].get(seq).cloned()
    }

    /// Puts a row back as `snapshot` captured it (all-or-none rollback), fixing indexes
    /// and roll-ups.
    pub fn restore(&mut self, obj: usize, seq: u64, row: Option<Row>) {
        let schema = self.schema.clone();
        let def = &schema.objects[obj];
        let t = &mut self.tables[obj];
        let Some(i) = usize::try_from(seq).ok().and_then(|s| s.checked_sub(1)) else {
            return;
        };
        if i >= t.rows.len() {
            return;
        }
        // A rolled-back write leaves no event.
        self.capture.forget(obj, seq);
        let t = &mut self.tables[obj];
        if let Some(old) = t.rows[i].take() {
            if old.deleted {
                t.deleted -= 1
            } else {
                t.live -= 1;
                unindex_unique(def, t, &old.values)
            }
            unindex_children(def, t, seq, &old.values);
            rules::after_delete(self, obj, &old.values);
        }
        let t = &mut self.tables[obj];
        if let Some(new) = row {
            if new.deleted {
                t.deleted += 1
            } else {
                t.live += 1;
                index_unique(def, t, &new.values, seq)
            }
            index_children(def, t, seq, &new.values);
            t.rows[i] = Some(new);
            rules::after_write(self, obj, seq, None);
        }
    }

    fn insert_row(&mut self, obj: usize, seq: u64, values: Box<[Value]>) {
        let def = &self.schema.objects[obj];
        let t = &mut self.tables[obj];
        debug_assert_eq!(t.rows.len() as u64 + 1, seq);
        index_unique(def, t, &values, seq);
        index_children(def, t, seq, &values);
        t.rows.push(Some(Row {
            values,
            deleted: false,
            cascaded: false,
        }));
        t.live += 1;
    }

    fn replace_row(&mut self, obj: usize, seq: u64, values: Box<[Value]>) {
        let def = &self.schema.objects[obj];
        let t = &mut self.tables[obj];
        if let Some(Some(row)) = t.rows.get_mut((seq - 1) as usize) {
            let old = std::mem::replace(&mut row.values, values);
            let new = row.values.clone();
            unindex_unique(def, t, &old);
            index_unique(def, t, &new, seq);
        }
    }

    fn check_unique(
        &self,
        obj: usize,
        values: &[Value],
        own: Option<u64>,
    ) -> Result<(), RecordError> {
        let def = &self.schema.objects[obj];
        for f in def.fields.iter().filter(|f| f.unique) {
            let Some(slot) = f.slot else { continue };
            let Some(key) = unique_key(&values[slot]) else {
                continue;
            };
            if let Some(other) = self.tables[obj].unique.get(&slot).and_then(|m| m.get(&key))
                && Some(*other) != own
            {
                return Err(RecordError::with_fields(
                    "DUPLICATE_VALUE",
                    format!(
                        "duplicate value found: {} duplicates value on record with id: {}",
                        f.name,
                        RecordId::new(def.key_prefix, *other)
                    ),
                    vec![f.name.clone()],
                ));
            }
        }
        Ok(())
    }

    /// Turns client input into a stored value for `f`, with Salesforce's checks.
    fn convert(&self, def: &ObjectDef, f: &FieldDef, input: Input) -> Result<Value, RecordError> {
        let type_error = |m: String| {
            RecordError::with_fields("INVALID_TYPE_ON_FIELD_IN_RECORD", m, vec![f.name.clone()])
        };
        let v = match input {
            Input::Value(v) => v,
            Input::Text(t) => value::from_text(f, &t).map_err(|e| type_error(e.0))?,
            Input::Json(j) => {
                value::from_json(f, &j).map_err(|e| RecordError::new("JSON_PARSER_ERROR", e.0))?
            }
            Input::ExtRef {
                object,
                field,
                value,
            } => {
                let target = &self.schema.objects[object];
                let seq = self.find_unique(object, field, &value).ok_or_else(|| {
                    RecordError::with_fields(
                        "INVALID_FIELD",
                        format!(
                            "Foreign key external ID: {} not found for field {} in entity {}",
                            value, target.fields[field].name, target.name
                        ),
                        vec![f.name.clone()],
                    )
                })?;
                Value::Id(RecordId::new(target.key_prefix, seq))
            }
        };
        match (&v, f.ftype) {
            (Value::Null, _) => Ok(Value::Null),
            (Value::Text(t), FieldType::Reference) => {
                if t.is_empty() {
                    return Ok(Value::Null);
                }
                let id = RecordId::parse(t).ok_or_else(|| {
                    if ids::is_valid_shape(t) {
                        RecordError::with_fields(
                            "INVALID_CROSS_REFERENCE_KEY",
                            "invalid cross reference id",
                            vec![f.name.clone()],
                        )
                    } else {
                        RecordError::with_fields(
                            "MALFORMED_ID",
                            format!("{}: id value of incorrect type: {}", f.label, t),
                            vec![f.name.clone()],
                        )
                    }
                })?;
                self.check_reference(f, id)
            }
            (Value::Id(id), FieldType::Reference) => self.check_reference(f, *id),
            (Value::Text(t), ft) if ft.is_text() => {
                let len = t.chars().count();
                if len > f.length as usize && f.length > 0 {
                    return Err(RecordError::with_fields(
                        "STRING_TOO_LONG",
                        format!(
                            "{}: data value too large: {} (max length={})",
                            f.label,
                            truncate(t, 40),
                            f.length
                        ),
                        vec![f.name.clone()],
                    ));
                }
                if t.is_empty() {
                    return Ok(Value::Null);
                }
                if ft == FieldType::Picklist
                    && f.restricted_picklist
                    && !f.picklist.iter().any(|p| p.as_str() == &**t)
                {
                    return Err(RecordError::with_fields(
                        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                        format!(
                            "{}: bad value for restricted picklist field: {}",
                            f.label, t
                        ),
                        vec![f.name.clone()],
                    ));
                }
                Ok(v)
            }
            (Value::Text(t), ft) if !ft.is_text() && ft != FieldType::Base64 => Err(type_error(
                format!("{}: value not of required type: {}", f.name, t),
            )),
            _ => {
                let _ = def;
                Ok(v)
            }
        }
    }

    fn check_reference(&self, f: &FieldDef, id: RecordId) -> Result<Value, RecordError> {
        let obj = self.schema.index_by_prefix(id.prefix());
        let allowed = obj.is_some_and(|o| {
            f.reference_to
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&self.schema.objects[o].name))
        });
        if !allowed {
            return Err(RecordError::with_fields(
                "FIELD_INTEGRITY_EXCEPTION",
                format!(
                    "field integrity exception: unknown ({}: id value of incorrect type: {})",
                    f.label, id
                ),
                vec![f.name.clone()],
            ));
        }
        match self.resolve(id) {
            Some((_, row)) if !row.deleted => Ok(Value::Id(id)),
            _ => Err(RecordError::with_fields(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
                vec![f.name.clone()],
            )),
        }
    }
}

/// Sets the last-modified system fields.
fn stamp(def: &ObjectDef, values: &mut [Value], now: i64, user: RecordId) {
    for name in ["LastModifiedDate", "SystemModstamp"] {
        if let Some(s) = def.try_slot(name) {
            values[s] = Value::DateTime(now);
        }
    }
    if let Some(s) = def.try_slot("LastModifiedById") {
        values[s] = Value::Id(user);
    }
}

fn unique_key(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Text(t) => Some(t.to_lowercase()),
        Value::Int(i) => Some(i.to_string()),
        Value::Num(n) => Some(n.to_string()),
        other => Some(format!("{other:?}")),
    }
}

fn index_unique(def: &ObjectDef, t: &mut Table, values: &[Value], seq: u64) {
    for f in def.fields.iter().filter(|f| f.unique) {
        if let (Some(slot), Some(key)) = (f.slot, f.slot.and_then(|s| unique_key(&values[s]))) {
            t.unique.entry(slot).or_default().insert(key, seq);
        }
    }
}

fn unindex_unique(def: &ObjectDef, t: &mut Table, values: &[Value]) {
    for f in def.fields.iter().filter(|f| f.unique) {
        if let (Some(slot), Some(key)) = (f.slot, f.slot.and_then(|s| unique_key(&values[s])))
            && let Some(m) = t.unique.get_mut(&slot)
        {
            m.remove(&key);
        }
    }
}

fn index_children(def: &ObjectDef, t: &mut Table, seq: u64, values: &[Value]) {
    for f in def.fields.iter().filter(|f| f.cascade_delete) {
        if let Some(slot) = f.slot
            && let Value::Id(parent) = values[slot]
        {
            t.children
                .entry(slot)
                .or_default()
                .entry(parent.seq())
                .or_default()
                .push(seq);
        }
    }
}

fn unindex_children(def: &ObjectDef, t: &mut Table, seq: u64, values: &[Value]) {
    for f in def.fields.iter().filter(|f| f.cascade_delete) {
        if let Some(slot) = f.slot
            && let Value::Id(parent) = values[slot]
            && let Some(v) = t
                .children
                .get_mut(&slot)
                .and_then(|m| m.get_mut(&parent.seq()))
        {
            v.retain(|c| *c != seq);
        }
    }
}

fn not_writable(f: &FieldDef, op: &str) -> RecordError {
    RecordError::with_fields(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        format!(
            "Unable to {op} fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
            f.name
        ),
        vec![f.name.clone()],
    )
}

/// `MALFORMED_ID` for an Id that does not belong to `def`.
pub fn malformed_id(def: &ObjectDef, text: &str) -> RecordError {
    RecordError::with_fields(
        "MALFORMED_ID",
        format!("{} ID: id value of incorrect type: {}", def.label, text),
        vec!["Id".to_string()],
    )
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
