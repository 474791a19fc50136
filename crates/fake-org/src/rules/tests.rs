//! Line pricing as Salesforce computes it: decimal arithmetic, cents, ties up.

use std::str::FromStr;

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::{cents, dec, line_total};

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[test]
fn the_reported_tie_rounds_up() {
    // 1 x 4884.50 at 5 % = 4640.275: binary floating point gives 4640.2749999... and
    // rounded down to 4640.27; Salesforce gives 4640.28.
    let (sub, total) = line_total(d("1"), d("4884.50"), d("5")).unwrap();
    assert_eq!((sub, total), (d("4884.50"), d("4640.28")));
    // The values the store holds are doubles; read back they are the same decimals.
    let from_store = |n: f64| dec(n).unwrap();
    let (_, total) = line_total(from_store(1.0), from_store(4884.5), from_store(5.0)).unwrap();
    assert_eq!(total, d("4640.28"));
}

#[test]
fn subtotals_round_half_up_too() {
    assert_eq!(line_total(d("3"), d("0.005"), d("0")).unwrap().0, d("0.02"));
    assert_eq!(
        line_total(d("1"), d("0.125"), d("0")).unwrap(),
        (d("0.13"), d("0.13"))
    );
    assert_eq!(cents(d("-0.125")), d("-0.13"), "away from zero");
    assert_eq!(cents(d("2.344999")), d("2.34"));
}

proptest! {
    /// Any line whose discounted total is an exact half cent rounds up to the next
    /// cent, whatever the figures, also after a trip through the store's doubles.
    #[test]
    fn exact_half_cent_ties_round_up(
        qty in 1u32..1_000,
        unit_cents in 1u64..100_000_000,
        discount_hundredths in 0u32..10_000,
    ) {
        let qty = Decimal::from(qty);
        let unit = Decimal::new(unit_cents as i64, 2);
        let discount = Decimal::new(discount_hundredths as i64, 2);
        let (sub, total) = line_total(qty, unit, discount).unwrap();
        prop_assert_eq!(sub, qty * unit);
        let exact = sub * (Decimal::ONE_HUNDRED - discount) / Decimal::ONE_HUNDRED;
        let floor = exact.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero);
        let rest = exact - floor;
        let half = Decimal::new(5, 3);
        if rest == half {
            prop_assert_eq!(total, floor + Decimal::new(1, 2), "tie {} rounds up", exact);
        } else if rest < half {
            prop_assert_eq!(total, floor);
        } else {
            prop_assert_eq!(total, floor + Decimal::new(1, 2));
        }
        let via_store = |x: Decimal| dec(rust_decimal::prelude::ToPrimitive::to_f64(&x).unwrap()).unwrap();
        let again = line_total(via_store(qty), via_store(unit), via_store(discount)).unwrap();
        prop_assert_eq!(again, (sub, total));
    }

    /// Ties built on purpose: a subtotal of N.NN0 with a 50 % discount of an odd cent
    /// count lands exactly on half a cent, and rounds up.
    #[test]
    fn constructed_ties_round_up(odd_cents in 0u64..50_000_000) {
        let sub_cents = odd_cents * 2 + 1;
        let unit = Decimal::new(sub_cents as i64, 2);
        let (_, total) = line_total(Decimal::ONE, unit, d("50")).unwrap();
        prop_assert_eq!(total, Decimal::new(sub_cents.div_ceil(2) as i64, 2));
    }
}
