//! `orgpool demo`: starts a seeded fake org in-process and talks to it over HTTP the way
//! a client does (OAuth, describe, REST query with paging, a Bulk API 2.0 query), printing
//! what it got. Later stages of the project grow this into the full pipeline.

use std::time::Instant;

use clap::Args;
use serde_json::Value as Json;

use crate::fake_org::{self, FakeOrgConfig, SeedConfig};

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
        let http = reqwest::Client::new();
        let token: Json = http
            .post(org.token_url())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", config.client_id.as_str()),
                ("client_secret", config.client_secret.as_str()),
            ])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let access = token["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let api = format!(
            "{}/services/data/v62.0",
            token["instance_url"].as_str().unwrap_or_default()
        );
        println!(
            "1. OAuth client_credentials: token issued for {}",
            token["id"].as_str().unwrap_or("")
        );

        let describe: Json = http
            .get(format!("{api}/sobjects/Opportunity/describe"))
            .bearer_auth(&access)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        println!(
            "2. describe Opportunity: key prefix {}, {} fields",
            describe["keyPrefix"],
            describe["fields"].as_array().map_or(0, Vec::len)
        );

        let q = "SELECT Id, Name, StageName, Amount, Account.Name, Account.BillingCountry FROM Opportunity WHERE StageName IN ('Proposal/Price Quote','Negotiation/Review') AND IsClosed = false ORDER BY Amount DESC LIMIT 3";
        let page: Json = http
            .get(format!("{api}/query"))
            .query(&[("q", q)])
            .bearer_auth(&access)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        println!("3. REST query, top quotable opportunities by amount:");
        for r in page["records"].as_array().into_iter().flatten() {
            println!(
                "   {}  {:<45} {:>12}  {} ({})",
                r["Id"].as_str().unwrap_or(""),
                r["Name"].as_str().unwrap_or(""),
                r["Amount"],
                r["Account"]["Name"].as_str().unwrap_or(""),
                r["Account"]["BillingCountry"].as_str().unwrap_or("")
            );
        }

        let mut pages = 0;
        let mut rows = 0;
        let first: Json = http
            .get(format!("{api}/query"))
            .query(&[("q", "SELECT Id, Name FROM Account")])
            .header("Sforce-Query-Options", "batchSize=500")
            .bearer_auth(&access)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let total = first["totalSize"].as_u64().unwrap_or(0);
        let mut cur = first;
        loop {
            pages += 1;
            rows += cur["records"].as_array().map_or(0, Vec::len);
            let Some(n) = cur["nextRecordsUrl"].as_str().map(String::from) else {
                break;
            };
            cur = http
                .get(format!("{}{n}", org.base_url))
                .bearer_auth(&access)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
        }
        println!("4. REST query with paging: {rows} of {total} accounts in {pages} pages of 500");

        let t = Instant::now();
        let job: Json = http
            .post(format!("{api}/jobs/query"))
            .bearer_auth(&access)
            .json(&serde_json::json!({"operation": "query", "query": "SELECT Id, OpportunityId, Product2.Family, Quantity, UnitPrice, TotalPrice FROM OpportunityLineItem"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = job["id"].as_str().unwrap_or_default().to_string();
        loop {
            let info: Json = http
                .get(format!("{api}/jobs/query/{id}"))
                .bearer_auth(&access)
                .send()
                .await?
                .json()
                .await?;
            if info["state"] == "JobComplete" {
                break;
            }
            if info["state"] == "Failed" || info["state"] == "Aborted" {
                anyhow::bail!("bulk job ended {}: {}", info["state"], info["errorMessage"]);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let mut locator: Option<String> = None;
        let (mut bulk_rows, mut bulk_pages, mut bytes) = (0u64, 0u64, 0usize);
        let mut sample = String::new();
        loop {
            let mut req = http
                .get(format!("{api}/jobs/query/{id}/results"))
                .query(&[("maxRecords", "25000")])
                .bearer_auth(&access);
            if let Some(l) = &locator {
                req = req.query(&[("locator", l)]);
            }
            let resp = req.send().await?.error_for_status()?;
            let n: u64 = resp
                .headers()
                .get("Sforce-NumberOfRecords")
                .and_then(|h| h.to_str().ok())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let next = resp
                .headers()
                .get("Sforce-Locator")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("null")
                .to_string();
            let body = resp.text().await?;
            if sample.is_empty() {
                sample = body.lines().take(3).collect::<Vec<_>>().join("\n   ");
            }
            bytes += body.len();
            bulk_rows += n;
            bulk_pages += 1;
            if next == "null" {
                break;
            }
            locator = Some(next);
        }
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
