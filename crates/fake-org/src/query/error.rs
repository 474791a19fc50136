//! Query errors with the Salesforce error code each maps to.

/// Why a query was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    /// Syntax error.
    #[error("{0}")]
    Malformed(String),
    /// Unknown field or relationship.
    #[error("{0}")]
    InvalidField(String),
    /// Unknown object.
    #[error("{0}")]
    InvalidType(String),
    /// A literal of the wrong type, or an operator the field does not support.
    #[error("{0}")]
    FilterOperator(String),
    /// The query uses something the API in question does not support (Bulk).
    #[error("{0}")]
    Unsupported(String),
}

impl QueryError {
    /// The Salesforce `errorCode`.
    pub fn code(&self) -> &'static str {
        match self {
            QueryError::Malformed(_) => "MALFORMED_QUERY",
            QueryError::InvalidField(_) => "INVALID_FIELD",
            QueryError::InvalidType(_) => "INVALID_TYPE",
            QueryError::FilterOperator(_) => "INVALID_QUERY_FILTER_OPERATOR",
            QueryError::Unsupported(_) => "API_ERROR",
        }
    }
}
