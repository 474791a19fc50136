//! The web process's settings, read through the settings layer ([`crate::settings`]).
//! Every setting has a default; an unknown `ORGPOOL_*` variable is refused by name so a
//! typo cannot silently leave the pages open.

use std::net::IpAddr;
use std::time::Duration;

use crate::salesforce::Secret;
use crate::settings::{SettingsError, Vars};

/// Settings of `orgpool web`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebConfig {
    /// Port to listen on (`PORT`, as Heroku and most platforms set it; default 5000).
    pub port: u16,
    /// Address to bind (`ORGPOOL_WEB_BIND`, default `0.0.0.0`).
    pub bind: IpAddr,
    /// The bearer token for the enqueue API and, when `protect_reads`, for every page
    /// but `/healthz` (`ORGPOOL_WEB_TOKEN`, default none: the enqueue API refuses all
    /// requests and the pages are open).
    pub token: Option<Secret>,
    /// A token that opens the pages but cannot act (`ORGPOOL_WEB_READ_TOKEN`, default
    /// none): the console's forms and `POST /api/runs` answer it 403.
    pub read_token: Option<Secret>,
    /// Whether the read-only pages need the token too (`ORGPOOL_WEB_PROTECT_READS`,
    /// default true; only matters when a token is set).
    pub protect_reads: bool,
    /// How often the status page reloads itself (`ORGPOOL_WEB_REFRESH_SECS`, default 5).
    pub refresh: Duration,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            port: 5000,
            bind: IpAddr::from([0, 0, 0, 0]),
            token: None,
            read_token: None,
            protect_reads: true,
            refresh: Duration::from_secs(5),
        }
    }
}

/// Shorter tokens are refused: the token is all that guards the enqueue API.
const MIN_TOKEN_LEN: usize = 16;

impl WebConfig {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<WebConfig, SettingsError> {
        Self::from_vars(Vars::from_env())
    }

    /// Reads the settings from `vars` (name, value).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<WebConfig, SettingsError> {
        let v = Vars::checked(vars)?;
        let d = WebConfig::default();
        let token = long_enough(&v, "ORGPOOL_WEB_TOKEN")?;
        let read_token = long_enough(&v, "ORGPOOL_WEB_READ_TOKEN")?;
        if read_token.is_some() && read_token == token {
            return Err(SettingsError::invalid(
                "ORGPOOL_WEB_READ_TOKEN",
                "it is the same as ORGPOOL_WEB_TOKEN, so it could act; give it a value of its own",
            ));
        }
        Ok(WebConfig {
            port: v.whole("PORT", 1..=65_535)?.map_or(d.port, |p| p as u16),
            bind: v
                .parsed(
                    "ORGPOOL_WEB_BIND",
                    "an IP address; use 0.0.0.0 or 127.0.0.1",
                )?
                .unwrap_or(d.bind),
            token: token.map(Secret::new),
            read_token: read_token.map(Secret::new),
            protect_reads: v
                .flag("ORGPOOL_WEB_PROTECT_READS")?
                .unwrap_or(d.protect_reads),
            refresh: v
                .whole("ORGPOOL_WEB_REFRESH_SECS", 1..=u64::MAX)?
                .map_or(d.refresh, Duration::from_secs),
        })
    }
}

/// The token in `name`, refused when shorter than [`MIN_TOKEN_LEN`] (never echoed).
fn long_enough(v: &Vars, name: &str) -> Result<Option<String>, SettingsError> {
    let token = v.text(name);
    if token.as_ref().is_some_and(|t| t.len() < MIN_TOKEN_LEN) {
        return Err(SettingsError::invalid(
            name,
            "it is shorter than 16 characters; use a long random value (e.g. `openssl rand -hex 32`)",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::pairs as vars;

    #[test]
    fn defaults_and_overrides() {
        let c = WebConfig::from_vars(vars(&[])).unwrap();
        assert_eq!(c, WebConfig::default());
        let d = crate::settings::Section::Web.defaults();
        assert_eq!(WebConfig::from_vars(d).unwrap(), WebConfig::default());
        let c = WebConfig::from_vars(vars(&[
            ("PORT", "8080"),
            ("ORGPOOL_WEB_TOKEN", "0123456789abcdef0123"),
            ("ORGPOOL_WEB_PROTECT_READS", "false"),
        ]))
        .unwrap();
        assert_eq!(c.port, 8080);
        assert!(!c.protect_reads);
        assert!(!format!("{c:?}").contains("0123456789abcdef0123"));
    }

    #[test]
    fn bad_values_name_the_key() {
        for (k, v) in [
            ("PORT", "http"),
            ("ORGPOOL_WEB_TOKEN", "short"),
            ("ORGPOOL_WEB_READ_TOKEN", "short"),
            ("ORGPOOL_WEB_PROTECT_READS", "maybe"),
            ("ORGPOOL_WEB_REFRESH_SECS", "0"),
            ("ORGPOOL_WEB_TOKN", "x"),
        ] {
            let e = WebConfig::from_vars(vars(&[(k, v)]))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(k), "{e}");
        }
        let e = WebConfig::from_vars(vars(&[("ORGPOOL_WEB_TOKEN", "short")])).unwrap_err();
        assert!(
            !e.to_string().contains("short\""),
            "the token is never echoed: {e}"
        );
    }
}
