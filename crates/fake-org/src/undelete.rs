//! Undeleting records by Id, for the SOAP `undelete` call and `POST /__admin/undelete`:
//! each Id resolved to its object by key prefix, the whole call one transaction (so one
//! UNDELETE event per object and change), results in request order, and with
//! `allOrNone` every restore rolled back when one Id fails, as the partner API's
//! `AllOrNoneHeader` does.

use super::ids::RecordId;
use super::record_error::RecordError;
use super::state::OrgState;

/// Ids per call, as for the partner API's other by-Id calls.
pub const MAX_IDS: usize = 200;

/// Undeletes `ids`; `origin` is the call's `changeOrigin` (empty for admin).
pub fn run(
    org: &OrgState,
    ids: &[String],
    all_or_none: bool,
    origin: String,
) -> Vec<Result<RecordId, RecordError>> {
    let mut store = org.store.write_from(origin);
    let mut undo = Vec::new();
    let mut results = Vec::with_capacity(ids.len());
    for text in ids {
        let r = (|| {
            let id = RecordId::parse(text).ok_or_else(|| malformed(text))?;
            let obj = store
                .schema
                .index_by_prefix(id.prefix())
                .ok_or_else(|| malformed(text))?;
            undo.extend(store.undelete(obj, id)?);
            Ok(id)
        })();
        results.push(r);
    }
    if all_or_none && results.iter().any(Result::is_err) {
        for (obj, seq, row) in undo.into_iter().rev() {
            store.restore(obj, seq, Some(row));
        }
        for r in &mut results {
            if r.is_ok() {
                *r = Err(rolled_back());
            }
        }
    }
    results
}

fn malformed(text: &str) -> RecordError {
    RecordError::with_fields("MALFORMED_ID", format!("malformed id {text}"), vec![])
}

fn rolled_back() -> RecordError {
    RecordError::new(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "Record rolled back because not all records were valid and the request was using AllOrNone header",
    )
}
