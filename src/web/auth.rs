//! Checking the bearer token: `Authorization: Bearer TOKEN`, HTTP Basic with the token
//! as the password, or the console's session cookie (set by its login form, since a
//! browser cannot send a bearer header from a link). Both sides are hashed first and
//! compared in constant time, so neither the content nor the length of the token leaks
//! through timing. The cookie holds a digest of the token, never the token itself.

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::salesforce::Secret;

/// The token, kept only as its digest.
#[derive(Clone)]
pub struct Token([u8; 32]);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl Token {
    /// The digest of `secret`.
    pub fn new(secret: &Secret) -> Token {
        Token(Sha256::digest(secret.expose().as_bytes()).into())
    }

    /// Whether `presented` is the token (constant time).
    pub fn matches(&self, presented: &str) -> bool {
        let d: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        d.ct_eq(&self.0).into()
    }

    /// Whether the request's `Authorization` header carries the token.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        presented(headers).is_some_and(|p| self.matches(&p))
    }

    /// The value of the session cookie for this token: a digest of the token's digest
    /// under a label, so the cookie is not the token and cannot be used as a bearer.
    pub fn session(&self) -> String {
        hex(&Sha256::digest(
            [b"orgpool-console-session\0".as_slice(), &self.0].concat(),
        ))
    }

    /// Whether the request carries this token's session cookie (constant time).
    pub fn allows_cookie(&self, headers: &HeaderMap) -> bool {
        let want = self.session();
        cookie(headers, SESSION_COOKIE).is_some_and(|c| c.as_bytes().ct_eq(want.as_bytes()).into())
    }

    /// Whether the request carries the token in any accepted way.
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        self.allows(headers) || self.allows_cookie(headers)
    }

    /// The console's CSRF token for this credential: forms carry it, and an action
    /// without it is refused (a page of another site cannot read it).
    pub fn csrf(&self) -> String {
        hex(&Sha256::digest(
            [b"orgpool-console-csrf\0".as_slice(), &self.0].concat(),
        ))
    }
}

/// The name of the console's session cookie.
pub const SESSION_COOKIE: &str = "orgpool_session";

/// The value of cookie `name` in the request, if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The credential a request presents, if any.
fn presented(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        return text.split_once(':').map(|(_, pass)| pass.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, v.parse().unwrap());
        h
    }

    #[test]
    fn bearer_and_basic() {
        let t = Token::new(&Secret::new("s3cret-token-value"));
        assert!(t.allows(&headers("Bearer s3cret-token-value")));
        assert!(t.allows(&headers("bearer  s3cret-token-value ")));
        let basic = base64::engine::general_purpose::STANDARD.encode("any:s3cret-token-value");
        assert!(t.allows(&headers(&format!("Basic {basic}"))));
        assert!(!t.allows(&headers("Bearer s3cret-token-valu")));
        assert!(!t.allows(&headers("Bearer ")));
        assert!(!t.allows(&headers("Token s3cret-token-value")));
        assert!(!t.allows(&HeaderMap::new()));
        assert!(!format!("{t:?}").contains("s3cret"));
    }

    #[test]
    fn the_session_cookie_is_a_digest_not_the_token() {
        let t = Token::new(&Secret::new("s3cret-token-value"));
        let other = Token::new(&Secret::new("another-token-value"));
        assert!(!t.session().contains("s3cret"));
        assert_ne!(t.session(), other.session());
        assert_ne!(t.session(), t.csrf());
        let cookie = format!("a=b; {SESSION_COOKIE}={}", t.session());
        let h = {
            let mut h = HeaderMap::new();
            h.insert(COOKIE, cookie.parse().unwrap());
            h
        };
        assert!(t.admits(&h));
        assert!(!other.admits(&h));
        assert!(!t.allows(&h), "the cookie is no bearer credential");
    }
}
