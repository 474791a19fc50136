//! The scheduler's write-back listener: `LISTEN orgpool_write_back` on its own Postgres
//! connection, and as soon as a change is captured (or every 2 s, for changes whose
//! retry came due and for a notification lost while reconnecting) a `write_back` run
//! per schema that has rows waiting. It dispatches only while this scheduler holds the
//! leader lock, like the rest of the scheduler, and the ledger's lane keeps one active
//! run per schema anyway. While a run is active it looks again every 200 ms, so the
//! next run starts as soon as the lane frees.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;

use crate::app::Services;
use crate::jobs::dispatch::start_run;
use crate::jobs::registry::WRITE_BACK;
use crate::ledger::{self, Created, LedgerError};
use crate::mirror::capture::{CHANNEL, log};

/// How often to look while a run is active or rows were just captured.
const BUSY: Duration = Duration::from_millis(200);
/// How often to look when idle.
const IDLE: Duration = Duration::from_secs(2);

/// Runs until `shutdown`; dispatches while `leader` is true.
pub async fn listen(s: Services, leader: Arc<AtomicBool>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let mut listener = match connect(&s.pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "write-back listener cannot LISTEN; trying again in 2 s");
                tokio::select! {
                    _ = tokio::time::sleep(IDLE) => continue,
                    _ = shutdown.wait_for(|s| *s) => return,
                }
            }
        };
        let mut schemas: Vec<(String, Vec<String>)> = Vec::new();
        let mut schemas_read: Option<Instant> = None;
        let mut busy = true;
        loop {
            let mut notified = false;
            tokio::select! {
                n = listener.recv() => match n {
                    Ok(_) => {
                        busy = true;
                        notified = true;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "write-back listener lost its connection; reconnecting");
                        break;
                    }
                },
                _ = tokio::time::sleep(if busy { BUSY } else { IDLE }) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
            if notified {
                // Take every notification already here (one per capturing transaction
                // and table), so a burst of them costs one look at the log.
                while let Ok(Ok(_)) = tokio::time::timeout(Duration::ZERO, listener.recv()).await {}
            }
            if !leader.load(Ordering::Relaxed) {
                continue;
            }
            if schemas_read.is_none_or(|t| t.elapsed() > Duration::from_secs(5)) {
                match read_write_tables(&s.pool).await {
                    Ok(found) => schemas = found,
                    Err(e) => {
                        tracing::warn!(error = %e, "write-back listener cannot read the mappings")
                    }
                }
                schemas_read = Some(Instant::now());
            }
            busy = false;
            for (schema, tables) in &schemas {
                busy |= dispatch(&s, schema, tables).await;
            }
        }
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut l = PgListener::connect_with(pool).await?;
    l.listen(CHANNEL).await?;
    Ok(l)
}

/// Starts a run for `schema` when rows wait; true while there is work under way.
async fn dispatch(s: &Services, schema: &str, tables: &[String]) -> bool {
    match log::has_ready(&s.pool, schema, tables).await {
        Ok(false) => false,
        Ok(true) => match start_run(&s.pool, &s.queues, &WRITE_BACK, schema, "write_back").await {
            Ok(Created::New(id)) => {
                tracing::debug!(run_id = id, schema, "write-back run started");
                true
            }
            Ok(Created::Existing(_)) => true,
            Err(crate::jobs::JobError::Ledger(LedgerError::LaneBusy { .. })) => true,
            Err(e) => {
                tracing::warn!(schema, error = %e, "write-back run not started");
                false
            }
        },
        Err(e) => {
            tracing::warn!(schema, error = %e, "write-back log not readable");
            false
        }
    }
}

/// Schemas with at least one `read_write` mapping.
pub async fn read_write_schemas(pool: &PgPool) -> Result<Vec<String>, LedgerError> {
    Ok(read_write_tables(pool)
        .await?
        .into_iter()
        .map(|(schema, _)| schema)
        .collect())
}

/// The `read_write` tables of each schema that has one (a table switched back to
/// `read_only` keeps its log rows, which are then never sent).
pub async fn read_write_tables(pool: &PgPool) -> Result<Vec<(String, Vec<String>)>, LedgerError> {
    Ok(ledger::mappings::read_write_tables(
        &ledger::mappings::all(pool).await?,
    ))
}
