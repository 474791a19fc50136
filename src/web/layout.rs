//! The console's page chrome: head, navigation, the stylesheet (tables scroll inside
//! their box on a phone instead of widening the page) and the few lines of plain JS
//! that refresh the live sections in place (so the scroll position stays) and show
//! times in the viewer's zone. Without JS the pages still read: times are UTC and a
//! meta refresh reloads the page.

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::access::Access;

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:0 1.5em 1.5em;color:#222}
nav{display:flex;flex-wrap:wrap;gap:.3em 1.2em;align-items:center;padding:.6em 0;border-bottom:1px solid #ddd;margin-bottom:.8em}
nav a{font-weight:600}nav .who{margin-left:auto;color:#777}nav form{display:inline}
.scroll{overflow-x:auto;max-width:100%;margin:.5em 0 1.5em}
table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.25em .7em;text-align:left;vertical-align:top}
th{background:#f4f4f4}.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#176f2c}.bad{color:#b00020;font-weight:600}.muted{color:#777}progress{width:12em}
.notice{background:#e8f5e9;border:1px solid #a5d6a7;padding:.5em .8em}.refused{background:#fdecea;border:1px solid #f5c6cb;padding:.5em .8em}
form.inline{display:inline;margin:0}button{cursor:pointer}
.filters{display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:end}.filters label{display:flex;flex-direction:column;font-size:12px;color:#555}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dl.facts dt{color:#555}dl.facts dd{margin:0}
pre{background:#f7f7f7;padding:.5em;overflow-x:auto;max-width:100%}
@media (max-width:640px){body{margin:0 .6em .6em;font-size:13px}table{display:block;overflow-x:auto;max-width:100%}td,th{padding:.2em .4em}progress{width:6em}h1{font-size:1.3em}}";

/// Turns every `<time datetime>` into the viewer's local time, and every
/// `refresh` seconds replaces each `[data-live]` section with the same section of a
/// fresh copy of the page (nothing else moves, so the scroll position stays).
const SCRIPT: &str = "(function(){
function local(root){root.querySelectorAll('time[datetime]').forEach(function(t){var d=new Date(t.getAttribute('datetime'));if(!isNaN(d)){t.title=t.textContent;t.textContent=d.toLocaleString();}});}
local(document);
var secs=Number(document.body.getAttribute('data-refresh')||0);if(!secs)return;
setInterval(function(){if(document.hidden)return;
fetch(location.href,{credentials:'same-origin'}).then(function(r){return r.ok?r.text():null;}).then(function(h){if(!h)return;
var doc=new DOMParser().parseFromString(h,'text/html');
document.querySelectorAll('[data-live]').forEach(function(el){var n=doc.getElementById(el.id);if(n){el.innerHTML=n.innerHTML;local(el);}});
var s=doc.getElementById('stamp'),m=document.getElementById('stamp');if(s&&m){m.innerHTML=s.innerHTML;local(m);}
}).catch(function(){});},secs*1000);})();";

/// A console page: `title`, the viewer's `access`, reload every `refresh` seconds
/// (0: never), and `body`.
pub fn page(title: &str, access: &Access, refresh: u64, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if refresh > 0 { noscript { meta http-equiv="refresh" content=(refresh); } }
                title { (title) " · orgpool" }
                style { (PreEscaped(STYLE)) }
            }
            body data-refresh=(refresh) {
                nav {
                    strong { "orgpool" }
                    a href="/" { "Status" }
                    a href="/runs" { "Runs" }
                    a href="/runs?state=failed" { "Failed runs" }
                    a href="/metrics" { "Metrics" }
                    span.who {
                        @match access {
                            Access::Operator { .. } => "operator",
                            Access::Reader => "read-only",
                            Access::Anonymous => "",
                        }
                    }
                    @if *access != Access::Anonymous {
                        form method="post" action="/logout" { button type="submit" { "Sign out" } }
                    }
                }
                (body)
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
}

/// A page without navigation (the login form).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · orgpool" }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
}

/// A time: UTC in the markup (readable without JS), the viewer's zone with it.
pub fn when(t: DateTime<Utc>) -> Markup {
    html! {
        time datetime=(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) {
            (t.format("%Y-%m-%d %H:%M:%S UTC"))
        }
    }
}

/// A time that may be missing.
pub fn maybe(t: Option<DateTime<Utc>>, none: &str) -> Markup {
    match t {
        Some(t) => when(t),
        None => html! { span.muted { (none) } },
    }
}

/// A table inside a box that scrolls sideways on a narrow screen.
pub fn table(head: &[&str], rows: Markup) -> Markup {
    html! {
        div.scroll {
            table {
                thead { tr { @for h in head { th { (h) } } } }
                tbody { (rows) }
            }
        }
    }
}

/// A button that POSTs to `action` with the operator's CSRF token; nothing for a
/// viewer who cannot act.
pub fn action(access: &Access, action: &str, label: &str, confirm: Option<&str>) -> Markup {
    let Access::Operator { csrf } = access else {
        return html! {};
    };
    html! {
        form.inline method="post" action=(action)
            onsubmit=[confirm.map(|c| format!("return confirm({})", js_string(c)))] {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { (label) }
        }
    }
}

/// A fixed message shown after an action (`?done=...`): only known words, so a link
/// cannot put text of its own on the page.
pub fn notice(done: Option<&str>) -> Markup {
    let text = match done {
        Some("retried") => "Queued again: its failed chunks run with fresh attempts.",
        Some("cancelled") => "Cancelled: its open chunks will not run.",
        Some("started") => "Started.",
        Some("paused") => "Paused: the scheduler starts no run for it and its change events stop.",
        Some("resumed") => "Resumed: its schedule and change events go on.",
        _ => return html! {},
    };
    html! { p.notice role="status" { (text) } }
}

/// Bytes for people.
pub fn bytes(n: i64) -> String {
    let n = n as f64;
    match n {
        n if n < 1024.0 => format!("{n:.0} B"),
        n if n < 1024.0 * 1024.0 => format!("{:.1} KiB", n / 1024.0),
        n if n < 1024.0 * 1024.0 * 1024.0 => format!("{:.1} MiB", n / 1048576.0),
        n => format!("{:.2} GiB", n / 1073741824.0),
    }
}

fn js_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "''".into())
}
