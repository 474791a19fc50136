//! `query` / `queryAll` with `nextRecordsUrl` paging (`<queryId>-<offset>` locators) and
//! the `Sforce-Query-Options: batchSize=N` hint (200..2000, default 2000). A cursor stays
//! readable, last page included (clients retry it), until it has been idle for its
//! lifetime or too many newer ones push it out.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value as Json, json};

use super::super::api_error::{ApiError, json_response};
use super::super::middleware::ApiVersion;
use super::super::query::{compile, count, execute, record_json};
use super::super::state::{Cursor, OrgState};

/// "QueryLocator objects expire automatically after 15 minutes of inactivity" (SOAP API
/// Developer Guide, QueryLocator; the same cursors serve REST `nextRecordsUrl`).
/// Since v56.0 the limits cheatsheet gives "available for 2 days" instead; 15 idle
/// minutes is the stricter of the two.
const CURSOR_IDLE: Duration = Duration::from_secs(15 * 60);

/// Open cursors kept at most; beyond it the least recently read goes. Salesforce
/// dropped its 10-per-user cap in v56.0; this bound only keeps memory in check (a
/// cursor holds its matching row numbers).
const MAX_CURSORS: usize = 500;

fn batch_size(headers: &HeaderMap) -> usize {
    headers
        .get("Sforce-Query-Options")
        .and_then(|h| h.to_str().ok())
        .and_then(|s| {
            s.split(',').find_map(|kv| {
                kv.trim()
                    .strip_prefix("batchSize=")
                    .and_then(|n| n.trim().parse::<usize>().ok())
            })
        })
        .map(|n| n.clamp(200, 2000))
        .unwrap_or(2000)
}

/// `GET /query?q=` and `GET /queryAll?q=`.
pub async fn start(
    State(org): State<Arc<OrgState>>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    all: bool,
) -> Result<Response, ApiError> {
    let Some(text) = params.get("q") else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_QUERY",
            "A query string has to be specified",
        ));
    };
    let org2 = org.clone();
    let text = text.clone();
    let batch = batch_size(&headers);
    // A large scan should not stall the async workers.
    tokio::task::spawn_blocking(move || run(&org2, &text, all, batch, &v))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UNKNOWN_EXCEPTION",
                "query failed",
            )
        })?
}

fn run(org: &OrgState, text: &str, all: bool, batch: usize, v: &str) -> Result<Response, ApiError> {
    let store = org.store.read();
    let q = compile(&store.schema, text).map_err(|e| ApiError::query(&e))?;
    if q.count_only {
        let n = count(&store, &q, all);
        return Ok(json_response(
            StatusCode::OK,
            &json!({"totalSize": n, "done": true, "records": []}),
        ));
    }
    let seqs = Arc::new(execute(&store, &q, all));
    let cursor = Cursor {
        obj: q.obj,
        columns: q.columns,
        seqs,
        batch,
        touched: Instant::now(),
    };
    let body = page(&store, &cursor, 0, None, v);
    if cursor.seqs.len() > batch {
        let id = org.new_id(b"01g");
        let body = page(&store, &cursor, 0, Some(&id), v);
        keep(&mut org.cursors.lock(), id, cursor);
        return Ok(json_response(StatusCode::OK, &body));
    }
    Ok(json_response(StatusCode::OK, &body))
}

/// Adds a cursor, dropping expired ones and then the least recently read over the cap.
fn keep(cursors: &mut HashMap<String, Cursor>, id: String, cursor: Cursor) {
    cursors.retain(|_, c| c.touched.elapsed() < CURSOR_IDLE);
    while cursors.len() >= MAX_CURSORS {
        let Some(oldest) = cursors
            .iter()
            .min_by_key(|(_, c)| c.touched)
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        cursors.remove(&oldest);
    }
    cursors.insert(id, cursor);
}

fn page(
    store: &super::super::store::Store,
    c: &Cursor,
    offset: usize,
    id: Option<&str>,
    v: &str,
) -> Json {
    let end = (offset + c.batch).min(c.seqs.len());
    let records: Vec<Json> = c.seqs[offset.min(end)..end]
        .iter()
        .filter_map(|s| store.table(c.obj).get(*s))
        .map(|row| record_json(store, c.obj, row, &c.columns, v))
        .collect();
    let done = end >= c.seqs.len();
    let mut body = json!({"totalSize": c.seqs.len(), "done": done, "records": records});
    if let (false, Some(id)) = (done, id) {
        body["nextRecordsUrl"] = json!(format!("/services/data/{v}/query/{id}-{end}"));
    }
    body
}

/// `GET /query/{locator}` (and `/queryAll/{locator}`).
pub async fn more(
    State(org): State<Arc<OrgState>>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let locator = p.get("locator").cloned().unwrap_or_default();
    let invalid = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY_LOCATOR",
            "invalid query locator",
        )
    };
    let (id, offset) = locator.rsplit_once('-').ok_or_else(invalid)?;
    let offset: usize = offset.parse().map_err(|_| invalid())?;
    let store = org.store.read();
    let mut cursors = org.cursors.lock();
    let c = cursors.get_mut(id).ok_or_else(invalid)?;
    if c.touched.elapsed() >= CURSOR_IDLE {
        cursors.remove(id);
        return Err(invalid());
    }
    if offset > c.seqs.len() {
        return Err(invalid());
    }
    c.touched = Instant::now();
    // Kept after its last page too, so a retried read of that page still works.
    let body = page(&store, c, offset, Some(id), &v);
    Ok(json_response(StatusCode::OK, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(touched: Instant) -> Cursor {
        Cursor {
            obj: 0,
            columns: Vec::new(),
            seqs: Arc::new(Vec::new()),
            batch: 200,
            touched,
        }
    }

    #[test]
    fn keep_drops_expired_then_least_recently_read() {
        let now = Instant::now();
        let mut cursors = HashMap::new();
        for i in 0..MAX_CURSORS {
            let touched = now - Duration::from_secs(1 + i as u64);
            cursors.insert(format!("c{i}"), cursor(touched));
        }
        // Full: the least recently read one goes.
        let oldest = format!("c{}", MAX_CURSORS - 1);
        keep(&mut cursors, "new".into(), cursor(now));
        assert_eq!(cursors.len(), MAX_CURSORS);
        assert!(!cursors.contains_key(&oldest));
        assert!(cursors.contains_key("c0") && cursors.contains_key("new"));
        // An expired one goes whatever the count (if the clock reaches back that far:
        // a monotonic clock starts at boot).
        let Some(expired) = now.checked_sub(CURSOR_IDLE + Duration::from_secs(1)) else {
            return;
        };
        if let Some(c) = cursors.get_mut("c0") {
            c.touched = expired;
        }
        cursors.remove("c1");
        keep(&mut cursors, "newer".into(), cursor(now));
        assert!(!cursors.contains_key("c0"));
        assert_eq!(cursors.len(), MAX_CURSORS - 1);
    }
}
