//! Bad input through the real binary, on one fake org: a `--where` literal of the
//! wrong type, an enqueue from another mappings file with a misspelt field or object
//! (refused before anything is recorded), a failed run of another configuration that
//! must not stop the scheduler's own sync, an empty mappings file, and a large poison
//! payload listed by its prefix and size.

mod jobs_common;
mod quotes_common;

use std::time::Duration;

use jobs_common::{Env, QUOTE_MAPPINGS, seeded_org};
use quotes_common::SELECTION_RULES as RULES;

async fn count(env: &Env, sql: &str) -> i64 {
    env.count(sql).await
}

fn failure(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_its_fix() {
    let org = seeded_org(20, 40, 1);
    let mut env = Env::new("errinput", org, QUOTE_MAPPINGS).await;
    std::fs::write(&env.quotes, RULES).unwrap();
    env.spawn(&["worker"], &[]);
    let out = env.ok(&["enqueue", "initial-load", "--all", "--wait"]);
    assert_eq!(out.matches("succeeded").count(), 6, "{out}");

    // A literal of the wrong type: refused, naming the field, its type and the literal.
    let e = failure(&env.run(&["enqueue", "quotes", "--where", "Amount > 'abc'"]));
    assert!(
        e.contains("selection compares Amount (a number field, column type numeric) with 'abc', which is not a number"),
        "{e}"
    );
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM orgpool.runs WHERE kind = 'quote_generation'"
        )
        .await,
        0
    );

    // Another mappings file with a misspelt field, and one with an unknown object:
    // refused before anything is recorded or started.
    let dir = env.mappings.parent().unwrap().to_path_buf();
    let other = dir.join("other.toml");
    std::fs::write(
        &other,
        "[[mapping]]\nobject = \"Opportunity\"\nfields = [\"Name\", \"Amountt\"]\n",
    )
    .unwrap();
    let runs_before = count(&env, "SELECT count(*) FROM orgpool.runs").await;
    let mut cmd = env.command(&["enqueue", "resync", "Opportunity"]);
    cmd.env("ORGPOOL_MAPPINGS", &other);
    let e = failure(&cmd.output().unwrap());
    assert!(
        e.contains("does not match the org, so nothing was started") && e.contains("Amountt"),
        "{e}"
    );
    std::fs::write(&other, "[[mapping]]\nobject = \"Opportunityy\"\n").unwrap();
    let mut cmd = env.command(&["enqueue", "initial-load", "Opportunityy"]);
    cmd.env("ORGPOOL_MAPPINGS", &other);
    let e = failure(&cmd.output().unwrap());
    assert!(e.contains("the org has no object Opportunityy"), "{e}");
    assert_eq!(
        count(&env, "SELECT count(*) FROM orgpool.runs").await,
        runs_before
    );
    assert_eq!(
        count(&env, "SELECT count(*) FROM orgpool.mappings WHERE object = 'Opportunityy' OR state <> 'ready'").await,
        0,
        "no stray mapping, no mapping left in error"
    );

    // An empty mappings file: the scheduler says so, naming the file.
    let empty = dir.join("empty.toml");
    std::fs::write(&empty, "# nothing yet\n").unwrap();
    let empty_text = empty.display().to_string();
    let pid = env.spawn(
        &["scheduler", "--tick-seconds", "1"],
        &[
            ("ORGPOOL_MAPPINGS", empty_text.as_str()),
            ("ORGPOOL_REDIS_PREFIX", &format!("{}:empty", env.prefix)),
        ],
    );
    env.eventually(
        "the empty-file warning",
        Duration::from_secs(30),
        || async {
            let log = env.log_of("scheduler", 1);
            log.contains("maps no objects") && log.contains(&empty_text)
        },
    )
    .await;
    env.signal(pid, "TERM");

    // A 1 MB poison payload is listed by a prefix and its size.
    let report = serde_json::json!({
        "error": "payload is not a chunk task",
        "payload": "x".repeat(1_000_000),
    });
    let mut redis = redis::Client::open(env.redis_url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg(orgpool::queue::keys::poison(&env.prefix, "resync"))
        .arg("task-1")
        .arg(report.to_string())
        .query_async(&mut redis)
        .await
        .unwrap();
    let out = env.ok(&["jobs", "dead"]);
    assert!(out.len() < 2_000, "{} bytes printed", out.len());
    assert!(
        out.contains("poison payload task-1 in queue resync")
            && out.contains("(1000000 bytes in all)"),
        "{out}"
    );
    let json = env.ok(&["jobs", "dead", "--json"]);
    assert!(
        json.len() < 2_000 && json.contains("\"payload_bytes\": 1000000"),
        "{json}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_of_another_configuration_does_not_stop_the_schedule() {
    let org = seeded_org(20, 0, 0);
    let mut env = Env::new("errsched", org, "[[mapping]]\nobject = \"Account\"\n").await;
    env.spawn(&["worker"], &[]);
    env.ok(&["enqueue", "initial-load", "Account", "--wait"]);
    // The scheduler holds its own file (Account, resynced every 2 s). A run of another
    // configuration failed and left Account in `error` under that configuration: the
    // scheduler's own configuration takes over and its resyncs go on.
    std::fs::write(
        &env.mappings,
        "[[mapping]]\nobject = \"Account\"\npoll_interval = \"2s\"\nallow_fast_poll = true\n",
    )
    .unwrap();
    env.spawn(&["scheduler", "--tick-seconds", "1"], &[]);
    let resyncs = "SELECT count(*) FROM orgpool.runs WHERE kind = 'resync' AND object = 'Account' AND state = 'succeeded' AND requested_by = 'scheduler'";
    env.eventually("a scheduled resync", Duration::from_secs(60), || async {
        count(&env, resyncs).await >= 1
    })
    .await;
    sqlx::query(
        "UPDATE orgpool.mappings SET state = 'error', error = 'a field is missing', fix = 'edit it',
                config = jsonb_set(config, '{fields}', '[\"Name\", \"Namee\"]')
         WHERE object = 'Account'",
    )
    .execute(&env.pool)
    .await
    .unwrap();
    let before = count(&env, resyncs).await;
    env.eventually(
        "the scheduler's resync after another configuration failed",
        Duration::from_secs(60),
        || async {
            count(&env, resyncs).await > before
                && count(&env, "SELECT count(*) FROM orgpool.mappings WHERE object = 'Account' AND state = 'ready' AND NOT config::text LIKE '%Namee%'").await == 1
        },
    )
    .await;
}
