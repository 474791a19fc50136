//! Queue settings, read through the settings layer ([`crate::settings`]); every field
//! has a default.

use std::time::Duration;

use crate::settings::{SettingsError, Vars};

/// Queue settings.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueConfig {
    /// Prefix of every Redis key (`ORGPOOL_REDIS_PREFIX`, default `orgpool`); tests and
    /// several deployments sharing one Redis use different prefixes.
    pub prefix: String,
    /// Chunks one worker process runs at once per job kind (`WORKER_CONCURRENCY`,
    /// default 2, 1 to 64: a chunk keeps about one core busy between Bulk paging and COPY).
    pub concurrency: usize,
    /// How often an idle worker asks Redis for work (`ORGPOOL_POLL_MS`, default 100 ms,
    /// 10 to 60,000; apalis would otherwise wait a whole heartbeat). Each poll is three
    /// cheap Redis commands per queue, so even 50 workers add only a few thousand a
    /// second, while every hop of a run (plan, then its work chunks) waits half a poll on
    /// average.
    pub poll_interval: Duration,
    /// Worker heartbeat to Redis (default 10 s; not an environment setting).
    pub heartbeat: Duration,
    /// Missed heartbeats before a worker's tasks go back on the queue (default 3, so a
    /// killed worker's chunks are picked up again within about 40 s; not an environment
    /// setting).
    pub missed_heartbeats: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            prefix: "orgpool".into(),
            concurrency: 2,
            poll_interval: Duration::from_millis(100),
            heartbeat: Duration::from_secs(10),
            missed_heartbeats: 3,
        }
    }
}

impl QueueConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<QueueConfig, SettingsError> {
        QueueConfig::from_vars(Vars::from_env())
    }

    /// Reads `vars`; a malformed value or an unknown `ORGPOOL_*` name is an error naming
    /// the variable and the fix.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<QueueConfig, SettingsError> {
        let v = Vars::checked(vars)?;
        let d = QueueConfig::default();
        Ok(QueueConfig {
            prefix: v.text("ORGPOOL_REDIS_PREFIX").unwrap_or(d.prefix),
            concurrency: v
                .whole("WORKER_CONCURRENCY", 1..=64)?
                .map_or(d.concurrency, |n| n as usize),
            poll_interval: v
                .whole("ORGPOOL_POLL_MS", 10..=60_000)?
                .map_or(d.poll_interval, Duration::from_millis),
            ..d
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::pairs as vars;

    #[test]
    fn defaults_and_catalogue_agree() {
        assert_eq!(
            QueueConfig::from_vars(vars(&[])).unwrap(),
            QueueConfig::default()
        );
        let d = crate::settings::Section::Queue.defaults();
        assert_eq!(QueueConfig::from_vars(d).unwrap(), QueueConfig::default());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let c = QueueConfig::from_vars(vars(&[("WORKER_CONCURRENCY", "8")])).unwrap();
        assert_eq!(c.concurrency, 8);
        for (k, v) in [("WORKER_CONCURRENCY", "0"), ("ORGPOOL_POLL_MS", "fast")] {
            let err = QueueConfig::from_vars(vars(&[(k, v)])).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("{k} is invalid: {v:?}")),
                "{err}"
            );
        }
        let err = QueueConfig::from_vars(vars(&[("ORGPOOL_REDIS_PREFX", "x")])).unwrap_err();
        assert!(
            err.to_string()
                .contains("did you mean ORGPOOL_REDIS_PREFIX?"),
            "{err}"
        );
    }
}
