//! The HTML status page: mappings with state, rows, lag and errors; current runs with
//! progress; queues; write-back per read_write table with its refused changes; dead
//! chunks and failed records; API usage. Plain HTML in the console's chrome
//! ([`super::layout`]: its sections refresh in place); objects and runs link to their
//! console pages. Every value goes through maud, which escapes it.

use maud::{Markup, html};

use super::access::Access;
use super::layout::{self, maybe, when};
use super::runs_page::urlencode;
use super::snapshot::Snapshot;

/// Renders the page for a viewer with `access`; `refresh_secs` is the reload interval.
pub fn render(snap: &Snapshot, access: &Access, refresh_secs: u64) -> Markup {
    let st = &snap.status;
    let api = &st.api;
    let body = html! {
            div #status data-live {
                h1 { "orgpool" }
                p {
                    "Updated " (when(snap.at))
                    " · " (snap.workers) " worker process(es) live · Salesforce: "
                    @if api.outage { span.bad { "OUTAGE (workers wait, no attempts spent)" } }
                    @else { span.ok { "no outage flagged" } }
                    @if let Some(p) = &api.paused { " · " span.bad { "paused by the API budget" @if let Some(t) = p.until { " until ~" (when(t)) } } }
                    " · " a href="metrics" { "metrics" }
                }
                h2 { "Mappings" }
                table {
                    tr { th { "object" } th { "table" } th { "state" } th.num { "rows" } th.num { "lag" } th { "last sync" } th.num { "failed chunks" } th { "problem" } }
                    @for m in &st.mappings {
                        tr {
                            td { a href={"/mappings/" (urlencode(&m.object))} { (m.object) } }
                            td { code { (m.table) } }
                            td class=(if m.state == "error" { "bad" } else { "" }) {
                                (m.state)
                                @if m.paused { " " span.bad { "(paused)" } }
                            }
                            td.num { (m.rows.map_or("-".into(), |r| r.to_string())) }
                            td.num { (m.lag_seconds.map_or("-".into(), human_secs)) }
                            td { (maybe(m.last_sync_at, "never")) }
                            td.num { (m.failed_chunks) }
                            td {
                                @if let Some(e) = &m.error { span.bad { (e) } }
                                @if let Some(f) = &m.fix { " Fix: " (f) }
                            }
                        }
                    }
                }
                h2 { "Current runs" }
                @if st.runs.is_empty() { p.muted { "No run is active." } }
                @else {
                    table {
                        tr { th { "run" } th { "kind" } th { "object" } th { "state" } th { "progress" } th.num { "chunks" } th.num { "failed" } th.num { "rows" } th { "started" } }
                        @for r in &st.runs {
                            tr {
                                td { a href={"/runs/" (r.id)} { (r.id) } }
                                td { (r.kind) }
                                td { (r.object) }
                                td class=(if r.records_refused > 0 { "bad" } else { "" }) {
                                    (r.state)
                                    @if r.records_refused > 0 { " (" (r.records_refused) " records refused)" }
                                }
                                td { progress max=(r.chunks_total.max(1)) value=(r.chunks_done) {} }
                                td.num { (r.chunks_done) "/" (r.chunks_total) }
                                td class=(num_class(r.chunks_failed > 0)) { (r.chunks_failed) }
                                td.num { (r.rows) }
                                td { (when(r.created_at)) }
                            }
                        }
                    }
                }
                (write_back(&st.write_back))
                (super::page_events::events(&st.events))
                h2 { "Queues" }
                table {
                    tr { th { "job kind" } th.num { "ready" } th.num { "scheduled" } th.num { "running" } th.num { "dead" } th.num { "poison" } }
                    @for q in &st.queues {
                        tr {
                            td { (q.kind) }
                            td.num { (q.depth.active) }
                            td.num { (q.depth.scheduled) }
                            td.num { (q.depth.inflight) }
                            td.num { (q.depth.dead) }
                            td class=(num_class(q.depth.poison > 0)) { (q.depth.poison) }
                        }
                    }
                }
                h2 { "Dead chunks (" (st.dead_chunks) ")" }
                @if snap.dead.is_empty() { p.muted { "None." } }
                @else {
                    p.muted { "Retry from the run's page, or with " code { "orgpool jobs retry" } "." }
                    table {
                        tr { th { "chunk" } th { "run" } th { "kind" } th.num { "attempts" } th { "class" } th { "error" } }
                        @for c in &snap.dead {
                            tr {
                                td { (c.id) } td { a href={"/runs/" (c.run_id)} { (c.run_id) } } td { (c.kind) }
                                td.num { (c.attempts) }
                                td { (c.error_class.as_deref().unwrap_or("")) }
                                td { (c.error.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
                h2 { "Failed records" }
                @if snap.failures.is_empty() { p.muted { "None." } }
                @else {
                    p.muted { "Full list: " code { "orgpool jobs failures" } "." }
                    table {
                        tr { th { "object" } th { "key" } th { "opportunity" } th { "code" } th { "message" } th.num { "attempts" } th { "at" } }
                        @for f in &snap.failures {
                            tr {
                                td { (f.object) } td { code { (f.key) } }
                                td { (f.opportunity_sfid.as_deref().unwrap_or("")) }
                                td { (f.code) } td { (f.message) }
                                td.num { (f.attempts) }
                                td { (when(f.at)) }
                            }
                        }
                    }
                }
                h2 { "Salesforce API" }
                p {
                    "The fleet used " (api.fleet_used) " request(s) in its window"
                    @if let Some(a) = api.allowed { " of " (a) " allowed" }
                    ". The org reports " (api.org_used) " used"
                    @if api.org_limit > 0 { " of " (api.org_limit) }
                    @if let Some(at) = api.org_reported_at { " (reported " (when(at)) ")" }
                    "."
                }
                @if let Some(p) = &api.paused { p.bad { "Work is " (p.describe(snap.at)) "." } }
                h2 { "Ledger tables" }
                p.muted { "Sizes of the control schema's tables (rows as Postgres estimates them); the scheduler prunes them by the retention settings (docs/mirror.md, Retention)." }
                (layout::table(&["table", "rows", "size"], html! {
                    @for t in &st.ledger_tables {
                        tr {
                            td { code { "orgpool." (t.table) } }
                            td.num { (t.rows_estimate) }
                            td.num { (layout::bytes(t.bytes)) }
                        }
                    }
                }))
            }
    };
    layout::page("Status", access, refresh_secs, body)
}

/// Per read_write table its log rows by state and the oldest waiting change, then the
/// latest refused changes.
fn write_back(wb: &crate::status::write_back::WriteBackStatus) -> Markup {
    html! {
        h2 { "Write-back" }
        @if wb.tables.is_empty() {
            p.muted { "No read_write mapping: the app's changes are not sent to Salesforce." }
        } @else {
            table {
                tr { th { "object" } th { "table" } th.num { "NEW" } th.num { "PENDING" } th.num { "SUCCESS" } th.num { "FAILED" } th { "other" } th.num { "oldest waiting" } }
                @for t in &wb.tables {
                    tr {
                        td { (t.object) }
                        td { code { (t.schema) "." (t.table) } }
                        td.num { (t.count("NEW")) }
                        td.num { (t.count("PENDING")) }
                        td.num { (t.count("SUCCESS")) }
                        td class=(num_class(t.count("FAILED") > 0)) { (t.count("FAILED")) }
                        td {
                            @for (state, n) in t.states.iter().filter(|(s, _)| !["NEW", "PENDING", "SUCCESS", "FAILED"].contains(&s.as_str())) {
                                (state) " " (n) " "
                            }
                        }
                        td.num { (t.oldest_waiting_seconds.map_or("-".into(), human_secs)) }
                    }
                }
            }
            @if wb.failed.is_empty() { p.muted { "No refused changes." } }
            @else {
                p.muted { "Refused changes (latest; all: " code { "orgpool jobs failures" } "). After fixing the data or the org: " code { "orgpool writes retry" } "." }
                table {
                    tr { th { "table" } th.num { "log id" } th { "action" } th.num { "record id" } th { "sfid" } th { "message" } th { "at" } }
                    @for f in &wb.failed {
                        tr {
                            td { (f.table_name) }
                            td.num { (f.log_id) }
                            td { (f.action.as_deref().unwrap_or("")) }
                            td.num { (f.record_id.map_or(String::new(), |r| r.to_string())) }
                            td { code { (f.sfid.as_deref().unwrap_or("")) } }
                            td.bad { (f.sf_message.as_deref().unwrap_or("")) }
                            td { (maybe(f.at, "")) }
                        }
                    }
                }
            }
        }
    }
}

/// The class of a number cell, marked when it needs attention.
pub(super) fn num_class(bad: bool) -> &'static str {
    if bad { "num bad" } else { "num" }
}

pub(super) fn human_secs(s: f64) -> String {
    match s {
        s if s < 120.0 => format!("{s:.0} s"),
        s if s < 7200.0 => format!("{:.0} min", s / 60.0),
        s => format!("{:.1} h", s / 3600.0),
    }
}
