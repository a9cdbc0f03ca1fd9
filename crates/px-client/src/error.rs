//! Errors of building a client. Delivery itself never returns an error to
//! the caller: events are fire-and-forget, and what became of them is
//! counted in [`crate::Stats`] and logged.

use px_core::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Every problem of the [`crate::Config`], each naming its field.
    #[error("invalid px-client config: {}", .0.join("; "))]
    InvalidConfig(Vec<String>),
    /// The background sender is a Tokio task, so the client must be created
    /// inside a runtime.
    #[error("px-client must be created inside a tokio runtime")]
    NoRuntime,
    #[error("building the http client failed: {0}")]
    Http(#[from] reqwest::Error),
}

impl ClientError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidConfig(_) | Self::NoRuntime => ErrorKind::Invalid,
            Self::Http(_) => ErrorKind::Internal,
        }
    }
}
