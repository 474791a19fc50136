//! Watching a mirror table while the org churns: when each change (a record's new
//! `SystemModstamp`) first shows in the table, and whether any row's stamp ever went
//! backwards (an older change applied over a newer one). A change's latency is the
//! moment it showed minus its `SystemModstamp`, the org's commit time (same clock: the
//! org runs on this machine).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::watch;

use crate::bench::BenchError;

/// What a watch saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// `(sfid, stamp ms)` -> seconds from the stamp until it showed.
    pub changes: HashMap<(String, i64), f64>,
    /// Rows whose stamp went down between two full looks.
    pub backwards: Vec<String>,
}

impl Seen {
    /// Latencies of the changes stamped in `[from, to)`.
    pub fn latencies(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<f64> {
        let (f, t) = (from.timestamp_millis(), to.timestamp_millis());
        self.changes
            .iter()
            .filter(|((_, ms), _)| *ms >= f && *ms < t)
            .map(|(_, l)| *l)
            .collect()
    }
}

/// Watches `table` until `stop` turns true: every 20 ms the rows stamped after the
/// newest seen minus 5 s, every 500 ms every row's stamp.
pub async fn watch(
    pool: PgPool,
    table: &str,
    mut stop: watch::Receiver<bool>,
) -> Result<Seen, BenchError> {
    let mut seen = Seen::default();
    let mut cursor: DateTime<Utc> = Utc::now() - chrono::Duration::minutes(10);
    let mut stamps: HashMap<String, DateTime<Utc>> = HashMap::new();
    let mut last_full = std::time::Instant::now();
    let recent =
        format!("SELECT sfid::text, systemmodstamp FROM {table} WHERE systemmodstamp > $1");
    let full =
        format!("SELECT sfid::text, systemmodstamp FROM {table} WHERE systemmodstamp IS NOT NULL");
    loop {
        let rows: Vec<(String, DateTime<Utc>)> =
            sqlx::query_as(sqlx::AssertSqlSafe(recent.clone()))
                .bind(cursor - chrono::Duration::seconds(5))
                .fetch_all(&pool)
                .await?;
        let now = Utc::now();
        for (sfid, stamp) in rows {
            cursor = cursor.max(stamp);
            let key = (sfid, stamp.timestamp_millis());
            seen.changes
                .entry(key)
                .or_insert_with(|| (now - stamp).num_milliseconds() as f64 / 1000.0);
        }
        if last_full.elapsed() >= Duration::from_millis(500) {
            last_full = std::time::Instant::now();
            let all: Vec<(String, DateTime<Utc>)> =
                sqlx::query_as(sqlx::AssertSqlSafe(full.clone()))
                    .fetch_all(&pool)
                    .await?;
            for (sfid, stamp) in all {
                if let Some(prev) = stamps.insert(sfid.clone(), stamp)
                    && stamp < prev
                {
                    seen.backwards.push(sfid);
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            _ = stop.wait_for(|s| *s) => return Ok(seen),
        }
    }
}
