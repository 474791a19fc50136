//! The Pub/Sub listener: its own port, TLS with HTTP/2 (ALPN `h2`, as Salesforce
//! serves it; published clients have no plaintext mode) with the org's certificate.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use super::PubSubError;
use super::proto::pub_sub_server::PubSubServer;
use super::service::Service;
use crate::state::OrgState;

/// Binds `addr` and serves the Pub/Sub API until `stop`; returns the bound address.
pub async fn start(
    org: Arc<OrgState>,
    addr: SocketAddr,
    cert_pem: &str,
    key_pem: &str,
    stop: oneshot::Receiver<()>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), PubSubError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| PubSubError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| PubSubError::Bind { addr, source })?;
    // tonic's TLS takes the process-wide rustls provider; with both rustls backends in
    // the build none is picked by itself. Ring is the one this workspace uses.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = ServerTlsConfig::new().identity(Identity::from_pem(cert_pem, key_pem));
    let mut builder = Server::builder()
        .tls_config(tls)
        .map_err(|e| PubSubError::Tls(e.to_string()))?;
    let service = PubSubServer::new(Service { org: org.clone() });
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stop.await;
            // Open subscriptions never end on their own; end them so shutdown completes.
            org.store.pubsub.bus.drop_subscriptions();
        };
        let _ = builder
            .add_service(service)
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await;
    });
    Ok((bound, task))
}
