//! Change event topics: `/data/ChangeEvents` (every object) and
//! `/data/<Object>ChangeEvent` (custom objects: `/data/<Name>__ChangeEvent`).

use super::avro_schema::object_of_event;
use super::bus::ChangeEvent;
use crate::store::Store;

/// What a subscription receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic {
    /// `/data/ChangeEvents`.
    All,
    /// One object's channel (object index).
    Object(usize),
}

impl Topic {
    /// Parses a topic name against the org's objects; `None` when there is no such topic.
    pub fn parse(store: &Store, name: &str) -> Option<Topic> {
        let rest = name.strip_prefix("/data/")?;
        if rest == "ChangeEvents" {
            return Some(Topic::All);
        }
        let object = object_of_event(rest)?;
        store.schema.index(&object).map(Topic::Object)
    }

    /// Whether `e` is on this topic.
    pub fn carries(&self, store_names: &[String], e: &ChangeEvent) -> bool {
        match self {
            Topic::All => true,
            Topic::Object(o) => store_names.get(*o).is_some_and(|n| *n == e.header.entity),
        }
    }
}
