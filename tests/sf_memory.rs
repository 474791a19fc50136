//! A 1,000,000-row Bulk query streamed by the client with the process's peak memory
//! under 100 MB. The fake org runs in a child process of the measured one
//! (`orgpool bench sf-query`), so the figure is the client's alone.

use std::process::Command;

#[test]
fn a_million_row_bulk_query_streams_in_under_100_mb() {
    let out = Command::new(env!("CARGO_BIN_EXE_orgpool"))
        .args([
            "bench",
            "sf-query",
            "--records",
            "1000000",
            "--skip-baseline",
            "--json",
        ])
        .env("RUST_LOG", "warn")
        .output()
        .expect("orgpool runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout.lines().last().expect("a JSON line");
    let report: serde_json::Value = serde_json::from_str(line).expect(line);
    assert_eq!(report["rows"], 1_000_000, "{report}");
    assert_eq!(report["pages"], 20, "{report}");
    let peak = report["peak_rss_mib"].as_f64().unwrap();
    assert!(
        peak > 0.0 && peak < 100.0,
        "peak resident memory {peak} MiB: {report}"
    );
    eprintln!("{report}");
}
