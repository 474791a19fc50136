//! The environment settings layer: one catalogue of every variable orgpool reads
//! ([`SETTINGS`]), a reader of typed values from any `(name, value)` list ([`Vars`]),
//! the refusal of unknown `ORGPOOL_*` and `SALESFORCE_*` names, and the table in
//! `docs/settings.md` generated from the catalogue. The per-section structs
//! (`JobSettings`, `QueueConfig`, `WebConfig`, `SalesforceConfig`) are filled through it.

mod catalog;
mod env;
mod error;
mod names;
mod table;

pub use catalog::{DefaultText, SETTINGS, Section, Setting, find};
pub use env::Vars;
#[cfg(test)]
pub(crate) use env::pairs;
pub use error::SettingsError;
pub use names::{check_names, nearest};
pub use table::render_markdown;
