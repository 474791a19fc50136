//! The layering rules of issue 12, checked over the source tree: every statement on the
//! `orgpool` control schema is in `src/ledger/` (or the migrations runner), and metrics
//! are recorded only through `src/telemetry/`'s typed events. Comment lines are not
//! code, and prose that merely names a table (`the Quotes in orgpool.quotes`) is not SQL.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, tests, build output and vendored code left out.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            if !matches!(
                name.as_str(),
                "target" | "tests" | ".git" | "node_modules" | "vendor"
            ) {
                sources(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// A file's code without its comment lines, white space folded, so a statement split
/// over lines still matches.
fn code(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//"))
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The places in `text` that look like SQL on the control schema. Keywords are matched
/// in capitals, as this project writes SQL, so prose ("read from orgpool.quotes") passes.
fn control_sql(text: &str) -> Vec<String> {
    let code = code(text);
    let mut hits = Vec::new();
    for kw in ["FROM", "INTO", "UPDATE", "JOIN", "TABLE"] {
        hits.extend(excerpts(&code, &format!("{kw} orgpool.")));
    }
    hits.extend(excerpts(&code.to_lowercase(), "to_regclass('orgpool."));
    hits
}

/// Raw metric macros (`counter!(`, `gauge!(`, `histogram!(`, and their `describe_`
/// forms, which contain them).
fn metric_macros(text: &str) -> Vec<String> {
    let code = code(text);
    ["counter!(", "gauge!(", "histogram!("]
        .iter()
        .flat_map(|m| excerpts(&code, m))
        .collect()
}

/// Uses of `anyhow` (paths and macros).
fn anyhow_uses(text: &str) -> Vec<String> {
    excerpts(&code(text), "anyhow")
}

fn excerpts(code: &str, needle: &str) -> Vec<String> {
    code.match_indices(needle)
        .map(|(i, _)| {
            let from = code.floor_char_boundary(i.saturating_sub(30));
            let to = code.ceil_char_boundary((i + needle.len() + 30).min(code.len()));
            code[from..to].to_string()
        })
        .collect()
}

/// Every offence of `check` in the tree outside the `allowed` paths (relative to the
/// crate root), as `path: excerpt`.
fn offences(allowed: &[&str], check: fn(&str) -> Vec<String>) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for top in ["src", "crates", "benches", "examples"] {
        sources(&root.join(top), &mut files);
    }
    assert!(files.len() > 20, "the source tree was found");
    let mut out = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if allowed.iter().any(|a| rel.starts_with(a)) {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        out.extend(check(&text).into_iter().map(|h| format!("{rel}: …{h}…")));
    }
    out
}

#[test]
fn control_schema_sql_lives_in_the_ledger() {
    let found = offences(&["src/ledger/", "src/migrate.rs"], control_sql);
    assert!(
        found.is_empty(),
        "SQL on the orgpool control schema outside src/ledger/ (move it into a ledger function):\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn metrics_are_recorded_only_in_telemetry() {
    let found = offences(&["src/telemetry/"], metric_macros);
    assert!(
        found.is_empty(),
        "raw metric macros outside src/telemetry/ (add a typed event there):\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn anyhow_is_used_only_by_the_command_line_front_end() {
    let found = offences(&["src/cli/", "src/main.rs"], anyhow_uses);
    assert!(
        found.is_empty(),
        "anyhow outside src/cli/ (give the module a thiserror enum):\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn the_checks_see_code_and_not_comments_or_prose() {
    let sql = "let q = \"SELECT id\n    FROM orgpool.runs\";";
    assert_eq!(control_sql(sql).len(), 1);
    assert_eq!(
        control_sql("x(\"SELECT to_regclass('orgpool.chunks')\")").len(),
        1
    );
    assert_eq!(
        control_sql("format!(\"UPDATE orgpool.{table} SET\")").len(),
        1
    );
    assert!(control_sql("/// Reads FROM orgpool.runs.\nfn f() {}").is_empty());
    assert!(control_sql("println!(\"the Quotes in orgpool.quotes\");").is_empty());
    assert_eq!(metric_macros("metrics::counter!(X).increment(1);").len(), 1);
    assert_eq!(metric_macros("describe_gauge!(X, \"y\");").len(), 1);
    assert!(metric_macros("// gauge!(X) is recorded in telemetry").is_empty());
}
