//! The router and the listener: read-only routes (`/`, `/metrics`, `/api/status`,
//! `/api/runs/{id}`) behind the token when one is set and reads are protected, the
//! enqueue route (`POST /api/runs`) always behind it, `/healthz` always open (platform
//! health checks carry no token).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::watch;

use super::auth::Token;
use super::config::WebConfig;
use super::error::{WebError, unavailable};
use super::{api, page, snapshot};
use crate::app::Services;

/// What every handler shares.
#[derive(Debug)]
pub struct WebState {
    /// Postgres and Redis.
    pub services: Services,
    /// Settings.
    pub config: WebConfig,
    /// The token's digest, when one is set.
    pub token: Option<Token>,
}

impl WebState {
    /// State for `services` under `config`.
    pub fn new(services: Services, config: WebConfig) -> WebState {
        let token = config.token.as_ref().map(Token::new);
        WebState {
            services,
            config,
            token,
        }
    }
}

/// The routes.
pub fn router(state: Arc<WebState>) -> Router {
    let reads = Router::new()
        .route("/", get(status_page))
        .route("/metrics", get(metrics))
        .route("/api/status", get(api::status))
        .route("/api/runs/{id}", get(api::run))
        .layer(middleware::from_fn_with_state(state.clone(), guard_reads));
    Router::new()
        .merge(reads)
        .route("/api/runs", post(api::create_runs))
        .route("/healthz", get(healthz))
        .with_state(state)
}

/// Serves until `shutdown` turns true.
pub async fn serve(
    state: Arc<WebState>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), WebError> {
    let addr = SocketAddr::new(state.config.bind, state.config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| WebError::Listen { addr, source })?;
    tracing::info!(%addr, token = state.token.is_some(), "web process listening");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .await
        .map_err(WebError::Serve)
}

async fn guard_reads(State(st): State<Arc<WebState>>, req: Request, next: Next) -> Response {
    match &st.token {
        Some(t) if st.config.protect_reads && !t.allows(req.headers()) => {
            let mut r = (
                StatusCode::UNAUTHORIZED,
                "this page needs the token: send `Authorization: Bearer $ORGPOOL_WEB_TOKEN`, or sign in with any user name and the token as the password\n",
            )
                .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"orgpool\", charset=\"UTF-8\""),
            );
            r
        }
        _ => next.run(req).await,
    }
}

async fn status_page(State(st): State<Arc<WebState>>) -> Response {
    match snapshot::read(&st.services).await {
        Ok(s) => page::render(&s, st.config.refresh.as_secs()).into_response(),
        Err(e) => unavailable(e),
    }
}

async fn metrics(State(st): State<Arc<WebState>>) -> Response {
    match snapshot::read(&st.services).await {
        Ok(s) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            super::metrics::render(&s),
        )
            .into_response(),
        Err(e) => unavailable(e),
    }
}

async fn healthz(State(st): State<Arc<WebState>>) -> Response {
    let pg = sqlx::query("SELECT 1")
        .execute(&st.services.pool)
        .await
        .is_ok();
    let mut conn = st.services.queues.conn();
    let redis = redis::cmd("PING")
        .query_async::<String>(&mut conn)
        .await
        .is_ok();
    let word = |ok: bool| if ok { "ok" } else { "unreachable" };
    let body = serde_json::json!({ "postgres": word(pg), "redis": word(redis) });
    let code = if pg && redis {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body)).into_response()
}
