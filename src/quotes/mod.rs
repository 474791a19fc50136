//! Quote generation: the rules in `jobs/quotes.toml`, pricing in decimal arithmetic, the
//! selection of Opportunities as parameterised SQL over the mapped mirror tables, and
//! computing and pushing Quotes, and retiring Quotes that no longer match the org. Quote rows themselves are the ledger's
//! ([`crate::ledger::quotes`]).

pub mod candidates;
pub mod compute;
pub mod pricing;
pub mod push;
pub mod rules;
pub mod selection;
pub mod stale;
pub mod tables;

pub use pricing::{LineInput, PricedLine, PricingError, price_line};
pub use rules::{QuotesFile, RulesError};
pub use selection::{Bind, Selection, SelectionError, check_literals, translate};
pub use tables::{QuoteTables, Table, TableError};
