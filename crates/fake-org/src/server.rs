//! Starting a fake org: schema, seeded store, routes, and the listeners (served by
//! `accept`: plain or TLS, with `refuse` outages and the admin-only listener).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post, put};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tower_http::compression::CompressionLayer;

use super::accept::{self, Listeners, Serving};
use super::api_error::not_found_fallback;
use super::handle::{ChurnHandle, FakeOrg};
use super::schema::Schema;
use super::seed::{SeedSummary, seed};
use super::state::OrgState;
use super::store::Store;
use super::{
    FakeOrgConfig, admin, auth, bulk, bulk1, churn, header_case, middleware, pubsub, rest, soap,
    tls, userinfo,
};

/// Why a fake org could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The schema file was refused.
    #[error(transparent)]
    Schema(#[from] super::schema_file::SchemaError),
    /// Seeding failed (a bug, or a schema file that breaks standard objects).
    #[error("seeding failed: {0}")]
    Seed(String),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}; pick another --listen address")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TLS set-up failed.
    #[error("{0}")]
    Tls(String),
}

/// Builds the org's data from the config (schema file + seeding), without serving.
pub fn build_store(config: &FakeOrgConfig) -> Result<(Store, SeedSummary), StartError> {
    let schema = Arc::new(Schema::load(config.schema_file.as_deref())?);
    let mut store = Store::new(schema, &config.username);
    let summary = seed(&mut store, &config.seed).map_err(|e| StartError::Seed(e.message))?;
    let rules = store.schema.validation_rules.clone();
    store
        .set_validation_rules(&rules)
        .map_err(StartError::Seed)?;
    Ok((store, summary))
}

/// Starts a fake org in-process with seeded data.
pub async fn start(config: FakeOrgConfig) -> Result<FakeOrg, StartError> {
    let (store, _) = tokio::task::block_in_place(|| build_store(&config))?;
    serve(config, store).await
}

/// Serves `store` per `config`.
pub async fn serve(config: FakeOrgConfig, store: Store) -> Result<FakeOrg, StartError> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    // One certificate for both listeners: Pub/Sub is always TLS, REST with --tls.
    let (tls_cfg, pem, key_pem) = tls::self_signed().map_err(StartError::Tls)?;
    if let Some(path) = &config.tls_cert_out {
        std::fs::write(path, &pem)
            .map_err(|e| StartError::Tls(format!("cannot write {}: {e}", path.display())))?;
    }
    let (tls, cert_pem) = if config.tls {
        (
            Some(tokio_rustls::TlsAcceptor::from(tls_cfg)),
            Some(pem.clone()),
        )
    } else {
        (None, None)
    };
    let pubsub_listen = config.pubsub_listen;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let base_url = format!("{scheme}://{addr}");
    let churn_specs = config.churn.clone();
    let admin_on = config.admin;
    // Its own port on the same address, so admin stays reachable in a `refuse` outage.
    let admin_listener = if admin_on {
        let at = SocketAddr::new(addr.ip(), 0);
        let l = TcpListener::bind(at)
            .await
            .map_err(|source| StartError::Bind { addr: at, source })?;
        let admin_addr = l
            .local_addr()
            .map_err(|source| StartError::Bind { addr: at, source })?;
        Some((l, format!("{scheme}://{admin_addr}")))
    } else {
        None
    };
    let (admin_listener, admin_url) = admin_listener.unzip();
    let org = Arc::new(OrgState::new(config, store));
    let _ = org.base_url.set(base_url.clone());
    let (churn_tx, churn_rx) = watch::channel(churn_specs);
    let churn = ChurnHandle(Arc::new(churn_tx));
    tokio::spawn(churn::run(org.clone(), churn_rx));
    let app = router(org.clone(), churn.clone(), admin_on);
    let admin_app =
        with_error_bodies(Router::new().nest("/__admin", admin_routes(org.clone(), churn.clone())));
    let (stop_tx, stop_rx) = oneshot::channel();
    let serving = Serving {
        tls,
        spellings: Arc::new(header_case::spellings().await),
    };
    let listeners = Listeners {
        api: (listener, addr),
        admin: admin_listener,
    };
    let (pubsub_stop, pubsub_rx) = oneshot::channel();
    let pubsub = match pubsub_listen {
        Some(at) => {
            let (bound, task) = pubsub::listen::start(org.clone(), at, &pem, &key_pem, pubsub_rx)
                .await
                .map_err(|e| StartError::Tls(e.to_string()))?;
            Some((format!("https://{bound}"), task))
        }
        None => None,
    };
    let (pubsub_url, pubsub_task) = pubsub.unzip();
    let task = tokio::spawn(accept::run(
        org.clone(),
        listeners,
        serving,
        app,
        admin_app,
        stop_rx,
    ));
    Ok(FakeOrg {
        addr,
        base_url,
        admin_url,
        cert_pem,
        org,
        churn,
        shutdown: Some(stop_tx),
        task: Some(task),
        pubsub_url,
        pubsub_cert_pem: pem,
        pubsub_stop: Some(pubsub_stop),
        pubsub_task,
    })
}

fn router(org: Arc<OrgState>, churn: ChurnHandle, admin_on: bool) -> Router {
    use rest::{composite, describe, query, records, versions};
    let api = Router::new()
        .route("/", get(versions::resources))
        .route("/limits", get(versions::limits))
        .route("/sobjects", get(describe::global))
        .route(
            "/sobjects/{obj}",
            get(describe::basic).post(records::create),
        )
        .route("/sobjects/{obj}/describe", get(describe::describe))
        .route(
            "/sobjects/{obj}/{id}",
            get(records::get)
                .patch(records::update)
                .delete(records::delete),
        )
        .route(
            "/sobjects/{obj}/{field}/{value}",
            get(records::get_by_external).patch(records::upsert),
        )
        .route("/query", get(|s, v, h, q| query::start(s, v, h, q, false)))
        .route(
            "/queryAll",
            get(|s, v, h, q| query::start(s, v, h, q, true)),
        )
        .route("/query/{locator}", get(query::more))
        .route("/queryAll/{locator}", get(query::more))
        .route(
            "/composite/sobjects",
            post(composite::create)
                .patch(composite::update)
                .delete(composite::delete),
        )
        .route("/composite/sobjects/{obj}", get(composite::retrieve))
        .route(
            "/composite/sobjects/{obj}/{field}",
            axum::routing::patch(composite::upsert),
        )
        .route(
            "/jobs/query",
            post(bulk::create_query).get(bulk::list_query),
        )
        .route(
            "/jobs/query/{id}",
            get(bulk::get_query)
                .patch(bulk::patch_query)
                .delete(bulk::delete_query),
        )
        .route("/jobs/query/{id}/results", get(bulk::results))
        .route(
            "/jobs/ingest",
            post(bulk::create_ingest).get(bulk::list_ingest),
        )
        .route(
            "/jobs/ingest/{id}",
            get(bulk::get_ingest)
                .patch(bulk::patch_ingest)
                .delete(bulk::delete_ingest),
        )
        // Salesforce takes up to 150 MB per ingest upload; axum's default is 2 MB.
        .route(
            "/jobs/ingest/{id}/batches",
            put(bulk::upload).layer(axum::extract::DefaultBodyLimit::max(INGEST_UPLOAD_MAX)),
        )
        .route("/jobs/ingest/{id}/{kind}", get(bulk::ingest_results))
        .route_layer(from_fn_with_state(org.clone(), middleware::api))
        .with_state(org.clone());
    let mut app = Router::new()
        .route("/services/oauth2/token", post(auth::token))
        .route("/services/oauth2/userinfo", get(userinfo::userinfo))
        .route("/services/data", get(versions::versions))
        .route("/id/{org}/{user}", get(versions::identity))
        .with_state(org.clone())
        .nest("/services/data/{version}", api)
        .merge(soap::routes(org.clone()))
        .merge(bulk1::routes(org.clone()))
        .layer(from_fn_with_state(org.clone(), middleware::faults));
    // The admin routes stay outside the fault gate, so an outage can be ended early.
    if admin_on {
        app = app.nest("/__admin", admin_routes(org, churn));
    }
    // Fastest: on a local link the compression is the bottleneck, not the bytes.
    with_error_bodies(app).layer(
        CompressionLayer::new()
            .gzip(true)
            .quality(tower_http::CompressionLevel::Fastest),
    )
}

fn admin_routes(org: Arc<OrgState>, churn: ChurnHandle) -> Router {
    Router::new()
        .route("/state", get(admin::get_state))
        .route("/faults", post(admin::post_faults))
        .route("/undelete", post(admin::post_undelete))
        .with_state((org, churn))
}

/// Unknown paths get Salesforce's 404 body and unknown methods its 405 body, not
/// axum's empty ones. The 405 rewrite wraps the whole router (as its fallback service):
/// a `layer` would run inside each route, before axum adds the `Allow` header.
fn with_error_bodies(app: Router) -> Router {
    Router::new()
        .fallback_service(app.fallback(not_found_fallback))
        .layer(from_fn(middleware::method_not_allowed))
}

/// The largest ingest upload Salesforce accepts (150 MB).
pub const INGEST_UPLOAD_MAX: usize = 150 * 1024 * 1024;
