//! `/mappings/{object}`: one mapping: state (and whether it is paused), watermark and
//! lag, its mirror table's size, its change-event subscription, its recent runs, its
//! failed chunks and (read_write) its refused changes; with the operator's buttons
//! (pause or resume it, start a run of it).

use std::sync::Arc;

use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use maud::html;

use super::access::Access;
use super::error::unavailable;
use super::layout::{self, action, bytes, maybe, when};
use super::page::human_secs;
use super::run_page::not_found;
use super::runs_page::{run_table, state_class, urlencode};
use super::server::WebState;
use crate::ledger::{self, LedgerError, console};
use crate::mirror::Access as TableAccess;

/// Runs, chunks and changes listed.
const LISTED: i64 = 20;

/// The query of `/mappings/{object}` (the notice after an action).
#[derive(Debug, Default, serde::Deserialize)]
pub struct MappingQuery {
    done: Option<String>,
}

/// `GET /mappings/{object}`.
pub async fn show(
    State(st): State<Arc<WebState>>,
    Extension(access): Extension<Access>,
    Path(object): Path<String>,
    Query(q): Query<MappingQuery>,
) -> Response {
    let pool = &st.services.pool;
    let row = match pool.acquire().await {
        Ok(mut conn) => ledger::mappings::get(&mut conn, &object).await,
        Err(e) => Err(LedgerError::from(e)),
    };
    let row = match row {
        Ok(r) => r,
        Err(LedgerError::NoSuchMapping(_)) => {
            return not_found(&format!(
                "No mapping for {object:?} is in the ledger (it appears once the scheduler or `orgpool enqueue` has seen it in jobs/mappings.toml)."
            ));
        }
        Err(e) => return unavailable(e),
    };
    let size = match crate::status::tables::size(pool, &row.schema_name, &row.table_name).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let filter = console::RunFilter {
        object: Some(row.object.clone()),
        ..Default::default()
    };
    let (runs, total) = match console::runs(pool, &filter, LISTED, 0).await {
        Ok(r) => r,
        Err(e) => return unavailable(e),
    };
    let lags = match console::lag_history(pool, &row.object, LISTED).await {
        Ok(l) => l,
        Err(e) => return unavailable(e),
    };
    let dead = match console::failed_chunks_of(pool, &row.object, LISTED).await {
        Ok(d) => d,
        Err(e) => return unavailable(e),
    };
    let subscription = match crate::status::events::read(pool).await {
        Ok(subs) => subs.into_iter().find(|s| s.object == row.object),
        Err(e) => return unavailable(e),
    };
    let read_write = row
        .mapping()
        .is_ok_and(|m| m.access == TableAccess::ReadWrite);
    let refused = if read_write {
        match crate::status::write_back::failed(pool, &row.schema_name, LISTED).await {
            Ok(f) => f
                .into_iter()
                .filter(|w| w.table_name == row.table_name)
                .collect(),
            Err(e) => return unavailable(crate::status::StatusError::from(e)),
        }
    } else {
        Vec::new()
    };
    let lag = row
        .watermark
        .map(|w| (Utc::now() - w).num_milliseconds() as f64 / 1000.0);
    let path = format!("/mappings/{}", urlencode(&row.object));
    let body = html! {
        h1 { (row.object) " " code { (row.schema_name) "." (row.table_name) } }
        (layout::notice(q.done.as_deref()))
        div #mapping data-live {
            dl.facts {
                dt { "state" } dd class=(if row.state == "error" { "bad" } else { "" }) {
                    (row.state)
                    @if row.paused { " · " span.bad { "PAUSED" } " since " (maybe(row.paused_at, "?")) }
                }
                @if let Some(e) = &row.error { dt { "problem" } dd.bad { (e) @if let Some(f) = &row.fix { " Fix: " (f) } } }
                dt { "watermark" } dd { (maybe(row.watermark, "none yet (not loaded)")) }
                dt { "lag" } dd { (lag.map_or("-".into(), human_secs)) }
                dt { "last sync" } dd { (maybe(row.last_sync_at, "never")) }
                dt { "last resync run" } dd { (maybe(row.last_resync_at, "never")) }
                dt { "last reconcile run" } dd { (maybe(row.last_reconcile_at, "never")) }
                dt { "table size" } dd {
                    @match size {
                        Some(s) => { (s.rows) " rows · " (bytes(s.bytes)) " on disk (with indexes)" }
                        None => span.muted { "the table does not exist yet" },
                    }
                }
                dt { "change events" } dd {
                    @match &subscription {
                        Some(s) => {
                            span class=(if s.state == "live" { "ok" } else { "bad" }) { (s.state) }
                            @if let Some(d) = &s.detail { " (" (d) ")" }
                            " since " (when(s.since)) " · " (s.received) " received · " (s.applied) " applied · "
                            (s.waiting) " waiting · " (s.gaps) " gap(s) healed · topic " code { (s.topic) }
                        }
                        None => span.muted { "no subscription (events = false, or not loaded yet)" },
                    }
                }
            }
        }
        @if access.can_act() {
            p {
                @if row.paused { (action(&access, &format!("{path}/resume"), "Resume", None)) }
                @else { (action(&access, &format!("{path}/pause"), "Pause", Some("Pause this mapping? The scheduler will start no run for it."))) }
            }
            @if let Access::Operator { csrf } = &access {
                form.filters method="post" action="/runs" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="object" value=(row.object);
                    label { "start a run" select name="kind" { @for k in ["resync", "reconcile", "reload", "initial_load"] { option value=(k) { (k) } } } }
                    button type="submit" { "Start" }
                }
            }
        }
        div #mapping-runs data-live {
            h2 { "Recent runs" }
            p.muted { (total) " in all · " a href={"/runs?object=" (urlencode(&row.object))} { "all of them" } }
            (run_table(&runs))
            h2 { "Lag history" }
            @if lags.is_empty() { p.muted { "No load or resync has finished yet." } }
            @else {
                p.muted { "How far behind the org the table was as each load or resync ended (its end minus the watermark it left)." }
                (layout::table(&["run", "kind", "ended", "lag"], html! {
                    @for l in &lags {
                        tr {
                            td { a href={"/runs/" (l.run_id)} { (l.run_id) } }
                            td { (l.kind) }
                            td { (when(l.finished_at)) }
                            td.num { (human_secs(l.lag_seconds)) }
                        }
                    }
                }))
            }
            h2 { "Failed chunks" }
            @if dead.is_empty() { p.muted { "None." } }
            @else {
                (layout::table(&["chunk", "run", "attempts", "class", "error", "ended", ""], html! {
                    @for c in &dead {
                        tr {
                            td { (c.id) }
                            td { a href={"/runs/" (c.run_id)} { (c.run_id) } }
                            td.num { (c.attempts) }
                            td { (c.error_class.as_deref().unwrap_or("")) }
                            td class=(state_class(&c.state)) { (c.error.as_deref().unwrap_or("")) }
                            td { (maybe(c.finished_at, "-")) }
                            td { (action(&access, &format!("/chunks/{}/retry", c.id), "Retry", None)) }
                        }
                    }
                }))
            }
            @if read_write {
                h2 { "Refused changes (write-back)" }
                @if refused.is_empty() { p.muted { "None." } }
                @else {
                    p.muted { "Send them again with " code { "orgpool writes retry --table " (row.table_name) } " once fixed." }
                    (layout::table(&["log id", "action", "record id", "sfid", "message", "at"], html! {
                        @for f in &refused {
                            tr {
                                td.num { (f.log_id) }
                                td { (f.action.as_deref().unwrap_or("")) }
                                td.num { (f.record_id.map_or(String::new(), |r| r.to_string())) }
                                td { code { (f.sfid.as_deref().unwrap_or("")) } }
                                td.bad { (f.sf_message.as_deref().unwrap_or("")) }
                                td { (maybe(f.at, "-")) }
                            }
                        }
                    }))
                }
            }
        }
    };
    layout::page(&row.object, &access, st.config.refresh.as_secs(), body).into_response()
}
