//! Starting runs on request, shared by `orgpool enqueue` and the web API
//! (`POST /api/runs`): the request is checked against jobs/mappings.toml or
//! jobs/quotes.toml and the mirror before anything is queued, so a bad request leaves
//! nothing behind.

use serde::{Deserialize, Serialize};

use crate::app::Services;
use crate::classify::Classify;
use crate::jobs::JobError;
use crate::jobs::dispatch::{start_run, start_run_with};
use crate::jobs::quote_generation::QuoteArgs;
use crate::jobs::registry::{self, Kind};
use crate::ledger::{Created, LedgerError};
use crate::quotes::TableError;
use crate::scheduler::{SchedulerError, catalog};

/// What to start: a mirror run of some objects, or a quote run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// `initial_load`, `resync`, `reload`, `reconcile` or `quotes`.
    pub kind: String,
    /// Mirror runs: the object (as mapped). Quote runs: not used.
    #[serde(default)]
    pub object: Option<String>,
    /// Mirror runs: every mapped object instead of one.
    #[serde(default)]
    pub all: bool,
    /// Quote runs: a SOQL condition replacing the selection in jobs/quotes.toml.
    #[serde(default, rename = "where")]
    pub condition: Option<String>,
}

/// One run started (or found already running).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Started {
    /// Run id.
    pub run_id: i64,
    /// Stable kind name (`quote_generation`, ...).
    pub kind: String,
    /// Object.
    pub object: String,
    /// False when an active run of the same kind and object was returned instead.
    pub created: bool,
    /// A one-line description for people.
    pub note: String,
}

/// An object of a request for several whose run could not be started (the others
/// were).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refused {
    /// Stable kind name.
    pub kind: String,
    /// Object.
    pub object: String,
    /// Why, with the fix.
    pub error: String,
    /// Whether another run of the object is in progress (409 in the web API), rather
    /// than Postgres or Redis failing.
    #[serde(skip)]
    pub conflict: bool,
}

/// What became of one object of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    /// Its run started (or was already running).
    Started(Started),
    /// Its run could not be started.
    Refused(Refused),
}

/// Starting failed.
#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    /// The request or the files it depends on are wrong; nothing was queued.
    #[error("{0}")]
    Invalid(String),
    /// Another run of the object is in progress (the message names it).
    #[error("{0}")]
    Conflict(String),
    /// Some objects' runs started and others' did not; every outcome listed.
    #[error("{}", summary(.0))]
    Partly(Vec<Outcome>),
    /// Postgres, Redis or Salesforce failed.
    #[error(transparent)]
    Job(#[from] JobError),
}

/// One line per object: its run, or why it has none.
fn summary(outcomes: &[Outcome]) -> String {
    let lines: Vec<String> = outcomes
        .iter()
        .map(|o| match o {
            Outcome::Started(s) => format!("{}: run {} ({})", s.object, s.run_id, s.note),
            Outcome::Refused(r) => format!("{}: not started: {}", r.object, r.error),
        })
        .collect();
    format!("not every run started:\n  {}", lines.join("\n  "))
}

fn invalid(e: impl std::fmt::Display) -> EnqueueError {
    EnqueueError::Invalid(e.to_string())
}

/// The run kind a request names (`quotes` standing for `quote_generation`, `-` for
/// `_`), or an error listing the names.
pub fn parse_kind(kind: &str) -> Result<&'static Kind, EnqueueError> {
    registry::find(kind).ok_or_else(|| {
        EnqueueError::Invalid(format!(
            "unknown run kind {kind:?}; use one of {} (or quotes)",
            registry::names()
        ))
    })
}

/// Starts what `req` asks for; fails unless every object's run started (the error
/// then lists each object's outcome).
pub async fn start(
    s: &Services,
    req: &Request,
    requested_by: &str,
) -> Result<Vec<Started>, EnqueueError> {
    let outcomes = start_each(s, req, requested_by).await?;
    let mut started = Vec::new();
    for o in &outcomes {
        match o {
            Outcome::Started(r) => started.push(r.clone()),
            Outcome::Refused(r) if outcomes.len() == 1 && r.conflict => {
                return Err(EnqueueError::Conflict(r.error.clone()));
            }
            Outcome::Refused(_) => return Err(EnqueueError::Partly(outcomes)),
        }
    }
    Ok(started)
}

/// Starts what `req` asks for. A bad request fails whole, before anything starts; once
/// it is checked, each object's run is started on its own and its outcome reported.
pub async fn start_each(
    s: &Services,
    req: &Request,
    requested_by: &str,
) -> Result<Vec<Outcome>, EnqueueError> {
    let kind = parse_kind(&req.kind)?;
    // Quote generation is the one kind that does not run per mapped object.
    if kind.per_object {
        if req.condition.is_some() {
            return Err(invalid("where applies to quote runs only"));
        }
        return mirror(s, kind, req.object.as_deref(), req.all, requested_by).await;
    }
    if kind.name == registry::WRITE_BACK.name {
        return Err(invalid(
            "write_back runs start by themselves as soon as the app writes a read_write table (the scheduler listens for it); see them with `orgpool writes status`, send failed ones again with `orgpool writes retry`",
        ));
    }
    if kind.name == registry::CHANGE_EVENTS.name {
        return Err(invalid(
            "change_events runs start by themselves as change events arrive for mappings with events = true (the scheduler subscribes); to catch up by polling instead, enqueue resync",
        ));
    }
    if req.object.is_some() || req.all {
        return Err(invalid(
            "a quote run takes no object or all; narrow it with where",
        ));
    }
    Ok(vec![Outcome::Started(
        quotes(s, req.condition.as_deref(), requested_by).await?,
    )])
}

/// Starts `kind` for one mapped object, or for all of them. The chosen mappings are
/// checked against the org's describe first (the scheduler's check), so a misspelt
/// field or object is refused here, before it is recorded or any run starts.
pub async fn mirror(
    s: &Services,
    kind: &'static Kind,
    object: Option<&str>,
    all: bool,
    requested_by: &str,
) -> Result<Vec<Outcome>, EnqueueError> {
    let path = s.settings.mappings_path.clone();
    let file = catalog::read(&path).map_err(invalid)?;
    let chosen: Vec<_> = match (object, all) {
        (Some(_), true) => return Err(invalid("name an object or ask for all, not both")),
        (Some(o), false) => vec![catalog::find(&file, o, &path).map_err(invalid)?.clone()],
        (None, true) => file.mapping.clone(),
        (None, false) => {
            return Err(invalid(
                "name an object (as mapped in jobs/mappings.toml) or ask for all",
            ));
        }
    };
    if chosen.is_empty() {
        return Err(invalid(format!(
            "{path} maps no objects; add a [[mapping]] entry"
        )));
    }
    check_against_org(s, &path, &chosen).await?;
    catalog::record(&s.pool, &chosen)
        .await
        .map_err(|e| EnqueueError::Invalid(format!("{e:#}")))?;
    let mut out = Vec::new();
    for m in &chosen {
        out.push(
            match start_run(&s.pool, &s.queues, kind, &m.object, requested_by).await {
                Ok(created) => Outcome::Started(started(created, kind, &m.object, String::new())),
                Err(e) => Outcome::Refused(Refused {
                    kind: kind.name.to_string(),
                    object: m.object.clone(),
                    conflict: matches!(e, JobError::Ledger(LedgerError::LaneBusy { .. })),
                    error: e.to_string(),
                }),
            },
        );
    }
    Ok(out)
}

/// The scheduler's describe check of `chosen`; skipped only by a process that has no
/// Salesforce client at all (the demo's direct path).
async fn check_against_org(
    s: &Services,
    path: &str,
    chosen: &[crate::mirror::Mapping],
) -> Result<(), EnqueueError> {
    let Some(client) = &s.client else {
        return Ok(());
    };
    let file = crate::mirror::MappingsFile {
        column_types: None,
        mapping: chosen.to_vec(),
    };
    match catalog::validate(client, &file).await {
        Ok(_) => Ok(()),
        Err(SchedulerError::Mismatch(problems)) => Err(EnqueueError::Invalid(format!(
            "{path} does not match the org, so nothing was started:\n  {}",
            problems.join("\n  ")
        ))),
        // The org cannot be asked now (an outage, a spent API budget): the run is
        // recorded anyway and waits like any other; its plan step checks the mapping
        // when the org answers, and the scheduler takes a failed check back (tick.rs).
        Err(SchedulerError::Salesforce(e))
            if matches!(e.disposition(), crate::classify::Disposition::Wait(_)) =>
        {
            tracing::warn!(error = %e, "cannot check the mappings against the org now; the run checks them when it starts");
            Ok(())
        }
        Err(SchedulerError::Salesforce(e)) => Err(EnqueueError::Job(JobError::Salesforce(e))),
        Err(e) => Err(invalid(e)),
    }
}

/// Checks jobs/quotes.toml (and `condition`) against the mirror, records the rules, and
/// starts a quote run. Bad rules or a bad selection fail here, before anything is sent.
pub async fn quotes(
    s: &Services,
    condition: Option<&str>,
    requested_by: &str,
) -> Result<Started, EnqueueError> {
    let path = s.settings.quotes_path.clone();
    let text = std::fs::read_to_string(&path).map_err(|e| {
        invalid(format!(
            "cannot read {path}: {e}; create it (see docs/quotes.md) or set ORGPOOL_QUOTES"
        ))
    })?;
    let rules = crate::quotes::QuotesFile::parse(&path, &text).map_err(invalid)?;
    let cond = condition.unwrap_or(&rules.selection.condition).to_string();
    let (ids, skipped) = crate::jobs::quote_generation::select(&s.pool, &rules, &cond, None)
        .await
        .map_err(|e| match e {
            JobError::Mapping { .. }
            | JobError::Tables(TableError::NotMapped { .. } | TableError::NotLoaded { .. }) => {
                invalid(e)
            }
            other => EnqueueError::Job(other),
        })?;
    check_literal_types(s, &cond).await?;
    let version = rules.version();
    crate::ledger::quotes::record_rules(&s.pool, &version, &text)
        .await
        .map_err(JobError::from)?;
    let args = QuoteArgs {
        version: version.clone(),
        condition: condition.map(str::to_string),
        changed_only: false,
    };
    let kind = &registry::QUOTE_GENERATION;
    let created = start_run_with(
        &s.pool,
        &s.queues,
        kind,
        "Opportunity",
        crate::ledger::encode(&args),
        requested_by,
    )
    .await
    .map_err(|e| match e {
        JobError::Ledger(busy @ LedgerError::LaneBusy { .. }) => {
            EnqueueError::Conflict(busy.to_string())
        }
        other => EnqueueError::Job(other),
    })?;
    let note = format!(
        "{} Opportunities under rules {version}; {skipped} without line items skipped",
        ids.len()
    );
    Ok(started(created, kind, "Opportunity", note))
}

/// Refuses a selection literal of the wrong type for its mirror column (`Amount >
/// 'abc'` would compare as text and select nothing).
async fn check_literal_types(s: &Services, condition: &str) -> Result<(), EnqueueError> {
    let tables = crate::quotes::QuoteTables::load(&s.pool)
        .await
        .map_err(JobError::from)?;
    let opportunity = column_types(&s.pool, &tables.opportunity).await?;
    let account = column_types(&s.pool, &tables.account).await?;
    crate::quotes::check_literals(condition, &opportunity, &account).map_err(invalid)
}

/// A mirror table's lowercase column names and their Postgres types.
async fn column_types(
    pool: &sqlx::PgPool,
    table: &crate::quotes::Table,
) -> Result<std::collections::HashMap<String, String>, EnqueueError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = $2",
    )
    .bind(&table.schema)
    .bind(&table.name)
    .fetch_all(pool)
    .await
    .map_err(JobError::from)?;
    Ok(rows.into_iter().collect())
}

fn started(created: Created, kind: &Kind, object: &str, detail: String) -> Started {
    let (fresh, how) = match created {
        Created::New(_) => (true, "started"),
        Created::Existing(_) => (false, "already running"),
    };
    let note = if detail.is_empty() {
        format!("{} of {object} ({how})", kind.name)
    } else {
        format!("{} of {detail} ({how})", kind.name)
    };
    Started {
        run_id: created.id(),
        kind: kind.name.to_string(),
        object: object.to_string(),
        created: fresh,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_their_stable_names_and_aliases() {
        assert_eq!(parse_kind("initial-load").unwrap().name, "initial_load");
        assert_eq!(parse_kind("quotes").unwrap().name, "quote_generation");
        assert_eq!(
            parse_kind("quote_generation").unwrap().name,
            "quote_generation"
        );
        let e = parse_kind("initial_lod").unwrap_err().to_string();
        assert!(
            e.contains("initial_lod") && e.contains("initial_load"),
            "{e}"
        );
    }
}
