//! Pricing against a table computed by hand.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::*;
use crate::quotes::rules::QuotesFile;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

const RULES: &str = r#"
[pricing]
combine = "multiply"
max_discount = 15

[[pricing.region]]
name = "EMEA"
countries = ["Germany", "France"]
discount = 5

[[pricing.region]]
name = "APAC"
countries = ["Japan"]
discount = "10%"

[[pricing.family]]
family = "Hardware"
discount = 3

[[pricing.family]]
family = "Software"
discount = 12.5

[[pricing.tier]]
min_quantity = 10
discount = 2

[[pricing.tier]]
min_quantity = 100
discount = 5
"#;

fn rules(text: &str) -> PricingRules {
    QuotesFile::parse("quotes.toml", text).unwrap().pricing
}

#[test]
fn hand_computed_table() {
    let r = rules(RULES);
    // (country, family, quantity, list price) -> (discount %, line total)
    let table = [
        // 1 - .95 x .97 = 7.85 %; 100 x .9215
        (
            Some("Germany"),
            Some("Hardware"),
            "1",
            "100.00",
            "7.85",
            "92.15",
        ),
        // region 10, family 12.5, tier 100: 25.1875 % -> capped at 15
        (
            Some("Japan"),
            Some("Software"),
            "100",
            "10.00",
            "15",
            "850.00",
        ),
        // nothing applies
        (None, None, "1", "19.99", "0", "19.99"),
        // family 3 and tier 10: 1 - .97 x .98 = 4.94 %; 10 x .125 x .9506 = 1.18825 -> 1.19
        (Some("USA"), Some("Hardware"), "10", "0.125", "4.94", "1.19"),
        // countries match case-insensitively; 9.99 is below the first tier; 94.905 is
        // a tie and rounds up, as Salesforce does
        (Some("france"), None, "9.99", "10", "5", "94.91"),
        // the tie Salesforce rounds up: 4884.50 x .95 = 4640.275 -> 4640.28
        (Some("Germany"), None, "1", "4884.50", "5", "4640.28"),
        // ties up to cents: 0.125 -> 0.13, 0.135 -> 0.14
        (None, None, "1", "0.125", "0", "0.13"),
        (None, None, "1", "0.135", "0", "0.14"),
        // three discounts: 1 - .95 x .875 x .98 = 18.5375 % -> cap 15
        (
            Some("Germany"),
            Some("Software"),
            "10",
            "3.00",
            "15",
            "25.50",
        ),
    ];
    for (country, family, qty, list, disc, total) in table {
        let got = price_line(
            &r,
            country,
            &LineInput {
                family: family.map(String::from),
                quantity: d(qty),
                list_price: d(list),
            },
        )
        .unwrap();
        assert_eq!(
            (got.discount, got.total),
            (d(disc), d(total)),
            "{country:?} {family:?} {qty} x {list}"
        );
    }
}

#[test]
fn additive_discounts_round_half_even_to_hundredths_of_a_percent() {
    let r = rules(
        r#"
[pricing]
combine = "add"
[[pricing.region]]
name = "EMEA"
countries = ["Germany"]
discount = 5
[[pricing.family]]
family = "Hardware"
discount = "2.125"
[[pricing.family]]
family = "Services"
discount = "2.135"
"#,
    );
    assert_eq!(
        discount(&r, Some("Germany"), Some("Hardware"), d("1")),
        d("7.12")
    );
    assert_eq!(
        discount(&r, Some("Germany"), Some("Services"), d("1")),
        d("7.14")
    );
    // The default cap is 30 %.
    let line = LineInput {
        family: Some("Hardware".into()),
        quantity: d("3"),
        list_price: d("10"),
    };
    assert_eq!(
        price_line(&r, Some("Germany"), &line).unwrap().total,
        d("27.86")
    );
}

#[test]
fn bad_lines_are_refused() {
    let r = rules(RULES);
    let neg = LineInput {
        family: None,
        quantity: d("1"),
        list_price: d("-1"),
    };
    assert_eq!(
        price_line(&r, None, &neg),
        Err(PricingError::NegativePrice(d("-1")))
    );
    let zero = LineInput {
        family: None,
        quantity: d("0"),
        list_price: d("1"),
    };
    assert_eq!(
        price_line(&r, None, &zero),
        Err(PricingError::BadQuantity(d("0")))
    );
}

#[test]
fn rules_are_checked_and_versioned() {
    let bad = |t: &str| QuotesFile::parse("quotes.toml", t).unwrap_err().to_string();
    assert!(bad("[pricing]\nmax_discount = 130\n").contains("max_discount"));
    assert!(bad("[pricing]\nmax_discont = 10\n").contains("max_discont"));
    assert!(bad("[[pricing.region]]\nname = \"A\"\ncountries = [\"X\"]\ndiscount = 1\n[[pricing.region]]\nname = \"B\"\ncountries = [\"x\"]\ndiscount = 2\n").contains("country x"));
    assert!(bad("[[pricing.tier]]\nmin_quantity = 5\ndiscount = 1\n[[pricing.tier]]\nmin_quantity = 5\ndiscount = 2\n").contains("min_quantity"));
    assert!(bad("[quote]\nexpiration = \"soon\"\n").contains("close_date"));
    assert!(bad("[schedule]\nevery = \"often\"\n").contains("schedule.every"));
    let a = QuotesFile::parse("q", RULES).unwrap();
    let b = QuotesFile::parse("q", &RULES.replace("discount = 3", "discount = 4")).unwrap();
    let c = QuotesFile::parse("q", &format!("[selection]\nchunk_size = 10\n{RULES}")).unwrap();
    assert_ne!(a.version(), b.version(), "new prices, new version");
    assert_eq!(a.version(), c.version(), "chunking does not change a Quote");
    assert_eq!(a.version().len(), 12);
}
