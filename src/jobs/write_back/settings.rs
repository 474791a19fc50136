//! Write-back settings, read through the settings layer; every field has a default
//! (docs/settings.md, "Write-back").

use std::time::Duration;

use crate::settings::{SettingsError, Vars};

/// How `write_back` runs are cut into chunks and how refusals are retried.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteBackSettings {
    /// A table's changes in one run go through Bulk ingest from this many records
    /// (`ORGPOOL_WRITE_BACK_BULK_THRESHOLD`, default 2,000), Collections below.
    pub bulk_threshold: usize,
    /// Records per Bulk chunk (`ORGPOOL_WRITE_BACK_BULK_CHUNK`, default 10,000).
    pub bulk_chunk: usize,
    /// Records per Collections chunk (`ORGPOOL_WRITE_BACK_CHUNK`, default 1,000).
    pub collections_chunk: usize,
    /// Log rows one run takes at most (`ORGPOOL_WRITE_BACK_RUN_ROWS`, default 500,000).
    pub run_rows: i64,
    /// Sends a record gets for retryable refusals before it is FAILED
    /// (`ORGPOOL_WRITE_BACK_ATTEMPTS`, default 5).
    pub attempts: i32,
    /// First wait before a refused record is sent again, doubling
    /// (`ORGPOOL_WRITE_BACK_RETRY_BASE`, default 2 s).
    pub retry_base: Duration,
}

impl Default for WriteBackSettings {
    fn default() -> Self {
        WriteBackSettings {
            bulk_threshold: 2_000,
            bulk_chunk: 10_000,
            collections_chunk: 1_000,
            run_rows: 500_000,
            attempts: 5,
            retry_base: Duration::from_secs(2),
        }
    }
}

impl WriteBackSettings {
    /// Reads checked `vars`.
    pub fn from_checked(v: &Vars) -> Result<WriteBackSettings, SettingsError> {
        let d = WriteBackSettings::default();
        Ok(WriteBackSettings {
            bulk_threshold: v
                .whole("ORGPOOL_WRITE_BACK_BULK_THRESHOLD", 1..=10_000_000)?
                .map_or(d.bulk_threshold, |n| n as usize),
            bulk_chunk: v
                .whole("ORGPOOL_WRITE_BACK_BULK_CHUNK", 1_000..=1_000_000)?
                .map_or(d.bulk_chunk, |n| n as usize),
            collections_chunk: v
                .whole("ORGPOOL_WRITE_BACK_CHUNK", 1..=10_000)?
                .map_or(d.collections_chunk, |n| n as usize),
            run_rows: v
                .whole("ORGPOOL_WRITE_BACK_RUN_ROWS", 1_000..=10_000_000)?
                .map_or(d.run_rows, |n| n as i64),
            attempts: v
                .whole("ORGPOOL_WRITE_BACK_ATTEMPTS", 1..=100)?
                .map_or(d.attempts, |n| n as i32),
            retry_base: v
                .duration("ORGPOOL_WRITE_BACK_RETRY_BASE")?
                .unwrap_or(d.retry_base),
        })
    }

    /// The wait before a record refused `attempts` times is sent again.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let doublings = attempts.clamp(1, 16) as u32 - 1;
        (self.retry_base * 2u32.pow(doublings)).min(Duration::from_secs(3600))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_defaults_are_the_defaults() {
        let v = Vars::checked(crate::settings::Section::WriteBack.defaults()).unwrap();
        assert_eq!(
            WriteBackSettings::from_checked(&v).unwrap(),
            WriteBackSettings::default()
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let s = WriteBackSettings::default();
        assert_eq!(s.backoff(1), Duration::from_secs(2));
        assert_eq!(s.backoff(3), Duration::from_secs(8));
        assert_eq!(s.backoff(40), Duration::from_secs(3600));
    }
}
