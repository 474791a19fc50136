//! `quote_generation`: prices selected Opportunities into Quotes and pushes them. The
//! plan step runs the selection (a SOQL condition translated to bound SQL) over the
//! mirror, skips Opportunities without line items, and records chunks of Opportunity
//! Ids. A work chunk computes its Quotes from the mirror alone, upserts the Quotes and
//! then their lines through Bulk API 2.0 keyed by `Orgpool_Key__c`, and records each
//! refused record. Refused records make the chunk retry (an attempt spent), sending only
//! what is not yet saved; an outage or limit waits without spending one.

use std::collections::HashSet;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};

use super::error::JobError;
use super::kind::{Job, JobKind, Outcome, Plan, Planned};
use crate::ledger::{Chunk, Run};
use crate::quotes::QuotesFile;
use crate::quotes::compute::{ComputeError, compute, quote_key};
use crate::quotes::push::{PushError, push};
use crate::quotes::selection::{Bind, translate};

/// The job kind.
pub struct QuoteGeneration;

/// A quote run's arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteArgs {
    /// The rules version (recorded in `orgpool.quote_rules` when the run was started).
    pub version: String,
    /// A SOQL condition replacing the rules' selection.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Only Opportunities changed since their Quote under these rules (the schedule).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub changed_only: bool,
}

/// A quote chunk: the Opportunities it prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteChunk {
    /// Opportunity Ids.
    pub opportunities: Vec<String>,
}

/// The rules a run uses, by the version in its arguments.
pub async fn rules_of(
    pool: &PgPool,
    run: &Run,
    args: &QuoteArgs,
) -> Result<(QuotesFile, String), JobError> {
    let version = args.version.clone();
    let text: Option<(String,)> =
        sqlx::query_as("SELECT rules FROM orgpool.quote_rules WHERE version = $1")
            .bind(&version)
            .fetch_optional(pool)
            .await?;
    let Some((text,)) = text else {
        return Err(JobError::Mapping {
            problem: format!(
                "run {} names rules version {version:?}, which is not recorded",
                run.id
            ),
            fix: "enqueue the quote run again".into(),
        });
    };
    let rules = QuotesFile::parse("jobs/quotes.toml", &text).map_err(|e| JobError::Mapping {
        problem: e.to_string(),
        fix: "fix jobs/quotes.toml and enqueue again".into(),
    })?;
    Ok((rules, version))
}

/// Lowercase column names of a mirror table.
pub async fn columns_of(pool: &PgPool, table: &str) -> Result<HashSet<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'salesforce' AND table_name = $1",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Checks the rules against the mirror: the selection's fields and syntax, and that
/// every family a rule names exists. Returns the selected Opportunity Ids and how many
/// matching Opportunities were skipped for having no line items. With
/// `changed_since_quote` (a rules version), Opportunities already quoted under it whose
/// `SystemModstamp` has not moved since they were priced are left out (the schedule's
/// re-quote; both stamps come from Salesforce's clock, so clock skew cannot hide a change).
pub async fn select(
    pool: &PgPool,
    rules: &QuotesFile,
    condition: &str,
    changed_since_quote: Option<&str>,
) -> Result<(Vec<String>, i64), JobError> {
    let bad = |problem: String, fix: &str| JobError::Mapping {
        problem,
        fix: fix.into(),
    };
    let opp = columns_of(pool, "opportunity").await?;
    let acc = columns_of(pool, "account").await?;
    if opp.is_empty() {
        return Err(bad(
            "the mirror has no Opportunity table".into(),
            "map Opportunity in jobs/mappings.toml and load it",
        ));
    }
    let sel = translate(condition, &opp, &acc, 1).map_err(|e| {
        bad(
            e.to_string(),
            "fix the selection in jobs/quotes.toml or --where",
        )
    })?;
    let families: Vec<(Option<String>,)> =
        sqlx::query_as("SELECT DISTINCT family FROM salesforce.product2")
            .fetch_all(pool)
            .await
            .unwrap_or_default();
    let known: HashSet<String> = families
        .into_iter()
        .filter_map(|f| f.0)
        .map(|f| f.to_lowercase())
        .collect();
    for f in &rules.pricing.families {
        if !known.contains(&f.family.to_lowercase()) {
            return Err(bad(
                format!(
                    "pricing rule for family {:?}: no product in the mirror has that family",
                    f.family
                ),
                "fix the family name in jobs/quotes.toml (families are Product2.Family values)",
            ));
        }
    }
    let join = if sel.uses_account {
        "LEFT JOIN salesforce.account a ON a.sfid = o.accountid"
    } else {
        ""
    };
    let unchanged = match changed_since_quote {
        Some(_) => format!(
            "AND NOT EXISTS (SELECT 1 FROM orgpool.quotes q WHERE q.opportunity_sfid = o.sfid
                 AND q.rules_version = ${}::text AND q.state = 'pushed' AND q.opportunity_modstamp >= o.systemmodstamp)",
            sel.binds.len() + 1
        ),
        None => String::new(),
    };
    let sql = format!(
        "SELECT o.sfid, EXISTS (SELECT 1 FROM salesforce.opportunitylineitem l WHERE l.opportunityid = o.sfid)
         FROM salesforce.opportunity o {join} WHERE o.isdeleted IS NOT TRUE AND ({}) {unchanged} ORDER BY o.sfid",
        sel.sql
    );
    let mut q = sqlx::query_as::<_, (String, bool)>(sqlx::AssertSqlSafe(sql));
    for b in &sel.binds {
        q = match b {
            Bind::Text(t) | Bind::Number(t) => q.bind(t.clone()),
            Bind::Bool(v) => q.bind(*v),
            Bind::Date(d) => q.bind(*d),
            Bind::DateTime(t) => q.bind(*t),
        };
    }
    if let Some(v) = changed_since_quote {
        q = q.bind(v.to_string());
    }
    let rows = q.fetch_all(pool).await?;
    let skipped = rows.iter().filter(|r| !r.1).count() as i64;
    Ok((
        rows.into_iter().filter(|r| r.1).map(|r| r.0).collect(),
        skipped,
    ))
}

fn compute_error(e: ComputeError) -> JobError {
    match e {
        ComputeError::Db(e) => JobError::Db(e),
        other => JobError::Mapping {
            problem: other.to_string(),
            fix: "fix the data or the rules, then `orgpool jobs retry`".into(),
        },
    }
}

impl JobKind for QuoteGeneration {
    const QUEUE: &'static str = "quote_generation";
    type Args = QuoteArgs;
    type Chunk = QuoteChunk;

    fn plan<'a>(job: &'a Job<'a, QuoteArgs>) -> BoxFuture<'a, Result<Plan<QuoteChunk>, JobError>> {
        Box::pin(async move {
            let (ctx, run, args) = (job.ctx, job.run, job.args);
            let (rules, _) = rules_of(&ctx.pool, run, args).await?;
            let condition = args
                .condition
                .clone()
                .unwrap_or_else(|| rules.selection.condition.clone());
            let version = rules.version();
            let since = args.changed_only.then_some(version.as_str());
            let (ids, skipped) = select(&ctx.pool, &rules, &condition, since).await?;
            tracing::info!(
                run_id = run.id,
                selected = ids.len(),
                skipped_no_lines = skipped,
                "quote run planned"
            );
            let chunks = ids
                .chunks(rules.selection.chunk_size as usize)
                .map(|c| Planned {
                    spec: QuoteChunk {
                        opportunities: c.to_vec(),
                    },
                    expected_rows: Some(c.len() as i64),
                })
                .collect();
            Ok(Plan {
                chunks,
                expected_rows: Some(ids.len() as i64),
                summary: serde_json::json!({ "selected": ids.len(), "skipped_no_lines": skipped }),
                ..Plan::default()
            })
        })
    }

    fn work<'a>(
        job: &'a Job<'a, QuoteArgs>,
        chunk: &'a Chunk,
        spec: &'a QuoteChunk,
    ) -> BoxFuture<'a, Result<Outcome, JobError>> {
        Box::pin(async move {
            let (ctx, run) = (job.ctx, job.run);
            let started = std::time::Instant::now();
            let (rules, version) = rules_of(&ctx.pool, run, job.args).await?;
            let items = &spec.opportunities;
            compute(&ctx.pool, &rules, &version, run.id, items)
                .await
                .map_err(compute_error)?;
            let computed = started.elapsed();
            let keys: Vec<String> = items
                .iter()
                .map(|o| quote_key(&rules, o, &version))
                .collect();
            let pushed = push(&ctx.pool, &ctx.client, run.id, chunk.id, &keys)
                .await
                .map_err(|e| match e {
                    PushError::Salesforce(e) => JobError::Salesforce(e),
                    PushError::Db(e) => JobError::Db(e),
                })?;
            if pushed.failed > 0 {
                return Err(JobError::Records {
                    failed: pushed.failed,
                });
            }
            tracing::debug!(
                chunk_id = chunk.id,
                opportunities = items.len(),
                quotes = pushed.quotes,
                lines = pushed.lines,
                compute_ms = computed.as_millis() as u64,
                push_ms = (started.elapsed() - computed).as_millis() as u64,
                "quote chunk pushed"
            );
            // The Quotes are saved in Salesforce and their state in orgpool.quotes:
            // the chunk's own commit carries nothing more.
            Ok(Outcome::done(ctx.pool.begin().await?, items.len() as u64))
        })
    }

    fn finalize<'a>(
        _job: &'a Job<'a, QuoteArgs>,
        _conn: &'a mut PgConnection,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async { Ok(()) })
    }
}
