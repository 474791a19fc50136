//! Runs a compiled query over the store: an Id-range fast path (Id-range chunks and
//! `ORDER BY Id` paging touch only the rows they need), predicate evaluation with
//! Salesforce's semantics (case-insensitive text, nulls), sorting, offset and limit.

use std::cmp::Ordering;

use orgpool_soql::CompareOp;

use super::super::ids::RecordId;
use super::super::model::FieldType;
use super::super::store::{Row, Store};
use super::super::value::Value;
use super::compile::{Column, Compiled, Pred};
use super::dates::DateRange;

static NULL: Value = Value::Null;

/// The value of `col` for `row` (following parent references); `Null` when a parent is
/// missing.
pub fn column_value<'a>(store: &'a Store, col: &Column, row: &'a Row) -> &'a Value {
    let mut cur = row;
    for hop in &col.hops {
        let Value::Id(id) = &cur.values[hop.slot] else {
            return &NULL;
        };
        match store.table(hop.target).get(id.seq()) {
            Some(r) => cur = r,
            None => return &NULL,
        }
    }
    let def = &store.schema.objects[col.obj];
    match def.fields[col.field].slot {
        Some(s) => &cur.values[s],
        None => &NULL,
    }
}

/// Matching sequence numbers in result order, after OFFSET and LIMIT.
pub fn execute(store: &Store, q: &Compiled, include_deleted: bool) -> Vec<u64> {
    let table = store.table(q.obj);
    let (lo, hi) = id_bounds(store, q);
    let mut out: Vec<u64> = Vec::new();
    let natural = q.order.is_empty() || is_id_asc(store, q);
    // Without sorting, LIMIT/OFFSET can stop the scan early.
    let stop = if natural {
        q.limit.map(|l| l.saturating_add(q.offset.unwrap_or(0)))
    } else {
        None
    };
    for seq in lo..hi {
        let Some(row) = table.get(seq) else { continue };
        if row.deleted && !include_deleted {
            continue;
        }
        if q.filter.as_ref().is_none_or(|p| eval(store, p, row)) {
            out.push(seq);
            if stop.is_some_and(|s| out.len() as u64 >= s) {
                break;
            }
        }
    }
    if !natural {
        sort(store, q, &mut out);
    }
    let offset = q.offset.unwrap_or(0) as usize;
    if offset > 0 {
        out.drain(..offset.min(out.len()));
    }
    if let Some(l) = q.limit {
        out.truncate(l as usize);
    }
    out
}

/// The number of matching rows (`SELECT COUNT()`), honouring LIMIT.
pub fn count(store: &Store, q: &Compiled, include_deleted: bool) -> u64 {
    let table = store.table(q.obj);
    let (lo, hi) = id_bounds(store, q);
    let mut n = 0u64;
    for seq in lo..hi {
        let Some(row) = table.get(seq) else { continue };
        if row.deleted && !include_deleted {
            continue;
        }
        if q.filter.as_ref().is_none_or(|p| eval(store, p, row)) {
            n += 1;
        }
    }
    q.limit.map_or(n, |l| n.min(l))
}

fn is_id_field(store: &Store, col: &Column) -> bool {
    col.hops.is_empty() && store.schema.objects[col.obj].fields[col.field].ftype == FieldType::Id
}

fn is_id_asc(store: &Store, q: &Compiled) -> bool {
    q.order.len() == 1 && !q.order[0].1 && is_id_field(store, &q.order[0].0)
}

/// The sequence range `[lo, hi)` the top-level Id conditions allow.
fn id_bounds(store: &Store, q: &Compiled) -> (u64, u64) {
    let prefix = store.schema.objects[q.obj].key_prefix;
    let issued = store.table(q.obj).issued();
    let (mut lo, mut hi) = (1u64, issued + 1);
    let conjuncts: Vec<&Pred> = match &q.filter {
        Some(Pred::And(v)) => v.iter().collect(),
        Some(p) => vec![p],
        None => vec![],
    };
    for p in conjuncts {
        let Pred::Cmp(col, op, v) = p else { continue };
        if !is_id_field(store, col) || v.is_null() {
            continue;
        }
        // First sequence whose Id is >= (or >) the literal.
        let first = |strict: bool| -> u64 {
            let (mut a, mut b) = (1u64, issued + 1);
            while a < b {
                let mid = a + (b - a) / 2;
                let c = cmp_id(RecordId::new(prefix, mid), v);
                if c == Ordering::Greater || (!strict && c == Ordering::Equal) {
                    b = mid;
                } else {
                    a = mid + 1;
                }
            }
            a
        };
        match op {
            CompareOp::Ge => lo = lo.max(first(false)),
            CompareOp::Gt => lo = lo.max(first(true)),
            CompareOp::Lt => hi = hi.min(first(false)),
            CompareOp::Le => hi = hi.min(first(true)),
            CompareOp::Eq => {
                lo = lo.max(first(false));
                hi = hi.min(first(true));
            }
            CompareOp::Ne => {}
        }
    }
    (lo, hi.max(lo))
}

/// Compares a stored Id with an Id literal (parsed, or the first 15 characters of text).
fn cmp_id(id: RecordId, lit: &Value) -> Ordering {
    match lit {
        Value::Id(other) => id.cmp(other),
        Value::Text(t) => id.to_15().as_slice().cmp(t.as_bytes()),
        _ => Ordering::Equal,
    }
}

fn eval(store: &Store, p: &Pred, row: &Row) -> bool {
    match p {
        Pred::And(v) => v.iter().all(|x| eval(store, x, row)),
        Pred::Or(v) => v.iter().any(|x| eval(store, x, row)),
        Pred::Not(x) => !eval(store, x, row),
        Pred::Cmp(col, op, lit) => compare(column_value(store, col, row), *op, lit),
        Pred::In(col, negated, vals) => {
            let v = column_value(store, col, row);
            let hit = vals.iter().any(|l| compare(v, CompareOp::Eq, l));
            hit != *negated
        }
        Pred::Like(col, negated, pat) => {
            let hit = match column_value(store, col, row) {
                Value::Text(t) => like(&t.to_lowercase(), pat),
                Value::Id(id) => like(&id.to_string().to_lowercase(), pat),
                _ => false,
            };
            hit != *negated
        }
        Pred::Includes(col, excludes, sets) => {
            let have: Vec<String> = match column_value(store, col, row) {
                Value::Text(t) => t.split(';').map(|s| s.trim().to_lowercase()).collect(),
                _ => Vec::new(),
            };
            let hit = sets.iter().any(|set| set.iter().all(|x| have.contains(x)));
            hit != *excludes
        }
        Pred::Range(col, op, range) => in_range(column_value(store, col, row), *op, range),
    }
}

fn in_range(v: &Value, op: CompareOp, r: &DateRange) -> bool {
    let d = match v {
        Value::Date(d) => *d,
        Value::DateTime(ms) => match chrono::DateTime::from_timestamp_millis(*ms) {
            Some(dt) => dt.date_naive(),
            None => return false,
        },
        _ => return op == CompareOp::Ne,
    };
    match op {
        CompareOp::Eq => d >= r.start && d < r.end,
        CompareOp::Ne => !(d >= r.start && d < r.end),
        CompareOp::Lt => d < r.start,
        CompareOp::Le => d < r.end,
        CompareOp::Gt => d >= r.end,
        CompareOp::Ge => d >= r.start,
    }
}

/// `v op lit` with SOQL semantics: text compares case-insensitively (literals are
/// already lower-cased), null only equals null, `!=` holds for nulls.
fn compare(v: &Value, op: CompareOp, lit: &Value) -> bool {
    if lit.is_null() {
        return match op {
            CompareOp::Eq => v.is_null(),
            CompareOp::Ne => !v.is_null(),
            _ => false,
        };
    }
    if v.is_null() {
        return op == CompareOp::Ne;
    }
    let ord = match (v, lit) {
        (Value::Text(a), Value::Text(b)) => Some(cmp_ci(a, b)),
        (Value::Id(a), l) => Some(cmp_id(*a, l)),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
        (Value::DateTime(a), Value::DateTime(b)) => Some(a.cmp(b)),
        (Value::Time(a), Value::Time(b)) => Some(a.cmp(b)),
        (a, b) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => None,
        },
    };
    let Some(ord) = ord else { return false };
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
    }
}

/// Case-insensitive comparison of `a` with an already lower-cased `b`, allocation-free.
fn cmp_ci(a: &str, b: &str) -> Ordering {
    a.chars().flat_map(char::to_lowercase).cmp(b.chars())
}

/// SQL-style LIKE on lower-cased text: `%` any run, `_` one char, `\%` `\_` literal.
fn like(text: &str, pat: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let mut p: Vec<(char, bool)> = Vec::new(); // (char, is_wildcard)
    let mut it = pat.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some(n) => p.push((n, false)),
                None => p.push(('\\', false)),
            },
            '%' | '_' => p.push((c, true)),
            _ => p.push((c, false)),
        }
    }
    // Iterative matcher with backtracking on the last `%`.
    let (mut ti, mut pi) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == ('_', true) || (!p[pi].1 && p[pi].0 == t[ti])) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == ('%', true) {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == ('%', true) {
        pi += 1;
    }
    pi == p.len()
}

fn sort(store: &Store, q: &Compiled, seqs: &mut [u64]) {
    let table = store.table(q.obj);
    seqs.sort_by(|a, b| {
        let (Some(ra), Some(rb)) = (table.get(*a), table.get(*b)) else {
            return Ordering::Equal;
        };
        for (col, desc, nulls_first) in &q.order {
            let (va, vb) = (column_value(store, col, ra), column_value(store, col, rb));
            let ord = match (va.is_null(), vb.is_null()) {
                (true, true) => Ordering::Equal,
                (true, false) => {
                    if *nulls_first {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
                (false, true) => {
                    if *nulls_first {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    }
                }
                _ => {
                    let o = order_values(va, vb);
                    if *desc { o.reverse() } else { o }
                }
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        a.cmp(b)
    });
}

fn order_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Text(x), Value::Text(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Id(x), Value::Id(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
        (Value::Time(x), Value::Time(y)) => x.cmp(y),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn like_patterns() {
        assert!(like("acme corp", "acme%"));
        assert!(like("acme corp", "%corp"));
        assert!(like("acme corp", "a_me%"));
        assert!(!like("acme corp", "acme"));
        assert!(like("50% off", "50\\%%"));
        assert!(!like("50x off", "50\\%%"));
        assert!(like("", "%"));
    }
}
