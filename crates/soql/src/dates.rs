//! The text form of SOQL date values, both ways: `YYYY-MM-DD` dates, ISO datetimes
//! with a zone (normalised to UTC), and the names of relative date literals.

use std::fmt::{self, Formatter};

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc,
};

/// Relative date literals that stand alone (`TODAY`).
pub(crate) const DATE_LITERALS: [&str; 17] = [
    "TODAY",
    "YESTERDAY",
    "TOMORROW",
    "LAST_WEEK",
    "THIS_WEEK",
    "NEXT_WEEK",
    "LAST_MONTH",
    "THIS_MONTH",
    "NEXT_MONTH",
    "LAST_90_DAYS",
    "NEXT_90_DAYS",
    "THIS_QUARTER",
    "LAST_QUARTER",
    "NEXT_QUARTER",
    "THIS_YEAR",
    "LAST_YEAR",
    "NEXT_YEAR",
];

/// Relative date literals that take a `:n` argument (`LAST_N_DAYS:30`).
pub(crate) const DATE_LITERALS_N: [&str; 11] = [
    "LAST_N_DAYS",
    "NEXT_N_DAYS",
    "LAST_N_WEEKS",
    "NEXT_N_WEEKS",
    "LAST_N_MONTHS",
    "NEXT_N_MONTHS",
    "LAST_N_QUARTERS",
    "NEXT_N_QUARTERS",
    "LAST_N_YEARS",
    "NEXT_N_YEARS",
    "N_DAYS_AGO",
];

/// Parses fixed-width ASCII digits; `None` on anything else.
fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `YYYY-MM-DD`, checked against the calendar.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    if !s.is_ascii() || s.len() != 10 || s.as_bytes()[4] != b'-' || s.as_bytes()[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(s.get(0..4)?)?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(s.get(5..7)?)?, digits(s.get(8..10)?)?)
}

/// `YYYY-MM-DDThh:mm:ss[.f{1,9}](Z|±hh:mm|±hhmm)`, normalised to UTC. The UTC value
/// must stay within years 0000-9999 so that it prints back in the same shape.
pub(crate) fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if !s.is_ascii() {
        return None; // the byte slicing below relies on it
    }
    let date = parse_date(s.get(..10)?)?;
    let rest = s.get(10..)?.strip_prefix('T')?;
    let clock = rest.get(..8)?;
    let b = clock.as_bytes();
    if b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, sec) = (
        digits(&clock[0..2])?,
        digits(&clock[3..5])?,
        digits(&clock[6..8])?,
    );
    let mut rest = &rest[8..];
    let mut nanos = 0;
    if let Some(frac_and_zone) = rest.strip_prefix('.') {
        let n = frac_and_zone.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=9).contains(&n) {
            return None;
        }
        let frac = &frac_and_zone[..n];
        nanos = digits(frac)? * 10u32.pow(9 - u32::try_from(n).ok()?);
        rest = &frac_and_zone[n..];
    }
    let offset_secs = match rest {
        "Z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let zone = &rest[1..];
            let (zh, zm) = match zone.len() {
                5 if zone.as_bytes()[2] == b':' => (zone.get(0..2)?, zone.get(3..5)?),
                4 => (zone.get(0..2)?, zone.get(2..4)?),
                _ => return None,
            };
            let (zh, zm) = (digits(zh)?, digits(zm)?);
            if zh > 23 || zm > 59 {
                return None;
            }
            sign * i32::try_from(zh * 3600 + zm * 60).ok()?
        }
    };
    let time = NaiveTime::from_hms_nano_opt(h, m, sec, nanos)?;
    let local = NaiveDateTime::new(date, time);
    let utc = FixedOffset::east_opt(offset_secs)?
        .from_local_datetime(&local)
        .single()?
        .with_timezone(&Utc);
    (0..=9999).contains(&utc.year()).then_some(utc)
}

/// Writes `YYYY-MM-DD`.
pub(crate) fn write_date(f: &mut Formatter<'_>, d: &NaiveDate) -> fmt::Result {
    write!(f, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// Writes `YYYY-MM-DDThh:mm:ss.sssZ`: milliseconds as Salesforce prints them, all nine
/// digits when the value is finer, so that parsing the text gives the value back.
pub(crate) fn write_datetime(f: &mut Formatter<'_>, dt: &DateTime<Utc>) -> fmt::Result {
    write_date(f, &dt.date_naive())?;
    write!(f, "T{:02}:{:02}:{:02}", dt.hour(), dt.minute(), dt.second())?;
    let nanos = dt.nanosecond();
    if nanos.is_multiple_of(1_000_000) {
        write!(f, ".{:03}Z", nanos / 1_000_000)
    } else {
        write!(f, ".{nanos:09}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_normalise_to_utc() {
        let parsed = |s: &str| parse_datetime(s).map(|dt| dt.to_rfc3339());
        assert_eq!(
            parsed("2024-05-20T20:49:32Z").as_deref(),
            Some("2024-05-20T20:49:32+00:00")
        );
        assert_eq!(
            parsed("2024-05-20T20:49:32.5+02:00").as_deref(),
            Some("2024-05-20T18:49:32.500+00:00")
        );
        assert_eq!(
            parsed("2024-05-20T20:49:32-0800").as_deref(),
            Some("2024-05-21T04:49:32+00:00")
        );
        for bad in [
            "2024-05-20T20:49Z",
            "2024-05-20T20:49:60Z",
            "2024-05-20T24:00:00Z",
            "2024-05-20T20:49:32",
            "2024-05-20T20:49:32.Z",
            "2024-05-20T20:49:32+2:00",
            "9999-12-31T23:00:00-02:00",
        ] {
            assert_eq!(parsed(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_check_the_calendar() {
        assert_eq!(
            parse_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-1-010",
            "2024-01-0é",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn printed_datetimes_parse_back() {
        struct Shown(DateTime<Utc>);
        impl fmt::Display for Shown {
            fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
                write_datetime(f, &self.0)
            }
        }
        for text in [
            "2024-05-20T20:49:32.000Z",
            "0001-01-01T00:00:00.123Z",
            "2024-05-20T20:49:32.000000001Z",
        ] {
            let dt = parse_datetime(text);
            assert_eq!(dt.map(|dt| Shown(dt).to_string()).as_deref(), Some(text));
        }
    }
}
