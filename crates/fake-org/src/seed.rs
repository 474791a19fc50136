//! Deterministic seeded data: a product catalogue with standard prices, accounts across
//! sales regions with contacts, and opportunities with line items. The same seed and
//! counts always give the same records, Ids and timestamps.

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::config::SeedConfig;
use super::ids::RecordId;
use super::record_error::RecordError;
use super::standard::{FAMILIES, STAGES};
use super::store::Store;
use super::value::{Value, round_scale};

/// Billing countries by region, so pricing rules can discount by region.
pub const COUNTRIES: &[(&str, &[&str])] = &[
    (
        "Europe",
        &[
            "Germany",
            "France",
            "United Kingdom",
            "Spain",
            "Italy",
            "Netherlands",
            "Sweden",
            "Poland",
        ],
    ),
    ("North America", &["United States", "Canada", "Mexico"]),
    (
        "APAC",
        &[
            "Japan",
            "Australia",
            "Singapore",
            "India",
            "China",
            "South Korea",
        ],
    ),
    ("LATAM", &["Brazil", "Argentina", "Chile", "Colombia"]),
];

const COMPANY: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Massive",
    "Aperture",
    "Gringotts",
    "Monarch",
    "Pied Piper",
];
const SUFFIX: &[&str] = &[
    "Corp", "GmbH", "Ltd", "Inc", "SA", "AB", "KK", "Group", "Holdings",
];
const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloé", "David", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kofi", "Lena",
    "Mateo", "Nora", "Omar", "Priya",
];
const LAST: &[&str] = &[
    "Müller", "Smith", "García", "Rossi", "Tanaka", "O'Brien", "Dubois", "Silva", "Kowalski",
    "Nguyen", "Jensen", "Khan",
];
const NOUNS: &[&str] = &[
    "Router",
    "Suite",
    "Analytics",
    "Consulting",
    "Support Plan",
    "Workshop",
    "Sensor",
    "Gateway",
    "License",
    "Storage",
];
const ADJ: &[&str] = &[
    "Pro",
    "Enterprise",
    "Basic",
    "Premium",
    "Edge",
    "Cloud",
    "Ultra",
    "Lite",
];
const INDUSTRIES: &[&str] = &[
    "Banking",
    "Manufacturing",
    "Retail",
    "Technology",
    "Healthcare",
    "Energy",
    "Media",
    "Education",
];

/// Records created, by object.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedSummary {
    /// Products (each with one standard price book entry).
    pub products: u64,
    /// Accounts.
    pub accounts: u64,
    /// Contacts.
    pub contacts: u64,
    /// Opportunities.
    pub opportunities: u64,
    /// Opportunity line items.
    pub line_items: u64,
}

/// 2024-01-01T00:00:00Z: seeded records are created over the two years after it.
const EPOCH_MS: i64 = 1_704_067_200_000;
const TWO_YEARS_MS: i64 = 2 * 365 * 86_400_000;

/// Fills `store` per `cfg`.
pub fn seed(store: &mut Store, cfg: &SeedConfig) -> Result<SeedSummary, RecordError> {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut sum = SeedSummary::default();
    let obj = |n: &str| {
        store
            .schema
            .index(n)
            .ok_or_else(|| RecordError::new("INVALID_TYPE", format!("no {n} object")))
    };
    let (product, book, entry, account, contact, opp, line) = (
        obj("Product2")?,
        obj("Pricebook2")?,
        obj("PricebookEntry")?,
        obj("Account")?,
        obj("Contact")?,
        obj("Opportunity")?,
        obj("OpportunityLineItem")?,
    );
    let stamp = |rng: &mut ChaCha8Rng| EPOCH_MS + rng.random_range(0..TWO_YEARS_MS) / 1000 * 1000;

    let std_book = match store.standard_pricebook {
        Some(id) => id,
        None => {
            let a = store.assigns(
                book,
                &[
                    ("Name", Value::text("Standard Price Book")),
                    ("IsActive", Value::Bool(true)),
                ],
            );
            let id = store.create(book, a, Some(EPOCH_MS))?;
            if let Some(slot) = store.schema.objects[book].try_slot("IsStandard") {
                store.set_calculated(book, id.seq(), &[(slot, Value::Bool(true))], false);
            }
            store.standard_pricebook = Some(id);
            id
        }
    };

    let mut entries: Vec<(RecordId, f64)> = Vec::with_capacity(cfg.products as usize);
    for i in 0..cfg.products {
        let family = FAMILIES[rng.random_range(0..FAMILIES.len())];
        let name = format!(
            "{} {} {}",
            pick(&mut rng, ADJ),
            pick(&mut rng, NOUNS),
            i + 1
        );
        let at = stamp(&mut rng);
        let a = store.assigns(
            product,
            &[
                ("Name", Value::text(&name)),
                ("ProductCode", Value::text(&format!("P-{:06}", i + 1))),
                ("Family", Value::text(family)),
                ("IsActive", Value::Bool(true)),
                ("QuantityUnitOfMeasure", Value::text("Each")),
            ],
        );
        let pid = store.create(product, a, Some(at))?;
        let price = round_scale(rng.random_range(5.0..5000.0), 2);
        let a = store.assigns(
            entry,
            &[
                ("Pricebook2Id", Value::Id(std_book)),
                ("Product2Id", Value::Id(pid)),
                ("UnitPrice", Value::Num(price)),
                ("IsActive", Value::Bool(true)),
            ],
        );
        entries.push((store.create(entry, a, Some(at))?, price));
        sum.products += 1;
    }

    let mut accounts: Vec<(RecordId, String)> = Vec::with_capacity(cfg.accounts as usize);
    for i in 0..cfg.accounts {
        let (_, countries) = COUNTRIES[rng.random_range(0..COUNTRIES.len())];
        let country = pick(&mut rng, countries);
        let name = format!(
            "{} {} {}",
            pick(&mut rng, COMPANY),
            pick(&mut rng, SUFFIX),
            i + 1
        );
        let at = stamp(&mut rng);
        let a = store.assigns(
            account,
            &[
                ("Name", Value::text(&name)),
                (
                    "Type",
                    Value::text(if rng.random_bool(0.7) {
                        "Customer - Direct"
                    } else {
                        "Prospect"
                    }),
                ),
                ("BillingCountry", Value::text(country)),
                (
                    "BillingCity",
                    Value::text(&format!("City {}", rng.random_range(1..500))),
                ),
                ("Industry", Value::text(pick(&mut rng, INDUSTRIES))),
                (
                    "AnnualRevenue",
                    Value::Num(f64::from(rng.random_range(1u32..5000)) * 10_000.0),
                ),
                ("NumberOfEmployees", Value::Int(rng.random_range(5..50_000))),
                (
                    "Phone",
                    Value::text(&format!("+1 555 {:07}", rng.random_range(0..10_000_000))),
                ),
                (
                    "Website",
                    Value::text(&format!("https://www.example.com/a{}", i + 1)),
                ),
            ],
        );
        let id = store.create(account, a, Some(at))?;
        for c in 0..cfg.contacts_per_account {
            let first = pick(&mut rng, FIRST);
            let last = pick(&mut rng, LAST);
            let a = store.assigns(
                contact,
                &[
                    ("AccountId", Value::Id(id)),
                    ("FirstName", Value::text(first)),
                    ("LastName", Value::text(last)),
                    (
                        "Email",
                        Value::text(&format!("c{}.{}@example.com", i + 1, c + 1)),
                    ),
                    (
                        "Title",
                        Value::text(if c == 0 { "Buyer" } else { "Engineer" }),
                    ),
                ],
            );
            store.create(contact, a, Some(at))?;
            sum.contacts += 1;
        }
        accounts.push((id, name));
        sum.accounts += 1;
    }

    let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
    for i in 0..cfg.opportunities {
        if accounts.is_empty() {
            break;
        }
        let (acc, acc_name) = &accounts[rng.random_range(0..accounts.len())];
        let stage = STAGES[rng.random_range(0..STAGES.len())].0;
        let close = start + chrono::Duration::days(rng.random_range(0..1095));
        let at = stamp(&mut rng);
        let a = store.assigns(
            opp,
            &[
                ("AccountId", Value::Id(*acc)),
                ("Name", Value::text(&format!("{acc_name} - Deal {}", i + 1))),
                ("StageName", Value::text(stage)),
                ("CloseDate", Value::Date(close)),
                (
                    "Type",
                    Value::text(if rng.random_bool(0.5) {
                        "New Customer"
                    } else {
                        "Existing Customer - Upgrade"
                    }),
                ),
                (
                    "LeadSource",
                    Value::text(if rng.random_bool(0.5) {
                        "Web"
                    } else {
                        "Partner Referral"
                    }),
                ),
                ("Pricebook2Id", Value::Id(std_book)),
            ],
        );
        let oid = store.create(opp, a, Some(at))?;
        sum.opportunities += 1;
        for n in 0..cfg.lines_per_opportunity.min(entries.len() as u64) {
            let (pbe, price) = entries[rng.random_range(0..entries.len())];
            let qty = f64::from(
                *[1u32, 2, 5, 10, 25, 50, 100]
                    .get(rng.random_range(0..7))
                    .unwrap_or(&1),
            );
            let a = store.assigns(
                line,
                &[
                    ("OpportunityId", Value::Id(oid)),
                    ("PricebookEntryId", Value::Id(pbe)),
                    ("Quantity", Value::Num(qty)),
                    ("UnitPrice", Value::Num(price)),
                    ("SortOrder", Value::Int(n as i64 + 1)),
                ],
            );
            store.create(line, a, Some(at))?;
            sum.line_items += 1;
        }
    }
    Ok(sum)
}

fn pick<'a>(rng: &mut ChaCha8Rng, from: &[&'a str]) -> &'a str {
    from[rng.random_range(0..from.len())]
}
