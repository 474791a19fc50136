//! Pricing, in decimal arithmetic only (never floats). A line's discounts come from the
//! account's region (its billing country), the product family and the highest quantity
//! tier reached. They combine as the rules say: `multiply` gives `1 - (1 - a)(1 - b)...`,
//! `add` gives `a + b + ...`. The combined discount is rounded half-even to 0.01
//! percentage points (what Salesforce's `Discount` field holds) and capped at
//! `max_discount`. The line total follows Salesforce's own computation: the subtotal
//! `quantity x list price` rounded to cents, times `1 - discount`, rounded to cents
//! again, ties rounding up as Salesforce's currency fields do (so orgpool's figure is
//! the org's `TotalPrice` to the cent).

use rust_decimal::{Decimal, RoundingStrategy};

use super::rules::{Combine, PricingRules};

/// One line to price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineInput {
    /// `Product2.Family`.
    pub family: Option<String>,
    /// Quantity.
    pub quantity: Decimal,
    /// The price book entry's `UnitPrice`.
    pub list_price: Decimal,
}

/// A priced line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedLine {
    /// Quantity.
    pub quantity: Decimal,
    /// List price (the Quote line's `UnitPrice`).
    pub list_price: Decimal,
    /// Discount in percent, two decimals (the Quote line's `Discount`).
    pub discount: Decimal,
    /// Line total, cents.
    pub total: Decimal,
}

/// Why a line cannot be priced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// A negative list price.
    #[error("list price {0} is negative; fix the price book entry")]
    NegativePrice(Decimal),
    /// A quantity of zero or less.
    #[error("quantity {0} is not positive; fix the line item")]
    BadQuantity(Decimal),
}

/// Half-even to 0.01, for the discount percentage.
fn hundredths(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven)
}

/// Money to cents, ties up (away from zero), as Salesforce rounds `TotalPrice`.
fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The combined discount (percent, two decimals, capped) for a line.
pub fn discount(
    rules: &PricingRules,
    country: Option<&str>,
    family: Option<&str>,
    quantity: Decimal,
) -> Decimal {
    let mut parts: Vec<Decimal> = Vec::new();
    if let Some(c) = country
        && let Some(r) = rules
            .regions
            .iter()
            .find(|r| r.countries.iter().any(|x| x.eq_ignore_ascii_case(c)))
    {
        parts.push(r.discount.0);
    }
    if let Some(f) = family
        && let Some(d) = rules
            .families
            .iter()
            .find(|d| d.family.eq_ignore_ascii_case(f))
    {
        parts.push(d.discount.0);
    }
    if let Some(t) = rules
        .tiers
        .iter()
        .filter(|t| quantity >= t.min_quantity)
        .max_by_key(|t| t.min_quantity)
    {
        parts.push(t.discount.0);
    }
    let hundred = Decimal::from(100);
    let combined = match rules.combine {
        Combine::Add => parts.iter().copied().sum(),
        Combine::Multiply => {
            let kept = parts
                .iter()
                .fold(Decimal::ONE, |acc, p| acc * (Decimal::ONE - p / hundred));
            (Decimal::ONE - kept) * hundred
        }
    };
    hundredths(combined)
        .min(rules.max_discount.0)
        .max(Decimal::ZERO)
}

/// Prices one line for an account billed in `country`.
pub fn price_line(
    rules: &PricingRules,
    country: Option<&str>,
    line: &LineInput,
) -> Result<PricedLine, PricingError> {
    if line.list_price < Decimal::ZERO {
        return Err(PricingError::NegativePrice(line.list_price));
    }
    if line.quantity <= Decimal::ZERO {
        return Err(PricingError::BadQuantity(line.quantity));
    }
    let d = discount(rules, country, line.family.as_deref(), line.quantity);
    // As Salesforce computes a line: the subtotal to cents, then the discount, to cents.
    let subtotal = cents(line.quantity * line.list_price);
    let total = cents(subtotal * (Decimal::ONE - d / Decimal::from(100)));
    Ok(PricedLine {
        quantity: line.quantity,
        list_price: line.list_price,
        discount: d,
        total,
    })
}

#[cfg(test)]
mod tests;
