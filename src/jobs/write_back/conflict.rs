//! The conflict rule: last writer wins, as in Heroku Connect, decided per record from
//! times. Before an update is sent, Salesforce's `SystemModstamp` for the record is
//! read. If it is no later than what the app's copy knew (the row's `systemmodstamp` at
//! capture, or our own last write-back of the record), nobody else changed it: send. If
//! it is later, someone changed the record in Salesforce meanwhile, and the later of the
//! two writes wins: Salesforce's (the app's change is dropped, its log row `IGNORED`,
//! and the next resync brings Salesforce's values into the row) or the app's (sent). A
//! record whose fields already hold the app's values (a retry after a lost answer) is
//! done without sending. Pure: unit-tested here; docs/write-back.md says what users see.

use chrono::{DateTime, NaiveDateTime, Utc};

/// What to do with an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Send it.
    Send,
    /// Salesforce already holds these values.
    AlreadyApplied,
    /// Salesforce changed the record after the app did: drop the app's change.
    SalesforceWins,
    /// Salesforce changed the record, but before the app did: send (the app wins).
    AppWins,
}

/// The rule. `known`: the latest `SystemModstamp` the app's copy could have seen;
/// `theirs`: Salesforce's now; `app_write`: when the app committed its change.
pub fn decide(
    known: Option<DateTime<Utc>>,
    theirs: DateTime<Utc>,
    app_write: DateTime<Utc>,
    already: bool,
) -> Verdict {
    if already {
        return Verdict::AlreadyApplied;
    }
    match known {
        None => Verdict::Send,
        Some(k) if theirs <= k => Verdict::Send,
        Some(_) if theirs > app_write => Verdict::SalesforceWins,
        Some(_) => Verdict::AppWins,
    }
}

/// A time as Salesforce (`2026-01-02T03:04:05.000+0000`) or Postgres' JSON
/// (`2026-01-02T03:04:05.123+00:00`, or without a zone for `timestamp`: UTC) writes it.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        parse_time(s).unwrap()
    }

    #[test]
    fn the_later_writer_wins() {
        let known = Some(t("2026-01-01T10:00:00Z"));
        let app = t("2026-01-01T10:05:00Z");
        // Nobody else touched it.
        assert_eq!(
            decide(known, t("2026-01-01T10:00:00Z"), app, false),
            Verdict::Send
        );
        // Salesforce changed it after the app did.
        assert_eq!(
            decide(known, t("2026-01-01T10:06:00Z"), app, false),
            Verdict::SalesforceWins
        );
        // Salesforce changed it, then the app did.
        assert_eq!(
            decide(known, t("2026-01-01T10:02:00Z"), app, false),
            Verdict::AppWins
        );
        // A retry of a change that went through.
        assert_eq!(
            decide(known, t("2026-01-01T10:06:00Z"), app, true),
            Verdict::AlreadyApplied
        );
        // A record orgpool created: no stamp at capture.
        assert_eq!(
            decide(None, t("2026-01-01T10:04:00Z"), app, false),
            Verdict::Send
        );
    }

    #[test]
    fn reads_both_spellings_of_a_time() {
        assert_eq!(
            t("2026-01-02T03:04:05.000+0000"),
            t("2026-01-02T03:04:05+00:00")
        );
        assert_eq!(t("2026-01-02T03:04:05.5"), t("2026-01-02T03:04:05.500Z"));
        assert!(parse_time("yesterday").is_none());
    }
}
