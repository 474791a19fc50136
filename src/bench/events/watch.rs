//! Watching a mirror table while the benchmark changes the org: each change sets an
//! Opportunity's `Description` to `bench-<n>` (n increasing), so a change is known
//! when its token shows in the row, and a row whose token goes down was moved
//! backwards (an older change applied over a newer one). Salesforce keeps times to the
//! second, so tokens, not stamps, tell changes apart.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::watch;

use crate::bench::BenchError;

/// What a watch saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Change number -> when it first showed.
    pub changes: HashMap<u64, Instant>,
    /// Rows whose token went down between two looks.
    pub backwards: Vec<String>,
}

/// The change number of a `bench-<n>` token.
pub fn token(description: &str) -> Option<u64> {
    description.strip_prefix("bench-")?.parse().ok()
}

/// Watches `table` every 10 ms until `stop` turns true: the rows stamped since the
/// newest stamp seen minus 2 s.
pub async fn watch(
    pool: PgPool,
    table: &str,
    mut stop: watch::Receiver<bool>,
) -> Result<Seen, BenchError> {
    let mut seen = Seen::default();
    let mut cursor: DateTime<Utc> = Utc::now() - chrono::Duration::minutes(10);
    let mut newest: HashMap<String, u64> = HashMap::new();
    let sql = format!(
        "SELECT sfid::text, description::text, systemmodstamp FROM {table}
         WHERE systemmodstamp >= $1 AND description LIKE 'bench-%'"
    );
    loop {
        let rows: Vec<(String, String, DateTime<Utc>)> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(cursor - chrono::Duration::seconds(2))
                .fetch_all(&pool)
                .await?;
        let now = Instant::now();
        for (sfid, description, stamp) in rows {
            cursor = cursor.max(stamp);
            let Some(n) = token(&description) else {
                continue;
            };
            seen.changes.entry(n).or_insert(now);
            match newest.get(&sfid) {
                Some(&prev) if n < prev => seen.backwards.push(sfid),
                Some(&prev) if n == prev => {}
                _ => {
                    newest.insert(sfid, n);
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(10)) => {}
            _ = stop.wait_for(|s| *s) => return Ok(seen),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_parse() {
        assert_eq!(super::token("bench-42"), Some(42));
        assert_eq!(super::token("churn update 3"), None);
    }
}
