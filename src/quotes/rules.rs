//! `jobs/quotes.toml`: which Opportunities get a Quote and how it is priced. Parsed into
//! typed structs (unknown keys refused with the key named), then checked: percentages
//! between 0 and 100, no region claiming a country twice, tiers with distinct
//! thresholds, a valid interval. The rules' version is a hash of their canonical form,
//! so quoting again under the same rules replaces a Quote instead of adding one.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A percentage: `5`, `2.5`, `"7.25"` or `"7.25%"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Percent(pub Decimal);

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Float(f64),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Int(i) => i.to_string(),
            Raw::Float(f) => f.to_string(),
            Raw::Text(t) => t.trim().trim_end_matches('%').trim().to_string(),
        };
        Decimal::from_str(&text).map(Percent).map_err(|_| {
            serde::de::Error::custom(format!(
                "{text:?} is not a percentage such as 5 or \"2.5%\""
            ))
        })
    }
}

/// How several discounts on one line combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// `1 - (1 - a)(1 - b)...`: each discount applies to what the previous left (default).
    #[default]
    Multiply,
    /// `a + b + ...`.
    Add,
}

/// Which Opportunities are quoted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SelectionRules {
    /// A SOQL condition over Opportunity fields and `Account.` fields (default
    /// `IsClosed = false`); run as parameterised SQL over the mirror.
    #[serde(rename = "where", default = "default_where")]
    pub condition: String,
    /// Opportunities per chunk (default 2,000).
    #[serde(default = "default_chunk")]
    pub chunk_size: u64,
}

fn default_where() -> String {
    "IsClosed = false".into()
}
fn default_chunk() -> u64 {
    2_000
}

impl Default for SelectionRules {
    fn default() -> Self {
        SelectionRules {
            condition: default_where(),
            chunk_size: default_chunk(),
        }
    }
}

/// A sales region: accounts billed in these countries get its discount.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Its name (for messages).
    pub name: String,
    /// `BillingCountry` values, compared case-insensitively.
    pub countries: Vec<String>,
    /// The discount.
    pub discount: Percent,
}

/// A discount for a product family.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyDiscount {
    /// `Product2.Family`.
    pub family: String,
    /// The discount.
    pub discount: Percent,
}

/// A quantity tier: lines of at least `min_quantity` get its discount (the highest
/// tier reached applies).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// The threshold.
    pub min_quantity: Decimal,
    /// The discount.
    pub discount: Percent,
}

/// Pricing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PricingRules {
    /// The price book whose entries give list prices, by name (default `Standard Price Book`).
    #[serde(default = "default_book")]
    pub price_book: String,
    /// How discounts combine (default `multiply`).
    #[serde(default)]
    pub combine: Combine,
    /// The most discount a line can get (default 30).
    #[serde(default = "default_max")]
    pub max_discount: Percent,
    /// Regional discounts (default none).
    #[serde(default, rename = "region")]
    pub regions: Vec<Region>,
    /// Product family discounts (default none).
    #[serde(default, rename = "family")]
    pub families: Vec<FamilyDiscount>,
    /// Quantity tiers (default none).
    #[serde(default, rename = "tier")]
    pub tiers: Vec<Tier>,
}

fn default_book() -> String {
    "Standard Price Book".into()
}
fn default_max() -> Percent {
    Percent(Decimal::from(30))
}

/// When a Quote expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Expiration {
    /// The Opportunity's close date.
    CloseDate,
    /// Today plus this many days.
    Days(u32),
}

impl<'de> Deserialize<'de> for Expiration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "close_date" {
            return Ok(Expiration::CloseDate);
        }
        s.strip_prefix('+')
            .and_then(|r| r.strip_suffix('d'))
            .and_then(|n| n.parse().ok())
            .map(Expiration::Days)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "expiration {s:?}: use \"close_date\" or \"+30d\""
                ))
            })
    }
}

/// What a re-quote under new rules does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Versioning {
    /// New rules replace the Opportunity's Quote (default).
    #[default]
    Replace,
    /// New rules add a new Quote; the old one stays.
    NewVersion,
}

/// The Quote's own fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteFields {
    /// Name pattern: `{opportunity}` (its name), `{version}` (the rules version, short)
    /// (default `"{opportunity} quote"`).
    #[serde(default = "default_name")]
    pub name: String,
    /// `Status` (default `Draft`).
    #[serde(default = "default_status")]
    pub status: String,
    /// `ExpirationDate`: `"close_date"` or `"+N d"` like `"+30d"` (default `"+30d"`).
    #[serde(default = "default_expiration")]
    pub expiration: Expiration,
    /// `replace` (default) or `new_version`.
    #[serde(default)]
    pub versioning: Versioning,
}

fn default_name() -> String {
    "{opportunity} quote".into()
}
fn default_status() -> String {
    "Draft".into()
}
fn default_expiration() -> Expiration {
    Expiration::Days(30)
}

impl Default for QuoteFields {
    fn default() -> Self {
        QuoteFields {
            name: default_name(),
            status: default_status(),
            expiration: default_expiration(),
            versioning: Versioning::Replace,
        }
    }
}

/// The schedule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Quote Opportunities changed since their last quote this often, like `"1h"`.
    pub every: String,
}

/// What happens to a Quote whose Opportunity left the selection (or has no line items
/// left). Its lines whose Opportunity line item is gone are deleted whatever the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StaleAction {
    /// Set the Quote's `Status` to `stale.status` (default).
    #[default]
    Mark,
    /// Delete the Quote (and its lines) from Salesforce.
    Delete,
    /// Leave the Quote as it is.
    Keep,
}

/// `[stale]`: Quotes that no longer match the org.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StaleRules {
    /// `mark` (default), `delete` or `keep`.
    #[serde(default)]
    pub action: StaleAction,
    /// The `Status` a marked Quote gets (default `Stale`; it must be a value of the
    /// org's Quote Status picklist).
    #[serde(default = "default_stale_status")]
    pub status: String,
}

fn default_stale_status() -> String {
    "Stale".into()
}

impl Default for StaleRules {
    fn default() -> Self {
        StaleRules {
            action: StaleAction::Mark,
            status: default_stale_status(),
        }
    }
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuotesFile {
    /// Selection (defaults above).
    #[serde(default)]
    pub selection: SelectionRules,
    /// Pricing.
    #[serde(default)]
    pub pricing: PricingRules,
    /// Quote fields.
    #[serde(default)]
    pub quote: QuoteFields,
    /// Optional schedule (default: none, quote on demand only).
    #[serde(default)]
    pub schedule: Option<Schedule>,
    /// Quotes whose Opportunity left the selection (default: marked `Stale`). Not part
    /// of the rules version: it changes no price.
    #[serde(default)]
    pub stale: StaleRules,
}

impl Default for PricingRules {
    fn default() -> Self {
        PricingRules {
            price_book: default_book(),
            combine: Combine::Multiply,
            max_discount: default_max(),
            regions: vec![],
            families: vec![],
            tiers: vec![],
        }
    }
}

/// A problem with the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct RulesError {
    /// The file and key.
    pub path: String,
    /// What is wrong and the fix.
    pub problem: String,
}

impl QuotesFile {
    /// Parses and checks the text of `path`.
    pub fn parse(path: &str, text: &str) -> Result<QuotesFile, RulesError> {
        let f: QuotesFile = toml::from_str(text).map_err(|e| RulesError {
            path: path.into(),
            problem: e.to_string().trim().to_string(),
        })?;
        let bad = |key: &str, problem: String| RulesError {
            path: format!("{path}: {key}"),
            problem,
        };
        let pct_ok = |p: &Percent| p.0 >= Decimal::ZERO && p.0 <= Decimal::from(100);
        if !pct_ok(&f.pricing.max_discount) {
            return Err(bad(
                "pricing.max_discount",
                format!("{} is outside 0 to 100", f.pricing.max_discount.0),
            ));
        }
        let mut countries = std::collections::HashMap::new();
        for r in &f.pricing.regions {
            if !pct_ok(&r.discount) {
                return Err(bad(
                    "pricing.region",
                    format!(
                        "region {}: discount {} is outside 0 to 100",
                        r.name, r.discount.0
                    ),
                ));
            }
            for c in &r.countries {
                if let Some(other) = countries.insert(c.to_lowercase(), r.name.clone()) {
                    return Err(bad(
                        "pricing.region",
                        format!(
                            "country {c} is in regions {other} and {}; keep it in one",
                            r.name
                        ),
                    ));
                }
            }
        }
        for fam in &f.pricing.families {
            if !pct_ok(&fam.discount) {
                return Err(bad(
                    "pricing.family",
                    format!(
                        "family {}: discount {} is outside 0 to 100",
                        fam.family, fam.discount.0
                    ),
                ));
            }
        }
        let mut mins: Vec<Decimal> = f.pricing.tiers.iter().map(|t| t.min_quantity).collect();
        mins.sort();
        mins.dedup();
        if mins.len() != f.pricing.tiers.len() {
            return Err(bad(
                "pricing.tier",
                "two tiers share a min_quantity; give each a distinct threshold".into(),
            ));
        }
        for t in &f.pricing.tiers {
            if !pct_ok(&t.discount) || t.min_quantity <= Decimal::ZERO {
                return Err(bad(
                    "pricing.tier",
                    format!(
                        "tier at {}: needs min_quantity > 0 and a discount from 0 to 100",
                        t.min_quantity
                    ),
                ));
            }
        }
        if f.stale.action == StaleAction::Mark && f.stale.status.trim().is_empty() {
            return Err(bad(
                "stale.status",
                "is empty; name the Quote Status a stale Quote gets, such as \"Stale\"".into(),
            ));
        }
        if f.selection.chunk_size == 0 || f.selection.chunk_size > 100_000 {
            return Err(bad(
                "selection.chunk_size",
                format!("{} is outside 1 to 100,000", f.selection.chunk_size),
            ));
        }
        if let Some(s) = &f.schedule
            && crate::mirror::parse_duration(&s.every).is_none()
        {
            return Err(bad(
                "schedule.every",
                format!("{:?} is not a duration such as \"1h\"", s.every),
            ));
        }
        Ok(f)
    }

    /// The rules version: a hash of everything that changes a Quote (selection and
    /// chunking excluded), 12 hex characters.
    pub fn version(&self) -> String {
        let canonical = serde_json::to_string(&(&self.pricing, &self.quote)).unwrap_or_default();
        let digest = Sha256::digest(canonical.as_bytes());
        digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
    }
}
