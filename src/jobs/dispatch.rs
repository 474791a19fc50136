//! Starting runs: a run of a registered kind is created in the ledger (its arguments
//! checked against the kind's type first) and its plan step pushed to Redis.

use sqlx::PgPool;

use super::error::JobError;
use super::push::push_run;
use super::registry::Kind;
use crate::ledger;
use crate::queue::Queues;

/// Creates a run of `kind` for `object` with its default arguments and pushes its plan
/// step; an active run of the same kind is returned instead of a second one.
pub async fn start_run(
    pool: &PgPool,
    queues: &Queues,
    kind: &'static Kind,
    object: &str,
    requested_by: &str,
) -> Result<ledger::Created, JobError> {
    start_run_with(
        pool,
        queues,
        kind,
        object,
        (kind.default_args)(),
        requested_by,
    )
    .await
}

/// [`start_run`] with arguments of the kind's type (checked here, so a run never holds
/// arguments its kind cannot read).
pub async fn start_run_with(
    pool: &PgPool,
    queues: &Queues,
    kind: &'static Kind,
    object: &str,
    params: serde_json::Value,
    requested_by: &str,
) -> Result<ledger::Created, JobError> {
    (kind.check_args)(&params).map_err(|e| JobError::Mapping {
        problem: format!(
            "arguments {params} are not valid for a {} run: {e}",
            kind.name
        ),
        fix: "start the run with `orgpool enqueue` or the web API".into(),
    })?;
    let created = ledger::runs::create(
        pool,
        &ledger::NewRun {
            kind: kind.name,
            queue: kind.queue,
            lane: kind.lane_of(object),
            object,
            params,
            requested_by,
        },
    )
    .await?;
    if let ledger::Created::New(id) = created {
        crate::telemetry::jobs::RunCreated {
            kind: kind.name,
            run_id: id,
            object,
            requested_by,
        }
        .emit();
        if let Some(clock) = kind.clock {
            ledger::mappings::touch_schedule(pool, object, clock).await?;
        }
        // If this push fails the scheduler's sweep pushes the plan step.
        if let Err(e) = push_run(pool, queues, id).await {
            tracing::warn!(run_id = id, error = %e, "could not push the run yet; the scheduler will");
        }
    }
    Ok(created)
}
