//! Logging in (client credentials, JWT bearer, refresh token, password) and the token
//! shared by every task of a process. When a call gets 401 `INVALID_SESSION_ID`, the
//! task that first takes the refresh lock logs in again; the others find a newer token
//! when they get the lock and replay with it, so an expiry costs one login, not one per
//! task.

use std::sync::Arc;
use std::time::Instant;

use parking_lot::RwLock;
use serde::Deserialize;

use super::config::{AuthFlow, SalesforceConfig};
use super::error::{SfError, error_code};
use super::secret::Secret;
use crate::telemetry::salesforce as metrics;

/// A logged-in session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The bearer token.
    pub access_token: Secret,
    /// Where API calls go (`https://yourorg.my.salesforce.com`).
    pub instance_url: String,
    /// Increases with each login of this process; a call replays only after the
    /// generation it used has been replaced.
    pub generation: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    instance_url: String,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// The process's current session and the lock that serialises logins.
#[derive(Debug)]
pub struct TokenCache {
    current: RwLock<Option<Arc<Session>>>,
    login_lock: tokio::sync::Mutex<()>,
    /// The refresh token, which Salesforce may rotate on each use.
    refresh_token: RwLock<Option<Secret>>,
    logins: std::sync::atomic::AtomicU64,
}

impl TokenCache {
    /// An empty cache for `cfg`.
    pub fn new(cfg: &SalesforceConfig) -> TokenCache {
        let refresh = match &cfg.flow {
            AuthFlow::RefreshToken { token } => Some(token.clone()),
            _ => None,
        };
        TokenCache {
            current: RwLock::new(None),
            login_lock: tokio::sync::Mutex::new(()),
            refresh_token: RwLock::new(refresh),
            logins: Default::default(),
        }
    }

    /// Logins performed by this process so far.
    pub fn logins(&self) -> u64 {
        self.logins.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The current session, logging in if there is none.
    pub async fn session(
        &self,
        http: &reqwest::Client,
        cfg: &SalesforceConfig,
    ) -> Result<Arc<Session>, SfError> {
        if let Some(s) = self.current.read().clone() {
            return Ok(s);
        }
        self.refresh(http, cfg, None).await
    }

    /// Replaces the session whose generation is `stale` (or logs in when there is none).
    /// When another task already replaced it, returns that newer session without a login.
    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        cfg: &SalesforceConfig,
        stale: Option<u64>,
    ) -> Result<Arc<Session>, SfError> {
        let _guard = self.login_lock.lock().await;
        if let Some(cur) = self.current.read().clone()
            && stale != Some(cur.generation)
        {
            return Ok(cur);
        }
        let started = Instant::now();
        let result = self.login(http, cfg).await;
        metrics::RequestFinished {
            api: "auth",
            outcome: outcome(&result),
            took: started.elapsed(),
        }
        .emit();
        let token = result?;
        if let Some(r) = token.refresh_token.filter(|r| !r.is_empty()) {
            *self.refresh_token.write() = Some(Secret::new(r));
        }
        let generation = self
            .logins
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let session = Arc::new(Session {
            access_token: Secret::new(token.access_token),
            instance_url: token.instance_url.trim_end_matches('/').to_string(),
            generation,
        });
        *self.current.write() = Some(session.clone());
        tracing::info!(
            flow = cfg.flow.name(),
            generation,
            "logged in to Salesforce"
        );
        Ok(session)
    }

    async fn login(
        &self,
        http: &reqwest::Client,
        cfg: &SalesforceConfig,
    ) -> Result<TokenResponse, SfError> {
        let secret = cfg.client_secret.as_ref().map(Secret::expose);
        let mut form: Vec<(&str, String)> = Vec::new();
        match &cfg.flow {
            AuthFlow::ClientCredentials => {
                form.push(("grant_type", "client_credentials".into()));
            }
            AuthFlow::JwtBearer {
                username,
                private_key,
                audience,
            } => {
                form.push((
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:jwt-bearer".into(),
                ));
                form.push((
                    "assertion",
                    assertion(cfg, username, private_key, audience)?,
                ));
            }
            AuthFlow::RefreshToken { .. } => {
                let token = self.refresh_token.read().clone().unwrap_or_default();
                form.push(("grant_type", "refresh_token".into()));
                form.push(("refresh_token", token.expose().to_string()));
            }
            AuthFlow::Password { username, password } => {
                form.push(("grant_type", "password".into()));
                form.push(("username", username.clone()));
                form.push(("password", password.expose().to_string()));
            }
        }
        form.push(("client_id", cfg.client_id.clone()));
        if let Some(s) = secret
            && !matches!(cfg.flow, AuthFlow::JwtBearer { .. })
        {
            form.push(("client_secret", s.to_string()));
        }
        let resp = http
            .post(cfg.token_url())
            .header("Accept", "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| SfError::from_transport(&e))?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(|e| SfError::from_transport(&e))?;
        if status == 200 {
            return serde_json::from_str(&body).map_err(|_| SfError::Outage {
                detail: "the token endpoint answered 200 without a token".into(),
                retry_after: None,
            });
        }
        if status >= 500 || status == 408 || status == 429 {
            return Err(SfError::Outage {
                detail: format!("token endpoint answered HTTP {status}"),
                retry_after: None,
            });
        }
        let (code, description) = error_code(&body);
        Err(SfError::Auth {
            flow: cfg.flow.name(),
            detail: format!("{code}: {description}"),
            fix: fix_for(&cfg.flow, &code, &description),
        })
    }
}

fn outcome<T>(r: &Result<T, SfError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.class().label(),
    }
}

/// Names the setting most likely wrong for an OAuth error.
fn fix_for(flow: &AuthFlow, code: &str, description: &str) -> String {
    let text = match (code, flow) {
        ("invalid_client_id", _) => "check SALESFORCE_CLIENT_ID (the connected app's consumer key)",
        ("invalid_client", _) => {
            "check SALESFORCE_CLIENT_SECRET (the connected app's consumer secret)"
        }
        ("unsupported_grant_type", _) => {
            "the org does not allow this flow; set SALESFORCE_AUTH_FLOW to one the connected app enables"
        }
        ("invalid_grant", AuthFlow::RefreshToken { .. }) => {
            "SALESFORCE_REFRESH_TOKEN was revoked or expired; authorize again and set the new token"
        }
        ("invalid_grant", AuthFlow::Password { .. }) => {
            "check SALESFORCE_USERNAME, SALESFORCE_PASSWORD and SALESFORCE_SECURITY_TOKEN"
        }
        ("invalid_grant", AuthFlow::JwtBearer { .. }) if description.contains("audience") => {
            "set SALESFORCE_JWT_AUDIENCE to https://login.salesforce.com, https://test.salesforce.com or your My Domain URL"
        }
        ("invalid_grant", AuthFlow::JwtBearer { .. }) => {
            "check SALESFORCE_USERNAME, that SALESFORCE_JWT_KEY matches the certificate uploaded to the connected app, and that the user is pre-authorized"
        }
        ("invalid_grant", AuthFlow::ClientCredentials) => {
            "enable the client-credentials flow on the connected app and set its run-as user; check SALESFORCE_LOGIN_URL points at your My Domain"
        }
        _ => "check SALESFORCE_LOGIN_URL and the credentials for this flow",
    };
    text.to_string()
}

/// A signed RS256 assertion valid for three minutes.
fn assertion(
    cfg: &SalesforceConfig,
    username: &str,
    key: &Secret,
    audience: &str,
) -> Result<String, SfError> {
    #[derive(serde::Serialize)]
    struct Claims<'a> {
        iss: &'a str,
        sub: &'a str,
        aud: &'a str,
        exp: i64,
    }
    let claims = Claims {
        iss: &cfg.client_id,
        sub: username,
        aud: audience,
        exp: chrono::Utc::now().timestamp() + 180,
    };
    let auth = |detail: &str| SfError::Auth {
        flow: "jwt_bearer",
        detail: detail.to_string(),
        fix: "set SALESFORCE_JWT_KEY to the connected app's RSA private key in PEM form".into(),
    };
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(key.expose().as_bytes())
        .map_err(|_| auth("the private key is not an RSA key in PEM form"))?;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .map_err(|_| auth("signing the assertion failed"))
}
