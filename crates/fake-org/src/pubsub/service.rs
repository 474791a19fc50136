//! The `eventbus.v1.PubSub` service: auth by the `accesstoken` / `instanceurl` /
//! `tenantid` metadata (the REST tokens), GetTopic, GetSchema and Subscribe; publishing
//! answers UNIMPLEMENTED (change events are published by the org, not by clients).

use std::pin::Pin;
use std::sync::Arc;

use tokio_stream::Stream;
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status, Streaming};

use super::proto::pub_sub_server::PubSub;
use super::proto::{
    FetchRequest, FetchResponse, ManagedFetchRequest, ManagedFetchResponse, PublishRequest,
    PublishResponse, SchemaInfo, SchemaRequest, TopicInfo, TopicRequest,
};
use super::subscribe;
use super::topic::Topic;
use crate::auth;
use crate::state::OrgState;

/// The service over one org.
#[derive(Debug, Clone)]
pub struct Service {
    /// The org.
    pub org: Arc<OrgState>,
}

type Out<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A status carrying Salesforce's `error-code` trailer and an rpc id in the message.
pub fn status(code: tonic::Code, error_code: &str, message: &str) -> Status {
    let mut s = Status::new(code, format!("{message} rpcId: {}", super::bus::uuid_v4()));
    if let Ok(v) = error_code.parse() {
        s.metadata_mut().insert("error-code", v);
    }
    s
}

/// UNAUTHENTICATED unless the metadata carries a live token and this org's tenant id.
pub fn check_auth(org: &OrgState, md: &MetadataMap) -> Result<(), Status> {
    let get = |k: &str| md.get(k).and_then(|v| v.to_str().ok()).unwrap_or("");
    let tenant = get("tenantid");
    let tenant_ok = !tenant.is_empty() && org.org_id.starts_with(&tenant[..tenant.len().min(15)]);
    if !auth::session_live(org, get("accesstoken")) || get("instanceurl").is_empty() || !tenant_ok {
        return Err(status(
            tonic::Code::Unauthenticated,
            "sfdc.platform.eventbus.grpc.service.auth.error",
            "An authentication exception occurred.",
        ));
    }
    Ok(())
}

fn unknown_topic(name: &str) -> Status {
    status(
        tonic::Code::NotFound,
        "sfdc.platform.eventbus.grpc.topic.not.found",
        &format!("Topic {name} not found or the user lacks permission to access it."),
    )
}

#[tonic::async_trait]
impl PubSub for Service {
    type SubscribeStream = Out<FetchResponse>;
    type PublishStreamStream = Out<PublishResponse>;
    type ManagedSubscribeStream = Out<ManagedFetchResponse>;

    async fn subscribe(
        &self,
        request: Request<Streaming<FetchRequest>>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        check_auth(&self.org, request.metadata())?;
        let token = request
            .metadata()
            .get("accesstoken")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let rx = subscribe::start(self.org.clone(), token, request.into_inner());
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn get_schema(
        &self,
        request: Request<SchemaRequest>,
    ) -> Result<Response<SchemaInfo>, Status> {
        check_auth(&self.org, request.metadata())?;
        let id = request.into_inner().schema_id;
        let store = self.org.store.read();
        let s = self
            .org
            .store
            .pubsub
            .schema_by_id(&store, &id)
            .ok_or_else(|| {
                status(
                    tonic::Code::NotFound,
                    "sfdc.platform.eventbus.grpc.schema.not.found",
                    &format!("Schema {id} not found."),
                )
            })?;
        Ok(Response::new(SchemaInfo {
            schema_json: s.json.clone(),
            schema_id: s.id.clone(),
            rpc_id: super::bus::uuid_v4(),
        }))
    }

    async fn get_topic(
        &self,
        request: Request<TopicRequest>,
    ) -> Result<Response<TopicInfo>, Status> {
        check_auth(&self.org, request.metadata())?;
        let name = request.into_inner().topic_name;
        let store = self.org.store.read();
        let topic = Topic::parse(&store, &name).ok_or_else(|| unknown_topic(&name))?;
        // The all-objects channel has no schema of its own; each event names its own.
        let obj = match topic {
            Topic::Object(o) => o,
            Topic::All => store.schema.index("Account").unwrap_or(0),
        };
        let schema_id = self
            .org
            .store
            .pubsub
            .schema(&store, obj)
            .map(|s| s.id.clone())
            .unwrap_or_default();
        Ok(Response::new(TopicInfo {
            topic_name: name,
            tenant_guid: self.org.org_id.clone(),
            can_publish: false,
            can_subscribe: true,
            schema_id,
            rpc_id: super::bus::uuid_v4(),
        }))
    }

    async fn publish(
        &self,
        request: Request<PublishRequest>,
    ) -> Result<Response<PublishResponse>, Status> {
        check_auth(&self.org, request.metadata())?;
        Err(Status::unimplemented(
            "the fake org publishes change events itself; Publish is not served",
        ))
    }

    async fn publish_stream(
        &self,
        request: Request<Streaming<PublishRequest>>,
    ) -> Result<Response<Self::PublishStreamStream>, Status> {
        check_auth(&self.org, request.metadata())?;
        Err(Status::unimplemented(
            "the fake org publishes change events itself; PublishStream is not served",
        ))
    }

    async fn managed_subscribe(
        &self,
        request: Request<Streaming<ManagedFetchRequest>>,
    ) -> Result<Response<Self::ManagedSubscribeStream>, Status> {
        check_auth(&self.org, request.metadata())?;
        Err(Status::unimplemented(
            "ManagedSubscribe (beta) is not served by the fake org; use Subscribe",
        ))
    }
}
