//! `ChangeEventHeader.changeOrigin` of API writes: which API and version made a change,
//! and the client id the caller named (`Sforce-Call-Options: client=<id>` on REST and
//! Bulk requests, the SOAP `CallOptions` header's `client` element).
//!
//! Salesforce documents the value as `com/salesforce/api/<api>/<version>;client=<id>`,
//! with `;client=<id>` left out when the call named no client. Writes that come from
//! no API (churn, the admin endpoints) carry an empty origin, as UI changes do.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use super::middleware::ApiVersion;

/// The API a write came through, as `changeOrigin` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// REST sObjects, Collections, composite.
    Rest,
    /// The SOAP partner API.
    Soap,
    /// Bulk API 1.0 and 2.0 ingest.
    Bulk,
}

impl Api {
    fn name(self) -> &'static str {
        match self {
            Api::Rest => "rest",
            Api::Soap => "soap",
            Api::Bulk => "bulkapi",
        }
    }
}

/// The `client` option of a `Sforce-Call-Options` value
/// (`client=SampleCaseSensitiveToken/100, defaultNamespace=battle`); options are
/// separated by commas (some clients use semicolons); an empty client is none.
pub fn client_option(value: &str) -> Option<String> {
    value
        .split([',', ';'])
        .filter_map(|opt| opt.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("client"))
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The client a request's `Sforce-Call-Options` header names, if any.
pub fn client_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get("Sforce-Call-Options")
        .and_then(|v| v.to_str().ok())
        .and_then(client_option)
}

/// `com/salesforce/api/<api>/<version>[;client=<id>]`; `version` as `62.0` or `v62.0`.
pub fn change_origin(api: Api, version: &str, client: Option<&str>) -> String {
    let version = version.trim_start_matches('v');
    match client {
        Some(c) => format!("com/salesforce/api/{}/{version};client={c}", api.name()),
        None => format!("com/salesforce/api/{}/{version}", api.name()),
    }
}

/// A `/services/data/vXX.X/` request's version and named client, so a handler can say
/// where its writes came from.
#[derive(Debug, Clone)]
pub struct CallOrigin {
    version: String,
    client: Option<String>,
}

impl CallOrigin {
    /// The origin of a REST write.
    pub fn rest(&self) -> String {
        change_origin(Api::Rest, &self.version, self.client.as_deref())
    }

    /// The origin of a Bulk 2.0 ingest write (kept with the job that this request creates).
    pub fn bulk(&self) -> String {
        change_origin(Api::Bulk, &self.version, self.client.as_deref())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CallOrigin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // The API gate has checked and stored the version before any handler runs.
        let version = parts
            .extensions
            .get::<ApiVersion>()
            .map(|v| v.0.clone())
            .unwrap_or_default();
        Ok(CallOrigin {
            version,
            client: client_of(&parts.headers),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_client_option() {
        assert_eq!(
            client_option("client=SampleCaseSensitiveToken/100, defaultNamespace=battle")
                .as_deref(),
            Some("SampleCaseSensitiveToken/100")
        );
        assert_eq!(
            client_option("defaultNamespace=x; client=orgpool").as_deref(),
            Some("orgpool")
        );
        assert_eq!(client_option("defaultNamespace=battle"), None);
        assert_eq!(client_option("client="), None);
    }

    #[test]
    fn formats_as_salesforce_documents() {
        assert_eq!(
            change_origin(Api::Rest, "v62.0", Some("orgpool")),
            "com/salesforce/api/rest/62.0;client=orgpool"
        );
        assert_eq!(
            change_origin(Api::Soap, "58.0", None),
            "com/salesforce/api/soap/58.0"
        );
        assert_eq!(
            change_origin(Api::Bulk, "62.0", Some("a/1")),
            "com/salesforce/api/bulkapi/62.0;client=a/1"
        );
    }
}
