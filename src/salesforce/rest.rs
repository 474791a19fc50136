//! REST calls: describe (cached, revalidated with `If-Modified-Since`), query and
//! queryAll as a stream of records across pages, `COUNT()` queries and `/limits`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use futures::stream::{self, BoxStream, StreamExt};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value as Json;

use super::client::Client;
use super::error::SfError;
use super::request::{Api, Request};

/// A field as describe reports it (the parts orgpool uses).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FieldDescribe {
    /// API name (`AnnualRevenue`).
    pub name: String,
    /// Salesforce type (`string`, `double`, `currency`, `reference`, ...).
    #[serde(rename = "type")]
    pub field_type: String,
    /// Label.
    #[serde(default)]
    pub label: String,
    /// Characters, for text types.
    #[serde(default)]
    pub length: u32,
    /// Total digits, for numbers.
    #[serde(default)]
    pub precision: u32,
    /// Digits after the point, for numbers.
    #[serde(default)]
    pub scale: u32,
    /// Digits, for integers.
    #[serde(default)]
    pub digits: u32,
    /// Whether null is allowed.
    #[serde(default)]
    pub nillable: bool,
    /// Settable on create.
    #[serde(default)]
    pub createable: bool,
    /// Settable on update.
    #[serde(default)]
    pub updateable: bool,
    /// An external Id.
    #[serde(default)]
    pub external_id: bool,
    /// Unique.
    #[serde(default)]
    pub unique: bool,
    /// A formula or roll-up.
    #[serde(default)]
    pub calculated: bool,
    /// The compound field this is part of (`BillingAddress`).
    #[serde(default)]
    pub compound_field_name: Option<String>,
    /// Objects a reference points to.
    #[serde(default)]
    pub reference_to: Vec<String>,
    /// Relationship name of a reference (`Account`).
    #[serde(default)]
    pub relationship_name: Option<String>,
}

/// An object's describe (the parts orgpool uses).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Describe {
    /// API name.
    pub name: String,
    /// Label.
    #[serde(default)]
    pub label: String,
    /// Id prefix (`001`).
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Whether SOQL can read it.
    #[serde(default)]
    pub queryable: bool,
    /// Whether it can be replicated (`getUpdated`/`getDeleted`).
    #[serde(default)]
    pub replicateable: bool,
    /// The fields.
    pub fields: Vec<FieldDescribe>,
}

impl Describe {
    /// A field by name, ignoring case as Salesforce does.
    pub fn field(&self, name: &str) -> Option<&FieldDescribe> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }
}

/// Cached describes with the `Last-Modified` each was served with.
#[derive(Debug, Default)]
pub struct DescribeCache(parking_lot::Mutex<HashMap<String, (String, Arc<Describe>)>>);

/// One page of a REST query.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryPage {
    /// Rows across all pages.
    pub total_size: u64,
    /// Whether this is the last page.
    pub done: bool,
    /// The next page's path.
    #[serde(default)]
    pub next_records_url: Option<String>,
    /// The records, `attributes` included.
    #[serde(default)]
    pub records: Vec<Json>,
}

/// Live records only, or deleted and archived ones too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `/query`.
    Live,
    /// `/queryAll`.
    All,
}

impl Client {
    /// GETs `path` as JSON.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        req: Request,
    ) -> Result<T, SfError> {
        let resp = self.send(&req).await?;
        let body = resp
            .bytes()
            .await
            .map_err(|e| SfError::from_transport(&e))?;
        serde_json::from_slice(&body).map_err(|e| {
            SfError::permanent(
                "UNEXPECTED_RESPONSE",
                format!("{} returned JSON this client cannot read: {e}", req.path),
            )
        })
    }

    /// The describe of `object`. A cached copy is revalidated with `If-Modified-Since`
    /// and reused when Salesforce answers 304.
    pub async fn describe(&self, object: &str) -> Result<Arc<Describe>, SfError> {
        let key = object.to_ascii_lowercase();
        let cached = self.inner.describe.0.lock().get(&key).cloned();
        let mut req = Request::new(
            Api::Rest,
            Method::GET,
            format!("/sobjects/{object}/describe"),
        );
        if let Some((modified, _)) = &cached {
            req = req.header("If-Modified-Since", modified.clone());
        }
        let resp = self.send(&req).await?;
        if resp.status() == StatusCode::NOT_MODIFIED
            && let Some((_, d)) = cached
        {
            return Ok(d);
        }
        let modified = resp
            .headers()
            .get("Last-Modified")
            .or_else(|| resp.headers().get("Date"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = resp
            .bytes()
            .await
            .map_err(|e| SfError::from_transport(&e))?;
        let describe: Describe = serde_json::from_slice(&body).map_err(|e| {
            SfError::permanent("UNEXPECTED_RESPONSE", format!("describe of {object}: {e}"))
        })?;
        let describe = Arc::new(describe);
        if let Some(m) = modified {
            self.inner
                .describe
                .0
                .lock()
                .insert(key, (m, describe.clone()));
        }
        Ok(describe)
    }

    /// One query page: the first for `soql`, or the one at `next_records_url`.
    pub async fn query_page(&self, soql_or_next: QueryStart<'_>) -> Result<QueryPage, SfError> {
        let req = match soql_or_next {
            QueryStart::Soql(soql, scope) => {
                let path = if scope == Scope::All {
                    "/queryAll"
                } else {
                    "/query"
                };
                Request::new(Api::Rest, Method::GET, path).param("q", soql)
            }
            QueryStart::Next(url) => Request::new(Api::Rest, Method::GET, url),
        };
        self.get_json(req).await
    }

    /// The records `soql` selects, page after page, as a stream. Pages are fetched as the
    /// stream is read, so memory holds one page at most.
    pub fn query(&self, soql: &str, scope: Scope) -> BoxStream<'static, Result<Json, SfError>> {
        enum Next {
            First(String, Scope),
            More(String),
            Done,
        }
        let start = (
            self.clone(),
            Next::First(soql.to_string(), scope),
            VecDeque::new(),
        );
        stream::try_unfold(start, |(client, mut next, mut buf)| async move {
            loop {
                if let Some(r) = buf.pop_front() {
                    return Ok(Some((r, (client, next, buf))));
                }
                let page = match &next {
                    Next::Done => return Ok(None),
                    Next::First(q, s) => client.query_page(QueryStart::Soql(q, *s)).await?,
                    Next::More(url) => client.query_page(QueryStart::Next(url)).await?,
                };
                next = match (page.done, page.next_records_url) {
                    (false, Some(url)) => Next::More(url),
                    _ => Next::Done,
                };
                buf.extend(page.records);
            }
        })
        .boxed()
    }

    /// The `totalSize` of a `SELECT COUNT() FROM ...` query.
    pub async fn count(&self, soql: &str) -> Result<u64, SfError> {
        Ok(self
            .query_page(QueryStart::Soql(soql, Scope::Live))
            .await?
            .total_size)
    }

    /// `/limits` as Salesforce returns it; `DailyApiRequests` also updates the fleet's
    /// view of the org's allowance.
    pub async fn limits(&self) -> Result<Json, SfError> {
        let limits: Json = self
            .get_json(Request::new(Api::Rest, Method::GET, "/limits"))
            .await?;
        let daily = &limits["DailyApiRequests"];
        if let (Some(max), Some(remaining)) = (daily["Max"].as_u64(), daily["Remaining"].as_u64()) {
            self.inner
                .fleet
                .report_usage(max.saturating_sub(remaining), max)
                .await?;
        }
        Ok(limits)
    }
}

/// Where a query page starts.
#[derive(Debug, Clone, Copy)]
pub enum QueryStart<'a> {
    /// A new query.
    Soql(&'a str, Scope),
    /// A `nextRecordsUrl`.
    Next(&'a str),
}
