//! Splitting work into balanced chunks with `COUNT()` queries, never downloading Ids.
//! An object is cut into Id ranges: Salesforce Ids (15-character, case-sensitive
//! base62, in byte order) are read as numbers, the span between the smallest and the
//! largest is divided evenly by the expected number of chunks, each range is counted,
//! and a range over twice the target is halved and counted again; small neighbours are
//! then merged. Ids grow roughly in creation order, so even division is close to right
//! and the calls stay about one per chunk: for 100,000,000 rows at 50,000 a chunk that
//! is some 2,000 to 3,000 `COUNT()` calls (a few percent of a typical daily allowance),
//! whatever the row width. A backlog of changes is cut the same way by time windows.

use chrono::{DateTime, Duration, Utc};

use crate::salesforce::{Client, QueryStart, Scope, SfError};

/// Records with `lo <= Id < hi` (None: unbounded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdRange {
    /// Start (a 15-character Id prefix).
    pub lo: Option<String>,
    /// End.
    pub hi: Option<String>,
    /// Records counted in it.
    pub count: u64,
}

/// Records with `since <= SystemModstamp < until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Start.
    pub since: DateTime<Utc>,
    /// End.
    pub until: DateTime<Utc>,
    /// Records counted in it.
    pub count: u64,
}

const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn digit(c: u8) -> Option<u128> {
    DIGITS.iter().position(|d| *d == c).map(|p| p as u128)
}

/// A 15-character Id as a number.
pub fn id_value(id: &str) -> Option<u128> {
    let b = id.as_bytes();
    if b.len() < 15 {
        return None;
    }
    b[..15]
        .iter()
        .try_fold(0u128, |acc, c| Some(acc * 62 + digit(*c)?))
}

/// A number as a 15-character Id.
pub fn id_text(mut v: u128) -> String {
    let mut out = [b'0'; 15];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(v % 62) as usize];
        v /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The SOQL condition for a range (None when it is everything). Bounds are base62, so
/// anything else is dropped rather than spliced.
pub fn range_where(lo: Option<&str>, hi: Option<&str>) -> Option<String> {
    let clean = |s: &str| {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
    };
    let mut parts = Vec::new();
    if let Some(l) = lo {
        parts.push(format!("Id >= '{}'", clean(l)));
    }
    if let Some(h) = hi {
        parts.push(format!("Id < '{}'", clean(h)));
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

/// Records of `object` in a range: live ones, or with [`Scope::All`] the recycle bin's
/// too (queryAll).
pub async fn count_range(
    client: &Client,
    object: &str,
    lo: Option<&str>,
    hi: Option<&str>,
    scope: Scope,
) -> Result<u64, SfError> {
    let mut soql = format!("SELECT COUNT() FROM {object}");
    if let Some(w) = range_where(lo, hi) {
        soql = format!("{soql} WHERE {w}");
    }
    match scope {
        Scope::Live => client.count(&soql).await,
        Scope::All => Ok(client
            .query_page(QueryStart::Soql(&soql, Scope::All))
            .await?
            .total_size),
    }
}

async fn edge_id(
    client: &Client,
    object: &str,
    order: &str,
    scope: Scope,
) -> Result<Option<String>, SfError> {
    use futures::TryStreamExt;
    let soql = format!("SELECT Id FROM {object} ORDER BY Id {order} LIMIT 1");
    let rows: Vec<serde_json::Value> = client.query(&soql, scope).try_collect().await?;
    Ok(rows
        .first()
        .and_then(|r| r["Id"].as_str())
        .map(|s| s.chars().take(15).collect()))
}

/// Id ranges of `object` with about `target` live records each (each at most twice
/// that, unless a single Id step holds more).
pub async fn plan_ranges(
    client: &Client,
    object: &str,
    target: u64,
) -> Result<Vec<IdRange>, SfError> {
    plan_ranges_in(client, object, target, Scope::Live).await
}

/// [`plan_ranges`] over the records of `scope`: with [`Scope::All`] deleted records in
/// the recycle bin count too (a mapping with `deleted = "keep"`).
pub async fn plan_ranges_in(
    client: &Client,
    object: &str,
    target: u64,
    scope: Scope,
) -> Result<Vec<IdRange>, SfError> {
    let target = target.max(1);
    let total = count_range(client, object, None, None, scope).await?;
    let whole = || {
        vec![IdRange {
            lo: None,
            hi: None,
            count: total,
        }]
    };
    if total <= target * 2 {
        return Ok(whole());
    }
    let (Some(min), Some(max)) = (
        edge_id(client, object, "ASC", scope).await?,
        edge_id(client, object, "DESC", scope).await?,
    ) else {
        return Ok(whole());
    };
    let (Some(a), Some(b)) = (id_value(&min), id_value(&max)) else {
        return Ok(whole());
    };
    let (a, b) = (a, b + 1);
    let pieces = total.div_ceil(target) as u128;
    let span = b.saturating_sub(a).max(1);
    let mut cuts: Vec<u128> = (1..pieces).map(|i| a + span * i / pieces).collect();
    cuts.dedup();
    // Work list of numeric ranges [lo, hi); the outer ends stay unbounded in SOQL.
    let mut bounds = vec![a];
    bounds.extend(cuts);
    bounds.push(b);
    let mut todo: Vec<(u128, u128)> = bounds.windows(2).map(|w| (w[0], w[1])).rev().collect();
    let mut done: Vec<(u128, u128, u64)> = Vec::new();
    while let Some((lo, hi)) = todo.pop() {
        let (l, h) = (text_bound(lo, a), text_bound(hi, b));
        let n = count_range(client, object, l.as_deref(), h.as_deref(), scope).await?;
        if n > target * 2 && hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            todo.push((mid, hi));
            todo.push((lo, mid));
        } else {
            done.push((lo, hi, n));
        }
    }
    let mut out: Vec<IdRange> = Vec::new();
    for (lo, hi, n) in done {
        let small = |c: u64| c < target / 2;
        if let Some(last) = out.last_mut()
            && (small(last.count) || small(n))
            && last.count + n <= target * 2
        {
            last.hi = text_bound(hi, b);
            last.count += n;
            continue;
        }
        out.push(IdRange {
            lo: text_bound(lo, a),
            hi: text_bound(hi, b),
            count: n,
        });
    }
    Ok(out)
}

/// The outermost bounds stay open, so records created after planning are not missed.
fn text_bound(v: u128, edge: u128) -> Option<String> {
    (v != edge).then(|| id_text(v))
}

fn soql_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Splits `[since, until)` of `object`'s `SystemModstamp` into windows of about
/// `target` records (never below one second).
pub async fn plan_windows(
    client: &Client,
    object: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    target: u64,
) -> Result<Vec<Window>, SfError> {
    let target = target.max(1);
    let mut todo = vec![(since, until)];
    let mut done: Vec<Window> = Vec::new();
    while let Some((s, u)) = todo.pop() {
        let n = client
            .count(&format!(
                "SELECT COUNT() FROM {object} WHERE SystemModstamp >= {} AND SystemModstamp < {}",
                soql_time(s),
                soql_time(u)
            ))
            .await?;
        let secs = (u - s).num_seconds();
        if n > target * 2 && secs > 1 {
            let mid = s + Duration::seconds(secs / 2);
            todo.push((mid, u));
            todo.push((s, mid));
        } else {
            done.push(Window {
                since: s,
                until: u,
                count: n,
            });
        }
    }
    let mut out: Vec<Window> = Vec::new();
    for w in done {
        if let Some(last) = out.last_mut()
            && last.count + w.count <= target
        {
            last.until = w.until;
            last.count += w.count;
            continue;
        }
        out.push(w);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_numbers_round_trip_in_byte_order() {
        let a = "0065g00000AbCdE";
        let v = id_value(a).unwrap();
        assert_eq!(id_text(v), a);
        assert!(id_value("0065g00000AbCdF").unwrap() > v);
        assert!(id_value("0065g00000AbCda").unwrap() > id_value("0065g00000AbCdZ").unwrap());
        assert_eq!(
            id_value("0065g00000AbCdEAAQ"),
            Some(v),
            "18-character Ids use their first 15"
        );
        assert_eq!(id_value("short"), None);
        assert_eq!(id_value("0065g00000AbC-E"), None);
        let x = id_text(v + 1);
        assert!(x.as_str() > a, "numeric order is byte order");
    }

    #[test]
    fn range_conditions_are_plain_and_clean() {
        assert_eq!(range_where(None, None), None);
        assert_eq!(range_where(Some("006A"), None).unwrap(), "Id >= '006A'");
        assert_eq!(
            range_where(Some("006A"), Some("006B")).unwrap(),
            "Id >= '006A' AND Id < '006B'"
        );
        assert_eq!(range_where(None, Some("00' OR x")).unwrap(), "Id < '00ORx'");
    }
}
