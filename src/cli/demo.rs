//! `orgpool demo`: starts a seeded fake org in-process and talks to it over HTTP the way
//! a client does (OAuth, describe, REST query with paging, a Bulk API 2.0 query), printing
//! what it got. Later stages of the project grow this into the full pipeline.

use std::time::Instant;

use clap::Args;
use serde_json::Value as Json;

use crate::fake_org::{self, FakeOrgConfig, SeedConfig};
use crate::org_session::OrgSession;

/// Options of the demo.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Opportunities to seed [20000].
    #[arg(long, default_value_t = 20_000)]
    pub opportunities: u64,
}

impl DemoArgs {
    /// Runs the demo.
    pub async fn run(self) -> anyhow::Result<()> {
        let config = FakeOrgConfig {
            seed: SeedConfig {
                opportunities: self.opportunities,
                accounts: (self.opportunities / 10).max(10),
                ..SeedConfig::default()
            },
            ..FakeOrgConfig::default()
        };
        let t = Instant::now();
        let org = fake_org::start(config.clone()).await?;
        println!(
            "fake org at {} (seeded in {:.2}s)",
            org.base_url,
            t.elapsed().as_secs_f64()
        );
        let session = OrgSession::login(
            &org.token_url(),
            &config.client_id,
            &config.client_secret,
            true,
        )
        .await?;
        println!(
            "1. OAuth client_credentials: token issued for {}",
            session.identity
        );

        let describe = session
            .get_json("/sobjects/Opportunity/describe", &[], &[])
            .await?;
        println!(
            "2. describe Opportunity: key prefix {}, {} fields",
            describe["keyPrefix"],
            describe["fields"].as_array().map_or(0, Vec::len)
        );

        let q = "SELECT Id, Name, StageName, Amount, Account.Name, Account.BillingCountry FROM Opportunity WHERE StageName IN ('Proposal/Price Quote','Negotiation/Review') AND IsClosed = false ORDER BY Amount DESC LIMIT 3";
        let page = session.get_json("/query", &[("q", q)], &[]).await?;
        println!("3. REST query, top quotable opportunities by amount:");
        for r in page["records"].as_array().into_iter().flatten() {
            let text = |v: &Json| v.as_str().unwrap_or("").to_string();
            println!(
                "   {}  {:<45} {:>12}  {} ({})",
                text(&r["Id"]),
                text(&r["Name"]),
                r["Amount"],
                text(&r["Account"]["Name"]),
                text(&r["Account"]["BillingCountry"])
            );
        }

        let batch = [("Sforce-Query-Options", "batchSize=500")];
        let mut cur = session
            .get_json("/query", &[("q", "SELECT Id, Name FROM Account")], &batch)
            .await?;
        let total = cur["totalSize"].as_u64().unwrap_or(0);
        let (mut pages, mut rows) = (0, 0);
        loop {
            pages += 1;
            rows += cur["records"].as_array().map_or(0, Vec::len);
            let Some(next) = cur["nextRecordsUrl"].as_str().map(String::from) else {
                break;
            };
            cur = session.get_json(&next, &[], &batch).await?;
        }
        println!("4. REST query with paging: {rows} of {total} accounts in {pages} pages of 500");

        let t = Instant::now();
        let id = session
            .bulk_query("SELECT Id, OpportunityId, Product2.Family, Quantity, UnitPrice, TotalPrice FROM OpportunityLineItem")
            .await?;
        let (mut bulk_rows, mut bulk_pages, mut bytes) = (0u64, 0u64, 0usize);
        let mut head = Vec::new();
        session
            .bulk_pages(
                &id,
                25_000,
                |chunk| {
                    bytes += chunk.len();
                    if head.len() < 4096 {
                        head.extend_from_slice(chunk);
                    }
                },
                |page| {
                    bulk_rows += page.records;
                    bulk_pages += 1;
                },
            )
            .await?;
        let sample = String::from_utf8_lossy(&head)
            .lines()
            .take(3)
            .collect::<Vec<_>>()
            .join("\n   ");
        let secs = t.elapsed().as_secs_f64();
        println!(
            "5. Bulk API 2.0 query over line items: {bulk_rows} rows, {bulk_pages} pages, {:.1} MB of CSV in {secs:.2}s; first lines:\n   {sample}",
            bytes as f64 / 1e6
        );
        println!(
            "done: the fake org answered {} API calls",
            org.api_usage().0
        );
        org.shutdown().await;
        Ok(())
    }
}
