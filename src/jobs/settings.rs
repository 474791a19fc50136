//! Job settings shared by every kind, from the environment; every field has a default.

use std::time::Duration;

use crate::mirror::parse_duration;

/// Job settings.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// A resync reads up to now minus this (`ORGPOOL_RESYNC_LAG`, default `30s`), so
    /// records still being committed in Salesforce are left for the next poll.
    pub resync_lag: Duration,
    /// A resync starts this far before the watermark (`ORGPOOL_RESYNC_OVERLAP`, default
    /// `2m`), so rows committed late with an older `SystemModstamp` are not missed; the
    /// overlap is re-read and upserted, which changes nothing.
    pub resync_overlap: Duration,
    /// Attempts a chunk gets for errors that are neither outages nor limits nor
    /// permanent (`ORGPOOL_MAX_ATTEMPTS`, default 5).
    pub max_attempts: i32,
    /// On SIGTERM a running chunk gets this long to finish before it is rolled back and
    /// handed back (`ORGPOOL_SHUTDOWN_GRACE`, default `20s`; Heroku allows 30 s in all).
    pub shutdown_grace: Duration,
    /// Wait before a chunk that hit an outage or the API limit runs again, when
    /// Salesforce gave no `Retry-After` (default 15 s).
    pub wait_delay: Duration,
    /// Path of the mappings file (`ORGPOOL_MAPPINGS`, default `jobs/mappings.toml`).
    pub mappings_path: String,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            resync_lag: Duration::from_secs(30),
            resync_overlap: Duration::from_secs(120),
            max_attempts: 5,
            shutdown_grace: Duration::from_secs(20),
            wait_delay: Duration::from_secs(15),
            mappings_path: "jobs/mappings.toml".into(),
        }
    }
}

impl JobSettings {
    /// Reads the environment; a malformed value is an error naming the variable and fix.
    pub fn from_env() -> Result<JobSettings, String> {
        let mut s = JobSettings::default();
        let dur = |var: &str, into: &mut Duration| -> Result<(), String> {
            if let Ok(v) = std::env::var(var)
                && !v.trim().is_empty()
            {
                *into = if v.trim() == "0" {
                    Duration::ZERO
                } else {
                    parse_duration(&v).ok_or_else(|| {
                        format!("{var}={v:?} is not a duration; use one such as \"30s\" or \"2m\"")
                    })?
                };
            }
            Ok(())
        };
        dur("ORGPOOL_RESYNC_LAG", &mut s.resync_lag)?;
        dur("ORGPOOL_RESYNC_OVERLAP", &mut s.resync_overlap)?;
        dur("ORGPOOL_SHUTDOWN_GRACE", &mut s.shutdown_grace)?;
        if let Ok(v) = std::env::var("ORGPOOL_MAX_ATTEMPTS")
            && !v.trim().is_empty()
        {
            s.max_attempts = v
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| {
                    format!("ORGPOOL_MAX_ATTEMPTS={v:?} must be a whole number from 1 to 100")
                })?;
        }
        if let Ok(v) = std::env::var("ORGPOOL_MAPPINGS")
            && !v.trim().is_empty()
        {
            s.mappings_path = v;
        }
        Ok(s)
    }
}
