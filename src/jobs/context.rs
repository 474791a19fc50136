//! What every job handler gets: Postgres, the Salesforce client, the queues, the
//! settings and the process's shutdown signal.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::watch;

use super::settings::JobSettings;
use crate::queue::Queues;
use crate::salesforce::Client;

/// Shared by every chunk a process runs.
#[derive(Clone)]
pub struct JobContext {
    /// The ledger and mirror database.
    pub pool: PgPool,
    /// Salesforce.
    pub client: Arc<Client>,
    /// Redis queues.
    pub queues: Queues,
    /// Settings.
    pub settings: JobSettings,
    /// Turns true when the process is asked to stop.
    pub shutdown: watch::Receiver<bool>,
}

impl std::fmt::Debug for JobContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobContext")
            .field("queues", &self.queues)
            .finish()
    }
}
