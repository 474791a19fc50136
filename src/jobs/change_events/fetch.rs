//! Reading records by Id for what change events cannot give: a REST `queryAll` of the
//! mapping's fields (so a record in the recycle bin comes back flagged `IsDeleted`),
//! 200 Ids a query to keep the URL short. A record not returned at all is gone for
//! good. Values become text as in Salesforce's CSV, so `mirror::apply` casts them the
//! same way as the Bulk loader's.

use std::collections::BTreeSet;

use futures::TryStreamExt;
use serde_json::Value as Json;

use super::apply::cell_text;
use crate::jobs::error::JobError;
use crate::jobs::mirror_sync::select;
use crate::mirror::MirrorTable;
use crate::salesforce::{Client, Scope};

/// Ids per query.
const PER_QUERY: usize = 200;

/// The rows of `ids` as the org has them now, in the table's column order, and the Ids
/// the org no longer has.
pub async fn fetch_by_id(
    client: &Client,
    table: &MirrorTable,
    ids: &[String],
) -> Result<(Vec<Vec<Option<String>>>, Vec<String>), JobError> {
    let ids: Vec<&String> = ids.iter().filter(|id| is_id(id)).collect();
    let mut rows = Vec::new();
    for group in ids.chunks(PER_QUERY) {
        let list: Vec<String> = group.iter().map(|id| format!("'{id}'")).collect();
        let soql = format!("{} WHERE Id IN ({})", select(table), list.join(", "));
        let mut records = client.query(&soql, Scope::All);
        while let Some(r) = records.try_next().await? {
            rows.push(values(table, &r));
        }
    }
    let at = table
        .columns
        .iter()
        .position(|c| c.name == "sfid")
        .unwrap_or(0);
    let seen: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| r.get(at).cloned().flatten())
        .collect();
    let gone = ids
        .into_iter()
        .filter(|id| !seen.iter().any(|s| same_id(s, id)))
        .cloned()
        .collect();
    Ok((rows, gone))
}

/// One record's values in `table`'s column order.
pub fn values(table: &MirrorTable, record: &Json) -> Vec<Option<String>> {
    table
        .columns
        .iter()
        .map(|c| {
            let mut v = record;
            for part in c.field.split('.') {
                v = &v[part];
            }
            let text = match v {
                Json::Null => return None,
                Json::String(s) => s.clone(),
                Json::Bool(b) => b.to_string(),
                Json::Number(n) => n.to_string(),
                other => other.to_string(),
            };
            Some(cell_text(&c.pg_type, &text))
        })
        .collect()
}

/// Salesforce Ids: 15 or 18 letters and digits (spliced into SOQL only when they are).
fn is_id(s: &str) -> bool {
    matches!(s.len(), 15 | 18) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The 15-character prefix identifies a record whichever form either side uses.
fn same_id(a: &str, b: &str) -> bool {
    a.get(..15) == b.get(..15)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mirror::{Access, Column};

    #[test]
    fn values_follow_columns_and_relationship_paths() {
        let table = MirrorTable {
            object: "Contact".into(),
            schema: "salesforce".into(),
            table: "contact".into(),
            columns: vec![
                Column::plain("Id", "sfid", "varchar(18)"),
                Column::plain("Account.Ext__c", "account__r__ext__c", "text"),
                Column::plain("IsDeleted", "isdeleted", "boolean"),
                Column::plain("Amount__c", "amount__c", "numeric(18,2)"),
                Column::plain("Phone", "phone", "text"),
            ],
            access: Access::ReadOnly,
        };
        let r = serde_json::json!({
            "attributes": {"type": "Contact"},
            "Id": "003000000000001AAA", "Account": {"Ext__c": "A-1"},
            "IsDeleted": false, "Amount__c": 12.5, "Phone": null
        });
        assert_eq!(
            values(&table, &r),
            vec![
                Some("003000000000001AAA".into()),
                Some("A-1".into()),
                Some("false".into()),
                Some("12.5".into()),
                None
            ]
        );
        assert!(is_id("003000000000001AAA") && !is_id("003' OR Id != '"));
        assert!(same_id("003000000000001", "003000000000001AAA"));
    }
}
