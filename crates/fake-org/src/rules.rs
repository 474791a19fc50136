//! Object-specific behaviour Salesforce applies on save: derived names, Opportunity stage
//! flags, price-book lookups and line pricing for OpportunityLineItem and QuoteLineItem,
//! and the roll-ups to Opportunity (Amount) and Quote (Subtotal, TotalPrice, Discount,
//! GrandTotal, LineItemCount). Money is computed in decimal, never binary floating
//! point, and rounded to cents with ties up, as Salesforce does (4640.275 -> 4640.28).

use std::str::FromStr;

use chrono::Datelike;
use rust_decimal::{Decimal, RoundingStrategy};

use super::ids::RecordId;
use super::record_error::RecordError;
use super::standard::STAGES;
use super::store::Store;
use super::value::{Value, round_scale};

/// Fills derived fields of a record about to be written and checks cross-record rules.
pub fn derive(
    store: &Store,
    obj: usize,
    values: &mut [Value],
    old: Option<&[Value]>,
) -> Result<(), RecordError> {
    let schema = store.schema.clone();
    let def = &schema.objects[obj];
    let slot = |n: &str| def.try_slot(n);
    let get = |values: &[Value], n: &str| slot(n).map(|s| values[s].clone()).unwrap_or(Value::Null);
    match def.name.as_str() {
        "Contact" | "User" => {
            let first = get(values, "FirstName");
            let last = get(values, "LastName");
            let name = match (first.as_str(), last.as_str()) {
                (Some(f), Some(l)) => format!("{f} {l}"),
                (None, Some(l)) => l.to_string(),
                (Some(f), None) => f.to_string(),
                _ => String::new(),
            };
            set(values, slot("Name"), Value::text(&name));
        }
        "Opportunity" => {
            let stage = get(values, "StageName");
            let old_stage = old.and_then(|o| slot("StageName").map(|s| o[s].clone()));
            if let Some(&(_, prob, forecast, closed, won)) = stage
                .as_str()
                .and_then(|s| STAGES.iter().find(|x| x.0 == s))
            {
                set(values, slot("IsClosed"), Value::Bool(closed));
                set(values, slot("IsWon"), Value::Bool(won));
                let stage_changed = old_stage.as_ref() != Some(&stage);
                if (stage_changed && old.is_some()) || get(values, "Probability").is_null() {
                    set(values, slot("Probability"), Value::Num(f64::from(prob)));
                }
                if stage_changed || get(values, "ForecastCategoryName").is_null() {
                    set(values, slot("ForecastCategoryName"), Value::text(forecast));
                }
                let category = match forecast {
                    "Best Case" => "BestCase",
                    "Commit" => "Forecast",
                    other => other,
                };
                set(values, slot("ForecastCategory"), Value::text(category));
            }
            if let (Some(a), Some(p)) = (
                get(values, "Amount").as_f64().and_then(dec),
                get(values, "Probability").as_f64().and_then(dec),
            ) {
                let expected = cents(a * p / Decimal::ONE_HUNDRED);
                set(values, slot("ExpectedRevenue"), money(expected));
            } else {
                set(values, slot("ExpectedRevenue"), Value::Null);
            }
            if let Value::Date(d) = get(values, "CloseDate") {
                set(values, slot("FiscalYear"), Value::Int(i64::from(d.year())));
                set(
                    values,
                    slot("FiscalQuarter"),
                    Value::Int(i64::from(d.month0() / 3 + 1)),
                );
            }
        }
        "PricebookEntry" => {
            if let Some(p) = get(values, "Product2Id").as_id() {
                let (pobj, seq) = (obj_of(store, p), p.seq());
                set(values, slot("Name"), store.value_of(pobj, seq, "Name"));
                set(
                    values,
                    slot("ProductCode"),
                    store.value_of(pobj, seq, "ProductCode"),
                );
            }
        }
        "OpportunityLineItem" => {
            let pbe = get(values, "PricebookEntryId").as_id();
            if let Some(pbe) = pbe {
                let pobj = obj_of(store, pbe);
                let list = store.value_of(pobj, pbe.seq(), "UnitPrice");
                let product = store.value_of(pobj, pbe.seq(), "Product2Id");
                let opp = get(values, "OpportunityId").as_id();
                if let Some(opp) = opp {
                    let book = store.value_of(obj_of(store, opp), opp.seq(), "Pricebook2Id");
                    let entry_book = store.value_of(pobj, pbe.seq(), "Pricebook2Id");
                    if !book.is_null() && book != entry_book {
                        return Err(RecordError::with_fields(
                            "FIELD_INTEGRITY_EXCEPTION",
                            "field integrity exception: PricebookEntryId (pricebook entry is in a different pricebook than the one assigned to the opportunity)",
                            vec!["PricebookEntryId".into()],
                        ));
                    }
                    let opp_name = store.value_of(obj_of(store, opp), opp.seq(), "Name");
                    let product_name = product
                        .as_id()
                        .map(|p| store.value_of(obj_of(store, p), p.seq(), "Name"))
                        .unwrap_or(Value::Null);
                    let name = format!(
                        "{} {}",
                        opp_name.as_str().unwrap_or(""),
                        product_name.as_str().unwrap_or("")
                    );
                    set(values, slot("Name"), Value::text(name.trim()));
                }
                set(values, slot("ListPrice"), list.clone());
                set(values, slot("Product2Id"), product.clone());
                if let Some(p) = product.as_id() {
                    set(
                        values,
                        slot("ProductCode"),
                        store.value_of(obj_of(store, p), p.seq(), "ProductCode"),
                    );
                }
                let qty = get(values, "Quantity").as_f64().unwrap_or(0.0);
                if get(values, "UnitPrice").is_null() {
                    match get(values, "TotalPrice").as_f64() {
                        Some(t) if qty != 0.0 && old.is_none() => set(
                            values,
                            slot("UnitPrice"),
                            Value::Num(round_scale(t / qty, 2)),
                        ),
                        _ => set(values, slot("UnitPrice"), list),
                    }
                }
            }
            price_line(values, &slot);
        }
        "Quote" => {
            if let Some(opp) = get(values, "OpportunityId").as_id() {
                let oobj = obj_of(store, opp);
                set(
                    values,
                    slot("AccountId"),
                    store.value_of(oobj, opp.seq(), "AccountId"),
                );
                if get(values, "Pricebook2Id").is_null() && old.is_none() {
                    set(
                        values,
                        slot("Pricebook2Id"),
                        store.value_of(oobj, opp.seq(), "Pricebook2Id"),
                    );
                }
            }
            let amount = |n: &str| get(values, n).as_f64().and_then(dec).unwrap_or_default();
            let sum = amount("TotalPrice") + amount("Tax") + amount("ShippingHandling");
            set(values, slot("GrandTotal"), money(cents(sum)));
        }
        "QuoteLineItem" => {
            if let (Some(pbe), Some(quote)) = (
                get(values, "PricebookEntryId").as_id(),
                get(values, "QuoteId").as_id(),
            ) {
                let pobj = obj_of(store, pbe);
                let book = store.value_of(obj_of(store, quote), quote.seq(), "Pricebook2Id");
                let entry_book = store.value_of(pobj, pbe.seq(), "Pricebook2Id");
                if book.is_null() || book != entry_book {
                    return Err(RecordError::with_fields(
                        "FIELD_INTEGRITY_EXCEPTION",
                        "field integrity exception: PricebookEntryId (pricebook entry is in a different pricebook than the one assigned to the quote, or the quote has no pricebook)",
                        vec!["PricebookEntryId".into()],
                    ));
                }
                let product = store.value_of(pobj, pbe.seq(), "Product2Id");
                let given = get(values, "Product2Id");
                if !given.is_null() && given != product {
                    return Err(RecordError::with_fields(
                        "FIELD_INTEGRITY_EXCEPTION",
                        "field integrity exception: Product2Id (the product does not match the pricebook entry's product)",
                        vec!["Product2Id".into()],
                    ));
                }
                set(values, slot("Product2Id"), product);
                set(
                    values,
                    slot("ListPrice"),
                    store.value_of(pobj, pbe.seq(), "UnitPrice"),
                );
            }
            price_line(values, &slot);
        }
        _ => {}
    }
    Ok(())
}

/// `Subtotal = Quantity x UnitPrice`, `TotalPrice = Subtotal x (1 - Discount%)`, to cents.
fn price_line(values: &mut [Value], slot: &dyn Fn(&str) -> Option<usize>) {
    let get = |values: &[Value], n: &str| slot(n).and_then(|s| values[s].as_f64()).and_then(dec);
    let (Some(qty), Some(unit)) = (get(values, "Quantity"), get(values, "UnitPrice")) else {
        return;
    };
    let discount = get(values, "Discount").unwrap_or(Decimal::ZERO);
    let Some((subtotal, total)) = line_total(qty, unit, discount) else {
        return;
    };
    set(values, slot("Subtotal"), money(subtotal));
    set(values, slot("TotalPrice"), money(total));
}

/// A line's `(Subtotal, TotalPrice)`: `quantity x unit price` to cents, then less the
/// discount (percent), to cents; ties round up (away from zero). None on overflow.
pub fn line_total(qty: Decimal, unit: Decimal, discount: Decimal) -> Option<(Decimal, Decimal)> {
    let subtotal = cents(qty.checked_mul(unit)?);
    let kept = Decimal::ONE_HUNDRED.checked_sub(discount)?;
    let total = cents(
        subtotal
            .checked_mul(kept)?
            .checked_div(Decimal::ONE_HUNDRED)?,
    );
    Some((subtotal, total))
}

/// To cents, ties away from zero (Salesforce's rounding of currency).
pub fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A stored number as the decimal it was written as: values are kept rounded to their
/// field's scale, and the shortest text that reads back as the same double is that
/// decimal (4884.5, not 4884.4999999999998).
fn dec(n: f64) -> Option<Decimal> {
    if !n.is_finite() {
        return None;
    }
    Decimal::from_str(&n.to_string()).ok()
}

fn money(d: Decimal) -> Value {
    Value::Num(rust_decimal::prelude::ToPrimitive::to_f64(&d).unwrap_or(0.0))
}

fn set(values: &mut [Value], slot: Option<usize>, v: Value) {
    if let Some(s) = slot {
        values[s] = v;
    }
}

fn obj_of(store: &Store, id: RecordId) -> usize {
    store.schema.index_by_prefix(id.prefix()).unwrap_or(0)
}

/// Roll-ups after a record was created or updated.
pub fn after_write(store: &mut Store, obj: usize, seq: u64, _old: Option<&[Value]>) {
    let values = match store.table(obj).get(seq) {
        Some(r) => r.values.clone(),
        None => return,
    };
    rollup_parent(store, obj, &values);
}

/// Roll-ups after a record was deleted (its last values).
pub fn after_delete(store: &mut Store, obj: usize, values: &[Value]) {
    rollup_parent(store, obj, values);
}

fn rollup_parent(store: &mut Store, obj: usize, values: &[Value]) {
    let schema = store.schema.clone();
    let def = &schema.objects[obj];
    let (parent_field, parent_name) = match def.name.as_str() {
        "OpportunityLineItem" => ("OpportunityId", "Opportunity"),
        "QuoteLineItem" => ("QuoteId", "Quote"),
        _ => return,
    };
    let Some(link) = def.try_slot(parent_field) else {
        return;
    };
    let Some(parent) = values[link].as_id() else {
        return;
    };
    let Some(pobj) = schema.index(parent_name) else {
        return;
    };
    let pdef = &schema.objects[pobj];
    let t = store.table(obj);
    let mut subtotal = Decimal::ZERO;
    let mut total = Decimal::ZERO;
    let mut qty = 0.0;
    let mut count = 0i64;
    for c in t.children_of(link, parent.seq()) {
        if let Some(row) = t.get(*c).filter(|r| !r.deleted) {
            let g = |n: &str| def.try_slot(n).and_then(|s| row.values[s].as_f64());
            subtotal += g("Subtotal").and_then(dec).unwrap_or_default();
            total += g("TotalPrice").and_then(dec).unwrap_or_default();
            qty += g("Quantity").unwrap_or(0.0);
            count += 1;
        }
    }
    let (subtotal, total) = (cents(subtotal), cents(total));
    let ps = |n: &str| pdef.try_slot(n);
    let mut pairs: Vec<(usize, Value)> = Vec::new();
    if parent_name == "Opportunity" {
        if count > 0 {
            push(&mut pairs, ps("Amount"), money(total));
            push(
                &mut pairs,
                ps("TotalOpportunityQuantity"),
                Value::Num(round_scale(qty, 2)),
            );
            let prob = store.value_of(pobj, parent.seq(), "Probability").as_f64();
            if let Some(p) = prob.and_then(dec) {
                let expected = total * p / Decimal::ONE_HUNDRED;
                push(&mut pairs, ps("ExpectedRevenue"), money(cents(expected)));
            }
        } else {
            push(&mut pairs, ps("TotalOpportunityQuantity"), Value::Null);
        }
        push(
            &mut pairs,
            ps("HasOpportunityLineItem"),
            Value::Bool(count > 0),
        );
        if store.value_of(pobj, parent.seq(), "Pricebook2Id").is_null()
            && let Some(pbe) = def
                .try_slot("PricebookEntryId")
                .and_then(|s| values[s].as_id())
        {
            let book = store.value_of(obj_of(store, pbe), pbe.seq(), "Pricebook2Id");
            push(&mut pairs, ps("Pricebook2Id"), book);
        }
    } else {
        let amount = |n: &str| {
            store
                .value_of(pobj, parent.seq(), n)
                .as_f64()
                .and_then(dec)
                .unwrap_or_default()
        };
        let (tax, ship) = (amount("Tax"), amount("ShippingHandling"));
        let discount = if subtotal.is_zero() {
            Decimal::ZERO
        } else {
            cents((subtotal - total) / subtotal * Decimal::ONE_HUNDRED)
        };
        push(&mut pairs, ps("Subtotal"), money(subtotal));
        push(&mut pairs, ps("TotalPrice"), money(total));
        push(&mut pairs, ps("Discount"), money(discount));
        push(
            &mut pairs,
            ps("GrandTotal"),
            money(cents(total + tax + ship)),
        );
        push(&mut pairs, ps("LineItemCount"), Value::Int(count));
    }
    store.set_calculated(pobj, parent.seq(), &pairs, true);
}

fn push(pairs: &mut Vec<(usize, Value)>, slot: Option<usize>, v: Value) {
    if let Some(s) = slot {
        pairs.push((s, v));
    }
}

#[cfg(test)]
mod tests;
