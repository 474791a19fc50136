//! The mappings file as the scheduler and `enqueue` see it: read, checked, recorded in
//! the ledger (so workers use the same entry for a whole run), and optionally checked
//! against the org's describe, every problem collected and named. A check that meets a
//! spent API budget or an outage waits for the org instead of failing the start.

use sqlx::PgPool;
use tokio::sync::watch;

use super::SchedulerError;
use crate::ledger;
use crate::mirror::{Mapping, MappingsFile, Resolved};
use crate::salesforce::{Client, ErrorClass};

/// Reads the mappings file at `path`; a missing file is an error with the fix.
pub fn read(path: &str) -> Result<MappingsFile, SchedulerError> {
    if !std::path::Path::new(path).exists() {
        return Err(SchedulerError::NoMappingsFile { path: path.into() });
    }
    Ok(MappingsFile::load(std::path::Path::new(path))?)
}

/// The mapping for `object` (case-insensitive).
pub fn find<'a>(
    file: &'a MappingsFile,
    object: &str,
    path: &str,
) -> Result<&'a Mapping, SchedulerError> {
    file.mapping
        .iter()
        .find(|m| m.object.eq_ignore_ascii_case(object))
        .ok_or_else(|| {
            let known: Vec<&str> = file.mapping.iter().map(|m| m.object.as_str()).collect();
            SchedulerError::NotMapped {
                object: object.into(),
                path: path.into(),
                known: if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                },
            }
        })
}

/// Records mappings in the ledger.
pub async fn record(pool: &PgPool, mappings: &[Mapping]) -> Result<(), SchedulerError> {
    for m in mappings {
        ledger::mappings::upsert_config(pool, m).await?;
    }
    Ok(())
}

/// Checks every mapping against the org; all problems in one error, one line each.
pub async fn validate(
    client: &Client,
    file: &MappingsFile,
) -> Result<Vec<Resolved>, SchedulerError> {
    let mut ok = Vec::new();
    let mut problems = Vec::new();
    for m in &file.mapping {
        match client.describe(&m.object).await {
            Ok(d) => match crate::mirror::check_against(m, &d) {
                Ok(r) => ok.push(r),
                Err(all) => problems.extend(all.iter().map(ToString::to_string)),
            },
            Err(e) if e.class() == crate::salesforce::ErrorClass::Permanent => problems.push(format!(
                "mapping {}: the org has no object {} that this user can read ({e}); correct the name or grant access",
                m.object, m.object
            )),
            Err(e) => return Err(e.into()),
        }
    }
    if !problems.is_empty() {
        return Err(SchedulerError::Mismatch(problems));
    }
    Ok(ok)
}

/// [`validate`], waiting while the API budget is spent or the org is down (each try
/// itself waits up to `SALESFORCE_LIMIT_WAIT_SECS`, probing the org's `/limits`), so a
/// scheduler started then keeps running; `None` when asked to stop meanwhile.
pub async fn validate_waiting(
    client: &Client,
    file: &MappingsFile,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Option<Vec<Resolved>>, SchedulerError> {
    loop {
        let err = tokio::select! {
            r = validate(client, file) => match r {
                Err(SchedulerError::Salesforce(e))
                    if matches!(e.class(), ErrorClass::Limit | ErrorClass::Outage) => e,
                r => return r.map(Some),
            },
            _ = shutdown.wait_for(|s| *s) => return Ok(None),
        };
        tracing::warn!(error = %err, "cannot check the mappings against the org yet; the scheduler waits for it");
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            _ = shutdown.wait_for(|s| *s) => return Ok(None),
        }
    }
}
