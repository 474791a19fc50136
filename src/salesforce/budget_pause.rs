//! Whether the fleet is paused by its API budget, and until when: the same test the
//! reservation script makes (the fleet's window against its ceiling, then the org's
//! reported usage against the share), read without reserving, plus the moment the
//! rolling window frees enough calls for one more. Shown by `orgpool status`, the
//! status page and `enqueue --wait`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The budget is spent; work waits (no attempt spent) and re-checks on a bounded period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetPause {
    /// `fleet` (the fleet's own window is at its ceiling) or `org` (the org's reported
    /// usage is at this deployment's share).
    pub reason: &'static str,
    /// Requests counted against the ceiling (the fleet's, or the org's reported usage).
    pub used: u64,
    /// The ceiling.
    pub allowed: u64,
    /// When the rolling window frees enough calls for one more; `None` when our own
    /// calls leaving cannot bring the org's usage under the share (other apps' use).
    pub until: Option<DateTime<Utc>>,
    /// Seconds between re-checks of the org's `/limits` while paused.
    pub recheck_secs: u64,
}

impl BudgetPause {
    /// `paused by the API budget until ~HH:MM UTC (...)`, for people.
    pub fn describe(&self, now: DateTime<Utc>) -> String {
        let until = match self.until {
            Some(t) => format!(" until ~{}", approx_time(t, now)),
            None => String::new(),
        };
        let why = match self.reason {
            "org" => format!(
                "the org reports {} requests used; this deployment's share is {}",
                self.used, self.allowed
            ),
            _ => format!(
                "the fleet made {} of its {} allowed requests in the window",
                self.used, self.allowed
            ),
        };
        format!(
            "paused by the API budget{until} ({why}; re-checked every {} s, and at once after `orgpool budget clear`)",
            self.recheck_secs
        )
    }
}

/// `HH:MM UTC` when `t` is within a day of `now`, else with the date.
fn approx_time(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if t.date_naive() == now.date_naive() || t - now < chrono::Duration::hours(12) {
        t.format("%H:%M UTC").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M UTC").to_string()
    }
}

/// The window's live buckets (index → count) and the figures the pause test needs.
#[derive(Debug, Clone, Default)]
pub struct WindowView {
    /// Live buckets by index (expired ones already left out).
    pub buckets: BTreeMap<i64, u64>,
    /// Milliseconds per bucket.
    pub bucket_ms: i64,
    /// Buckets per window.
    pub per_window: i64,
}

impl WindowView {
    /// Requests counted in the window.
    pub fn total(&self) -> u64 {
        self.buckets.values().sum()
    }

    /// When enough of our counted calls have left the window for `used` to come under
    /// `allowed` by one (unix ms); `None` when our calls leaving are not enough.
    pub fn frees_at(&self, used: u64, allowed: u64) -> Option<i64> {
        let need = (used + 1).saturating_sub(allowed);
        if need == 0 {
            return None;
        }
        let mut gone = 0;
        for (b, n) in &self.buckets {
            gone += n;
            if gone >= need {
                // Bucket b is evicted once now_b - per_window + 1 > b.
                return Some((b + self.per_window) * self.bucket_ms);
            }
        }
        None
    }

    /// The pause, if reserving one request now would be refused: `allowed` is the
    /// fleet's ceiling (cap and share), `org` the org's (used, share of its limit).
    pub fn pause(
        &self,
        allowed: Option<u64>,
        org: Option<(u64, u64)>,
        recheck_secs: u64,
    ) -> Option<BudgetPause> {
        let at = |ms: Option<i64>| ms.and_then(DateTime::<Utc>::from_timestamp_millis);
        let total = self.total();
        if let Some(a) = allowed
            && total + 1 > a
        {
            return Some(BudgetPause {
                reason: "fleet",
                used: total,
                allowed: a,
                until: at(self.frees_at(total, a)),
                recheck_secs,
            });
        }
        let (used, share) = org?;
        (used + 1 > share).then(|| BudgetPause {
            reason: "org",
            used,
            allowed: share,
            until: at(self.frees_at(used, share)),
            recheck_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A day of one-minute buckets.
    fn view(buckets: &[(i64, u64)]) -> WindowView {
        WindowView {
            buckets: buckets.iter().copied().collect(),
            bucket_ms: 60_000,
            per_window: 1_440,
        }
    }

    #[test]
    fn the_pause_lasts_until_enough_calls_leave_the_window() {
        // 30 calls at minute 100, 30 at minute 200; 48 allowed: 60 + 1 - 48 = 13 must
        // leave, so the first bucket's exit (minute 100 + 1,440) ends the pause.
        let v = view(&[(100, 30), (200, 30)]);
        assert_eq!(v.frees_at(60, 48), Some((100 + 1_440) * 60_000));
        // 40 must leave: the second bucket too.
        assert_eq!(v.frees_at(60, 21), Some((200 + 1_440) * 60_000));
        // Under the ceiling: nothing to wait for.
        assert_eq!(v.frees_at(10, 48), None);
        let p = v.pause(Some(48), Some((61, 80)), 60).unwrap();
        assert_eq!((p.reason, p.used, p.allowed), ("fleet", 60, 48));
        assert_eq!(
            p.until,
            DateTime::from_timestamp_millis((100 + 1_440) * 60_000)
        );
    }

    #[test]
    fn the_org_reason_has_a_time_only_when_our_calls_can_free_it() {
        let v = view(&[(100, 5)]);
        // The org reports 216 used against a share of 48, and only 5 of them are ours.
        let p = v.pause(Some(48), Some((216, 48)), 60).unwrap();
        assert_eq!((p.reason, p.until), ("org", None));
        // 50 used of 48: three of our five leaving frees one.
        let p = v.pause(Some(48), Some((50, 48)), 60).unwrap();
        assert!(p.until.is_some());
        assert!(v.pause(Some(48), Some((1, 48)), 60).is_none());
        assert!(v.pause(None, None, 60).is_none());
    }

    #[test]
    fn describes_the_pause_with_an_approximate_time() {
        let now = Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0).unwrap();
        let p = BudgetPause {
            reason: "fleet",
            used: 60,
            allowed: 48,
            until: Some(Utc.with_ymd_and_hms(2025, 3, 1, 14, 5, 30).unwrap()),
            recheck_secs: 60,
        };
        let text = p.describe(now);
        assert!(
            text.starts_with(
                "paused by the API budget until ~14:05 UTC (the fleet made 60 of its 48"
            ),
            "{text}"
        );
        let later = BudgetPause {
            until: Some(Utc.with_ymd_and_hms(2025, 3, 2, 23, 0, 0).unwrap()),
            ..p.clone()
        };
        assert!(later.describe(now).contains("~2025-03-02 23:00 UTC"));
        let org = BudgetPause {
            reason: "org",
            until: None,
            ..p
        };
        assert!(
            org.describe(now)
                .starts_with("paused by the API budget (the org reports 60 requests used")
        );
    }
}
