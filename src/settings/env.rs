//! Reading typed values from a list of `(name, value)` pairs: the process environment,
//! or a test's own list, so no test has to change the process environment. Empty values
//! count as unset; every error names the variable, shows the bad value (unless the
//! setting is secret) and says what would be accepted.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::time::Duration;

use super::error::SettingsError;
use super::names::check_names;

/// Environment variables, read by name.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    map: BTreeMap<String, String>,
}

impl Vars {
    /// The given pairs, unchecked.
    pub fn new(vars: impl IntoIterator<Item = (String, String)>) -> Vars {
        Vars {
            map: vars.into_iter().collect(),
        }
    }

    /// The given pairs, refusing an unknown `ORGPOOL_*` or `SALESFORCE_*` name.
    pub fn checked(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Vars, SettingsError> {
        let vars = Vars::new(vars);
        check_names(vars.map.keys().map(String::as_str))?;
        Ok(vars)
    }

    /// The process environment. Names that are not UTF-8 cannot be settings and are
    /// skipped (`std::env::vars` would panic on them).
    pub fn from_env() -> Vars {
        Vars::new(
            std::env::vars_os().filter_map(|(k, v)| {
                Some((k.into_string().ok()?, v.to_string_lossy().into_owned()))
            }),
        )
    }

    /// The trimmed value of `name`; `None` when unset or empty.
    pub fn text(&self, name: &str) -> Option<String> {
        debug_assert!(
            super::find(name).is_some(),
            "{name} is read but not in the settings catalogue"
        );
        self.map
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// A duration such as `30s`, `2m` or `1h30m`; `0` is none at all.
    pub fn duration(&self, name: &str) -> Result<Option<Duration>, SettingsError> {
        self.parse(
            name,
            "a duration; use one such as \"30s\", \"2m\" or \"1h30m\" (0 for none)",
            |v| {
                if v == "0" {
                    Some(Duration::ZERO)
                } else {
                    crate::mirror::parse_duration(v)
                }
            },
        )
    }

    /// A number of seconds, fractions allowed (`30`, `0.5`).
    pub fn seconds(&self, name: &str) -> Result<Option<Duration>, SettingsError> {
        self.parse(name, "a number of seconds such as 30 or 0.5", |v| {
            v.parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64)
        })
    }

    /// A whole number within `range`; `_` may group digits (`50_000`).
    pub fn whole(
        &self,
        name: &str,
        range: RangeInclusive<u64>,
    ) -> Result<Option<u64>, SettingsError> {
        let expected = if *range.end() == u64::MAX {
            format!("a whole number of at least {}", range.start())
        } else {
            format!("a whole number from {} to {}", range.start(), range.end())
        };
        self.parse(name, &expected, |v| {
            v.replace('_', "")
                .parse::<u64>()
                .ok()
                .filter(|n| range.contains(n))
        })
    }

    /// `true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    pub fn flag(&self, name: &str) -> Result<Option<bool>, SettingsError> {
        self.parse(name, "true or false", |v| {
            match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Some(true),
                "false" | "0" | "no" | "off" => Some(false),
                _ => None,
            }
        })
    }

    /// Any value `T` parses, described as `expected` in the error.
    pub fn parsed<T: FromStr>(
        &self,
        name: &str,
        expected: &str,
    ) -> Result<Option<T>, SettingsError> {
        self.parse(name, expected, |v| v.parse().ok())
    }

    /// The value of `name` through `parse`; `None` from it is an error saying the value
    /// is not `expected`.
    pub fn parse<T>(
        &self,
        name: &str,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, SettingsError> {
        let Some(value) = self.text(name) else {
            return Ok(None);
        };
        match parse(&value) {
            Some(v) => Ok(Some(v)),
            None => Err(self.refuse(name, &value, expected)),
        }
    }

    /// "`name` is invalid: `value` is not `expected`", without the value of a secret.
    pub fn refuse(&self, name: &str, value: &str, expected: &str) -> SettingsError {
        let secret = super::find(name).is_none_or(|s| s.secret);
        let shown = if secret {
            "its value".to_string()
        } else {
            format!("{value:?}")
        };
        SettingsError::invalid(name, format!("{shown} is not {expected}"))
    }
}

impl IntoIterator for Vars {
    type Item = (String, String);
    type IntoIter = std::collections::btree_map::IntoIter<String, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.map.into_iter()
    }
}

/// `(name, value)` pairs from string slices, for the tests of every reader.
#[cfg(test)]
pub(crate) fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> Vars {
        Vars::new(pairs(list))
    }

    #[test]
    fn unset_and_empty_read_as_none() {
        let v = vars(&[("ORGPOOL_RESYNC_LAG", "  ")]);
        assert_eq!(v.duration("ORGPOOL_RESYNC_LAG").unwrap(), None);
        assert_eq!(v.duration("ORGPOOL_SHUTDOWN_GRACE").unwrap(), None);
    }

    #[test]
    fn typed_values_parse() {
        let v = vars(&[
            ("ORGPOOL_RESYNC_LAG", "1h30m"),
            ("ORGPOOL_RESYNC_OVERLAP", "0"),
            ("SALESFORCE_READ_TIMEOUT_SECS", "0.5"),
            ("SALESFORCE_BULK_PAGE_ROWS", "50_000"),
            ("SALESFORCE_GZIP", "Off"),
        ]);
        assert_eq!(
            v.duration("ORGPOOL_RESYNC_LAG").unwrap(),
            Some(Duration::from_secs(5400))
        );
        assert_eq!(
            v.duration("ORGPOOL_RESYNC_OVERLAP").unwrap(),
            Some(Duration::ZERO)
        );
        assert_eq!(
            v.seconds("SALESFORCE_READ_TIMEOUT_SECS").unwrap(),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            v.whole("SALESFORCE_BULK_PAGE_ROWS", 1..=u64::MAX).unwrap(),
            Some(50_000)
        );
        assert_eq!(v.flag("SALESFORCE_GZIP").unwrap(), Some(false));
    }

    #[test]
    fn a_bad_duration_names_the_variable_the_value_and_the_fix() {
        let err = vars(&[("ORGPOOL_RESYNC_LAG", "thirty")])
            .duration("ORGPOOL_RESYNC_LAG")
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("ORGPOOL_RESYNC_LAG is invalid: \"thirty\" is not a duration"),
            "{text}"
        );
        assert!(text.contains("\"30s\""), "{text}");
    }

    #[test]
    fn ranges_are_checked() {
        let err = vars(&[("ORGPOOL_MAX_ATTEMPTS", "0")])
            .whole("ORGPOOL_MAX_ATTEMPTS", 1..=100)
            .unwrap_err();
        assert!(err.to_string().contains("from 1 to 100"), "{err}");
    }

    #[test]
    fn secret_values_are_never_echoed() {
        let err = vars(&[("DATABASE_URL", "postgres://u:hunter2@h/db")])
            .parse("DATABASE_URL", "usable", |_| None::<()>)
            .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("DATABASE_URL"), "{err}");
    }
}
