//! `quote_generation`: prices selected Opportunities into Quotes and pushes them. The
//! plan step runs the selection (a SOQL condition translated to bound SQL) over the
//! mirror, skips Opportunities without line items, and records chunks of Opportunity
//! Ids. A work chunk computes its Quotes from the mirror alone, upserts the Quotes and
//! then their lines through Bulk API 2.0 keyed by `Orgpool_Key__c`, and records each
//! refused record. Refusals another try may save (a locked row) make the chunk retry (an
//! attempt spent), sending only what is not yet saved; permanent ones stay listed and the
//! chunk completes, so the run ends `succeeded_with_failures` and `jobs retry --records`
//! prices just those Opportunities again after a fix. An outage or limit waits without
//! spending an attempt.

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};

use super::error::JobError;
use super::kind::{Job, JobKind, Outcome, Plan, Planned};
use crate::ledger::{self, Chunk, Run};
use crate::quotes::compute::{ComputeError, compute, quote_key};
use crate::quotes::push::{PushError, Pushed, push};
use crate::quotes::stale::{StaleError, retire};
use crate::quotes::tables::QuoteTables;
use crate::quotes::{QuotesFile, candidates, translate};

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

/// A quote chunk: the Opportunities it prices, or the Quotes it retires.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteChunk {
    /// Opportunity Ids.
    pub opportunities: Vec<String>,
    /// Keys of Quotes whose Opportunity left the selection (or has no line items left):
    /// their orphan lines are deleted and the Quote marked, deleted or kept as
    /// `[stale] action` says.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale: Vec<String>,
}

/// The rules a run uses, by the version in its arguments.
pub async fn rules_of(
    pool: &PgPool,
    run: &Run,
    args: &QuoteArgs,
) -> Result<(QuotesFile, String), JobError> {
    let version = args.version.clone();
    let Some(text) = ledger::quotes::rules(pool, &version).await? else {
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

/// Checks the rules against the mirror (the mapped tables): the selection's fields and
/// syntax, that the price book exists, and that every family a rule names exists. Returns the selected Opportunity
/// Ids and how many matching Opportunities were skipped for having no line items. With
/// `changed_since_quote` (a rules version), Opportunities already quoted under it whose
/// `SystemModstamp` has not moved since they were priced are left out (the schedule's
/// re-quote; both stamps come from Salesforce's clock, so clock skew cannot hide a change).
pub async fn select(
    pool: &PgPool,
    rules: &QuotesFile,
    condition: &str,
    changed_since_quote: Option<&str>,
) -> Result<(Vec<String>, i64), JobError> {
    let s = select_all(pool, rules, condition, changed_since_quote).await?;
    Ok((s.ids, s.skipped))
}

/// What a selection found.
#[derive(Debug, Clone, Default)]
pub struct Selected {
    /// The Opportunities to price.
    pub ids: Vec<String>,
    /// Matching Opportunities without line items.
    pub skipped: i64,
    /// Every matching Opportunity with line items, changed or not: a Quote of any other
    /// is stale.
    pub quoted: Vec<String>,
}

/// [`select`], with the whole matching set.
pub async fn select_all(
    pool: &PgPool,
    rules: &QuotesFile,
    condition: &str,
    changed_since_quote: Option<&str>,
) -> Result<Selected, JobError> {
    let bad = |problem: String, fix: &str| JobError::Mapping {
        problem,
        fix: fix.into(),
    };
    let tables = QuoteTables::load(pool).await?;
    let opp = tables.opportunity.columns(pool).await?;
    let acc = tables.account.columns(pool).await?;
    let sel = translate(condition, &opp, &acc, 1).map_err(|e| {
        bad(
            e.to_string(),
            "fix the selection in jobs/quotes.toml or --where",
        )
    })?;
    let books = candidates::price_books(pool, &tables).await?;
    let book = &rules.pricing.price_book;
    if !books.iter().any(|b| b.eq_ignore_ascii_case(book)) {
        let known = if books.is_empty() {
            "none".to_string()
        } else {
            books
                .iter()
                .map(|b| format!("{b:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(bad(
            format!(
                "pricing.price_book {book:?} is not a price book in the mirror of Pricebook2 ({}); the price books there are: {known}",
                tables.price_book
            ),
            "set pricing.price_book in jobs/quotes.toml to one of those names",
        ));
    }
    if !rules.pricing.families.is_empty() {
        if !tables.product.columns(pool).await?.contains("family") {
            return Err(bad(
                format!(
                    "pricing rules name product families, but the mirror of Product2 ({}) has no Family column",
                    tables.product
                ),
                "add Family to the Product2 fields in jobs/mappings.toml and reload it",
            ));
        }
        let known = candidates::families(pool, &tables).await?;
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
    }
    let mut found = candidates::matching(pool, &tables, &sel).await?;
    let quoted = found
        .iter()
        .filter(|c| c.has_lines)
        .map(|c| c.sfid.clone())
        .collect();
    if let Some(version) = changed_since_quote {
        let ids: Vec<String> = found.iter().map(|c| c.sfid.clone()).collect();
        let stamps: Vec<_> = found.iter().map(|c| c.stamp).collect();
        let unchanged = ledger::quotes::unchanged_since_quote(pool, version, &ids, &stamps).await?;
        found.retain(|c| !unchanged.contains(&c.sfid));
    }
    let skipped = found.iter().filter(|c| !c.has_lines).count() as i64;
    Ok(Selected {
        ids: found
            .into_iter()
            .filter(|c| c.has_lines)
            .map(|c| c.sfid)
            .collect(),
        skipped,
        quoted,
    })
}

/// `orgpool jobs retry --records [--run ID]`: re-opens each run that succeeded with
/// failures (or just `run`) with new chunks pricing only the Opportunities whose records
/// are still refused. Quotes and lines the run saved are not sent again (a chunk sends
/// only what is not yet saved, upserted by key). Returns (run, new chunk ids) per run.
pub async fn retry_records(
    pool: &PgPool,
    run: Option<i64>,
) -> Result<Vec<(i64, Vec<i64>)>, JobError> {
    if let Some(id) = run {
        let r = ledger::runs::get(pool, id).await?;
        if r.kind != QuoteGeneration::QUEUE {
            return Err(JobError::Mapping {
                problem: format!(
                    "run {id} is a {} run; refused records belong to quote runs",
                    r.kind
                ),
                fix: "pass the id of a quote run (`orgpool jobs failures`, `orgpool status`)"
                    .into(),
            });
        }
    }
    let mut out = Vec::new();
    for (run_id, opportunities) in ledger::pushes::refused_opportunities(pool, run).await? {
        let r = ledger::runs::get(pool, run_id).await?;
        let args: QuoteArgs = r.args()?;
        let (rules, _) = rules_of(pool, &r, &args).await?;
        let chunks: Vec<ledger::NewChunk> = opportunities
            .chunks(rules.selection.chunk_size as usize)
            .map(|c| ledger::NewChunk {
                spec: ledger::encode(&QuoteChunk {
                    opportunities: c.to_vec(),
                    ..QuoteChunk::default()
                }),
                expected_rows: Some(c.len() as i64),
            })
            .collect();
        let ids =
            ledger::lifecycle::reopen_with(pool, run_id, QuoteGeneration::QUEUE, &chunks).await?;
        out.push((run_id, ids));
    }
    Ok(out)
}

fn compute_error(e: ComputeError) -> JobError {
    match e {
        ComputeError::Db(e) => JobError::Db(e),
        ComputeError::Ledger(e) => JobError::Ledger(e),
        other => JobError::Mapping {
            problem: other.to_string(),
            fix: "fix the data or the rules, then `orgpool jobs retry`".into(),
        },
    }
}

fn push_error(e: PushError) -> JobError {
    match e {
        PushError::Salesforce(e) => JobError::Salesforce(e),
        PushError::Ledger(e) => JobError::Ledger(e),
    }
}

/// Refusals another try may save make the chunk retry while it has attempts left;
/// permanent ones (and what is left on the last attempt) stay listed in `jobs failures`
/// and the chunk completes, so the run ends succeeded with failures instead of failing
/// the same chunk for ever.
fn retry_refusals(chunk: &Chunk, max_attempts: i32, pushed: &Pushed) -> Result<(), JobError> {
    let last_try = chunk.attempts + 1 >= max_attempts;
    if pushed.retryable > 0 && !last_try {
        return Err(JobError::Records {
            failed: pushed.failed,
        });
    }
    Ok(())
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
            let found = select_all(&ctx.pool, &rules, &condition, since).await?;
            let (ids, skipped) = (&found.ids, found.skipped);
            // Only the rules' own selection says which Quotes no longer belong: an
            // ad-hoc --where run leaves the others alone.
            let stale = match args.condition {
                None => ledger::quotes::stale_quotes(&ctx.pool, &found.quoted).await?,
                Some(_) => Vec::new(),
            };
            tracing::info!(
                run_id = run.id,
                selected = ids.len(),
                skipped_no_lines = skipped,
                stale = stale.len(),
                "quote run planned"
            );
            let size = rules.selection.chunk_size as usize;
            let priced = ids.chunks(size).map(|c| Planned {
                spec: QuoteChunk {
                    opportunities: c.to_vec(),
                    ..QuoteChunk::default()
                },
                expected_rows: Some(c.len() as i64),
            });
            let retired = stale.chunks(size).map(|c| Planned {
                spec: QuoteChunk {
                    stale: c.to_vec(),
                    ..QuoteChunk::default()
                },
                expected_rows: Some(c.len() as i64),
            });
            Ok(Plan {
                chunks: priced.chain(retired).collect(),
                expected_rows: Some(ids.len() as i64),
                summary: serde_json::json!({
                    "selected": ids.len(), "skipped_no_lines": skipped, "stale": stale.len(),
                }),
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
            let tables = QuoteTables::load(&ctx.pool).await?;
            if !spec.stale.is_empty() {
                let ids = (run.id, chunk.id);
                let done = retire(
                    &ctx.pool,
                    &ctx.client,
                    &tables,
                    &rules.stale,
                    ids,
                    &spec.stale,
                )
                .await
                .map_err(|e| match e {
                    StaleError::Push(e) => push_error(e),
                    StaleError::Db(e) => JobError::Db(e),
                })?;
                retry_refusals(chunk, ctx.settings.max_attempts, &done)?;
                tracing::debug!(
                    chunk_id = chunk.id,
                    retired = done.quotes,
                    refused = done.failed,
                    "stale quotes retired"
                );
                return Ok(Outcome::done(ctx.pool.begin().await?, done.quotes as u64));
            }
            compute(&ctx.pool, &tables, &rules, &version, run.id, items)
                .await
                .map_err(compute_error)?;
            let computed = started.elapsed();
            let keys: Vec<String> = items
                .iter()
                .map(|o| quote_key(&rules, o, &version))
                .collect();
            let pushed = push(&ctx.pool, &ctx.client, run.id, chunk.id, &keys)
                .await
                .map_err(push_error)?;
            retry_refusals(chunk, ctx.settings.max_attempts, &pushed)?;
            tracing::debug!(
                chunk_id = chunk.id,
                opportunities = items.len(),
                quotes = pushed.quotes,
                lines = pushed.lines,
                refused = pushed.failed,
                compute_ms = computed.as_millis() as u64,
                push_ms = (started.elapsed() - computed).as_millis() as u64,
                "quote chunk pushed"
            );
            // The Quotes are saved in Salesforce and their state in the ledger's
            // quote rows: the chunk's own commit carries nothing more.
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
