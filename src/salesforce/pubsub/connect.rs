//! The Pub/Sub API client: one TLS HTTP/2 channel to `SALESFORCE_PUBSUB_URL`, the
//! session of the REST client (`accesstoken`, `instanceurl` and `tenantid` metadata on
//! every call; the org id comes from `/services/oauth2/userinfo` once), topic and
//! schema lookups (schemas cached by id: they change only when the object's fields
//! do), and subscriptions with flow control.

use std::collections::HashMap;
use std::sync::Arc;

use orgpool_pubsub_proto::pub_sub_client::PubSubClient;
use orgpool_pubsub_proto::{
    FetchRequest, FetchResponse, ReplayPreset, SchemaRequest, TopicRequest,
};
use reqwest::Method;
use tokio::sync::mpsc;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use super::decode::EventSchema;
use super::error::PubSubError;
use crate::salesforce::auth::Session;
use crate::salesforce::{Api, Client, Request};

/// Where a subscription starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// Only events published from now on.
    Latest,
    /// Everything the retention window still holds.
    Earliest,
    /// The events after this replay id.
    After(Vec<u8>),
}

/// A connected Pub/Sub API client.
#[derive(Clone)]
pub struct PubSub {
    client: Client,
    grpc: PubSubClient<Channel>,
    org_id: Arc<tokio::sync::OnceCell<String>>,
    /// The login generation of the latest call's session.
    generation: Arc<std::sync::atomic::AtomicU64>,
    schemas: Arc<parking_lot::Mutex<HashMap<String, Arc<EventSchema>>>>,
}

impl std::fmt::Debug for PubSub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PubSub").finish_non_exhaustive()
    }
}

/// An open subscription.
pub struct Subscription {
    requests: mpsc::Sender<FetchRequest>,
    responses: tonic::Streaming<FetchResponse>,
    topic: String,
    /// The login generation the stream was opened with (refresh replaces exactly it).
    pub generation: u64,
}

impl PubSub {
    /// A client for `url` (`https://host:port`) that trusts the REST client's extra CA
    /// certificate too. Connecting is lazy: the first call connects.
    pub fn new(client: &Client, url: &str) -> Result<PubSub, PubSubError> {
        let mut tls = ClientTlsConfig::new().with_webpki_roots();
        if let Some(pem) = &client.config().ca_cert_pem {
            tls = tls.ca_certificate(Certificate::from_pem(pem));
        }
        let endpoint = Endpoint::from_shared(url.to_string())
            .map_err(|e| PubSubError::Config(format!("SALESFORCE_PUBSUB_URL {url:?}: {e}")))?
            .tls_config(tls)
            .map_err(|e| PubSubError::Config(format!("TLS for {url}: {e}")))?
            .http2_keep_alive_interval(std::time::Duration::from_secs(30))
            .keep_alive_while_idle(true)
            .connect_timeout(client.config().connect_timeout);
        Ok(PubSub {
            client: client.clone(),
            grpc: PubSubClient::new(endpoint.connect_lazy())
                .max_decoding_message_size(64 * 1024 * 1024),
            org_id: Arc::default(),
            generation: Arc::default(),
            schemas: Arc::default(),
        })
    }

    async fn authed<T>(&self, msg: T) -> Result<(tonic::Request<T>, u64), PubSubError> {
        let session = self.client.session().await?;
        let org = self
            .org_id
            .get_or_try_init(|| async {
                let info: serde_json::Value = self
                    .client
                    .get_json(Request::new(
                        Api::Rest,
                        Method::GET,
                        "/services/oauth2/userinfo",
                    ))
                    .await?;
                info["organization_id"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| PubSubError::Decode("userinfo has no organization_id".into()))
            })
            .await?
            .clone();
        self.generation
            .store(session.generation, std::sync::atomic::Ordering::Relaxed);
        Ok((metadata(msg, &session, &org)?, session.generation))
    }

    /// Logs in again after the Pub/Sub API refused the session of `generation` (None:
    /// the one the latest call used). Several streams refused at once cost one login.
    pub async fn refresh(&self, generation: Option<u64>) -> Result<(), PubSubError> {
        let stale = generation
            .unwrap_or_else(|| self.generation.load(std::sync::atomic::Ordering::Relaxed));
        self.client.refresh_session(stale).await?;
        Ok(())
    }

    /// The schema id of `topic`'s events.
    pub async fn topic_schema_id(&self, topic: &str) -> Result<String, PubSubError> {
        let (req, _) = self
            .authed(TopicRequest {
                topic_name: topic.to_string(),
            })
            .await?;
        let info = self
            .grpc
            .clone()
            .get_topic(req)
            .await
            .map_err(|s| PubSubError::from_status(&s))?
            .into_inner();
        if !info.can_subscribe {
            return Err(PubSubError::Refused {
                code: "PermissionDenied".into(),
                message: format!("the integration user cannot subscribe to {topic}"),
            });
        }
        Ok(info.schema_id)
    }

    /// The parsed schema `id` (cached).
    pub async fn schema(&self, id: &str) -> Result<Arc<EventSchema>, PubSubError> {
        if let Some(s) = self.schemas.lock().get(id).cloned() {
            return Ok(s);
        }
        let (req, _) = self
            .authed(SchemaRequest {
                schema_id: id.to_string(),
            })
            .await?;
        let info = self
            .grpc
            .clone()
            .get_schema(req)
            .await
            .map_err(|s| PubSubError::from_status(&s))?
            .into_inner();
        let parsed = Arc::new(EventSchema::parse(&info.schema_json)?);
        self.schemas.lock().insert(id.to_string(), parsed.clone());
        Ok(parsed)
    }

    /// Subscribes to `topic` from `start`, asking for `credit` events.
    pub async fn subscribe(
        &self,
        topic: &str,
        start: &Start,
        credit: i32,
    ) -> Result<Subscription, PubSubError> {
        let (preset, replay_id) = match start {
            Start::Latest => (ReplayPreset::Latest, Vec::new()),
            Start::Earliest => (ReplayPreset::Earliest, Vec::new()),
            Start::After(id) => (ReplayPreset::Custom, id.clone()),
        };
        let (tx, rx) = mpsc::channel(16);
        let first = FetchRequest {
            topic_name: topic.to_string(),
            replay_preset: preset as i32,
            replay_id,
            num_requested: credit,
            auth_refresh: String::new(),
        };
        tx.send(first)
            .await
            .map_err(|_| PubSubError::Unavailable("request stream closed".into()))?;
        let (req, generation) = self
            .authed(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await?;
        let responses = self
            .grpc
            .clone()
            .subscribe(req)
            .await
            .map_err(|s| PubSubError::from_status(&s))?
            .into_inner();
        Ok(Subscription {
            requests: tx,
            responses,
            topic: topic.to_string(),
            generation,
        })
    }
}

impl Subscription {
    /// The next response (events, or a keepalive with none); None when the server
    /// ended the stream.
    pub async fn next(&mut self) -> Result<Option<FetchResponse>, PubSubError> {
        self.responses
            .message()
            .await
            .map_err(|s| PubSubError::from_status(&s))
    }

    /// Asks for `n` more events (credit adds up; the position does not move).
    pub async fn request(&self, n: i32) -> Result<(), PubSubError> {
        self.requests
            .send(FetchRequest {
                topic_name: self.topic.clone(),
                num_requested: n,
                ..FetchRequest::default()
            })
            .await
            .map_err(|_| {
                PubSubError::Unavailable("the subscription's request stream closed".into())
            })
    }
}

fn metadata<T>(msg: T, s: &Session, org: &str) -> Result<tonic::Request<T>, PubSubError> {
    let mut r = tonic::Request::new(msg);
    let md = r.metadata_mut();
    let value = |v: &str, what: &str| {
        v.parse()
            .map_err(|_| PubSubError::Config(format!("the {what} is not a valid header value")))
    };
    md.insert(
        "accesstoken",
        value(s.access_token.expose(), "access token")?,
    );
    md.insert("instanceurl", value(&s.instance_url, "instance URL")?);
    md.insert("tenantid", value(org, "org id")?);
    Ok(r)
}
