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

/// Records the rules text under its version (so every worker of a run prices with the
/// same rules) and returns the version.
pub async fn record_rules(
    pool: &sqlx::PgPool,
    rules: &QuotesFile,
    text: &str,
) -> Result<String, sqlx::Error> {
    let version = rules.version();
    sqlx::query("INSERT INTO orgpool.quote_rules (version, rules) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING")
        .bind(&version)
        .bind(text)
        .execute(pool)
        .await?;
    Ok(version)
}
