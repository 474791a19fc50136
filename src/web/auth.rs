//! Checking the bearer token: `Authorization: Bearer TOKEN`, or HTTP Basic with the
//! token as the password (so a browser can open the status page). Both sides are
//! hashed first and compared in constant time, so neither the content nor the length of
//! the token leaks through timing.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
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
}
