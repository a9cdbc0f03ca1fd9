//! Query errors: a bad query names its field; a failing backend is not the
//! caller's fault.

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The query is wrong: answer 400 naming the field.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The store failed or returned something unexpected: answer 500/503.
    #[error(transparent)]
    Store(#[from] px_store::StoreError),
    #[error("unexpected answer from the store: {0}")]
    Shape(String),
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> QueryError {
    QueryError::Invalid { field: field.to_string(), message: message.into() }
}

pub type Result<T, E = QueryError> = std::result::Result<T, E>;
