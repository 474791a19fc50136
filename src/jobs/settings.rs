//! Job settings shared by every kind, read through the settings layer
//! ([`crate::settings`]); every field has a default.

use std::time::Duration;

use crate::settings::{SettingsError, Vars};

/// Job settings.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSettings {
    /// A resync reads up to now minus this (`ORGPOOL_RESYNC_LAG`, default `30s`), so
    /// records still being committed in Salesforce are left for the next poll.
    pub resync_lag: Duration,
    /// A resync starts this far before the watermark (`ORGPOOL_RESYNC_OVERLAP`, default
    /// `2m`), so rows committed late with an older `SystemModstamp` are not missed; the
    /// overlap is re-read and upserted, which changes nothing.
    pub resync_overlap: Duration,
    /// Attempts a chunk gets for errors that are neither outages nor limits nor
    /// permanent (`ORGPOOL_MAX_ATTEMPTS`, default 5, 1 to 100).
    pub max_attempts: i32,
    /// On SIGTERM a running chunk gets this long to finish before it is rolled back and
    /// handed back (`ORGPOOL_SHUTDOWN_GRACE`, default `20s`; Heroku allows 30 s in all).
    pub shutdown_grace: Duration,
    /// Wait before a chunk that hit an outage or the API limit runs again, when
    /// Salesforce gave no `Retry-After` (default 15 s; not an environment setting).
    pub wait_delay: Duration,
    /// Path of the mappings file (`ORGPOOL_MAPPINGS`, default `jobs/mappings.toml`).
    pub mappings_path: String,
    /// Path of the quote rules (`ORGPOOL_QUOTES`, default `jobs/quotes.toml`).
    pub quotes_path: String,
    /// Write-back's chunking and retries (docs/settings.md, "Write-back").
    pub write_back: super::write_back::WriteBackSettings,
    /// Change Data Capture (docs/settings.md, "Change events").
    pub events: super::change_events::EventSettings,
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
            quotes_path: "jobs/quotes.toml".into(),
            write_back: Default::default(),
            events: Default::default(),
        }
    }
}

impl JobSettings {
    /// When a resync that must read a change made by now may start: after the resync
    /// lag, and past the current second, since a resync's window ends at a whole second
    /// (exclusive) and Salesforce stamps changes to the second.
    pub fn resync_covering_now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
            + chrono::Duration::from_std(self.resync_lag).unwrap_or_default()
            + chrono::Duration::seconds(2)
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<JobSettings, SettingsError> {
        JobSettings::from_vars(Vars::from_env())
    }

    /// Reads `vars`; a malformed value or an unknown `ORGPOOL_*` name is an error naming
    /// the variable and the fix.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<JobSettings, SettingsError> {
        let v = Vars::checked(vars)?;
        let d = JobSettings::default();
        Ok(JobSettings {
            resync_lag: v.duration("ORGPOOL_RESYNC_LAG")?.unwrap_or(d.resync_lag),
            resync_overlap: v
                .duration("ORGPOOL_RESYNC_OVERLAP")?
                .unwrap_or(d.resync_overlap),
            max_attempts: v
                .whole("ORGPOOL_MAX_ATTEMPTS", 1..=100)?
                .map_or(d.max_attempts, |n| n as i32),
            shutdown_grace: v
                .duration("ORGPOOL_SHUTDOWN_GRACE")?
                .unwrap_or(d.shutdown_grace),
            wait_delay: d.wait_delay,
            mappings_path: v.text("ORGPOOL_MAPPINGS").unwrap_or(d.mappings_path),
            quotes_path: v.text("ORGPOOL_QUOTES").unwrap_or(d.quotes_path),
            write_back: super::write_back::WriteBackSettings::from_checked(&v)?,
            events: super::change_events::EventSettings::from_checked(&v)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::pairs as vars;

    #[test]
    fn defaults_when_nothing_is_set() {
        assert_eq!(
            JobSettings::from_vars(vars(&[("HOME", "/root")])).unwrap(),
            JobSettings::default()
        );
    }

    #[test]
    fn the_catalogue_defaults_are_the_defaults() {
        let d = crate::settings::Section::Jobs.defaults();
        assert_eq!(d.len(), 6);
        assert_eq!(JobSettings::from_vars(d).unwrap(), JobSettings::default());
    }

    #[test]
    fn values_and_typos() {
        let s = JobSettings::from_vars(vars(&[
            ("ORGPOOL_RESYNC_LAG", "0"),
            ("ORGPOOL_MAX_ATTEMPTS", "9"),
            ("ORGPOOL_QUOTES", "/etc/orgpool/quotes.toml"),
        ]))
        .unwrap();
        assert_eq!((s.resync_lag, s.max_attempts), (Duration::ZERO, 9));
        assert_eq!(s.quotes_path, "/etc/orgpool/quotes.toml");
        let err = JobSettings::from_vars(vars(&[("ORGPOOL_MAX_ATEMPTS", "9")])).unwrap_err();
        assert!(
            err.to_string()
                .contains("did you mean ORGPOOL_MAX_ATTEMPTS?"),
            "{err}"
        );
        let err =
            JobSettings::from_vars(vars(&[("ORGPOOL_SHUTDOWN_GRACE", "20 seconds")])).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("ORGPOOL_SHUTDOWN_GRACE is invalid"),
            "{err}"
        );
    }
}
