//! Relative date literals (`TODAY`, `LAST_N_DAYS:30` ...) resolved to a half-open range
//! of UTC days at evaluation time.

use chrono::{Datelike, Duration, NaiveDate, Utc};

/// `[start, end)` in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    /// First day included.
    pub start: NaiveDate,
    /// First day after the range.
    pub end: NaiveDate,
}

/// The range a literal names today, or `None` for an unknown literal.
pub fn resolve(name: &str, n: Option<i64>) -> Option<DateRange> {
    resolve_at(name, n, Utc::now().date_naive())
}

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn add_months(d: NaiveDate, months: i64) -> NaiveDate {
    let total = i64::from(d.year()) * 12 + i64::from(d.month0()) + months;
    let (y, m) = (total.div_euclid(12), total.rem_euclid(12));
    NaiveDate::from_ymd_opt(y as i32, m as u32 + 1, 1).unwrap_or(d)
}

fn quarter_start(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), d.month0() / 3 * 3 + 1, 1).unwrap_or(d)
}

fn year_start(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), 1, 1).unwrap_or(d)
}

fn week_start(d: NaiveDate) -> NaiveDate {
    // Weeks start on Sunday in the default locale.
    d - Duration::days(i64::from(d.weekday().num_days_from_sunday()))
}

/// The range relative to `today`.
pub fn resolve_at(name: &str, n: Option<i64>, today: NaiveDate) -> Option<DateRange> {
    let day = |s: NaiveDate, e: NaiveDate| Some(DateRange { start: s, end: e });
    let d = Duration::days;
    let n = n.unwrap_or(0);
    match name {
        "TODAY" => day(today, today + d(1)),
        "YESTERDAY" => day(today - d(1), today),
        "TOMORROW" => day(today + d(1), today + d(2)),
        "LAST_WEEK" => day(week_start(today) - d(7), week_start(today)),
        "THIS_WEEK" => day(week_start(today), week_start(today) + d(7)),
        "NEXT_WEEK" => day(week_start(today) + d(7), week_start(today) + d(14)),
        "LAST_MONTH" => day(add_months(month_start(today), -1), month_start(today)),
        "THIS_MONTH" => day(month_start(today), add_months(month_start(today), 1)),
        "NEXT_MONTH" => day(
            add_months(month_start(today), 1),
            add_months(month_start(today), 2),
        ),
        "LAST_90_DAYS" => day(today - d(90), today + d(1)),
        "NEXT_90_DAYS" => day(today + d(1), today + d(91)),
        "THIS_QUARTER" => day(quarter_start(today), add_months(quarter_start(today), 3)),
        "LAST_QUARTER" => day(add_months(quarter_start(today), -3), quarter_start(today)),
        "NEXT_QUARTER" => day(
            add_months(quarter_start(today), 3),
            add_months(quarter_start(today), 6),
        ),
        "THIS_YEAR" => day(year_start(today), add_months(year_start(today), 12)),
        "LAST_YEAR" => day(add_months(year_start(today), -12), year_start(today)),
        "NEXT_YEAR" => day(
            add_months(year_start(today), 12),
            add_months(year_start(today), 24),
        ),
        "LAST_N_DAYS" => day(today - d(n), today + d(1)),
        "NEXT_N_DAYS" => day(today + d(1), today + d(n + 1)),
        "N_DAYS_AGO" => day(today - d(n), today - d(n - 1)),
        "LAST_N_WEEKS" => day(week_start(today) - d(7 * n), week_start(today)),
        "NEXT_N_WEEKS" => day(week_start(today) + d(7), week_start(today) + d(7 * (n + 1))),
        "LAST_N_MONTHS" => day(add_months(month_start(today), -n), month_start(today)),
        "NEXT_N_MONTHS" => day(
            add_months(month_start(today), 1),
            add_months(month_start(today), n + 1),
        ),
        "LAST_N_QUARTERS" => day(
            add_months(quarter_start(today), -3 * n),
            quarter_start(today),
        ),
        "NEXT_N_QUARTERS" => day(
            add_months(quarter_start(today), 3),
            add_months(quarter_start(today), 3 * (n + 1)),
        ),
        "LAST_N_YEARS" => day(add_months(year_start(today), -12 * n), year_start(today)),
        "NEXT_N_YEARS" => day(
            add_months(year_start(today), 12),
            add_months(year_start(today), 12 * (n + 1)),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let r = resolve_at("THIS_MONTH", None, today).unwrap();
        assert_eq!(
            (r.start.to_string(), r.end.to_string()),
            ("2026-11-01".into(), "2026-12-01".into())
        );
        let r = resolve_at("LAST_N_DAYS", Some(30), today).unwrap();
        assert_eq!(r.start.to_string(), "2026-10-24");
        let r = resolve_at("NEXT_QUARTER", None, today).unwrap();
        assert_eq!(
            (r.start.to_string(), r.end.to_string()),
            ("2027-01-01".into(), "2027-04-01".into())
        );
        assert!(resolve_at("LAST_FORTNIGHT", None, today).is_none());
    }
}
