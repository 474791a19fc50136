//! `/runs`: the run history, newest first, filtered by kind, object, state and time
//! window, a page of [`PER_PAGE`] at a time; and the form that starts a run.

use std::sync::Arc;

use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use maud::{Markup, html};

use super::access::Access;
use super::error::unavailable;
use super::layout::{self, maybe, when};
use super::server::WebState;
use crate::ledger::console::{self, RunFilter, RunLine};

/// Runs on one page.
pub const PER_PAGE: i64 = 50;

/// The states a run can be in, for the filter.
pub const STATES: [&str; 6] = [
    "planning",
    "running",
    "succeeded",
    "succeeded_with_failures",
    "failed",
    "cancelled",
];

/// The time windows the filter offers, as (value, label, seconds).
const WINDOWS: [(&str, &str, i64); 4] = [
    ("1h", "last hour", 3_600),
    ("24h", "last 24 hours", 86_400),
    ("7d", "last 7 days", 604_800),
    ("30d", "last 30 days", 2_592_000),
];

/// The query of `/runs`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct RunsQuery {
    kind: Option<String>,
    object: Option<String>,
    state: Option<String>,
    window: Option<String>,
    page: Option<String>,
    done: Option<String>,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// `GET /runs`.
pub async fn list(
    State(st): State<Arc<WebState>>,
    Extension(access): Extension<Access>,
    Query(q): Query<RunsQuery>,
) -> Response {
    let state = given(&q.state);
    if let Some(s) = &state
        && !STATES.contains(&s.as_str())
    {
        return bad(&format!(
            "state {s:?} is not a run state; use one of {}",
            STATES.join(", ")
        ));
    }
    let window = given(&q.window);
    let since = match &window {
        None => None,
        Some(w) => match WINDOWS.iter().find(|(v, _, _)| v == w) {
            Some((_, _, secs)) => Some(Utc::now() - chrono::Duration::seconds(*secs)),
            None => return bad(&format!("window {w:?} is not one of 1h, 24h, 7d, 30d")),
        },
    };
    let page = match given(&q.page).map(|p| p.parse::<i64>()) {
        None => 1,
        Some(Ok(p)) if p >= 1 => p,
        Some(_) => return bad("page must be a whole number from 1"),
    };
    let filter = RunFilter {
        kind: given(&q.kind),
        object: given(&q.object),
        state,
        since,
        until: None,
    };
    let pool = &st.services.pool;
    let (runs, total) = match console::runs(pool, &filter, PER_PAGE, (page - 1) * PER_PAGE).await {
        Ok(r) => r,
        Err(e) => return unavailable(e),
    };
    let kinds = match console::run_kinds(pool).await {
        Ok(k) => k,
        Err(e) => return unavailable(e),
    };
    let mut objects = match crate::ledger::mappings::tables(pool).await {
        Ok(t) => t.into_iter().map(|t| t.object).collect::<Vec<_>>(),
        Err(e) => return unavailable(e),
    };
    // A mapping not run yet is in the mappings file only; the start form offers it too.
    if let Ok(file) = crate::scheduler::catalog::read(&st.services.settings.mappings_path) {
        for m in file.mapping {
            if !objects.iter().any(|o| o.eq_ignore_ascii_case(&m.object)) {
                objects.push(m.object);
            }
        }
    }
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let link = |p: i64| {
        let mut parts = vec![format!("page={p}")];
        for (k, v) in [
            ("kind", &filter.kind),
            ("object", &filter.object),
            ("state", &filter.state),
            ("window", &window),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k}={}", urlencode(v)));
            }
        }
        format!("/runs?{}", parts.join("&"))
    };
    let body = html! {
        h1 { "Runs" }
        (layout::notice(q.done.as_deref()))
        form.filters method="get" action="/runs" {
            label { "kind" select name="kind" {
                option value="" { "any" }
                @for k in &kinds { option value=(k) selected[filter.kind.as_deref() == Some(k)] { (k) } }
            } }
            label { "object" select name="object" {
                option value="" { "any" }
                @for o in &objects { option value=(o) selected[filter.object.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(o))] { (o) } }
            } }
            label { "state" select name="state" {
                option value="" { "any" }
                @for s in STATES { option value=(s) selected[filter.state.as_deref() == Some(s)] { (s) } }
            } }
            label { "created" select name="window" {
                option value="" { "any time" }
                @for (v, l, _) in WINDOWS { option value=(v) selected[window.as_deref() == Some(v)] { (l) } }
            } }
            button type="submit" { "Filter" }
            a href="/runs" { "clear" }
        }
        div #runs data-live {
            p #stamp.muted { (total) " run(s) match · page " (page) " of " (pages) " · read " (when(Utc::now())) }
            (run_table(&runs))
            p {
                @if page > 1 { a href=(link(page - 1)) rel="prev" { "← newer" } " " }
                @if page < pages { a href=(link(page + 1)) rel="next" { "older →" } }
            }
        }
        @if access.can_act() { (start_form(&access, &objects)) }
    };
    layout::page("Runs", &access, st.config.refresh.as_secs(), body).into_response()
}

/// The history table (also on the mapping page).
pub fn run_table(runs: &[RunLine]) -> Markup {
    if runs.is_empty() {
        return html! { p.muted { "No run matches." } };
    }
    layout::table(
        &[
            "run", "kind", "object", "state", "chunks", "failed", "rows", "by", "created", "ended",
        ],
        html! {
            @for r in runs {
                tr {
                    td { a href={"/runs/" (r.id)} { (r.id) } }
                    td { (r.kind) }
                    td { a href={"/mappings/" (urlencode(&r.object))} { (r.object) } }
                    td class=(state_class(&r.state)) { (r.state) }
                    td.num { (r.done) "/" (r.chunks) }
                    td class=(super::page::num_class(r.failed > 0)) { (r.failed) }
                    td.num { (r.rows) }
                    td { (r.requested_by) }
                    td { (when(r.created_at)) }
                    td { (maybe(r.finished_at, "-")) }
                }
            }
        },
    )
}

/// The form that starts a run of a kind on an object (as `orgpool enqueue` does).
fn start_form(access: &Access, objects: &[String]) -> Markup {
    let Access::Operator { csrf } = access else {
        return html! {};
    };
    // The kinds `orgpool enqueue` starts on one object (quote runs take no object).
    let choices = ["resync", "initial_load", "reload", "reconcile"];
    html! {
        h2 { "Start a run" }
        form.filters method="post" action="/runs" {
            input type="hidden" name="csrf" value=(csrf);
            label { "kind" select name="kind" { @for k in &choices { option value=(k) { (k) } } } }
            label { "object" select name="object" { @for o in objects { option value=(o) { (o) } } } }
            button type="submit" { "Start" }
        }
    }
}

/// The class of a state cell.
pub fn state_class(state: &str) -> &'static str {
    match state {
        "failed" | "succeeded_with_failures" => "bad",
        "succeeded" => "ok",
        _ => "",
    }
}

/// A 400 page with the reason.
pub fn bad(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        layout::bare(
            "Bad request",
            html! { h1 { "Bad request" } p.refused { (message) } p { a href="/runs" { "Back to the runs" } } },
        ),
    )
        .into_response()
}

/// Percent-encodes a query or path value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
