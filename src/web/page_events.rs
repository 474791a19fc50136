//! The status page's change-event section: each subscription's state and counts, the
//! events waiting to be applied, and how old the last applied one is.

use maud::{Markup, html};

use super::page::{human_secs, num_class};
use crate::status::events::Subscription;

/// The section.
pub fn events(subs: &[Subscription]) -> Markup {
    html! {
        h2 { "Change events" }
        @if subs.is_empty() {
            p.muted { "No mapping has " code { "events = true" } ": changes arrive by polling only." }
        } @else {
            table {
                tr { th { "object" } th { "state" } th.num { "received" } th.num { "applied" } th.num { "waiting" } th.num { "gaps healed" } th.num { "last applied change" } }
                @for s in subs {
                    tr {
                        td { (s.object) }
                        td class=(if s.state == "live" { "" } else { "bad" }) {
                            (s.state)
                            @if let Some(d) = &s.detail { " (" (d) ")" }
                        }
                        td.num { (s.received) }
                        td.num { (s.applied) }
                        td class=(num_class(s.oldest_waiting_seconds.is_some_and(|a| a > 60.0))) {
                            (s.waiting)
                            @if let Some(a) = s.oldest_waiting_seconds { " (oldest " (human_secs(a)) ")" }
                        }
                        td.num { (s.gaps) }
                        td.num { (s.replay_age_seconds.map_or("-".into(), |a| format!("{} ago", human_secs(a)))) }
                    }
                }
            }
        }
    }
}
