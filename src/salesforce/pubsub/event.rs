//! A change event as orgpool keeps it: the Change Data Capture header fields a sync
//! needs and the record's field values as text (the form Salesforce's CSV uses), so
//! the inbox row can be applied without the Avro schema it arrived in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `ChangeEventHeader.changeType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeType {
    /// A record was created.
    Create,
    /// A record was updated.
    Update,
    /// A record was deleted (to the recycle bin, or for good).
    Delete,
    /// A record came back from the recycle bin.
    Undelete,
    /// Salesforce could not produce the CREATE event: read the records.
    GapCreate,
    /// ... the UPDATE event.
    GapUpdate,
    /// ... the DELETE event.
    GapDelete,
    /// ... the UNDELETE event.
    GapUndelete,
    /// Too many changes in one transaction: the records are not even named.
    GapOverflow,
    /// A snapshot event (not requested by orgpool; ignored).
    Snapshot,
}

impl ChangeType {
    /// From the Avro enum symbol.
    pub fn parse(symbol: &str) -> Option<ChangeType> {
        Some(match symbol {
            "CREATE" => ChangeType::Create,
            "UPDATE" => ChangeType::Update,
            "DELETE" => ChangeType::Delete,
            "UNDELETE" => ChangeType::Undelete,
            "GAP_CREATE" => ChangeType::GapCreate,
            "GAP_UPDATE" => ChangeType::GapUpdate,
            "GAP_DELETE" => ChangeType::GapDelete,
            "GAP_UNDELETE" => ChangeType::GapUndelete,
            "GAP_OVERFLOW" => ChangeType::GapOverflow,
            "SNAPSHOT" => ChangeType::Snapshot,
            _ => return None,
        })
    }

    /// Whether the event only says that changes happened, without their data.
    pub fn is_gap(self) -> bool {
        matches!(
            self,
            ChangeType::GapCreate
                | ChangeType::GapUpdate
                | ChangeType::GapDelete
                | ChangeType::GapUndelete
                | ChangeType::GapOverflow
        )
    }

    /// The stable snake_case label (metrics, logs).
    pub fn label(self) -> &'static str {
        match self {
            ChangeType::Create => "create",
            ChangeType::Update => "update",
            ChangeType::Delete => "delete",
            ChangeType::Undelete => "undelete",
            ChangeType::GapCreate => "gap_create",
            ChangeType::GapUpdate => "gap_update",
            ChangeType::GapDelete => "gap_delete",
            ChangeType::GapUndelete => "gap_undelete",
            ChangeType::GapOverflow => "gap_overflow",
            ChangeType::Snapshot => "snapshot",
        }
    }
}

/// One decoded change event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// What happened.
    pub change_type: ChangeType,
    /// `entityName`.
    pub entity: String,
    /// The records the same change hit.
    pub record_ids: Vec<String>,
    /// Field values by API name. CREATE and UNDELETE: every non-null field (a field
    /// absent is null). UPDATE: the changed fields only, `None` for a nulled one.
    pub values: BTreeMap<String, Option<String>>,
    /// `commitTimestamp`, epoch milliseconds.
    pub commit_ms: i64,
    /// `commitUser`.
    pub commit_user: String,
    /// `changeOrigin` (`com/salesforce/api/rest/62.0;client=orgpool`), often empty.
    pub origin: String,
    /// `transactionKey`.
    pub transaction_key: String,
}

impl Event {
    /// Whether the values are the whole record (absent fields are null).
    pub fn is_whole(&self) -> bool {
        matches!(self.change_type, ChangeType::Create | ChangeType::Undelete)
    }

    /// Whether orgpool's own client made the change (`client=orgpool` in
    /// `changeOrigin`, which orgpool's calls set with `Sforce-Call-Options`).
    pub fn is_own(&self) -> bool {
        self.origin
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("client="))
            .any(|c| c == super::CLIENT_NAME)
    }
}
