//! The JSON API: `POST /api/runs` starts runs exactly as `orgpool enqueue` does (same
//! checks, same ledger rows) and always needs the token; `GET /api/runs/{id}` follows a
//! run; `GET /api/status` is the status document.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::unavailable;
use super::server::WebState;
use crate::jobs::enqueue::{self, EnqueueError, Outcome, Refused, Request};

fn error(code: StatusCode, message: impl std::fmt::Display) -> Response {
    (code, axum::Json(json!({ "error": message.to_string() }))).into_response()
}

/// `POST /api/runs` with a JSON body such as `{"kind": "resync", "object": "Account"}`,
/// `{"kind": "initial_load", "all": true}` or `{"kind": "quotes", "where": "..."}`.
pub async fn create_runs(
    State(st): State<Arc<WebState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(token) = &st.token else {
        return error(
            StatusCode::UNAUTHORIZED,
            "the enqueue API is off: set ORGPOOL_WEB_TOKEN on the web process and send it as `Authorization: Bearer TOKEN`",
        );
    };
    if st.read_token.as_ref().is_some_and(|t| t.allows(&headers)) {
        return error(
            StatusCode::FORBIDDEN,
            "this token is read-only (ORGPOOL_WEB_READ_TOKEN); starting runs needs ORGPOOL_WEB_TOKEN",
        );
    }
    if !token.allows(&headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong token: send `Authorization: Bearer $ORGPOOL_WEB_TOKEN`",
        );
    }
    let req: Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "the body is not a run request ({e}); send JSON like {{\"kind\": \"resync\", \"object\": \"Account\"}}"
                ),
            );
        }
    };
    // Every object's outcome is reported: a run started (or already running), or why
    // not. All started: 201 (200 if none was new). Any object busy with another run:
    // 409; a store failing: 503; in both cases with the runs that did start listed.
    match enqueue::start_each(&st.services, &req, "api").await {
        Ok(runs) => {
            let refused: Vec<&Refused> = runs
                .iter()
                .filter_map(|o| match o {
                    Outcome::Refused(r) => Some(r),
                    Outcome::Started(_) => None,
                })
                .collect();
            let code = if refused.is_empty() {
                if runs
                    .iter()
                    .any(|o| matches!(o, Outcome::Started(r) if r.created))
                {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                }
            } else if refused.iter().all(|r| r.conflict) {
                StatusCode::CONFLICT
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            let mut body = json!({ "runs": runs });
            if !refused.is_empty() {
                let lines: Vec<String> = refused
                    .iter()
                    .map(|r| format!("{}: {}", r.object, r.error))
                    .collect();
                body["error"] = json!(format!(
                    "{} of {} run(s) not started: {}",
                    refused.len(),
                    runs.len(),
                    lines.join("; ")
                ));
            }
            (code, axum::Json(body)).into_response()
        }
        Err(e @ EnqueueError::Invalid(_)) => error(StatusCode::UNPROCESSABLE_ENTITY, e),
        Err(e @ EnqueueError::Conflict(_)) => error(StatusCode::CONFLICT, e),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

/// `GET /api/runs/{id}`: the run and its progress.
pub async fn run(State(st): State<Arc<WebState>>, Path(id): Path<i64>) -> Response {
    let pool = &st.services.pool;
    let run = match crate::ledger::runs::get(pool, id).await {
        Ok(r) => r,
        Err(crate::ledger::LedgerError::NoSuchRun(_)) => {
            return error(StatusCode::NOT_FOUND, format!("no run {id}"));
        }
        Err(e) => return unavailable(e),
    };
    match crate::ledger::runs::progress(pool, id).await {
        Ok(p) => axum::Json(json!({
            "id": run.id,
            "kind": run.kind,
            "object": run.object,
            "state": run.state,
            "error": run.error,
            "created_at": run.created_at,
            "finished_at": run.finished_at,
            "chunks_total": p.total,
            "chunks_done": p.done,
            "chunks_failed": p.failed,
            "rows": p.rows,
        }))
        .into_response(),
        Err(e) => unavailable(e),
    }
}

/// `GET /api/status`: the status document as JSON.
pub async fn status(State(st): State<Arc<WebState>>) -> Response {
    match crate::status::read(&st.services).await {
        Ok(s) => axum::Json(s).into_response(),
        Err(e) => unavailable(e),
    }
}
