//! The web process's settings, from the environment. Every setting has a default; an
//! unknown `ORGPOOL_WEB_*` variable is refused by name so a typo cannot silently leave
//! the pages open.

use std::net::IpAddr;
use std::time::Duration;

use crate::salesforce::Secret;

/// Settings of `orgpool web`.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Port to listen on (`PORT`, as Heroku and most platforms set it; default 5000).
    pub port: u16,
    /// Address to bind (`ORGPOOL_WEB_BIND`, default `0.0.0.0`).
    pub bind: IpAddr,
    /// The bearer token for the enqueue API and, when `protect_reads`, for every page
    /// but `/healthz` (`ORGPOOL_WEB_TOKEN`, default none: the enqueue API refuses all
    /// requests and the pages are open).
    pub token: Option<Secret>,
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
            protect_reads: true,
            refresh: Duration::from_secs(5),
        }
    }
}

const KNOWN: &[&str] = &[
    "ORGPOOL_WEB_BIND",
    "ORGPOOL_WEB_TOKEN",
    "ORGPOOL_WEB_PROTECT_READS",
    "ORGPOOL_WEB_REFRESH_SECS",
];

impl WebConfig {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<WebConfig, String> {
        Self::from_vars(std::env::vars())
    }

    /// Reads the settings from `vars` (name, value).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<WebConfig, String> {
        let mut c = WebConfig::default();
        for (k, v) in vars {
            match k.as_str() {
                "PORT" => {
                    c.port = v
                        .parse()
                        .map_err(|_| format!("PORT={v:?} is not a port number; set 1 to 65535"))?;
                }
                "ORGPOOL_WEB_BIND" => {
                    c.bind = v.parse().map_err(|_| {
                        format!(
                            "ORGPOOL_WEB_BIND={v:?} is not an IP address; use 0.0.0.0 or 127.0.0.1"
                        )
                    })?;
                }
                "ORGPOOL_WEB_TOKEN" => {
                    if v.len() < 16 {
                        return Err(
                            "ORGPOOL_WEB_TOKEN is shorter than 16 characters; use a long random value (e.g. `openssl rand -hex 32`)".into(),
                        );
                    }
                    c.token = Some(Secret::new(v));
                }
                "ORGPOOL_WEB_PROTECT_READS" => {
                    c.protect_reads = match v.to_ascii_lowercase().as_str() {
                        "true" | "1" | "yes" | "on" => true,
                        "false" | "0" | "no" | "off" => false,
                        _ => {
                            return Err(format!(
                                "ORGPOOL_WEB_PROTECT_READS={v:?} is not true or false"
                            ));
                        }
                    };
                }
                "ORGPOOL_WEB_REFRESH_SECS" => {
                    let n: u64 = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        format!("ORGPOOL_WEB_REFRESH_SECS={v:?} is not a whole number of seconds above 0")
                    })?;
                    c.refresh = Duration::from_secs(n);
                }
                other if other.starts_with("ORGPOOL_WEB_") => {
                    return Err(format!(
                        "unknown setting {other}; the web settings are {}",
                        KNOWN.join(", ")
                    ));
                }
                _ => {}
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn defaults_and_overrides() {
        let c = WebConfig::from_vars(vars(&[])).unwrap();
        assert_eq!(c.port, 5000);
        assert!(c.token.is_none());
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
            ("ORGPOOL_WEB_PROTECT_READS", "maybe"),
            ("ORGPOOL_WEB_TOKN", "x"),
        ] {
            let e = WebConfig::from_vars(vars(&[(k, v)])).unwrap_err();
            assert!(e.contains(k), "{e}");
        }
    }
}
