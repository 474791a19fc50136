//! The quote schedule: when `jobs/quotes.toml` has `[schedule] every = "..."`, the
//! scheduler starts a quote run that often, selecting only Opportunities whose mirror
//! row changed since their last Quote under the current rules.

use super::SchedulerError;
use crate::app::Services;
use crate::jobs::dispatch::start_run_with;
use crate::jobs::quote_generation::QuoteArgs;
use crate::jobs::registry::QUOTE_GENERATION;
use crate::ledger::Created;
use crate::mirror::parse_duration;
use crate::quotes::QuotesFile;

/// Starts a scheduled quote run if one is due; returns its id.
pub async fn tick(s: &Services) -> Result<Option<i64>, SchedulerError> {
    let path = s.settings.quotes_path.clone();
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let rules = QuotesFile::parse(&path, &text)?;
    let Some(every) = rules
        .schedule
        .as_ref()
        .and_then(|s| parse_duration(&s.every))
    else {
        return Ok(None);
    };
    let last =
        crate::ledger::runs::last_created(&s.pool, QUOTE_GENERATION.name, "scheduler").await?;
    let every = chrono::Duration::from_std(every).unwrap_or_default();
    if last.is_some_and(|t| chrono::Utc::now() - t < every) {
        return Ok(None);
    }
    let version = rules.version();
    crate::ledger::quotes::record_rules(&s.pool, &version, &text).await?;
    let params = crate::ledger::encode(&QuoteArgs {
        version,
        condition: None,
        changed_only: true,
    });
    match start_run_with(
        &s.pool,
        &s.queues,
        &QUOTE_GENERATION,
        "Opportunity",
        params,
        "scheduler",
    )
    .await?
    {
        Created::New(id) => Ok(Some(id)),
        Created::Existing(_) => Ok(None),
    }
}
