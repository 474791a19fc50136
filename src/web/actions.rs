//! The console's actions, POST forms only: retry a run's failed chunks or one chunk,
//! cancel a run, start a run (kind + object), pause and resume a mapping. Each is the
//! ledger function the CLI uses (`orgpool jobs retry|cancel`, `orgpool enqueue`,
//! `orgpool mappings pause|resume`); each form passes [`access::check_action`] first
//! (operator token, same origin, CSRF token) and a refused or failed one answers with a
//! page saying why. A done one redirects (303) to the page it acted on.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::access::{self, Refusal};
use super::layout;
use super::runs_page::urlencode;
use super::server::WebState;
use crate::jobs::enqueue::{self, EnqueueError, Outcome, Request};
use crate::jobs::push::push_run;
use crate::ledger::{self, LedgerError};

/// Every console form's fields (each action reads those it needs).
#[derive(Debug, Default, serde::Deserialize)]
pub struct ActionForm {
    csrf: Option<String>,
    kind: Option<String>,
    object: Option<String>,
}

/// A page saying why an action did not happen, with `code`.
fn refused(code: StatusCode, message: &str, back: &str) -> Response {
    (
        code,
        layout::bare(
            "Not done",
            html! {
                h1 { "Not done" }
                p.refused role="alert" { (message) }
                p { a href=(back) { "Back" } }
            },
        ),
    )
        .into_response()
}

fn ledger_refusal(e: &LedgerError, back: &str) -> Response {
    let code = match e {
        LedgerError::NoSuchRun(_) | LedgerError::NoSuchMapping(_) => StatusCode::NOT_FOUND,
        LedgerError::RunEnded { .. } | LedgerError::LaneBusy { .. } => StatusCode::CONFLICT,
        LedgerError::NotReopenable { .. } => StatusCode::CONFLICT,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    if code == StatusCode::SERVICE_UNAVAILABLE {
        tracing::warn!(error = %e, "console action failed");
    }
    refused(code, &e.to_string(), back)
}

fn check(st: &WebState, headers: &HeaderMap, f: &ActionForm, back: &str) -> Option<Response> {
    match access::check_action(st, headers, f.csrf.as_deref()) {
        Ok(()) => None,
        Err(Refusal::Forbidden(why)) => Some(refused(StatusCode::FORBIDDEN, why, back)),
    }
}

fn id_of(raw: &str, what: &str) -> Result<i64, Box<Response>> {
    raw.parse::<i64>().map_err(|_| {
        Box::new(refused(
            StatusCode::BAD_REQUEST,
            &format!("{raw:?} is not a {what} id (a whole number)"),
            "/runs",
        ))
    })
}

/// `POST /runs/{id}/retry`: the run's failed chunks go back to the queue with fresh
/// attempts and the run re-opens (`orgpool jobs retry --run ID`).
pub async fn retry_run(
    State(st): State<Arc<WebState>>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Form(f): Form<ActionForm>,
) -> Response {
    let id = match id_of(&raw, "run") {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let back = format!("/runs/{id}");
    if let Some(r) = check(&st, &headers, &f, &back) {
        return r;
    }
    retry(&st, None, Some(id), id, &back).await
}

/// `POST /chunks/{id}/retry`: one failed chunk again (`orgpool jobs retry --chunk ID`).
pub async fn retry_chunk(
    State(st): State<Arc<WebState>>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Form(f): Form<ActionForm>,
) -> Response {
    let id = match id_of(&raw, "chunk") {
        Ok(id) => id,
        Err(r) => return *r,
    };
    if let Some(r) = check(&st, &headers, &f, "/runs") {
        return r;
    }
    let run = match ledger::chunks::run_of(&st.services.pool, id).await {
        Ok(Some(run)) => run,
        Ok(None) => {
            return refused(
                StatusCode::NOT_FOUND,
                &format!("there is no chunk {id}"),
                "/runs",
            );
        }
        Err(e) => return ledger_refusal(&e, "/runs"),
    };
    retry(&st, Some(id), None, run, &format!("/runs/{run}")).await
}

async fn retry(
    st: &WebState,
    chunk: Option<i64>,
    run: Option<i64>,
    run_id: i64,
    back: &str,
) -> Response {
    let pool = &st.services.pool;
    let ids = match ledger::lifecycle::retry(pool, chunk, run).await {
        Ok(ids) => ids,
        Err(e) => return ledger_refusal(&e, back),
    };
    if ids.is_empty() {
        let what = match chunk {
            Some(c) => format!("chunk {c} has not failed (only a failed chunk can be retried)"),
            None => format!("run {run_id} has no failed chunk to retry"),
        };
        return refused(StatusCode::CONFLICT, &what, back);
    }
    if let Err(e) = push_run(pool, &st.services.queues, run_id).await {
        // The chunks are pending in the ledger: the scheduler's sweep pushes them.
        tracing::warn!(run = run_id, error = %e, "retried chunks not pushed; the scheduler's sweep will");
    }
    tracing::info!(run = run_id, chunks = ?ids, "console: chunks retried");
    Redirect::to(&format!("{back}?done=retried")).into_response()
}

/// `POST /runs/{id}/cancel` (`orgpool jobs cancel ID`).
pub async fn cancel_run(
    State(st): State<Arc<WebState>>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Form(f): Form<ActionForm>,
) -> Response {
    let id = match id_of(&raw, "run") {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let back = format!("/runs/{id}");
    if let Some(r) = check(&st, &headers, &f, &back) {
        return r;
    }
    match ledger::lifecycle::cancel(&st.services.pool, id, "cancelled from the console").await {
        Ok(n) => {
            tracing::info!(run = id, chunks = n, "console: run cancelled");
            Redirect::to(&format!("{back}?done=cancelled")).into_response()
        }
        Err(e) => ledger_refusal(&e, &back),
    }
}

/// `POST /runs` with `kind` and `object`: starts a run as `orgpool enqueue KIND OBJECT`
/// does (same checks) and goes to it.
pub async fn start_run(
    State(st): State<Arc<WebState>>,
    headers: HeaderMap,
    Form(f): Form<ActionForm>,
) -> Response {
    if let Some(r) = check(&st, &headers, &f, "/runs") {
        return r;
    }
    let field = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let (Some(kind), Some(object)) = (field(&f.kind), field(&f.object)) else {
        return refused(
            StatusCode::BAD_REQUEST,
            "a run needs a kind (resync, initial_load, reload, reconcile) and an object",
            "/runs",
        );
    };
    if kind == "quotes" {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "quote runs take no object; start them with `orgpool enqueue quotes`",
            "/runs",
        );
    }
    let req = Request {
        kind,
        object: Some(object),
        all: false,
        condition: None,
    };
    match enqueue::start_each(&st.services, &req, "console").await {
        Ok(outcomes) => match outcomes.first() {
            Some(Outcome::Started(s)) => {
                Redirect::to(&format!("/runs/{}?done=started", s.run_id)).into_response()
            }
            Some(Outcome::Refused(r)) => {
                let code = if r.conflict {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                refused(code, &format!("{}: {}", r.object, r.error), "/runs")
            }
            None => refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "no run was started",
                "/runs",
            ),
        },
        Err(e @ EnqueueError::Invalid(_)) => {
            refused(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string(), "/runs")
        }
        Err(e @ EnqueueError::Conflict(_)) => {
            refused(StatusCode::CONFLICT, &e.to_string(), "/runs")
        }
        Err(e) => {
            tracing::warn!(error = %e, "console: run not started");
            refused(StatusCode::SERVICE_UNAVAILABLE, &e.to_string(), "/runs")
        }
    }
}

/// `POST /mappings/{object}/pause` (`orgpool mappings pause OBJECT`).
pub async fn pause(
    State(st): State<Arc<WebState>>,
    Path(object): Path<String>,
    headers: HeaderMap,
    Form(f): Form<ActionForm>,
) -> Response {
    set_paused(&st, &object, &headers, &f, true).await
}

/// `POST /mappings/{object}/resume` (`orgpool mappings resume OBJECT`).
pub async fn resume(
    State(st): State<Arc<WebState>>,
    Path(object): Path<String>,
    headers: HeaderMap,
    Form(f): Form<ActionForm>,
) -> Response {
    set_paused(&st, &object, &headers, &f, false).await
}

async fn set_paused(
    st: &WebState,
    object: &str,
    headers: &HeaderMap,
    f: &ActionForm,
    paused: bool,
) -> Response {
    let back = format!("/mappings/{}", urlencode(object));
    if let Some(r) = check(st, headers, f, &back) {
        return r;
    }
    match ledger::mappings::set_paused(&st.services.pool, object, paused).await {
        Ok((name, _)) => {
            let done = if paused { "paused" } else { "resumed" };
            tracing::info!(object = %name, paused, "console: mapping {done}");
            Redirect::to(&format!("/mappings/{}?done={done}", urlencode(&name))).into_response()
        }
        Err(e) => ledger_refusal(&e, &back),
    }
}
