//! Starting a fake org in-process and controlling it: the returned [`FakeOrg`] knows its
//! address and credentials, injects faults, reads state, and stops the server when
//! dropped or shut down.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use tokio::sync::watch;

use super::auth;
use super::config::{ChurnSpec, FakeOrgConfig};
use super::faults::OutageMode;
use super::ids::RecordId;
use super::state::OrgState;
use super::store::Store;
use super::validation::ValidationRule;

/// Replaces the churn generators of a running org.
#[derive(Debug, Clone)]
pub struct ChurnHandle(pub Arc<watch::Sender<Vec<ChurnSpec>>>);

impl ChurnHandle {
    /// Sets the generators.
    pub fn set(&self, specs: Vec<ChurnSpec>) {
        let _ = self.0.send(specs);
    }
}

/// A running fake org.
#[derive(Debug)]
pub struct FakeOrg {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT` (or https).
    pub base_url: String,
    /// With `admin`: the admin-only listener's base URL (`/__admin/...`), which stays up
    /// during a `refuse` outage.
    pub admin_url: Option<String>,
    /// The self-signed certificate (PEM) when serving TLS.
    pub cert_pem: Option<String>,
    pub(super) org: Arc<OrgState>,
    pub(super) churn: ChurnHandle,
    pub(super) shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    pub(super) task: Option<tokio::task::JoinHandle<()>>,
    /// `https://127.0.0.1:PORT` of the Pub/Sub API (gRPC), unless it is off.
    pub pubsub_url: Option<String>,
    /// The certificate (PEM) the Pub/Sub listener serves (the same as `--tls`'s).
    pub pubsub_cert_pem: String,
    pub(super) pubsub_stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub(super) pubsub_task: Option<tokio::task::JoinHandle<()>>,
}

impl FakeOrg {
    /// The settings it runs with (credentials included).
    pub fn config(&self) -> &FakeOrgConfig {
        &self.org.config
    }

    /// `{base}/services/oauth2/token`.
    pub fn token_url(&self) -> String {
        format!("{}/services/oauth2/token", self.base_url)
    }

    /// An outage of `duration` starting now.
    pub fn outage(&self, duration: Duration, mode: OutageMode) {
        self.org
            .faults
            .update(|s| s.outage_until = Some((Instant::now() + duration, mode)));
    }

    /// Ends any outage now.
    pub fn end_outage(&self) {
        self.org.faults.update(|s| s.outage_until = None);
    }

    /// Latency added to every request.
    pub fn set_latency(&self, latency: Duration) {
        self.org.faults.update(|s| s.latency = latency);
    }

    /// Bulk job processing delay.
    pub fn set_bulk_delay(&self, delay: Duration) {
        self.org.faults.update(|s| s.bulk_delay = delay);
    }

    /// Share of ingest records failing with `UNABLE_TO_LOCK_ROW`.
    pub fn set_ingest_failure_rate(&self, rate: f64) {
        self.org
            .faults
            .update(|s| s.ingest_failure_rate = rate.clamp(0.0, 1.0));
    }

    /// Daily API allowance (and optionally reset the usage counter).
    pub fn set_api_limit(&self, limit: u64, reset_usage: bool) {
        self.org.faults.update(|s| {
            s.api_limit = limit;
            if reset_usage {
                s.api_used = 0;
            }
        });
    }

    /// `(used, limit)` API requests.
    pub fn api_usage(&self) -> (u64, u64) {
        self.org.faults.usage()
    }

    /// Expires every access token; returns how many there were.
    pub fn expire_tokens(&self) -> usize {
        auth::expire_all(&self.org)
    }

    /// Replaces the validation rules in force (empty removes them); the error names the
    /// bad rule.
    pub fn set_validation_rules(&self, rules: &[ValidationRule]) -> Result<(), String> {
        self.org.store.write().set_validation_rules(rules)
    }

    /// Replaces the churn generators.
    pub fn set_churn(&self, specs: Vec<ChurnSpec>) {
        self.churn.set(specs);
    }

    /// Runs `f` with read access to the records.
    pub fn with_store<R>(&self, f: impl FnOnce(&Store) -> R) -> R {
        f(&self.org.store.read())
    }

    /// Runs `f` with write access to the records (test set-up).
    pub fn with_store_mut<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.org.store.write())
    }

    /// Live (not deleted) records of `object`.
    pub fn count(&self, object: &str) -> usize {
        let store = self.org.store.read();
        store
            .schema
            .index(object)
            .map_or(0, |o| store.table(o).live())
    }

    /// A value of a record by field name, as REST JSON shows it.
    pub fn field(&self, object: &str, id: &str, field: &str) -> Option<Json> {
        let store = self.org.store.read();
        let obj = store.schema.index(object)?;
        let id = RecordId::parse(id)?;
        let def = &store.schema.objects[obj];
        let row = store.table(obj).get(id.seq())?;
        Some(row.values[def.field(field)?.slot?].to_json())
    }

    /// A summary of state (counts, faults, usage), as `/__admin/state` returns it.
    pub fn state(&self) -> Json {
        state_json(&self.org)
    }

    /// The org's event state (bus settings, retained events, gap injection).
    pub fn pubsub(&self) -> &crate::pubsub::PubSubState {
        &self.org.store.pubsub
    }

    /// The org Id (`00D...`), the Pub/Sub `tenantid`.
    pub fn org_id(&self) -> &str {
        &self.org.org_id
    }

    /// Publishes a gap event (`GAP_CREATE` .. `GAP_UNDELETE`, or `GAP_OVERFLOW`) for
    /// `ids` of `object`; false for an unknown object or change type.
    pub fn emit_gap(&self, object: &str, change_type: &str, ids: Vec<String>) -> bool {
        crate::pubsub::events::emit_named_gap(&self.org, object, change_type, ids)
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(tx) = self.pubsub_stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.pubsub_task.take() {
            let _ = t.await;
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for FakeOrg {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(tx) = self.pubsub_stop.take() {
            let _ = tx.send(());
        }
    }
}

/// State summary shared by the handle and the admin endpoint.
pub fn state_json(org: &OrgState) -> Json {
    let f = org.faults.snapshot();
    let store = org.store.read();
    let counts: serde_json::Map<String, Json> = store
        .schema
        .objects
        .iter()
        .enumerate()
        .map(|(i, o)| {
            (
                o.name.clone(),
                json!({"live": store.table(i).live(), "deleted": store.table(i).deleted()}),
            )
        })
        .collect();
    json!({
        "objects": counts,
        "api_usage": {"used": f.api_used, "limit": f.api_limit},
        "outage_seconds_left": f.outage_until.map(|(t, _)| t.saturating_duration_since(Instant::now()).as_secs_f64()).unwrap_or(0.0),
        "latency_ms": f.latency.as_millis() as u64,
        "bulk_delay_ms": f.bulk_delay.as_millis() as u64,
        "ingest_failure_rate": f.ingest_failure_rate,
        "validation_rules": store.validation_rules(),
        "pubsub": {
            "events_retained": org.store.pubsub.bus.len(),
            "latest_replay_id": org.store.pubsub.bus.latest(),
        },
        "tokens": org.tokens.lock().len(),
        "query_jobs": org.query_jobs.lock().len(),
        "ingest_jobs": org.ingest_jobs.lock().len(),
    })
}
