//! Running Bulk 1.0 batches in the background, one at a time per job in creation order,
//! after the org's configured processing delay. A query batch runs on the fake org's
//! query engine; on a PK-chunking job the first batch is split into one batch per Id
//! range of `chunkSize` records and itself becomes NotProcessed, as Salesforce does.
//! Ingest records are written in small groups per store lock so readers get in between.

use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use rand::Rng;

use super::super::ids::RecordId;
use super::super::input;
use super::super::query::{compile, execute};
use super::super::record_error::RecordError;
use super::batch::{Batch, BatchState, Records, Work};
use super::dml::{self, Outcome};
use super::job::{Bulk1, Job, Op, PkChunking};

/// Records written per store lock.
const GROUP: usize = 200;

/// What a batch needs from its job.
#[derive(Debug, Clone)]
struct Ctx {
    job_id: String,
    obj: usize,
    op: Op,
    ext: Option<String>,
    pk: Option<PkChunking>,
    lane: Arc<tokio::sync::Mutex<()>>,
    origin: String,
}

/// Queues `batch` of `job` for processing.
pub fn spawn(b1: Arc<Bulk1>, job: &Job, batch: Arc<Mutex<Batch>>) {
    let ctx = Ctx {
        job_id: job.id.clone(),
        obj: job.obj,
        op: job.op,
        ext: job.external_id.clone(),
        pk: job.pk_chunking.clone(),
        lane: job.lane.clone(),
        origin: job.origin.clone(),
    };
    tokio::spawn(run(b1, ctx, batch));
}

async fn run(b1: Arc<Bulk1>, ctx: Ctx, batch: Arc<Mutex<Batch>>) {
    let _turn = ctx.lane.clone().lock_owned().await;
    let delay = b1.org.faults.snapshot().bulk_delay;
    tokio::time::sleep(delay / 2).await;
    {
        let mut b = batch.lock();
        if b.state != BatchState::Queued {
            return; // aborted meanwhile
        }
        b.set(BatchState::InProgress, None);
    }
    tokio::time::sleep(delay / 2).await;
    let started = Instant::now();
    let (b1c, ctxc, batchc) = (b1.clone(), ctx.clone(), batch.clone());
    let chunks = tokio::task::spawn_blocking(move || work(&b1c, &ctxc, &batchc))
        .await
        .unwrap_or_else(|_| {
            batch
                .lock()
                .set(BatchState::Failed, Some("Unknown : internal error".into()));
            Vec::new()
        });
    batch.lock().processing_ms = started.elapsed().as_millis() as u64;
    if chunks.is_empty() {
        return;
    }
    let Ok(job) = b1.job(&ctx.job_id) else { return };
    let mut j = job.lock();
    let (soql, request) = {
        let b = batch.lock();
        match &b.work {
            Work::Query { soql, .. } => (soql.clone(), b.request.clone()),
            Work::Ingest(..) => return,
        }
    };
    for range in chunks {
        let chunk = Arc::new(Mutex::new(Batch::new(
            b1.org.new_id(b"751"),
            j.id.clone(),
            request.clone(),
            Work::Query {
                soql: soql.clone(),
                range: Some(range),
                rows: None,
                result: None,
            },
        )));
        j.batches.push(chunk.clone());
        spawn(b1.clone(), &j, chunk);
    }
    batch.lock().set(BatchState::NotProcessed, None);
}

/// Runs a batch; returns the Id ranges to split it into (PK chunking), if any.
fn work(b1: &Bulk1, ctx: &Ctx, batch: &Mutex<Batch>) -> Vec<(u64, u64)> {
    let query = match &batch.lock().work {
        Work::Query { soql, range, .. } => Some((soql.clone(), *range)),
        Work::Ingest(..) => None,
    };
    match query {
        Some((soql, range)) => run_query(b1, ctx, batch, &soql, range),
        None => {
            run_ingest(b1, ctx, batch);
            Vec::new()
        }
    }
}

fn fail(batch: &Mutex<Batch>, message: String) {
    batch.lock().set(BatchState::Failed, Some(message));
}

fn run_query(
    b1: &Bulk1,
    ctx: &Ctx,
    batch: &Mutex<Batch>,
    soql: &str,
    range: Option<(u64, u64)>,
) -> Vec<(u64, u64)> {
    let store = b1.org.store.read();
    let q = match compile(&store.schema, soql) {
        Ok(q) => q,
        Err(e) => {
            fail(
                batch,
                format!("InvalidBatch : Failed to process query: {}: {e}", e.code()),
            );
            return Vec::new();
        }
    };
    if q.obj != ctx.obj {
        fail(
            batch,
            format!(
                "InvalidBatch : The query's object {} is not the job's object {}",
                store.schema.objects[q.obj].name, store.schema.objects[ctx.obj].name
            ),
        );
        return Vec::new();
    }
    if q.count_only {
        fail(
            batch,
            "InvalidBatch : Aggregate queries are not supported by the Bulk API".into(),
        );
        return Vec::new();
    }
    if let (Some(pk), None) = (&ctx.pk, range) {
        let table = store.table(ctx.obj);
        let start = pk
            .start_row
            .as_deref()
            .and_then(RecordId::parse)
            .map_or(1, RecordId::seq);
        return chunk_ranges(
            (start..=table.issued()).filter(|s| table.get(*s).is_some()),
            pk.size,
            table.issued() + 1,
        );
    }
    let mut rows = execute(&store, &q, ctx.op == Op::QueryAll);
    if let Some((lo, hi)) = range {
        rows.retain(|s| (lo..hi).contains(s));
    }
    let mut b = batch.lock();
    b.processed = rows.len();
    if let Work::Query {
        rows: r, result, ..
    } = &mut b.work
    {
        *r = Some(Arc::new(rows));
        *result = Some(b1.org.new_id(b"752"));
    }
    b.set(BatchState::Completed, None);
    Vec::new()
}

/// Splits present sequence numbers into ranges of `size` rows: `[first, next first)`,
/// the last one ending at `end`. At least one range, so an empty object still answers.
pub fn chunk_ranges(seqs: impl Iterator<Item = u64>, size: usize, end: u64) -> Vec<(u64, u64)> {
    let starts: Vec<u64> = seqs.step_by(size.max(1)).collect();
    if starts.is_empty() {
        return vec![(1, end)];
    }
    let mut out = Vec::with_capacity(starts.len());
    for (i, lo) in starts.iter().enumerate() {
        out.push((*lo, starts.get(i + 1).copied().unwrap_or(end)));
    }
    out
}

fn run_ingest(b1: &Bulk1, ctx: &Ctx, batch: &Mutex<Batch>) {
    let records = match &batch.lock().work {
        Work::Ingest(r, _) => r.clone(),
        Work::Query { .. } => return,
    };
    let cols = match &records {
        Records::Csv(header, _) => {
            let store = b1.org.store.read();
            match input::csv_columns(&store.schema, ctx.obj, header) {
                Ok(c) => c,
                Err(msg) => return fail(batch, msg),
            }
        }
        Records::Json(_) => Vec::new(),
    };
    let total = records.len();
    let ext = ctx.ext.as_deref();
    let mut outcomes = Vec::with_capacity(total);
    let mut done = 0;
    while done < total {
        let stop = (done + GROUP).min(total);
        let rate = b1.org.faults.snapshot().ingest_failure_rate;
        let mut rng = rand::rng();
        let mut store = b1.org.store.write_from(ctx.origin.clone());
        for i in done..stop {
            // The injected lock failure, as Bulk 2.0 ingest injects it.
            if rate > 0.0 && rng.random_bool(rate.min(1.0)) {
                outcomes.push(Outcome::failed(
                    None,
                    RecordError::new(
                        "UNABLE_TO_LOCK_ROW",
                        "unable to obtain exclusive access to this record",
                    ),
                ));
                continue;
            }
            let rec = match &records {
                Records::Csv(header, rows) => dml::from_csv(header, &cols, &rows[i], ext),
                Records::Json(items) => dml::from_json(&store, ctx.obj, &items[i], ext),
            };
            outcomes.push(dml::apply(&mut store, ctx.obj, ctx.op, ext, rec));
        }
        drop(store);
        batch.lock().processed = stop;
        done = stop;
    }
    let mut b = batch.lock();
    b.failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    b.processed = total;
    if let Work::Ingest(_, o) = &mut b.work {
        *o = outcomes;
    }
    b.set(BatchState::Completed, None);
}

#[cfg(test)]
mod tests {
    use super::chunk_ranges;

    #[test]
    fn chunks_cover_every_row_once() {
        let seqs = [1u64, 2, 4, 5, 6, 9, 10];
        let r = chunk_ranges(seqs.iter().copied(), 3, 11);
        assert_eq!(r, vec![(1, 5), (5, 10), (10, 11)]);
        for s in seqs {
            assert_eq!(
                r.iter().filter(|(lo, hi)| (*lo..*hi).contains(&s)).count(),
                1
            );
        }
        assert_eq!(chunk_ranges(std::iter::empty(), 3, 1), vec![(1, 1)]);
    }
}
