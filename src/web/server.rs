//! The router and the listener: read-only routes (`/`, the console's `/runs`,
//! `/runs/{id}` and `/mappings/{object}`, `/metrics`, `/api/status`, `/api/runs/{id}`)
//! behind a token when one is set and reads are protected ([`super::access`]), the
//! console's POST forms and the enqueue route (`POST /api/runs`) always behind the
//! operator token, `/login` and `/healthz` always open (platform health checks carry
//! no token).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Extension, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::watch;

use super::access::{self, Access};
use super::auth::Token;
use super::config::WebConfig;
use super::error::{WebError, unavailable};
use super::{actions, api, mapping_page, page, run_page, runs_page, snapshot};
use crate::app::Services;

/// What every handler shares.
#[derive(Debug)]
pub struct WebState {
    /// Postgres and Redis.
    pub services: Services,
    /// Settings.
    pub config: WebConfig,
    /// The operator token's digest, when one is set.
    pub token: Option<Token>,
    /// The read-only token's digest, when one is set.
    pub read_token: Option<Token>,
}

impl WebState {
    /// State for `services` under `config`.
    pub fn new(services: Services, config: WebConfig) -> WebState {
        let token = config.token.as_ref().map(Token::new);
        let read_token = config.read_token.as_ref().map(Token::new);
        WebState {
            services,
            config,
            token,
            read_token,
        }
    }
}

/// The routes.
pub fn router(state: Arc<WebState>) -> Router {
    let reads = Router::new()
        .route("/", get(status_page))
        .route("/runs", get(runs_page::list))
        .route("/runs/{id}", get(run_page::show))
        .route("/mappings/{object}", get(mapping_page::show))
        .route("/metrics", get(metrics))
        .route("/api/status", get(api::status))
        .route("/api/runs/{id}", get(api::run))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            access::guard_reads,
        ));
    // Each action checks the operator token, the origin and the CSRF token itself, so
    // a refusal can say which failed.
    let actions = Router::new()
        .route("/runs", post(actions::start_run))
        .route("/runs/{id}/retry", post(actions::retry_run))
        .route("/runs/{id}/cancel", post(actions::cancel_run))
        .route("/chunks/{id}/retry", post(actions::retry_chunk))
        .route("/mappings/{object}/pause", post(actions::pause))
        .route("/mappings/{object}/resume", post(actions::resume));
    Router::new()
        .merge(reads)
        .merge(actions)
        .route("/login", get(access::login_form).post(access::login))
        .route("/logout", post(access::logout))
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

async fn status_page(
    State(st): State<Arc<WebState>>,
    Extension(access): Extension<Access>,
) -> Response {
    match snapshot::read(&st.services).await {
        Ok(s) => page::render(&s, &access, st.config.refresh.as_secs()).into_response(),
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
