//! Refusing unknown names: every variable under a prefix orgpool owns (`ORGPOOL_`,
//! `SALESFORCE_`) must be in the catalogue, so a typo fails at start, naming the setting
//! it was probably meant to be, instead of silently leaving a default in place.

use super::catalog::SETTINGS;
use super::error::SettingsError;

/// The prefixes whose every name orgpool reads itself.
const OWNED: [&str; 2] = ["ORGPOOL_", "SALESFORCE_"];

/// Refuses the first (by name) owned variable the catalogue does not list.
pub fn check_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<(), SettingsError> {
    let mut unknown: Vec<&str> = names
        .into_iter()
        .filter(|n| OWNED.iter().any(|p| n.starts_with(p)))
        .filter(|n| super::find(n).is_none())
        .collect();
    unknown.sort_unstable();
    match unknown.first() {
        None => Ok(()),
        Some(name) => Err(SettingsError::Unknown {
            name: name.to_string(),
            nearest: nearest(name),
        }),
    }
}

/// The catalogue name closest to `name` by edit distance, if it is close enough to be a
/// typo of it: at most a third of the part after the prefix differs (the shared prefix
/// would otherwise make any two names look alike).
pub fn nearest(name: &str) -> Option<&'static str> {
    let (best, distance) = SETTINGS
        .iter()
        .map(|s| (s.name, edit_distance(name, s.name)))
        .min_by_key(|&(_, d)| d)?;
    let prefix = OWNED
        .iter()
        .find(|p| name.starts_with(*p))
        .map_or(0, |p| p.len());
    (distance <= (name.len() - prefix).div_ceil(3)).then_some(best)
}

/// Levenshtein distance over bytes (setting names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let swap = prev[j] + usize::from(ca != cb);
            cur[j + 1] = swap.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_is_refused_naming_the_nearest_setting() {
        let err = check_names(["PATH", "ORGPOOL_MAX_ATEMPTS", "ORGPOOL_POLL_MS"]).unwrap_err();
        assert_eq!(
            err,
            SettingsError::Unknown {
                name: "ORGPOOL_MAX_ATEMPTS".into(),
                nearest: Some("ORGPOOL_MAX_ATTEMPTS"),
            }
        );
        assert!(
            err.to_string().starts_with(
                "ORGPOOL_MAX_ATEMPTS is not a setting orgpool knows; did you mean ORGPOOL_MAX_ATTEMPTS?"
            ),
            "{err}"
        );
        let err = check_names(["SALESFORCE_CLIENT_SECRT"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("did you mean SALESFORCE_CLIENT_SECRET?"),
            "{err}"
        );
        let err = check_names(["ORGPOOL_WEB_TOKN"]).unwrap_err();
        assert!(
            err.to_string().contains("did you mean ORGPOOL_WEB_TOKEN?"),
            "{err}"
        );
    }

    #[test]
    fn a_name_like_no_setting_gets_no_guess() {
        let err = check_names(["ORGPOOL_SOMETHING_ELSE_ENTIRELY"]).unwrap_err();
        assert!(!err.to_string().contains("did you mean"), "{err}");
        assert!(err.to_string().contains("docs/settings.md"), "{err}");
    }

    #[test]
    fn other_prefixes_and_every_catalogue_name_pass() {
        let all = SETTINGS.iter().map(|s| s.name);
        check_names(all.chain(["HOME", "ORGPOOLX", "REDIS_PASSWORD", "CARGO_PKG_NAME"])).unwrap();
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("ATEMPTS", "ATTEMPTS"), 1);
        assert_eq!(edit_distance("LAG", "LGA"), 2);
        assert_eq!(edit_distance("", "ABC"), 3);
        assert_eq!(edit_distance("SAME", "SAME"), 0);
    }
}
