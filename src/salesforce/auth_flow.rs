//! Which login flow the client uses, and its credentials: named with
//! `SALESFORCE_AUTH_FLOW`, or chosen from which credentials are present.

use super::secret::Secret;
use crate::settings::{SettingsError, Vars};

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

    /// The flow `vars` ask for, with its credentials.
    pub(super) fn from_vars(v: &Vars, login_url: &str) -> Result<AuthFlow, SettingsError> {
        let chosen = v.text("SALESFORCE_AUTH_FLOW").unwrap_or_else(|| {
            if v.text("SALESFORCE_JWT_KEY").is_some() || v.text("SALESFORCE_JWT_KEY_FILE").is_some()
            {
                "jwt_bearer".into()
            } else if v.text("SALESFORCE_REFRESH_TOKEN").is_some() {
                "refresh_token".into()
            } else if v.text("SALESFORCE_PASSWORD").is_some() {
                "password".into()
            } else {
                "client_credentials".into()
            }
        });
        match chosen.as_str() {
            "client_credentials" => Ok(AuthFlow::ClientCredentials),
            "jwt_bearer" | "jwt" => jwt_bearer(v, login_url),
            "refresh_token" => Ok(AuthFlow::RefreshToken {
                token: Secret::new(v.text("SALESFORCE_REFRESH_TOKEN").ok_or(SettingsError::Missing {
                    name: "SALESFORCE_REFRESH_TOKEN",
                    fix: "the refresh-token flow needs a refresh token from an earlier authorization",
                })?),
            }),
            "password" => {
                let pw = v.text("SALESFORCE_PASSWORD").ok_or(SettingsError::Missing {
                    name: "SALESFORCE_PASSWORD",
                    fix: "the password flow needs the user's password",
                })?;
                let token = v.text("SALESFORCE_SECURITY_TOKEN").unwrap_or_default();
                Ok(AuthFlow::Password {
                    username: username(v)?,
                    password: Secret::new(format!("{pw}{token}")),
                })
            }
            other => Err(v.refuse(
                "SALESFORCE_AUTH_FLOW",
                other,
                "one of client_credentials, jwt_bearer, refresh_token, password",
            )),
        }
    }
}

fn username(v: &Vars) -> Result<String, SettingsError> {
    v.text("SALESFORCE_USERNAME").ok_or(SettingsError::Missing {
        name: "SALESFORCE_USERNAME",
        fix: "the JWT bearer and password flows act as a user; set the username",
    })
}

fn jwt_bearer(v: &Vars, login_url: &str) -> Result<AuthFlow, SettingsError> {
    let pem = match (
        v.text("SALESFORCE_JWT_KEY"),
        v.text("SALESFORCE_JWT_KEY_FILE"),
    ) {
        (Some(k), _) => k.replace("\\n", "\n"),
        (None, Some(path)) => std::fs::read_to_string(&path).map_err(|e| {
            SettingsError::invalid(
                "SALESFORCE_JWT_KEY_FILE",
                format!("cannot read {path}: {e}"),
            )
        })?,
        (None, None) => {
            return Err(SettingsError::Missing {
                name: "SALESFORCE_JWT_KEY",
                fix: "the JWT bearer flow needs the connected app's private key (PEM) in SALESFORCE_JWT_KEY or a file named by SALESFORCE_JWT_KEY_FILE",
            });
        }
    };
    if jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).is_err() {
        return Err(SettingsError::invalid(
            "SALESFORCE_JWT_KEY",
            "not an RSA private key in PEM form (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)",
        ));
    }
    Ok(AuthFlow::JwtBearer {
        username: username(v)?,
        private_key: Secret::new(pem),
        audience: v
            .text("SALESFORCE_JWT_AUDIENCE")
            .unwrap_or_else(|| login_url.to_string()),
    })
}
