//! The churn generator: a background task making N inserts, updates and deletes per
//! second on chosen objects, so sync jobs have changes to find. Inserts clone a random
//! live record's writable fields (unique fields cleared), updates rewrite a descriptive
//! field, deletes move a random record to the recycle bin.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::watch;

use super::config::ChurnSpec;
use super::ids::RecordId;
use super::model::FieldType;
use super::state::OrgState;
use super::store::{Assign, Input, Store};
use super::value::Value;

const TICK: Duration = Duration::from_millis(100);

/// Runs until `specs` is closed.
pub async fn run(org: Arc<OrgState>, mut specs: watch::Receiver<Vec<ChurnSpec>>) {
    let mut carry: Vec<[f64; 3]> = Vec::new();
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            changed = specs.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
        let current = specs.borrow().clone();
        carry.resize(current.len(), [0.0; 3]);
        if current.is_empty() {
            continue;
        }
        let mut store = org.store.write();
        let mut rng = rand::rng();
        for (spec, c) in current.iter().zip(carry.iter_mut()) {
            let Some(obj) = store.schema.index(&spec.object) else {
                continue;
            };
            // Fractional rates accumulate across ticks.
            let rates = [spec.inserts, spec.updates, spec.deletes];
            for (k, rate) in rates.iter().enumerate() {
                c[k] += rate * TICK.as_secs_f64();
                while c[k] >= 1.0 {
                    c[k] -= 1.0;
                    n += 1;
                    match k {
                        0 => insert(&mut store, obj, &mut rng, n),
                        1 => update(&mut store, obj, &mut rng, n),
                        _ => delete(&mut store, obj, &mut rng),
                    }
                }
            }
        }
    }
}

fn random_live(store: &Store, obj: usize, rng: &mut impl Rng) -> Option<RecordId> {
    let t = store.table(obj);
    if t.live() == 0 {
        return None;
    }
    for _ in 0..32 {
        let seq = rng.random_range(1..=t.issued());
        if t.get(seq).is_some_and(|r| !r.deleted) {
            return Some(RecordId::new(store.schema.objects[obj].key_prefix, seq));
        }
    }
    None
}

fn insert(store: &mut Store, obj: usize, rng: &mut impl Rng, n: u64) {
    let Some(src) = random_live(store, obj, rng) else {
        return;
    };
    let schema = store.schema.clone();
    let def = &schema.objects[obj];
    let Some(row) = store.table(obj).get(src.seq()) else {
        return;
    };
    let mut assigns: Vec<Assign> = def
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.createable && !f.unique && f.slot.is_some())
        .filter_map(|(i, f)| {
            let v = row.values[f.slot?].clone();
            (!v.is_null()).then_some(Assign {
                field: i,
                input: Input::Value(v),
            })
        })
        .collect();
    if let Some(i) = def
        .field_index("Name")
        .filter(|i| def.fields[*i].createable)
    {
        assigns.retain(|a| a.field != i);
        assigns.push(Assign {
            field: i,
            input: Input::Value(Value::text(&format!("Churn {} {n}", def.name))),
        });
    }
    let _ = store.create(obj, assigns, None);
}

fn update(store: &mut Store, obj: usize, rng: &mut impl Rng, n: u64) {
    let Some(id) = random_live(store, obj, rng) else {
        return;
    };
    let def = &store.schema.objects[obj];
    let field = ["Description", "NextStep", "Title", "Name"]
        .iter()
        .filter_map(|f| def.field_index(f))
        .find(|i| {
            def.fields[*i].updateable
                && matches!(
                    def.fields[*i].ftype,
                    FieldType::String | FieldType::TextArea
                )
        });
    let Some(field) = field else { return };
    let assigns = vec![Assign {
        field,
        input: Input::Value(Value::text(&format!("churn update {n}"))),
    }];
    let _ = store.update(obj, id, assigns, None);
}

fn delete(store: &mut Store, obj: usize, rng: &mut impl Rng) {
    if let Some(id) = random_live(store, obj, rng) {
        let _ = store.delete(obj, id);
    }
}
