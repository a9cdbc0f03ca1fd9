//! The store layer's error. Backends map their native errors onto it where
//! they meet the rest of the code, so callers never see a DuckDB or sqlx
//! error type.

use px_core::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store failure: {0}")]
    Internal(String),
}

impl StoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::Unavailable(_) => ErrorKind::Unavailable,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }
}

impl From<duckdb::Error> for StoreError {
    fn from(e: duckdb::Error) -> Self {
        Self::Internal(format!("duckdb: {e}"))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Self::NotFound("row".into()),
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict(db.message().to_string()),
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(e.to_string())
            }
            other => Self::Internal(format!("sqlite: {other}")),
        }
    }
}

impl From<tokio::task::JoinError> for StoreError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::Internal(format!("store task failed: {e}"))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
