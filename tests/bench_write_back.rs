//! `orgpool bench write-back` runs end to end at a tiny size (all three modes: latency,
//! throughput, backlog through an outage) and prints a result row for each, with its
//! same-run baseline and the backlog's correctness check.

use std::process::Command;

#[test]
fn the_write_back_benchmark_runs_all_three_modes_at_a_tiny_size() {
    let out = Command::new(env!("CARGO_BIN_EXE_orgpool"))
        .args([
            "bench",
            "write-back",
            "--rows",
            "500",
            "--duration-secs",
            "3",
            "--changes",
            "600",
            "--outage-secs",
            "2",
        ])
        .env("RUST_LOG", "warn")
        .output()
        .expect("orgpool runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let row = |prefix: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} row in\n{stdout}\n{stderr}"))
    };
    let latency = row("| latency: 30 single-row inserts at 10/s for 3 s");
    assert!(
        latency.contains("p95") && latency.contains("straight through the client"),
        "{latency}"
    );
    let throughput = row("| throughput: one UPDATE of 500 rows");
    assert!(throughput.contains("all 500 match"), "{throughput}");
    row("| backlog: 600 inserts made during a 2 s outage");
    let check = row("| backlog check | 601 of 601 records");
    assert!(check.ends_with("| met |"), "{check}");
    eprintln!("{stdout}");
}
