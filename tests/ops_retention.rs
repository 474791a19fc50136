//! Retention through the real scheduler: old finished runs with their chunks, resolved
//! record failures and finished Redis tasks (and stopped workers) are deleted in
//! batches over several passes, exactly what is past its keep time; active runs,
//! recent ones, runs with open failures or open chunks and the newest run of each kind
//! stay, and Redis keeps only its bound. `orgpool status` and `/metrics` show the
//! ledger's table sizes; a bad retention value stops the scheduler naming it.

mod jobs_common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jobs_common::{Env, free_port, seeded_org};
use orgpool::jobs::registry::{CHANGE_EVENTS, RECONCILE, RESYNC, WRITE_BACK};
use orgpool::queue::{QueueConfig, Queues};
use sqlx::PgPool;

/// Rows deleted per table and pass in this test: smaller than every seeded backlog.
const BATCH: i64 = 50;
/// Finished Redis tasks kept per set.
const KEEP_TASKS: usize = 100;

/// Inserts one run `days` after it ended (negative: still active) with a done plan
/// chunk and a work chunk in `chunk_state`; returns its id.
async fn run(
    pool: &PgPool,
    kind: &orgpool::jobs::registry::Kind,
    object: &str,
    state: &str,
    days: f64,
    chunk_state: &str,
) -> i64 {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO orgpool.runs (kind, object, lane, state, requested_by, created_at, finished_at)
         VALUES ($1, $2, $3 || ':' || gen_random_uuid(), $4, 'scheduler',
                 now() - make_interval(secs => abs($5) * 86400 + 60),
                 CASE WHEN $5 >= 0 THEN now() - make_interval(secs => $5 * 86400) END)
         RETURNING id",
    )
    .bind(kind.name)
    .bind(object)
    .bind(kind.name)
    .bind(state)
    .bind(days)
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO orgpool.chunks (run_id, kind, seq, step, state) VALUES
           ($1, $2, 0, 'plan', 'done'), ($1, $2, 1, 'work', $3)",
    )
    .bind(id)
    .bind(kind.queue)
    .bind(chunk_state)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// Inserts a record failure of `run_id`, last refused `days` ago.
async fn failure(pool: &PgPool, run_id: i64, key: &str, resolved: bool, days: f64) {
    sqlx::query(
        "INSERT INTO orgpool.record_failures (run_id, object, key, code, message, resolved, at)
         VALUES ($1, 'Quote', $2, 'FIELD_CUSTOM_VALIDATION_EXCEPTION', 'no', $3,
                 now() - make_interval(secs => $4 * 86400))",
    )
    .bind(run_id)
    .bind(key)
    .bind(resolved)
    .bind(days)
    .execute(pool)
    .await
    .unwrap();
}

async fn ids(pool: &PgPool) -> Vec<i64> {
    let rows: Vec<(i64,)> = sqlx::query_as("SELECT id FROM orgpool.runs ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap();
    rows.into_iter().map(|(id,)| id).collect()
}

/// A Redis reply of one command.
async fn ask<T: redis::FromRedisValue>(
    c: &redis::aio::ConnectionManager,
    cmd: &mut redis::Cmd,
) -> T {
    cmd.query_async(&mut c.clone()).await.unwrap()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Puts a finished task in `set` as apalis leaves one: id in the set, payload in the
/// data hash, metadata with `done_at`.
fn finished_task(
    pipe: &mut redis::Pipeline,
    cfg: &apalis_redis::Config,
    set: &str,
    age: u64,
) -> String {
    let id = ulid::Ulid::generate().to_string();
    pipe.sadd(set, &id)
        .hset(cfg.job_data_hash(), &id, r#"{"chunk_id":1}"#)
        .hset_multiple(
            format!("{}:{id}", cfg.job_meta_hash()),
            &[
                ("status", "Done".to_string()),
                ("done_at", (now_secs() - age).to_string()),
            ],
        );
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_prunes_exactly_what_is_past_retention_in_batches() {
    let mut env = Env::new("retention", seeded_org(5, 0, 0), "").await;
    let pool = env.pool.clone();

    // Mirror runs: a backlog older than the 30 days, more than two batches of runs and
    // (with their chunks) of chunks, and one of each case that must stay.
    let (first,): (i64,) = sqlx::query_as(
        "WITH r AS (
           INSERT INTO orgpool.runs (kind, object, lane, state, requested_by, created_at, finished_at)
           SELECT 'resync', 'Account', 'mirror:account', 'succeeded', 'scheduler',
                  now() - interval '41 days', now() - interval '40 days'
             FROM generate_series(1, 120) RETURNING id),
         c AS (INSERT INTO orgpool.chunks (run_id, kind, seq, step, state)
               SELECT id, $1, s, CASE WHEN s = 0 THEN 'plan' ELSE 'work' END, 'done'
                 FROM r, generate_series(0, 1) AS s)
         SELECT min(id) FROM r",
    )
    .bind(RESYNC.queue)
    .fetch_one(&pool)
    .await
    .unwrap();
    let backlog: Vec<i64> = (first..first + 120).collect();
    let mut gone = backlog;
    let mut kept = Vec::new();
    let open_failures = run(
        &pool,
        &RESYNC,
        "Account",
        "succeeded_with_failures",
        100.0,
        "done",
    )
    .await;
    failure(&pool, open_failures, "q-open", false, 100.0).await;
    kept.push(open_failures);
    let resolved = run(
        &pool,
        &RESYNC,
        "Account",
        "succeeded_with_failures",
        100.0,
        "done",
    )
    .await;
    failure(&pool, resolved, "q-resolved-recent", true, 10.0).await;
    gone.push(resolved);
    kept.push(run(&pool, &RESYNC, "Account", "failed", 40.0, "failed").await);
    gone.push(run(&pool, &RESYNC, "Account", "failed", 100.0, "failed").await);
    gone.push(run(&pool, &RESYNC, "Account", "cancelled", 40.0, "cancelled").await);
    kept.push(run(&pool, &RESYNC, "Account", "succeeded", 40.0, "pending").await);
    kept.push(run(&pool, &RESYNC, "Contact", "running", -100.0, "pending").await);
    kept.push(run(&pool, &RESYNC, "Contact", "planning", -50.0, "pending").await);
    // The newest of its kind and object, old as it is, stays (the status page's "last
    // run", the quote schedule's clock); the newest resync of Account is recent.
    kept.push(run(&pool, &RECONCILE, "Account", "succeeded", 40.0, "done").await);
    kept.push(run(&pool, &RESYNC, "Account", "succeeded", 10.0, "done").await);
    // Write-back and change-event runs: succeeded ones go after a day, others do not.
    for kind in [&WRITE_BACK, &CHANGE_EVENTS] {
        for _ in 0..3 {
            gone.push(run(&pool, kind, "salesforce", "succeeded", 2.0, "done").await);
        }
        kept.push(run(&pool, kind, "salesforce", "failed", 2.0, "failed").await);
        kept.push(run(&pool, kind, "salesforce", "succeeded", 0.1, "done").await);
    }
    // Resolved record failures: a backlog of old ones goes, recent and open ones stay.
    sqlx::query(
        "INSERT INTO orgpool.record_failures (run_id, object, key, code, message, resolved, at)
         SELECT NULL, 'QuoteLineItem', 'old-' || g, 'X', 'no', true, now() - interval '91 days'
           FROM generate_series(1, 130) AS g",
    )
    .execute(&pool)
    .await
    .unwrap();
    failure(&pool, kept[2], "q-recent", true, 80.0).await;

    // Redis: per set, old tasks past the age and more recent ones than the bound.
    let redis = orgpool::redis_conn::connect(&env.redis_url).await.unwrap();
    let queues = Queues::new(
        redis.clone(),
        QueueConfig {
            prefix: env.prefix.clone(),
            ..QueueConfig::default()
        },
    );
    let queue = RESYNC.queue;
    let cfg = queues.apalis_config(queue);
    let mut c = redis.clone();
    let mut pipe = redis::pipe();
    let mut recent_done = Vec::new();
    let mut old_tasks = Vec::new();
    for i in 0..160u64 {
        // Older ones first, a second apart, so "newest" is well defined.
        recent_done.push(finished_task(
            &mut pipe,
            &cfg,
            &cfg.done_jobs_set(),
            600 - i,
        ));
    }
    for _ in 0..60 {
        old_tasks.push(finished_task(
            &mut pipe,
            &cfg,
            &cfg.done_jobs_set(),
            2 * 86_400,
        ));
    }
    let mut recent_dead = Vec::new();
    for _ in 0..5 {
        recent_dead.push(finished_task(&mut pipe, &cfg, &cfg.dead_jobs_set(), 60));
        old_tasks.push(finished_task(
            &mut pipe,
            &cfg,
            &cfg.dead_jobs_set(),
            3 * 86_400,
        ));
    }
    let workers = cfg.workers_set();
    pipe.zadd(&workers, "stopped", now_secs() - 2 * 86_400)
        .hset(format!("{workers}:metadata:stopped"), "service", "x")
        .zadd(&workers, "stopped-holding", now_secs() - 2 * 86_400)
        .sadd(format!("{}:stopped-holding", cfg.inflight_jobs_set()), "t1")
        .zadd(&workers, "alive", now_secs());
    let _: () = pipe.query_async(&mut c).await.unwrap();

    let mut seeded = ids(&pool).await;
    let mut all: Vec<i64> = kept.iter().chain(&gone).copied().collect();
    seeded.sort();
    all.sort();
    assert_eq!(seeded, all, "every seeded run is either kept or gone");
    env.spawn(
        &["scheduler", "--tick-seconds", "1"],
        &[
            ("ORGPOOL_RETENTION_BATCH", &BATCH.to_string()),
            ("ORGPOOL_RETAIN_TASKS", &KEEP_TASKS.to_string()),
        ],
    );

    let mut expected: Vec<i64> = kept.clone();
    expected.sort();
    env.eventually(
        "the ledger to be pruned",
        Duration::from_secs(90),
        || async {
            ids(&pool).await == expected
                && env
                    .count("SELECT count(*) FROM orgpool.record_failures")
                    .await
                    == 3
        },
    )
    .await;
    env.eventually("Redis to be trimmed", Duration::from_secs(60), || async {
        ask::<usize>(&redis, redis::cmd("SCARD").arg(cfg.done_jobs_set())).await == KEEP_TASKS
    })
    .await;

    // Exactly the expected rows: chunks only of kept runs, failures open or recent.
    assert_eq!(
        env.count("SELECT count(*) FROM orgpool.chunks").await,
        2 * kept.len() as i64,
        "{}",
        env.logs()
    );
    let left: Vec<(String,)> =
        sqlx::query_as("SELECT key FROM orgpool.record_failures ORDER BY key")
            .fetch_all(&pool)
            .await
            .unwrap();
    let left: Vec<String> = left.into_iter().map(|(k,)| k).collect();
    assert_eq!(left, ["q-open", "q-recent", "q-resolved-recent"]);

    // Redis: the newest done tasks, every recent dead one; nothing of the rest.
    let mut done: Vec<String> = ask(&redis, redis::cmd("SMEMBERS").arg(cfg.done_jobs_set())).await;
    done.sort();
    let mut newest = recent_done[recent_done.len() - KEEP_TASKS..].to_vec();
    newest.sort();
    assert_eq!(done, newest, "the newest {KEEP_TASKS} done tasks are kept");
    let dead: usize = ask(&redis, redis::cmd("SCARD").arg(cfg.dead_jobs_set())).await;
    assert_eq!(dead, recent_dead.len());
    let trimmed = old_tasks
        .iter()
        .chain(&recent_done[..recent_done.len() - KEEP_TASKS]);
    for id in trimmed {
        let data: bool = ask(
            &redis,
            redis::cmd("HEXISTS").arg(cfg.job_data_hash()).arg(id),
        )
        .await;
        let meta: bool = ask(
            &redis,
            redis::cmd("EXISTS").arg(format!("{}:{id}", cfg.job_meta_hash())),
        )
        .await;
        assert!(
            !data && !meta,
            "task {id} left its payload or metadata behind"
        );
    }
    for id in newest.iter().chain(&recent_dead) {
        let data: bool = ask(
            &redis,
            redis::cmd("HEXISTS").arg(cfg.job_data_hash()).arg(id),
        )
        .await;
        assert!(data, "kept task {id} lost its payload");
    }
    let names: Vec<String> = ask(&redis, redis::cmd("ZRANGE").arg(&workers).arg(0).arg(-1)).await;
    assert_eq!(names, ["stopped-holding", "alive"]);
    let meta: bool = ask(
        &redis,
        redis::cmd("EXISTS").arg(format!("{workers}:metadata:stopped")),
    )
    .await;
    assert!(!meta, "a stopped worker's metadata is left");

    // In batches: no pass deleted more than the batch of anything, so it took passes.
    let log = env.log_of("scheduler", 0);
    let passes: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("retention pass pruned"))
        .collect();
    assert!(passes.len() >= 3, "{log}");
    for line in &passes {
        // Runs, chunks and failures: one batch a pass; Redis: one per set (done, dead).
        for (field, most) in [
            ("runs", 1),
            ("chunks", 1),
            ("record_failures", 1),
            ("redis_tasks", 2),
        ] {
            let n = field_value(line, field);
            assert!(
                n <= most * BATCH as u64,
                "{field}={n} over the batch in {line}"
            );
        }
    }

    // The sizes are shown: text, JSON and /metrics.
    let text = env.ok(&["status"]);
    assert!(text.contains("LEDGER TABLES"), "{text}");
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("runs ")),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).unwrap();
    let tables = json["ledger_tables"].as_array().expect("ledger_tables");
    for name in ["runs", "chunks", "record_failures", "mappings"] {
        let t = tables
            .iter()
            .find(|t| t["table"] == name)
            .unwrap_or_else(|| panic!("{name} in {tables:?}"));
        assert!(t["bytes"].as_i64().unwrap() > 0, "{t}");
        assert!(t["rows_estimate"].as_i64().is_some(), "{t}");
    }
    let port = free_port();
    env.spawn(&["web", "--port", &port.to_string()], &[]);
    let base = format!("http://127.0.0.1:{port}");
    env.wait_http_ok(&format!("{base}/healthz")).await;
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("orgpool_ledger_table_bytes{table=\"chunks\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("# TYPE orgpool_ledger_table_bytes gauge"),
        "{metrics}"
    );
}

/// `name=N` in a log line (the tracing formatter's fields), 0 when absent.
fn field_value(line: &str, name: &str) -> u64 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_retention_value_stops_the_scheduler_naming_it() {
    let env = Env::new("retention_bad", seeded_org(1, 0, 0), "").await;
    for (name, value) in [
        ("ORGPOOL_RETAIN_RUNS_DAYS", "0"),
        ("ORGPOOL_RETAIN_TASKS_AGE", "forever"),
        ("ORGPOOL_RETENTION_BATCH", "1000000000"),
    ] {
        let out = env
            .command(&["scheduler", "--tick-seconds", "1"])
            .env(name, value)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{name}={value} was accepted: {stderr}"
        );
        assert!(
            stderr.contains(&format!("{name} is invalid: {value:?}")),
            "{stderr}"
        );
    }
}
