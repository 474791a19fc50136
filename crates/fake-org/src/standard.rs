//! The standard objects the fake org serves, with their real API names, types, key
//! prefixes and the flags (`createable`, `nillable` ...) describe reports. Quote and
//! QuoteLineItem also carry orgpool's unique external-Id field `Orgpool_Key__c`.

use super::field_builder::{address, f, system_fields};
use super::model::{FieldType as T, ObjectDef};
use super::value::Value;

/// Opportunity stages with their default probability, forecast category, closed and won flags.
pub const STAGES: &[(&str, u32, &str, bool, bool)] = &[
    ("Prospecting", 10, "Pipeline", false, false),
    ("Qualification", 10, "Pipeline", false, false),
    ("Needs Analysis", 20, "Pipeline", false, false),
    ("Value Proposition", 50, "Pipeline", false, false),
    ("Id. Decision Makers", 60, "Pipeline", false, false),
    ("Perception Analysis", 70, "Pipeline", false, false),
    ("Proposal/Price Quote", 75, "Pipeline", false, false),
    ("Negotiation/Review", 90, "Commit", false, false),
    ("Closed Won", 100, "Closed", true, true),
    ("Closed Lost", 0, "Omitted", true, false),
];

/// Product families used by the seeded catalogue.
pub const FAMILIES: &[&str] = &["Hardware", "Software", "Services", "Support", "Training"];

const INDUSTRIES: &[&str] = &[
    "Agriculture",
    "Apparel",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Entertainment",
    "Finance",
    "Government",
    "Healthcare",
    "Insurance",
    "Manufacturing",
    "Media",
    "Retail",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Utilities",
    "Other",
];
const LEAD_SOURCES: &[&str] = &[
    "Web",
    "Phone Inquiry",
    "Partner Referral",
    "Purchased List",
    "Other",
];

/// Every standard object, in the order `sobjects` lists them.
pub fn standard_objects() -> Vec<ObjectDef> {
    vec![
        user(),
        account(),
        contact(),
        product2(),
        pricebook2(),
        pricebook_entry(),
        opportunity(),
        opportunity_line_item(),
        quote(),
        quote_line_item(),
    ]
}

fn object(
    name: &str,
    prefix: &[u8; 3],
    owner: bool,
    fields: Vec<super::model::FieldDef>,
) -> ObjectDef {
    let mut all = system_fields(owner);
    all.extend(fields);
    let mut def = ObjectDef::new(name, *prefix, all);
    def.custom = false;
    def
}

fn user() -> ObjectDef {
    object(
        "User",
        b"005",
        false,
        vec![
            f("Username", T::String).len(80).req().unique_external_id(),
            f("LastName", T::String).len(80).req(),
            f("FirstName", T::String).len(40),
            f("Name", T::String).len(121).calc().name_field(),
            f("Email", T::Email).len(128).req(),
            f("Alias", T::String).len(8),
            f("IsActive", T::Boolean).default(Value::Bool(true)),
        ],
    )
}

fn account() -> ObjectDef {
    let mut fields = vec![
        f("Name", T::String).len(255).req().name_field(),
        f("Type", T::Picklist).values(&[
            "Prospect",
            "Customer - Direct",
            "Customer - Channel",
            "Channel Partner / Reseller",
            "Installation Partner",
            "Technology Partner",
            "Other",
        ]),
        f("ParentId", T::Reference).refers(&["Account"], "Parent"),
    ];
    fields.extend(address("Billing"));
    fields.extend(address("Shipping"));
    fields.extend([
        f("Phone", T::Phone),
        f("Fax", T::Phone),
        f("AccountNumber", T::String).len(40),
        f("Website", T::Url),
        f("Industry", T::Picklist).values(INDUSTRIES),
        f("AnnualRevenue", T::Currency).num(18, 0),
        f("NumberOfEmployees", T::Int).num(8, 0),
        f("Rating", T::Picklist).values(&["Hot", "Warm", "Cold"]),
        f("Description", T::TextArea),
        f("LastActivityDate", T::Date).ro(),
    ]);
    object("Account", b"001", true, fields)
}

fn contact() -> ObjectDef {
    let mut fields = vec![
        f("AccountId", T::Reference).refers(&["Account"], "Account"),
        f("LastName", T::String).len(80).req(),
        f("FirstName", T::String).len(40),
        f("Salutation", T::Picklist).values(&["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]),
        f("Name", T::String).len(121).calc().name_field(),
    ];
    fields.extend(address("Mailing"));
    fields.extend([
        f("Phone", T::Phone),
        f("MobilePhone", T::Phone),
        f("Email", T::Email),
        f("Title", T::String).len(128),
        f("Department", T::String).len(80),
        f("LeadSource", T::Picklist).values(LEAD_SOURCES),
        f("Birthdate", T::Date),
        f("HasOptedOutOfEmail", T::Boolean),
        f("Description", T::TextArea),
    ]);
    object("Contact", b"003", true, fields)
}

fn product2() -> ObjectDef {
    object(
        "Product2",
        b"01t",
        false,
        vec![
            f("Name", T::String).len(255).req().name_field(),
            f("ProductCode", T::String).len(255),
            f("Description", T::TextArea).len(4000),
            f("Family", T::Picklist).values(FAMILIES),
            f("IsActive", T::Boolean),
            f("QuantityUnitOfMeasure", T::Picklist).values(&["Each"]),
            f("StockKeepingUnit", T::String).len(180),
        ],
    )
}

fn pricebook2() -> ObjectDef {
    object(
        "Pricebook2",
        b"01s",
        false,
        vec![
            f("Name", T::String).len(255).req().name_field(),
            f("IsActive", T::Boolean),
            f("IsStandard", T::Boolean).ro(),
            f("Description", T::String).len(255),
        ],
    )
}

fn pricebook_entry() -> ObjectDef {
    object(
        "PricebookEntry",
        b"01u",
        false,
        vec![
            f("Name", T::String).len(255).calc().name_field(),
            f("Pricebook2Id", T::Reference)
                .refers(&["Pricebook2"], "Pricebook2")
                .req()
                .create_only(),
            f("Product2Id", T::Reference)
                .refers(&["Product2"], "Product2")
                .req()
                .create_only(),
            f("UnitPrice", T::Currency).req(),
            f("IsActive", T::Boolean),
            f("UseStandardPrice", T::Boolean),
            f("ProductCode", T::String).len(255).calc(),
        ],
    )
}

fn opportunity() -> ObjectDef {
    let stages: Vec<&str> = STAGES.iter().map(|s| s.0).collect();
    object(
        "Opportunity",
        b"006",
        true,
        vec![
            f("AccountId", T::Reference).refers(&["Account"], "Account"),
            f("Name", T::String).len(120).req().name_field(),
            f("Description", T::TextArea),
            f("StageName", T::Picklist).values(&stages).req(),
            f("Amount", T::Currency),
            f("Probability", T::Percent).num(3, 0).defaulted(),
            f("ExpectedRevenue", T::Currency).calc(),
            f("TotalOpportunityQuantity", T::Double).num(18, 2).calc(),
            f("CloseDate", T::Date).req(),
            f("Type", T::Picklist).values(&[
                "Existing Customer - Upgrade",
                "Existing Customer - Replacement",
                "Existing Customer - Downgrade",
                "New Customer",
            ]),
            f("NextStep", T::String).len(255),
            f("LeadSource", T::Picklist).values(LEAD_SOURCES),
            f("IsClosed", T::Boolean).calc(),
            f("IsWon", T::Boolean).calc(),
            f("ForecastCategory", T::Picklist)
                .values(&["Omitted", "Pipeline", "BestCase", "Forecast", "Closed"])
                .calc(),
            f("ForecastCategoryName", T::Picklist)
                .values(&["Omitted", "Pipeline", "Best Case", "Commit", "Closed"])
                .defaulted(),
            f("Pricebook2Id", T::Reference).refers(&["Pricebook2"], "Pricebook2"),
            f("HasOpportunityLineItem", T::Boolean).calc(),
            f("FiscalYear", T::Int).num(4, 0).calc(),
            f("FiscalQuarter", T::Int).num(1, 0).calc(),
        ],
    )
}

fn opportunity_line_item() -> ObjectDef {
    object(
        "OpportunityLineItem",
        b"00k",
        false,
        vec![
            f("OpportunityId", T::Reference)
                .refers(&["Opportunity"], "Opportunity")
                .req()
                .create_only()
                .cascade(),
            f("SortOrder", T::Int),
            f("PricebookEntryId", T::Reference)
                .refers(&["PricebookEntry"], "PricebookEntry")
                .req()
                .create_only(),
            f("Product2Id", T::Reference)
                .refers(&["Product2"], "Product2")
                .calc(),
            f("ProductCode", T::String).len(255).calc(),
            f("Name", T::String).len(376).calc().name_field(),
            f("Quantity", T::Double).num(12, 2).req(),
            f("TotalPrice", T::Currency),
            f("UnitPrice", T::Currency).defaulted(),
            f("ListPrice", T::Currency).calc(),
            f("Subtotal", T::Currency).calc(),
            f("Discount", T::Percent).num(5, 2),
            f("ServiceDate", T::Date),
            f("Description", T::String).len(255),
        ],
    )
}

fn quote() -> ObjectDef {
    let mut fields = vec![
        f("Name", T::String).len(255).req().name_field(),
        f("OpportunityId", T::Reference)
            .refers(&["Opportunity"], "Opportunity")
            .req()
            .create_only()
            .cascade(),
        f("Pricebook2Id", T::Reference).refers(&["Pricebook2"], "Pricebook2"),
        f("ContactId", T::Reference).refers(&["Contact"], "Contact"),
        f("AccountId", T::Reference)
            .refers(&["Account"], "Account")
            .calc(),
        f("QuoteNumber", T::String).len(30).auto_number(),
        f("IsSyncing", T::Boolean).ro(),
        f("Status", T::Picklist)
            .values(&[
                "Draft",
                "Needs Review",
                "In Review",
                "Approved",
                "Rejected",
                "Presented",
                "Accepted",
                "Denied",
            ])
            .default(Value::text("Draft")),
        f("ExpirationDate", T::Date),
        f("Description", T::TextArea),
        f("Discount", T::Percent).num(5, 2).calc(),
        f("Subtotal", T::Currency).calc(),
        f("TotalPrice", T::Currency).calc(),
        f("Tax", T::Currency),
        f("ShippingHandling", T::Currency),
        f("GrandTotal", T::Currency).calc(),
        f("LineItemCount", T::Int).calc(),
        f("Email", T::Email),
        f("Phone", T::Phone),
        f("BillingName", T::String).len(255),
    ];
    fields.extend(address("Billing"));
    fields.push(f("Orgpool_Key__c", T::String).len(255).unique_external_id());
    object("Quote", b"0Q0", false, fields)
}

fn quote_line_item() -> ObjectDef {
    object(
        "QuoteLineItem",
        b"0QL",
        false,
        vec![
            f("LineNumber", T::String).len(30).auto_number(),
            f("QuoteId", T::Reference)
                .refers(&["Quote"], "Quote")
                .req()
                .create_only()
                .cascade(),
            f("PricebookEntryId", T::Reference)
                .refers(&["PricebookEntry"], "PricebookEntry")
                .req()
                .create_only(),
            f("OpportunityLineItemId", T::Reference)
                .refers(&["OpportunityLineItem"], "OpportunityLineItem")
                .create_only(),
            f("Product2Id", T::Reference)
                .refers(&["Product2"], "Product2")
                .create_only(),
            f("Quantity", T::Double).num(12, 2).req(),
            f("UnitPrice", T::Currency).req(),
            f("ListPrice", T::Currency).calc(),
            f("Discount", T::Percent).num(5, 2),
            f("Subtotal", T::Currency).calc(),
            f("TotalPrice", T::Currency).calc(),
            f("ServiceDate", T::Date),
            f("Description", T::String).len(255),
            f("SortOrder", T::Int),
            f("Orgpool_Key__c", T::String).len(255).unique_external_id(),
        ],
    )
}
