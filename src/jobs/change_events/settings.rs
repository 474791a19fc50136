//! Change Data Capture settings, read through the settings layer; every field has a
//! default (docs/settings.md, "Change events").

use std::time::Duration;

use crate::settings::{SettingsError, Vars};

/// Where the subscriber connects, how much it asks for, and how runs are cut.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSettings {
    /// The Pub/Sub API endpoint (`SALESFORCE_PUBSUB_URL`, default Salesforce's global
    /// endpoint on port 7443).
    pub pubsub_url: String,
    /// Events asked for at a time per subscription (`ORGPOOL_EVENTS_CREDIT`, default
    /// 100, Salesforce's most; 1 to 100). More are asked for once these are stored.
    pub credit: i32,
    /// Events one `change_events` run applies at most (`ORGPOOL_EVENTS_RUN_EVENTS`,
    /// default 5,000; 1 to 1,000,000); the rest wait for the next run.
    pub run_events: i64,
    /// First wait before subscribing again after a failure (`ORGPOOL_EVENTS_RETRY`,
    /// default 2 s), doubling to 5 minutes while it keeps failing.
    pub retry: Duration,
}

/// Salesforce's Pub/Sub API endpoint.
pub const DEFAULT_PUBSUB_URL: &str = "https://api.pubsub.salesforce.com:7443";

impl Default for EventSettings {
    fn default() -> Self {
        EventSettings {
            pubsub_url: DEFAULT_PUBSUB_URL.into(),
            credit: 100,
            run_events: 5_000,
            retry: Duration::from_secs(2),
        }
    }
}

impl EventSettings {
    /// Reads checked `vars`.
    pub fn from_checked(v: &Vars) -> Result<EventSettings, SettingsError> {
        let d = EventSettings::default();
        Ok(EventSettings {
            pubsub_url: v.text("SALESFORCE_PUBSUB_URL").unwrap_or(d.pubsub_url),
            credit: v
                .whole("ORGPOOL_EVENTS_CREDIT", 1..=100)?
                .map_or(d.credit, |n| n as i32),
            run_events: v
                .whole("ORGPOOL_EVENTS_RUN_EVENTS", 1..=1_000_000)?
                .map_or(d.run_events, |n| n as i64),
            retry: v.duration("ORGPOOL_EVENTS_RETRY")?.unwrap_or(d.retry),
        })
    }

    /// The wait before subscribing again after `failures` failures in a row.
    pub fn backoff(&self, failures: u32) -> Duration {
        let doublings = failures.clamp(1, 16) - 1;
        (self.retry * 2u32.pow(doublings)).min(Duration::from_secs(300))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_defaults_are_the_defaults() {
        let v = Vars::checked(crate::settings::Section::Events.defaults()).unwrap();
        assert_eq!(
            EventSettings::from_checked(&v).unwrap(),
            EventSettings::default()
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let s = EventSettings::default();
        assert_eq!(s.backoff(1), Duration::from_secs(2));
        assert_eq!(s.backoff(3), Duration::from_secs(8));
        assert_eq!(s.backoff(40), Duration::from_secs(300));
    }

    #[test]
    fn credit_past_salesforces_most_is_refused_naming_the_variable() {
        let v = Vars::checked([("ORGPOOL_EVENTS_CREDIT".to_string(), "500".to_string())]).unwrap();
        let err = EventSettings::from_checked(&v).unwrap_err().to_string();
        assert!(err.contains("ORGPOOL_EVENTS_CREDIT"), "{err}");
    }
}
