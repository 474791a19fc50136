//! Settings of the Salesforce client, read from the environment. Every field has a
//! default; the login flow is chosen from which credentials are present (or named with
//! `SALESFORCE_AUTH_FLOW`). An unknown `SALESFORCE_*` or `ORGPOOL_API_*` variable is
//! refused by name, so a typo never silently falls back to a default.

use std::collections::BTreeMap;
use std::time::Duration;

use super::secret::Secret;

/// How the client logs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFlow {
    /// OAuth client credentials (the connected app's run-as user). Needs the secret.
    ClientCredentials,
    /// JWT bearer: an assertion signed with the connected app's private key (RS256).
    JwtBearer {
        /// The user to act as (`sub`).
        username: String,
        /// PEM private key.
        private_key: Secret,
        /// `aud` claim (default: the login URL).
        audience: String,
    },
    /// A refresh token from an earlier web-server flow.
    RefreshToken {
        /// The refresh token.
        token: Secret,
    },
    /// Username and password (plus security token). Not recommended by Salesforce.
    Password {
        /// The user.
        username: String,
        /// Password followed by the security token when one is needed.
        password: Secret,
    },
}

impl AuthFlow {
    /// A stable name for logs and errors.
    pub fn name(&self) -> &'static str {
        match self {
            AuthFlow::ClientCredentials => "client_credentials",
            AuthFlow::JwtBearer { .. } => "jwt_bearer",
            AuthFlow::RefreshToken { .. } => "refresh_token",
            AuthFlow::Password { .. } => "password",
        }
    }
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct SalesforceConfig {
    /// Where the token endpoint lives (`SALESFORCE_LOGIN_URL`, default
    /// `https://login.salesforce.com`; falls back to `SALESFORCE_INSTANCE_URL`).
    pub login_url: String,
    /// Connected-app consumer key (`SALESFORCE_CLIENT_ID`, required).
    pub client_id: String,
    /// Connected-app consumer secret (`SALESFORCE_CLIENT_SECRET`; required for client
    /// credentials and password, optional for the others).
    pub client_secret: Option<Secret>,
    /// The login flow.
    pub flow: AuthFlow,
    /// REST API version without the `v` (`SALESFORCE_API_VERSION`, default `62.0`).
    pub api_version: String,
    /// Extra PEM certificate to trust, for an org behind a private CA or the fake org over
    /// TLS (`SALESFORCE_CA_CERT`, a file path; default none).
    pub ca_cert_pem: Option<String>,
    /// Connect timeout (`SALESFORCE_CONNECT_TIMEOUT_SECS`, default 10).
    pub connect_timeout: Duration,
    /// Longest silence while reading a response (`SALESFORCE_READ_TIMEOUT_SECS`, default 120).
    pub read_timeout: Duration,
    /// How long one call keeps waiting through an outage before it returns `Outage`
    /// (`SALESFORCE_OUTAGE_WAIT_SECS`, default 300).
    pub outage_wait: Duration,
    /// How long one call waits for the API budget before it returns `Limit`
    /// (`SALESFORCE_LIMIT_WAIT_SECS`, default 60).
    pub limit_wait: Duration,
    /// First retry delay; doubles each retry, with jitter (default 250 ms).
    pub backoff_base: Duration,
    /// Longest retry delay (`SALESFORCE_BACKOFF_MAX_SECS`, default 30).
    pub backoff_max: Duration,
    /// Ask for gzip-compressed responses (`SALESFORCE_GZIP`, default true: Bulk CSV
    /// shrinks about tenfold on the wire).
    pub gzip: bool,
    /// Rows per Bulk query results page, `maxRecords` (`SALESFORCE_BULK_PAGE_ROWS`,
    /// default 50,000).
    pub bulk_page_rows: u64,
    /// Largest CSV upload per ingest job before it is split (`SALESFORCE_INGEST_MAX_BYTES`,
    /// default 100,000,000: Salesforce's 150 MB limit applies after base64).
    pub ingest_max_bytes: usize,
    /// The API budget.
    pub budget: BudgetConfig,
}

/// The fleet-wide API budget.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetConfig {
    /// Share of the org's daily allowance the fleet may use (`ORGPOOL_API_BUDGET_SHARE`,
    /// default 0.8).
    pub share: f64,
    /// A lower absolute cap for this deployment per window (`ORGPOOL_API_BUDGET_CAP`,
    /// default none).
    pub cap: Option<u64>,
    /// The rolling window (`ORGPOOL_API_BUDGET_WINDOW_SECS`, default 86,400: Salesforce
    /// counts requests over a rolling 24 hours).
    pub window: Duration,
}

impl BudgetConfig {
    /// The fleet's ceiling per window given the org's daily limit (0: not known yet):
    /// the lower of the cap and the share of the limit; `None` when neither is known.
    pub fn allowed(&self, org_limit: u64) -> Option<u64> {
        let share = (org_limit > 0).then(|| (org_limit as f64 * self.share).floor() as u64);
        match (self.cap, share) {
            (Some(c), Some(s)) => Some(c.min(s)),
            (c, s) => c.or(s),
        }
    }
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            share: 0.8,
            cap: None,
            window: Duration::from_secs(86_400),
        }
    }
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A required variable is unset.
    #[error("{name} is not set: {fix}")]
    Missing {
        /// The variable.
        name: &'static str,
        /// What to do.
        fix: &'static str,
    },
    /// A variable holds something unusable.
    #[error("{name} is invalid: {problem}")]
    Invalid {
        /// The variable.
        name: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// A variable this program does not know.
    #[error("unknown setting {name}: orgpool reads {known}; rename it (a typo?) or unset it")]
    Unknown {
        /// The variable.
        name: String,
        /// The accepted names.
        known: String,
    },
}

const KNOWN: &[&str] = &[
    "SALESFORCE_LOGIN_URL",
    "SALESFORCE_INSTANCE_URL",
    "SALESFORCE_CLIENT_ID",
    "SALESFORCE_CLIENT_SECRET",
    "SALESFORCE_AUTH_FLOW",
    "SALESFORCE_USERNAME",
    "SALESFORCE_PASSWORD",
    "SALESFORCE_SECURITY_TOKEN",
    "SALESFORCE_REFRESH_TOKEN",
    "SALESFORCE_JWT_KEY",
    "SALESFORCE_JWT_KEY_FILE",
    "SALESFORCE_JWT_AUDIENCE",
    "SALESFORCE_API_VERSION",
    "SALESFORCE_CA_CERT",
    "SALESFORCE_CONNECT_TIMEOUT_SECS",
    "SALESFORCE_READ_TIMEOUT_SECS",
    "SALESFORCE_OUTAGE_WAIT_SECS",
    "SALESFORCE_LIMIT_WAIT_SECS",
    "SALESFORCE_BACKOFF_MAX_SECS",
    "SALESFORCE_BULK_PAGE_ROWS",
    "SALESFORCE_GZIP",
    "SALESFORCE_INGEST_MAX_BYTES",
    "ORGPOOL_API_BUDGET_SHARE",
    "ORGPOOL_API_BUDGET_CAP",
    "ORGPOOL_API_BUDGET_WINDOW_SECS",
];

impl SalesforceConfig {
    /// Settings for `login_url` with the client-credentials flow and every default.
    pub fn new(login_url: &str, client_id: &str, client_secret: &str) -> SalesforceConfig {
        SalesforceConfig {
            login_url: login_url.trim_end_matches('/').to_string(),
            client_id: client_id.to_string(),
            client_secret: Some(Secret::new(client_secret)),
            flow: AuthFlow::ClientCredentials,
            api_version: "62.0".into(),
            ca_cert_pem: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(120),
            outage_wait: Duration::from_secs(300),
            limit_wait: Duration::from_secs(60),
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            gzip: true,
            bulk_page_rows: 50_000,
            ingest_max_bytes: 100_000_000,
            budget: BudgetConfig::default(),
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<SalesforceConfig, ConfigError> {
        SalesforceConfig::from_vars(std::env::vars())
    }

    /// Reads settings from `(name, value)` pairs (the environment, or a test's map).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<SalesforceConfig, ConfigError> {
        let vars: BTreeMap<String, String> = vars
            .into_iter()
            .filter(|(k, _)| k.starts_with("SALESFORCE_") || k.starts_with("ORGPOOL_API_"))
            .collect();
        if let Some(name) = vars.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(ConfigError::Unknown {
                name: name.clone(),
                known: KNOWN.join(", "),
            });
        }
        let get = |k: &str| {
            vars.get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let login_url = get("SALESFORCE_LOGIN_URL")
            .or_else(|| get("SALESFORCE_INSTANCE_URL"))
            .unwrap_or_else(|| "https://login.salesforce.com".into());
        check_url("SALESFORCE_LOGIN_URL", &login_url)?;
        let client_id = get("SALESFORCE_CLIENT_ID").ok_or(ConfigError::Missing {
            name: "SALESFORCE_CLIENT_ID",
            fix: "set it to the connected app's consumer key",
        })?;
        let secret = get("SALESFORCE_CLIENT_SECRET");
        let mut cfg = SalesforceConfig::new(&login_url, &client_id, "");
        cfg.client_secret = secret.map(Secret::new);
        cfg.flow = flow(&vars, &login_url)?;
        if matches!(
            cfg.flow,
            AuthFlow::ClientCredentials | AuthFlow::Password { .. }
        ) && cfg.client_secret.is_none()
        {
            return Err(ConfigError::Missing {
                name: "SALESFORCE_CLIENT_SECRET",
                fix: "the client-credentials and password flows need the connected app's consumer secret",
            });
        }
        if let Some(v) = get("SALESFORCE_API_VERSION") {
            let v = v.trim_start_matches('v').to_string();
            if v.parse::<f64>().is_err() || !v.contains('.') {
                return Err(invalid(
                    "SALESFORCE_API_VERSION",
                    format!("{v:?} is not a version like 62.0"),
                ));
            }
            cfg.api_version = v;
        }
        if let Some(path) = get("SALESFORCE_CA_CERT") {
            let pem = std::fs::read_to_string(&path)
                .map_err(|e| invalid("SALESFORCE_CA_CERT", format!("cannot read {path}: {e}")))?;
            cfg.ca_cert_pem = Some(pem);
        }
        let secs = |k: &str, d: Duration| -> Result<Duration, ConfigError> {
            get(k).map_or(Ok(d), |v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| invalid(k, format!("{v:?} is not a number of seconds")))
            })
        };
        cfg.connect_timeout = secs("SALESFORCE_CONNECT_TIMEOUT_SECS", cfg.connect_timeout)?;
        cfg.read_timeout = secs("SALESFORCE_READ_TIMEOUT_SECS", cfg.read_timeout)?;
        cfg.outage_wait = secs("SALESFORCE_OUTAGE_WAIT_SECS", cfg.outage_wait)?;
        cfg.limit_wait = secs("SALESFORCE_LIMIT_WAIT_SECS", cfg.limit_wait)?;
        cfg.backoff_max = secs("SALESFORCE_BACKOFF_MAX_SECS", cfg.backoff_max)?;
        cfg.budget.window = secs("ORGPOOL_API_BUDGET_WINDOW_SECS", cfg.budget.window)?;
        let int = |k: &str| -> Result<Option<u64>, ConfigError> {
            get(k).map_or(Ok(None), |v| {
                v.replace('_', "")
                    .parse::<u64>()
                    .map(Some)
                    .map_err(|_| invalid(k, format!("{v:?} is not a whole number")))
            })
        };
        if let Some(n) = int("SALESFORCE_BULK_PAGE_ROWS")? {
            cfg.bulk_page_rows = n.max(1);
        }
        if let Some(n) = int("SALESFORCE_INGEST_MAX_BYTES")? {
            cfg.ingest_max_bytes = n.max(1024) as usize;
        }
        cfg.budget.cap = int("ORGPOOL_API_BUDGET_CAP")?;
        if let Some(v) = get("SALESFORCE_GZIP") {
            cfg.gzip = match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => {
                    return Err(invalid(
                        "SALESFORCE_GZIP",
                        format!("{v:?} is not true or false"),
                    ));
                }
            };
        }
        if let Some(v) = get("ORGPOOL_API_BUDGET_SHARE") {
            let share: f64 = v
                .parse()
                .ok()
                .filter(|s| (0.0..=1.0).contains(s) && *s > 0.0)
                .ok_or_else(|| {
                    invalid(
                        "ORGPOOL_API_BUDGET_SHARE",
                        format!("{v:?} is not a share between 0 and 1 (0.8 = 80%)"),
                    )
                })?;
            cfg.budget.share = share;
        }
        Ok(cfg)
    }

    /// `{login_url}/services/oauth2/token`.
    pub fn token_url(&self) -> String {
        format!("{}/services/oauth2/token", self.login_url)
    }
}

fn invalid(name: &str, problem: String) -> ConfigError {
    ConfigError::Invalid {
        name: name.to_string(),
        problem,
    }
}

fn check_url(name: &str, value: &str) -> Result<(), ConfigError> {
    match url::Url::parse(value) {
        Ok(u) if u.scheme() == "https" || u.scheme() == "http" => Ok(()),
        _ => Err(invalid(
            name,
            format!("{value:?} is not an http(s) URL such as https://login.salesforce.com"),
        )),
    }
}

fn flow(vars: &BTreeMap<String, String>, login_url: &str) -> Result<AuthFlow, ConfigError> {
    let get = |k: &str| {
        vars.get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let username = || {
        get("SALESFORCE_USERNAME").ok_or(ConfigError::Missing {
            name: "SALESFORCE_USERNAME",
            fix: "the JWT bearer and password flows act as a user; set the username",
        })
    };
    let explicit = get("SALESFORCE_AUTH_FLOW");
    let chosen = explicit.clone().unwrap_or_else(|| {
        if get("SALESFORCE_JWT_KEY").is_some() || get("SALESFORCE_JWT_KEY_FILE").is_some() {
            "jwt_bearer".into()
        } else if get("SALESFORCE_REFRESH_TOKEN").is_some() {
            "refresh_token".into()
        } else if get("SALESFORCE_PASSWORD").is_some() {
            "password".into()
        } else {
            "client_credentials".into()
        }
    });
    match chosen.as_str() {
        "client_credentials" => Ok(AuthFlow::ClientCredentials),
        "jwt_bearer" | "jwt" => {
            let pem = match (get("SALESFORCE_JWT_KEY"), get("SALESFORCE_JWT_KEY_FILE")) {
                (Some(k), _) => k.replace("\\n", "\n"),
                (None, Some(path)) => std::fs::read_to_string(&path).map_err(|e| {
                    invalid(
                        "SALESFORCE_JWT_KEY_FILE",
                        format!("cannot read {path}: {e}"),
                    )
                })?,
                (None, None) => {
                    return Err(ConfigError::Missing {
                        name: "SALESFORCE_JWT_KEY",
                        fix: "the JWT bearer flow needs the connected app's private key (PEM) in SALESFORCE_JWT_KEY or a file named by SALESFORCE_JWT_KEY_FILE",
                    });
                }
            };
            if jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).is_err() {
                return Err(invalid(
                    "SALESFORCE_JWT_KEY",
                    "not an RSA private key in PEM form (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)".into(),
                ));
            }
            Ok(AuthFlow::JwtBearer {
                username: username()?,
                private_key: Secret::new(pem),
                audience: get("SALESFORCE_JWT_AUDIENCE").unwrap_or_else(|| login_url.to_string()),
            })
        }
        "refresh_token" => Ok(AuthFlow::RefreshToken {
            token: Secret::new(get("SALESFORCE_REFRESH_TOKEN").ok_or(ConfigError::Missing {
                name: "SALESFORCE_REFRESH_TOKEN",
                fix: "the refresh-token flow needs a refresh token from an earlier authorization",
            })?),
        }),
        "password" => {
            let pw = get("SALESFORCE_PASSWORD").ok_or(ConfigError::Missing {
                name: "SALESFORCE_PASSWORD",
                fix: "the password flow needs the user's password",
            })?;
            let token = get("SALESFORCE_SECURITY_TOKEN").unwrap_or_default();
            Ok(AuthFlow::Password {
                username: username()?,
                password: Secret::new(format!("{pw}{token}")),
            })
        }
        other => Err(invalid(
            "SALESFORCE_AUTH_FLOW",
            format!(
                "{other:?} is not one of client_credentials, jwt_bearer, refresh_token, password"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn picks_the_flow_from_the_credentials_present() {
        let base = [
            ("SALESFORCE_CLIENT_ID", "id"),
            ("SALESFORCE_CLIENT_SECRET", "s"),
        ];
        let cfg = SalesforceConfig::from_vars(vars(&base)).unwrap();
        assert_eq!(cfg.flow, AuthFlow::ClientCredentials);
        assert_eq!(
            cfg.token_url(),
            "https://login.salesforce.com/services/oauth2/token"
        );
        let mut v = vars(&base);
        v.extend(vars(&[("SALESFORCE_REFRESH_TOKEN", "r")]));
        assert_eq!(
            SalesforceConfig::from_vars(v).unwrap().flow.name(),
            "refresh_token"
        );
        let mut v = vars(&base);
        v.extend(vars(&[
            ("SALESFORCE_USERNAME", "u"),
            ("SALESFORCE_PASSWORD", "p"),
            ("SALESFORCE_SECURITY_TOKEN", "T"),
        ]));
        match SalesforceConfig::from_vars(v).unwrap().flow {
            AuthFlow::Password { password, .. } => assert_eq!(password.expose(), "pT"),
            f => panic!("{f:?}"),
        }
    }

    #[test]
    fn refuses_unknown_and_bad_settings_by_name() {
        let err = SalesforceConfig::from_vars(vars(&[
            ("SALESFORCE_CLIENT_ID", "id"),
            ("SALESFORCE_CLIENT_SECRT", "s"),
        ]))
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown setting SALESFORCE_CLIENT_SECRT"),
            "{err}"
        );
        let err = SalesforceConfig::from_vars(vars(&[("SALESFORCE_CLIENT_ID", "id")])).unwrap_err();
        assert!(
            err.to_string()
                .contains("SALESFORCE_CLIENT_SECRET is not set"),
            "{err}"
        );
        let err = SalesforceConfig::from_vars(vars(&[
            ("SALESFORCE_CLIENT_ID", "id"),
            ("SALESFORCE_CLIENT_SECRET", "s"),
            ("ORGPOOL_API_BUDGET_SHARE", "80"),
        ]))
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("ORGPOOL_API_BUDGET_SHARE is invalid"),
            "{err}"
        );
        let err = SalesforceConfig::from_vars(vars(&[
            ("SALESFORCE_CLIENT_ID", "id"),
            ("SALESFORCE_JWT_KEY", "not a key"),
            ("SALESFORCE_USERNAME", "u"),
        ]))
        .unwrap_err();
        assert!(
            err.to_string().contains("SALESFORCE_JWT_KEY is invalid"),
            "{err}"
        );
        assert!(
            !err.to_string().contains("not a key"),
            "the key itself is never echoed: {err}"
        );
    }

    #[test]
    fn debug_never_shows_secrets() {
        let cfg = SalesforceConfig::from_vars(vars(&[
            ("SALESFORCE_CLIENT_ID", "id"),
            ("SALESFORCE_CLIENT_SECRET", "very-secret"),
            ("SALESFORCE_USERNAME", "u"),
            ("SALESFORCE_PASSWORD", "pass-word"),
        ]))
        .unwrap();
        let shown = format!("{cfg:?}");
        assert!(
            !shown.contains("very-secret") && !shown.contains("pass-word"),
            "{shown}"
        );
    }
}
