//! Quote generation: the rules in `jobs/quotes.toml`, pricing in decimal arithmetic, and
//! the selection of Opportunities as parameterised SQL over the mirror.

pub mod compute;
pub mod pricing;
pub mod push;
pub mod rules;
pub mod selection;

pub use pricing::{LineInput, PricedLine, PricingError, price_line};
pub use rules::{QuotesFile, RulesError};
pub use selection::{Bind, Selection, SelectionError, translate};
