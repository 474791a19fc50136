//! The partner API's `undelete(ids)` call: a live `SessionHeader`, one API request
//! counted, at most 200 Ids; the answer is `undeleteResponse` with one result per Id
//! (`UNDELETE_FAILED` for an Id not in the recycle bin). Its changes carry
//! `changeOrigin` `com/salesforce/api/soap/<version>`, with `;client=<id>` when the
//! `CallOptions` header names the client.

use axum::http::StatusCode;
use axum::response::Response;

use super::call::{fault, invalid_session, xml};
use super::envelope;
use crate::auth;
use crate::origin::{Api, change_origin};
use crate::state::OrgState;
use crate::undelete::{self, MAX_IDS};

/// Serves one `undelete` call at API version `v` (`62.0`).
pub fn call(
    org: &OrgState,
    v: &str,
    session_id: &str,
    client: Option<&str>,
    all_or_none: bool,
    ids: &[String],
) -> Response {
    if !auth::session_live(org, session_id) {
        return invalid_session();
    }
    if org.faults.count_request().is_err() {
        return fault(
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
            "UnexpectedErrorFault",
        );
    }
    if ids.len() > MAX_IDS {
        return fault(
            "EXCEEDED_ID_LIMIT",
            &format!(
                "record limit reached. cannot submit more than {MAX_IDS} records into this call"
            ),
            "UnexpectedErrorFault",
        );
    }
    let origin = change_origin(Api::Soap, v, client);
    let results: Vec<_> = undelete::run(org, ids, all_or_none, origin)
        .into_iter()
        .map(|r| r.map(|id| id.to_string()))
        .collect();
    xml(StatusCode::OK, envelope::undelete_response(&results))
}
