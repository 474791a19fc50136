//! `/runs/{id}`: one run: its state, the plan's parameters and summary, its chunks
//! (state, attempts, timings, errors) and the records Salesforce refused in it, with
//! the operator's buttons (retry its failed chunks or one chunk, cancel it).

use std::sync::Arc;

use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use maud::html;

use super::access::Access;
use super::error::unavailable;
use super::layout::{self, action, maybe, when};
use super::runs_page::{bad, state_class, urlencode};
use super::server::WebState;
use crate::ledger::{self, LedgerError, console};

/// Chunks and failures listed on the page.
const LISTED: i64 = 500;

/// The query of `/runs/{id}` (the notice after an action).
#[derive(Debug, Default, serde::Deserialize)]
pub struct RunQuery {
    done: Option<String>,
}

/// `GET /runs/{id}`.
pub async fn show(
    State(st): State<Arc<WebState>>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Query(q): Query<RunQuery>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return bad(&format!("{id:?} is not a run id (a whole number)"));
    };
    let pool = &st.services.pool;
    let run = match ledger::runs::get(pool, id).await {
        Ok(r) => r,
        Err(LedgerError::NoSuchRun(_)) => return not_found(&format!("There is no run {id}.")),
        Err(e) => return unavailable(e),
    };
    let chunks = match console::chunks_of(pool, id, LISTED).await {
        Ok(c) => c,
        Err(e) => return unavailable(e),
    };
    let failures = match console::failures_of_run(pool, id, LISTED).await {
        Ok(f) => f,
        Err(e) => return unavailable(e),
    };
    let failed = chunks.iter().filter(|c| c.state == "failed").count();
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let body = html! {
        h1 { "Run " (run.id) ": " (run.kind) " of " a href={"/mappings/" (urlencode(&run.object))} { (run.object) } }
        (layout::notice(q.done.as_deref()))
        div #run data-live {
            dl.facts {
                dt { "state" } dd class=(state_class(&run.state)) { (run.state) }
                @if let Some(e) = &run.error { dt { "why" } dd.bad { (e) } }
                dt { "created" } dd { (when(run.created_at)) }
                dt { "ended" } dd { (maybe(run.finished_at, "not yet")) }
                dt { "work chunks" } dd { (run.chunks_total) @if let Some(n) = run.expected_rows { " · " (n) " rows expected" } }
                @if run.window_from.is_some() || run.window_to.is_some() {
                    dt { "window" } dd { (maybe(run.window_from, "start")) " → " (maybe(run.window_to, "now")) }
                }
            }
            p {
                @if failed > 0 { (action(&access, &format!("/runs/{id}/retry"), &format!("Retry {failed} failed chunk(s)"), None)) " " }
                @if !run.is_finished() { (action(&access, &format!("/runs/{id}/cancel"), "Cancel run", Some("Cancel this run? Its open chunks will not run."))) }
            }
            h2 { "Chunks" }
            @if chunks.is_empty() { p.muted { "None." } }
            @else {
                (layout::table(
                    &["chunk", "seq", "step", "state", "attempts", "waits", "rows", "pushed", "started", "ended", "error", ""],
                    html! {
                        @for c in &chunks {
                            tr id={"chunk-" (c.id)} {
                                td { (c.id) }
                                td.num { (c.seq) }
                                td { (c.step) }
                                td class=(state_class(&c.state)) {
                                    (c.state)
                                    @if let Some(w) = &c.worker { br; span.muted { (w) } }
                                    @if let Some(t) = c.not_before.filter(|t| *t > Utc::now()) { br; span.muted { "waits until " (when(t)) } }
                                }
                                td.num { (c.attempts) }
                                td.num { (c.waits) }
                                td.num { (c.rows) @if let Some(e) = c.expected_rows { " / " (e) } }
                                td { (maybe(c.pushed_at, "-")) }
                                td { (maybe(c.started_at, "-")) }
                                td { (maybe(c.finished_at, "-")) }
                                td {
                                    @if let Some(class) = &c.error_class { span.muted { (class) } " " }
                                    @if let Some(e) = &c.error { span class=(if c.state == "failed" { "bad" } else { "" }) { (e) } }
                                }
                                td { @if c.state == "failed" { (action(&access, &format!("/chunks/{}/retry", c.id), "Retry", None)) } }
                            }
                        }
                    },
                ))
            }
            h2 { "Records Salesforce refused" }
            @if failures.is_empty() { p.muted { "None." } }
            @else {
                (layout::table(
                    &["object", "key", "opportunity", "code", "message", "attempts", "at", ""],
                    html! {
                        @for (f, resolved) in &failures {
                            tr {
                                td { (f.object) } td { code { (f.key) } }
                                td { (f.opportunity_sfid.as_deref().unwrap_or("")) }
                                td { (f.code) } td { (f.message) }
                                td.num { (f.attempts) }
                                td { (when(f.at)) }
                                td { @if *resolved { span.ok { "resolved" } } @else { span.bad { "open" } } }
                            }
                        }
                    },
                ))
            }
        }
        h2 { "Parameters" }
        pre { (pretty(&run.params)) }
        h2 { "Plan summary" }
        pre { (pretty(&run.summary)) }
    };
    let refresh = if run.is_finished() {
        0
    } else {
        st.config.refresh.as_secs()
    };
    layout::page(&format!("Run {id}"), &access, refresh, body).into_response()
}

/// A 404 page.
pub fn not_found(message: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        layout::bare(
            "Not found",
            html! { h1 { "Not found" } p.refused { (message) } p { a href="/runs" { "Back to the runs" } } },
        ),
    )
        .into_response()
}
