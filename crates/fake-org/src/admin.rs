//! The fault-injection admin endpoints, served under `/__admin` only when the org runs
//! with `--admin`. Documented in `docs/fake-org.md`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::api_error::{ApiError, json_response};
use super::auth;
use super::config::ChurnSpec;
use super::faults::OutageMode;
use super::handle::{ChurnHandle, state_json};
use super::state::OrgState;
use super::validation::ValidationRule;

/// Body of `POST /__admin/faults`: every field optional, only given ones change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsPatch {
    /// Start an outage of this many seconds (0 ends one).
    pub outage_seconds: Option<f64>,
    /// `unavailable` (503, default) or `refuse` (connections refused).
    pub outage_mode: Option<OutageMode>,
    /// Latency added to every request, in ms.
    pub latency_ms: Option<u64>,
    /// Bulk job processing delay, in ms.
    pub bulk_delay_ms: Option<u64>,
    /// Share of ingest records failing with `UNABLE_TO_LOCK_ROW` (0..1).
    pub ingest_failure_rate: Option<f64>,
    /// Daily API allowance.
    pub api_limit: Option<u64>,
    /// Reset the API usage counter.
    pub reset_api_usage: Option<bool>,
    /// Expire every issued access token now.
    pub expire_tokens: Option<bool>,
    /// Replace the churn generators (`Object:inserts=N,updates=N,deletes=N`).
    pub churn: Option<Vec<String>>,
    /// Replace the validation rules in force (`[]` removes them all).
    pub validation_rules: Option<Vec<ValidationRule>>,
    /// End every open Pub/Sub subscription now (UNAVAILABLE).
    pub pubsub_drop_subscriptions: Option<bool>,
    /// Publish a gap event: `{"object": "Account", "change_type": "GAP_UPDATE", "ids": [...]}`
    /// (`GAP_CREATE`, `GAP_UPDATE`, `GAP_DELETE`, `GAP_UNDELETE` or `GAP_OVERFLOW`).
    pub pubsub_gap: Option<GapPatch>,
    /// Changes to one object in one transaction past this many become one
    /// `GAP_OVERFLOW` event (default 100,000).
    pub pubsub_overflow_threshold: Option<usize>,
    /// Change-event retention in seconds (default 259,200: 72 h).
    pub pubsub_retention_seconds: Option<f64>,
    /// Keepalive interval of idle subscriptions in ms (default 5,000).
    pub pubsub_keepalive_ms: Option<u64>,
}

/// A gap event to publish.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GapPatch {
    /// The object (`Account`).
    pub object: String,
    /// The gap change type.
    pub change_type: String,
    /// Record Ids it names (may be empty).
    #[serde(default)]
    pub ids: Vec<String>,
}

/// Body of `POST /__admin/undelete`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UndeleteBody {
    /// Record Ids of any objects.
    pub ids: Vec<String>,
    /// Roll every restore back when one Id fails (default false).
    #[serde(default)]
    pub all_or_none: bool,
}

/// `POST /__admin/undelete`: restores records from the recycle bin as the SOAP
/// `undelete` call does (no API request counted, empty `changeOrigin`), answering one
/// sObject Collections-shaped result per Id.
pub async fn post_undelete(
    State((org, _)): State<(Arc<OrgState>, ChurnHandle)>,
    Json(b): Json<UndeleteBody>,
) -> Response {
    let out: Vec<serde_json::Value> =
        crate::undelete::run(&org, &b.ids, b.all_or_none, String::new())
            .into_iter()
            .zip(&b.ids)
            .map(|(r, text)| match r {
                Ok(id) => json!({"id": id.to_string(), "success": true, "errors": []}),
                Err(e) => json!({"id": text, "success": false, "errors": [e.collection_json()]}),
            })
            .collect();
    json_response(StatusCode::OK, &serde_json::Value::Array(out))
}

/// `GET /__admin/state`.
pub async fn get_state(State((org, _)): State<(Arc<OrgState>, ChurnHandle)>) -> Response {
    json_response(StatusCode::OK, &state_json(&org))
}

/// `POST /__admin/faults`.
pub async fn post_faults(
    State((org, churn)): State<(Arc<OrgState>, ChurnHandle)>,
    Json(p): Json<FaultsPatch>,
) -> Result<Response, ApiError> {
    if let Some(r) = p.ingest_failure_rate
        && !(0.0..=1.0).contains(&r)
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            "ingest_failure_rate must be between 0 and 1",
        ));
    }
    let specs = match &p.churn {
        Some(list) => Some(
            list.iter()
                .map(|s| ChurnSpec::parse(s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "INVALID_INPUT", e))?,
        ),
        None => None,
    };
    if let Some(specs) = &specs {
        let store = org.store.read();
        if let Some(bad) = specs
            .iter()
            .find(|s| store.schema.index(&s.object).is_none())
        {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_INPUT",
                format!("churn: no object named {}", bad.object),
            ));
        }
    }
    if let Some(rules) = &p.validation_rules {
        org.store
            .write()
            .set_validation_rules(rules)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "INVALID_INPUT", e))?;
    }
    org.faults.update(|s| {
        if let Some(secs) = p.outage_seconds {
            s.outage_until = (secs > 0.0).then(|| {
                (
                    Instant::now() + Duration::from_secs_f64(secs),
                    p.outage_mode.unwrap_or(OutageMode::Unavailable),
                )
            });
        }
        if let Some(ms) = p.latency_ms {
            s.latency = Duration::from_millis(ms);
        }
        if let Some(ms) = p.bulk_delay_ms {
            s.bulk_delay = Duration::from_millis(ms);
        }
        if let Some(r) = p.ingest_failure_rate {
            s.ingest_failure_rate = r;
        }
        if let Some(l) = p.api_limit {
            s.api_limit = l;
        }
        if p.reset_api_usage == Some(true) {
            s.api_used = 0;
        }
    });
    if let Some(g) = &p.pubsub_gap
        && !crate::pubsub::events::emit_named_gap(&org, &g.object, &g.change_type, g.ids.clone())
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            format!(
                "pubsub_gap: no object {} or change type {} (use GAP_CREATE, GAP_UPDATE, GAP_DELETE, GAP_UNDELETE or GAP_OVERFLOW)",
                g.object, g.change_type
            ),
        ));
    }
    org.store.pubsub.bus.update_settings(|s| {
        if let Some(n) = p.pubsub_overflow_threshold {
            s.overflow_threshold = n;
        }
        if let Some(secs) = p.pubsub_retention_seconds {
            s.retention = Duration::from_secs_f64(secs.max(0.0));
        }
        if let Some(ms) = p.pubsub_keepalive_ms {
            s.keepalive = Duration::from_millis(ms.max(1));
        }
    });
    if p.pubsub_drop_subscriptions == Some(true) {
        org.store.pubsub.bus.drop_subscriptions();
    }
    if p.expire_tokens == Some(true) {
        auth::expire_all(&org);
    }
    if let Some(specs) = specs {
        churn.set(specs);
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({"ok": true, "state": state_json(&org)}),
    ))
}
