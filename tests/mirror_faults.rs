//! Failure paths of mirror sync through the job system: a worker killed with SIGKILL
//! mid-chunk, `FLUSHALL` mid-run (on a Redis server of the test's own), a 60-second
//! Salesforce outage mid-load, a poison payload in every queue, and SIGTERM mid-chunk. Each run must end with the mirror equal to the org
//! and nothing dead that should not be.

mod jobs_common;

use std::time::Duration;

use jobs_common::{Env, OPPORTUNITY_MAPPING, opportunities_org, run_id};
use orgpool::fake_org::{FakeOrgConfig, OutageMode};

const FIELDS: &[&str] = &[
    "Id",
    "SystemModstamp",
    "IsDeleted",
    "Name",
    "Amount",
    "CloseDate",
    "StageName",
];
const COLUMNS: &[&str] = &[
    "sfid",
    "systemmodstamp",
    "isdeleted",
    "name",
    "amount",
    "closedate",
    "stagename",
];

fn org(opportunities: u64) -> FakeOrgConfig {
    opportunities_org(opportunities, Duration::from_millis(20))
}

async fn assert_equal(env: &Env) {
    let mirror = env.mirror_snapshot("opportunity", COLUMNS).await;
    let org = env
        .org_snapshot("Opportunity", "opportunity", FIELDS, COLUMNS)
        .await;
    assert_eq!(mirror, org, "mirror differs from the org\n{}", env.logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_chunk_has_its_chunk_finished_by_another() {
    let mut env = Env::new("kill9", org(8_000), OPPORTUNITY_MAPPING).await;
    env.org.set_latency(Duration::from_millis(150));
    let victim = env.spawn(&["worker", "--concurrency", "1"], &[]);
    let id = run_id(&env.ok(&["enqueue", "initial-load", "Opportunity"]));
    let victim_name = format!("-{victim}-");
    env.eventually("the victim to hold a work chunk", Duration::from_secs(60), || async {
        env.count(&format!(
            "SELECT count(*) FROM orgpool.chunks WHERE step = 'work' AND state = 'running' AND worker LIKE '%{victim_name}%'"
        )).await > 0
    })
    .await;
    let (held,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM orgpool.chunks WHERE state = 'running' AND worker LIKE '%{victim_name}%' LIMIT 1"
    )))
    .fetch_one(&env.pool)
    .await
    .unwrap();
    env.signal(victim, "KILL");
    let killed = std::time::Instant::now();
    env.spawn(&["worker"], &[]);
    env.eventually("another worker to pick the chunk up", Duration::from_secs(60), || async {
        env.count(&format!(
            "SELECT count(*) FROM orgpool.chunks WHERE id = {held} AND (state = 'done' OR worker NOT LIKE '%{victim_name}%')"
        ))
        .await
            == 1
    })
    .await;
    eprintln!(
        "chunk {held} picked up {:.1} s after the kill",
        killed.elapsed().as_secs_f64()
    );
    env.wait_succeeded(id, Duration::from_secs(150)).await;
    assert_equal(&env).await;
    assert_eq!(
        env.count("SELECT count(*) FROM orgpool.chunks WHERE state = 'failed'")
            .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_flushall_mid_run_loses_nothing() {
    // A Redis of the test's own, so a real FLUSHALL touches no other test.
    let own = jobs_common::OwnRedis::start();
    let mut env = Env::new("flush", org(8_000), OPPORTUNITY_MAPPING).await;
    env.redis_url = own.url.clone();
    env.org.set_latency(Duration::from_millis(50));
    env.spawn(&["scheduler", "--tick-seconds", "1"], &[]);
    env.spawn(&["worker"], &[]);
    let id = run_id(&env.ok(&["enqueue", "initial-load", "Opportunity"]));
    env.eventually("some chunks done", Duration::from_secs(60), || async {
        env.count("SELECT count(*) FROM orgpool.chunks WHERE step = 'work' AND state = 'done'")
            .await
            >= 1
    })
    .await;
    let mut redis = orgpool::redis_conn::connect(&own.url).await.unwrap();
    let _: () = redis::cmd("FLUSHALL")
        .query_async(&mut redis)
        .await
        .unwrap();
    let open = env
        .count("SELECT count(*) FROM orgpool.chunks WHERE step = 'work' AND state <> 'done'")
        .await;
    assert!(open > 0, "the flush came too late to test anything");
    env.wait_succeeded(id, Duration::from_secs(150)).await;
    assert_equal(&env).await;
    assert_eq!(
        env.count("SELECT count(*) FROM orgpool.chunks WHERE state = 'failed'")
            .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minute_long_outage_mid_load_waits_and_completes() {
    let mut env = Env::new("outage", org(20_000), OPPORTUNITY_MAPPING).await;
    env.org.set_latency(Duration::from_millis(100));
    env.spawn(&["worker"], &[]);
    env.spawn(&["worker"], &[]);
    let id = run_id(&env.ok(&["enqueue", "initial-load", "Opportunity"]));
    env.eventually("some chunks done", Duration::from_secs(60), || async {
        env.count("SELECT count(*) FROM orgpool.chunks WHERE step = 'work' AND state = 'done'")
            .await
            >= 1
    })
    .await;
    env.org
        .outage(Duration::from_secs(60), OutageMode::Unavailable);
    let open = env
        .count("SELECT count(*) FROM orgpool.chunks WHERE step = 'work' AND state <> 'done'")
        .await;
    assert!(open > 0, "the outage began too late to test anything");
    env.wait_succeeded(id, Duration::from_secs(240)).await;
    assert_equal(&env).await;
    assert_eq!(
        env.count("SELECT count(*) FROM orgpool.chunks WHERE state = 'failed'")
            .await,
        0
    );
    // Waiting for an outage spends no attempts.
    assert_eq!(
        env.count("SELECT coalesce(max(attempts), 0)::bigint FROM orgpool.chunks")
            .await,
        0,
        "{}",
        env.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_payload_in_every_queue_is_moved_aside_and_work_goes_on() {
    let mut env = Env::new("poison", org(3_000), OPPORTUNITY_MAPPING).await;
    let worker = env.spawn(&["worker"], &[]);
    let redis = orgpool::redis_conn::connect(&orgpool::redis_conn::url_from_env())
        .await
        .unwrap();
    let queues = orgpool::queue::Queues::new(
        redis.clone(),
        orgpool::queue::QueueConfig {
            prefix: env.prefix.clone(),
            ..Default::default()
        },
    );
    let kinds = orgpool::jobs::registry::queues();
    for &kind in &kinds {
        use apalis::prelude::TaskSink;
        // Valid JSON of the wrong shape, and bytes that are not JSON at all.
        let mut wrong = apalis_redis::RedisStorage::<serde_json::Value>::new(redis.clone())
            .with_config(queues.apalis_config(kind));
        wrong
            .push(serde_json::json!({"bogus": true}))
            .await
            .unwrap();
        let task = queues.push(kind, 424242, None).await.unwrap();
        let mut c = redis.clone();
        let _: () = redis::cmd("HSET")
            .arg(queues.apalis_config(kind).job_data_hash())
            .arg(&task)
            .arg(b"\x00\xffnot json".as_slice())
            .query_async(&mut c)
            .await
            .unwrap();
    }
    let out = env.ok(&["enqueue", "initial-load", "Opportunity", "--wait"]);
    assert!(out.contains("succeeded"), "{out}\n{}", env.logs());
    let out = env.ok(&["enqueue", "reconcile", "Opportunity", "--wait"]);
    assert!(out.contains("succeeded"), "{out}\n{}", env.logs());
    env.eventually(
        "every poison payload moved aside",
        Duration::from_secs(60),
        || async {
            let mut n = 0;
            for &kind in &kinds {
                n += queues.depth(kind).await.unwrap().poison;
            }
            n == 2 * kinds.len() as u64
        },
    )
    .await;
    assert!(
        !env.wait_exit(worker, Duration::from_millis(10)),
        "the worker must keep running"
    );
    assert_equal(&env).await;
    let dead = env.ok(&["jobs", "dead"]);
    assert!(dead.contains("poison payload"), "{dead}");
    assert_eq!(
        env.count("SELECT count(*) FROM orgpool.chunks WHERE state = 'failed'")
            .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_chunk_exits_within_30_seconds_and_the_run_completes() {
    let mut env = Env::new("sigterm", org(8_000), OPPORTUNITY_MAPPING).await;
    env.org.set_latency(Duration::from_millis(150));
    let worker = env.spawn(&["worker"], &[]);
    let id = run_id(&env.ok(&["enqueue", "initial-load", "Opportunity"]));
    let name = format!("-{worker}-");
    env.eventually("the worker to hold a work chunk", Duration::from_secs(60), || async {
        env.count(&format!(
            "SELECT count(*) FROM orgpool.chunks WHERE step = 'work' AND state = 'running' AND worker LIKE '%{name}%'"
        ))
        .await
            > 0
    })
    .await;
    let asked = std::time::Instant::now();
    env.signal(worker, "TERM");
    assert!(
        env.wait_exit(worker, Duration::from_secs(30)),
        "the worker did not exit within 30 s of SIGTERM\n{}",
        env.logs()
    );
    eprintln!(
        "worker exited {:.1} s after SIGTERM",
        asked.elapsed().as_secs_f64()
    );
    env.spawn(&["worker"], &[]);
    env.wait_succeeded(id, Duration::from_secs(150)).await;
    assert_equal(&env).await;
    assert_eq!(
        env.count("SELECT count(*) FROM orgpool.chunks WHERE state = 'failed'")
            .await,
        0
    );
}
