//! Settings of the Salesforce client, read through the settings layer
//! ([`crate::settings`]). Every field has a default; the login flow is chosen from which
//! credentials are present (or named with `SALESFORCE_AUTH_FLOW`). An unknown
//! `SALESFORCE_*` or `ORGPOOL_*` variable is refused by name, so a typo never silently
//! falls back to a default.

use std::time::Duration;

use super::secret::Secret;
use crate::settings::{SettingsError, Vars};

pub use super::auth_flow::AuthFlow;
/// The settings layer's error, under the name callers of this module know.
pub use crate::settings::SettingsError as ConfigError;

/// Client settings.
#[derive(Debug, Clone)]
pub struct SalesforceConfig {
    /// Where the token endpoint lives (`SALESFORCE_LOGIN_URL`, default
    /// `https://login.salesforce.com`; falls back to `SALESFORCE_INSTANCE_URL`).
    pub login_url: String,
    /// Connected-app consumer key (`SALESFORCE_CLIENT_ID`; required by `from_env`,
    /// no default).
    pub client_id: String,
    /// Connected-app consumer secret (`SALESFORCE_CLIENT_SECRET`; required for client
    /// credentials and password, optional for the others).
    pub client_secret: Option<Secret>,
    /// The login flow (default: client credentials; see [`AuthFlow`]).
    pub flow: AuthFlow,
    /// REST API version without the `v` (`SALESFORCE_API_VERSION`, default `62.0`).
    pub api_version: String,
    /// Extra PEM certificate to trust, for an org behind a private CA or the fake org over
    /// TLS (read from the file `SALESFORCE_CA_CERT` names; default none).
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
    /// First retry delay; doubles each retry, with jitter (default 250 ms; not an
    /// environment setting).
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
    /// The API budget (default [`BudgetConfig::default`]).
    pub budget: BudgetConfig,
}

/// The fleet-wide API budget.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetConfig {
    /// Share of the org's daily allowance the fleet may use (`ORGPOOL_API_BUDGET_SHARE`,
    /// default 0.8).
    pub share: f64,
    /// A lower absolute cap of requests per window for this deployment
    /// (`ORGPOOL_API_BUDGET_CAP`, default none).
    pub cap: Option<u64>,
    /// The rolling window (`ORGPOOL_API_BUDGET_WINDOW_SECS`, default 86,400: Salesforce
    /// counts requests over a rolling 24 hours).
    pub window: Duration,
    /// While the budget is spent: how often the fleet re-checks the org's `/limits`
    /// (one probe for the whole fleet per period) and the longest a waiting chunk is
    /// put back for (`ORGPOOL_API_BUDGET_RECHECK_SECS`, default 60).
    pub recheck: Duration,
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
            recheck: Duration::from_secs(60),
        }
    }
}

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
    pub fn from_env() -> Result<SalesforceConfig, SettingsError> {
        SalesforceConfig::from_vars(Vars::from_env())
    }

    /// Reads settings from `(name, value)` pairs (the environment, or a test's list).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<SalesforceConfig, SettingsError> {
        let v = Vars::checked(vars)?;
        let login_url = match v.parse("SALESFORCE_LOGIN_URL", HTTP_URL, http_url)? {
            Some(u) => u,
            None => v
                .parse("SALESFORCE_INSTANCE_URL", HTTP_URL, http_url)?
                .unwrap_or_else(|| "https://login.salesforce.com".into()),
        };
        let client_id = v
            .text("SALESFORCE_CLIENT_ID")
            .ok_or(SettingsError::Missing {
                name: "SALESFORCE_CLIENT_ID",
                fix: "set it to the connected app's consumer key",
            })?;
        let mut cfg = SalesforceConfig::new(&login_url, &client_id, "");
        cfg.client_secret = v.text("SALESFORCE_CLIENT_SECRET").map(Secret::new);
        cfg.flow = AuthFlow::from_vars(&v, &login_url)?;
        if matches!(
            cfg.flow,
            AuthFlow::ClientCredentials | AuthFlow::Password { .. }
        ) && cfg.client_secret.is_none()
        {
            return Err(SettingsError::Missing {
                name: "SALESFORCE_CLIENT_SECRET",
                fix: "the client-credentials and password flows need the connected app's consumer secret",
            });
        }
        if let Some(version) = v.parse("SALESFORCE_API_VERSION", "a version like 62.0", |s| {
            let s = s.trim_start_matches('v');
            (s.contains('.') && s.parse::<f64>().is_ok()).then(|| s.to_string())
        })? {
            cfg.api_version = version;
        }
        if let Some(path) = v.text("SALESFORCE_CA_CERT") {
            let pem = std::fs::read_to_string(&path).map_err(|e| {
                SettingsError::invalid("SALESFORCE_CA_CERT", format!("cannot read {path}: {e}"))
            })?;
            cfg.ca_cert_pem = Some(pem);
        }
        let secs = |name: &str, default: Duration| v.seconds(name).map(|s| s.unwrap_or(default));
        cfg.connect_timeout = secs("SALESFORCE_CONNECT_TIMEOUT_SECS", cfg.connect_timeout)?;
        cfg.read_timeout = secs("SALESFORCE_READ_TIMEOUT_SECS", cfg.read_timeout)?;
        cfg.outage_wait = secs("SALESFORCE_OUTAGE_WAIT_SECS", cfg.outage_wait)?;
        cfg.limit_wait = secs("SALESFORCE_LIMIT_WAIT_SECS", cfg.limit_wait)?;
        cfg.backoff_max = secs("SALESFORCE_BACKOFF_MAX_SECS", cfg.backoff_max)?;
        cfg.gzip = v.flag("SALESFORCE_GZIP")?.unwrap_or(cfg.gzip);
        if let Some(n) = v.whole("SALESFORCE_BULK_PAGE_ROWS", 1..=u64::MAX)? {
            cfg.bulk_page_rows = n;
        }
        if let Some(n) = v.whole("SALESFORCE_INGEST_MAX_BYTES", 1024..=u64::MAX)? {
            cfg.ingest_max_bytes = usize::try_from(n).unwrap_or(usize::MAX);
        }
        cfg.budget = BudgetConfig::from_vars(&v)?;
        Ok(cfg)
    }

    /// `{login_url}/services/oauth2/token`.
    pub fn token_url(&self) -> String {
        format!("{}/services/oauth2/token", self.login_url)
    }
}

impl BudgetConfig {
    /// The `ORGPOOL_API_BUDGET_*` settings of `v`.
    fn from_vars(v: &Vars) -> Result<BudgetConfig, SettingsError> {
        let d = BudgetConfig::default();
        Ok(BudgetConfig {
            share: v
                .parse(
                    "ORGPOOL_API_BUDGET_SHARE",
                    "a share above 0 and at most 1 (0.8 = 80%)",
                    |s| s.parse::<f64>().ok().filter(|s| *s > 0.0 && *s <= 1.0),
                )?
                .unwrap_or(d.share),
            cap: v.whole("ORGPOOL_API_BUDGET_CAP", 1..=u64::MAX)?,
            window: v
                .seconds("ORGPOOL_API_BUDGET_WINDOW_SECS")?
                .unwrap_or(d.window),
            recheck: v
                .whole("ORGPOOL_API_BUDGET_RECHECK_SECS", 1..=3_600)?
                .map_or(d.recheck, Duration::from_secs),
        })
    }
}

const HTTP_URL: &str = "an http(s) URL such as https://login.salesforce.com";

fn http_url(value: &str) -> Option<String> {
    match url::Url::parse(value) {
        Ok(u) if u.scheme() == "https" || u.scheme() == "http" => Some(value.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::pairs as vars;

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
            err.to_string().starts_with(
                "SALESFORCE_CLIENT_SECRT is not a setting orgpool knows; did you mean SALESFORCE_CLIENT_SECRET?"
            ),
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
    fn the_catalogue_defaults_are_the_defaults() {
        use crate::settings::Section;
        let base = vars(&[
            ("SALESFORCE_CLIENT_ID", "id"),
            ("SALESFORCE_CLIENT_SECRET", "s"),
        ]);
        let plain = SalesforceConfig::from_vars(base.clone()).unwrap();
        let mut all = base;
        all.extend(Section::Salesforce.defaults());
        all.extend(Section::ApiBudget.defaults());
        let explicit = SalesforceConfig::from_vars(all).unwrap();
        assert_eq!(format!("{explicit:?}"), format!("{plain:?}"));
        assert_eq!(plain.budget, BudgetConfig::default());
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
