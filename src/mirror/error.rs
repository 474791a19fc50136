//! Mirror errors: a Salesforce stream failing mid-load, Postgres refusing, a column
//! whose type changed beyond what its column can hold, a CSV header that does not match.
//! What each means for a job is in [`crate::classify`].

use crate::salesforce::SfError;

/// Writing the mirror failed.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// The Bulk result stream failed.
    #[error(transparent)]
    Salesforce(#[from] SfError),
    /// Postgres failed.
    #[error("mirror database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A field's type changed so its column cannot hold the new values.
    #[error(
        "{object}.{column} is {existing} in Postgres but the org now needs {wanted}; the column cannot hold the new values. Fix: run `orgpool enqueue reload {object}`"
    )]
    Incompatible {
        /// The object.
        object: String,
        /// The column.
        column: String,
        /// Its type now.
        existing: String,
        /// The type the field needs.
        wanted: String,
    },
    /// A change set that cannot be applied as built (a bug in its producer).
    #[error("change set for {object} cannot be applied: {detail}")]
    Incomplete {
        /// The object.
        object: String,
        /// What is missing.
        detail: String,
    },
    /// The CSV header is not the mapped fields in order.
    #[error("Bulk result for {object} has columns {got:?}, expected {expected:?}")]
    BadHeader {
        /// The object.
        object: String,
        /// Mapped fields.
        expected: Vec<String>,
        /// What came.
        got: Vec<String>,
    },
}
