//! `docs/settings.md`, generated from the catalogue. A unit test compares the file with
//! [`render_markdown`] and fails when it is out of date; with `ORGPOOL_UPDATE_DOCS=1` it
//! rewrites the file instead.

use super::catalog::{DefaultText, SETTINGS, Section};

const INTRO: &str = "\
# Settings

<!-- Generated from src/settings/catalog.rs; do not edit. After changing the catalogue run
     `ORGPOOL_UPDATE_DOCS=1 cargo test --lib settings::table` to rewrite this file. -->

Every environment variable orgpool reads, with its default and meaning. `orgpool dev`
needs none of them (it points its processes at a fake org); against a real org only
`SALESFORCE_CLIENT_ID` and the credentials of the chosen login flow have no default. A
variable whose name starts with `ORGPOOL_` or `SALESFORCE_` and is not listed
here is refused at start, naming the nearest known setting (`ORGPOOL_MAX_ATEMPTS is not
a setting orgpool knows; did you mean ORGPOOL_MAX_ATTEMPTS?`), so a typo never silently
leaves a default in place. A malformed value is refused naming the variable, the value
(never for secrets) and what would be accepted. Durations are written like `30s`, `2m`
or `1h30m`; `*_SECS` settings take a number of seconds.
";

/// The whole of `docs/settings.md`.
pub fn render_markdown() -> String {
    let mut out = String::from(INTRO);
    for section in Section::ALL {
        out.push_str(&format!(
            "\n## {}\n\n| variable | default | meaning |\n|---|---|---|\n",
            section.title()
        ));
        for s in SETTINGS.iter().filter(|s| s.section == section) {
            let default = match s.default {
                DefaultText::Value(v) => format!("`{v}`"),
                DefaultText::Note(n) => n.to_string(),
            };
            out.push_str(&format!("| `{}` | {default} | {} |\n", s.name, s.meaning));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_settings_md_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/settings.md");
        let expected = render_markdown();
        if std::env::var_os("ORGPOOL_UPDATE_DOCS").is_some() {
            std::fs::write(path, &expected).expect("docs/settings.md is writable");
            return;
        }
        let actual = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            actual == expected,
            "docs/settings.md is out of date with src/settings/catalog.rs; rewrite it with\n  \
             ORGPOOL_UPDATE_DOCS=1 cargo test --lib settings::table\nExpected:\n{expected}"
        );
    }

    #[test]
    fn no_cell_breaks_the_table() {
        for s in SETTINGS {
            assert!(!s.meaning.contains('|'), "{}", s.name);
            match s.default {
                DefaultText::Value(v) => assert!(!v.contains(['|', '`']), "{}", s.name),
                DefaultText::Note(n) => assert!(!n.contains('|'), "{}", s.name),
            }
        }
    }
}
