//! The accept loops and the connections they serve (plain or TLS, HTTP/1.1 with
//! Salesforce's header spellings).
//!
//! A `refuse` outage closes the API listener, so new connections are refused, and cuts
//! every open API connection, so a client's pooled keep-alive connection meets the
//! outage too; the same port is bound again when the outage ends or is ended. With
//! `--admin` a second listener serves only `/__admin`; it never closes, so an outage can
//! be inspected and ended early through it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::Extensions;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tower::ServiceExt;
use tower_http::normalize_path::NormalizePath;

use super::faults::OutageMode;
use super::state::OrgState;

/// How long a cut connection may take to finish the response it is writing (the admin
/// call that started the outage gets its answer); then the socket is closed regardless.
const CUT_GRACE: Duration = Duration::from_secs(2);

/// What every connection is served with.
#[derive(Clone)]
pub struct Serving {
    /// TLS, when serving https.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Salesforce's header spellings, copied into every response.
    pub spellings: Arc<Extensions>,
}

/// The listeners of one org.
pub struct Listeners {
    /// The API listener and its address (bound again at that address after an outage).
    pub api: (TcpListener, SocketAddr),
    /// The admin-only listener, with `--admin`.
    pub admin: Option<TcpListener>,
}

/// Serves `app` on the API listener and `admin` on the admin listener until `stop`.
/// Open connections are cut when it returns.
pub async fn run(
    org: Arc<OrgState>,
    listeners: Listeners,
    serving: Serving,
    app: Router,
    admin: Router,
    stop: oneshot::Receiver<()>,
) {
    // Dropped on return: every connection of both listeners then winds down.
    let (admin_cut, _) = watch::channel(0u64);
    let admin_loop = async {
        match listeners.admin {
            Some(l) => accept_forever(l, &serving, admin, &admin_cut).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = api_loop(org, listeners.api, &serving, app, stop) => {}
        _ = admin_loop => {}
    }
}

async fn api_loop(
    org: Arc<OrgState>,
    (listener, addr): (TcpListener, SocketAddr),
    serving: &Serving,
    app: Router,
    mut stop: oneshot::Receiver<()>,
) {
    let service = NormalizePath::trim_trailing_slash(app);
    let (cut, _) = watch::channel(0u64);
    let mut changes = org.faults.subscribe();
    let mut listener = Some(listener);
    loop {
        changes.borrow_and_update();
        if let Some((OutageMode::Refuse, until)) = org.faults.outage() {
            listener = None;
            cut.send_modify(|n| *n = n.wrapping_add(1));
            tokio::select! {
                _ = tokio::time::sleep_until(until.into()) => {}
                _ = changes.changed() => {}
                _ = &mut stop => return,
            }
            continue;
        }
        if listener.is_none() {
            let Some(l) = rebind(addr, &mut stop).await else {
                return;
            };
            listener = Some(l);
        }
        let Some(l) = &listener else { continue };
        let accepted = tokio::select! {
            a = l.accept() => a,
            _ = changes.changed() => continue,
            _ = &mut stop => return,
        };
        if let Ok((stream, _)) = accepted {
            spawn_conn(stream, serving, service.clone(), cut.subscribe());
        }
    }
}

/// Binds `addr` again (the old socket may linger a moment); `None` when stopped.
async fn rebind(addr: SocketAddr, stop: &mut oneshot::Receiver<()>) -> Option<TcpListener> {
    loop {
        if let Ok(l) = TcpListener::bind(addr).await {
            return Some(l);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            _ = &mut *stop => return None,
        }
    }
}

async fn accept_forever(
    listener: TcpListener,
    serving: &Serving,
    app: Router,
    cut: &watch::Sender<u64>,
) {
    let service = NormalizePath::trim_trailing_slash(app);
    loop {
        if let Ok((stream, _)) = listener.accept().await {
            spawn_conn(stream, serving, service.clone(), cut.subscribe());
        }
    }
}

fn spawn_conn(
    stream: TcpStream,
    serving: &Serving,
    service: NormalizePath<Router>,
    cut: watch::Receiver<u64>,
) {
    let _ = stream.set_nodelay(true);
    let serving = serving.clone();
    tokio::spawn(async move {
        match &serving.tls {
            Some(acceptor) => {
                if let Ok(s) = acceptor.accept(stream).await {
                    serve_conn(s, service, serving.spellings, cut).await;
                }
            }
            None => serve_conn(stream, service, serving.spellings, cut).await,
        }
    });
}

/// Serves one connection until it ends or `cut` changes (or its sender goes away).
async fn serve_conn<I>(
    io: I,
    service: NormalizePath<Router>,
    spellings: Arc<Extensions>,
    mut cut: watch::Receiver<u64>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let hyper_svc =
        hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let response = service.clone().oneshot(req.map(axum::body::Body::new));
            let spellings = spellings.clone();
            async move {
                let mut resp = response.await?;
                resp.extensions_mut().extend((*spellings).clone());
                Ok::<_, std::convert::Infallible>(resp)
            }
        });
    let builder = Builder::new(TokioExecutor::new()).title_case_headers(true);
    let conn = builder.serve_connection(TokioIo::new(io), hyper_svc);
    tokio::pin!(conn);
    cut.borrow_and_update();
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = cut.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(CUT_GRACE, conn).await;
        }
    }
}
