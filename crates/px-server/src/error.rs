//! The one place where an error kind becomes an HTTP status and a JSON body
//! (`{"error": {"code", "message", "field"}}`). Internal causes are logged
//! here, once, and never sent to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use px_core::ErrorKind;
use serde_json::json;
use std::time::Duration;

#[derive(Debug)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    pub field: Option<String>,
    pub retry_after: Option<Duration>,
    /// Extra JSON merged into the error body (e.g. per-event rejections).
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), field: None, retry_after: None, details: None }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: Some(field.into()), ..Self::new(ErrorKind::Invalid, message) }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthorized, message)
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    fn status(&self) -> StatusCode {
        match self.kind {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Invalid => StatusCode::BAD_REQUEST,
            ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

// Extractor rejections get the same JSON error shape as everything else.
impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        Self::invalid("query", e.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(e: axum::extract::rejection::PathRejection) -> Self {
        Self::invalid("path", e.body_text())
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> Self {
        Self::invalid("body", e.body_text())
    }
}

impl From<px_ingest::decode::DecodeError> for ApiError {
    fn from(e: px_ingest::decode::DecodeError) -> Self {
        use px_ingest::decode::DecodeError;
        let kind = match e {
            DecodeError::TooLarge { .. } | DecodeError::TooManyEvents { .. } => ErrorKind::TooLarge,
            _ => ErrorKind::Invalid,
        };
        Self::new(kind, e.to_string()).with_field(e.field())
    }
}

impl From<px_store::StoreError> for ApiError {
    fn from(e: px_store::StoreError) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}

impl From<crate::writer::WriteError> for ApiError {
    fn from(e: crate::writer::WriteError) -> Self {
        Self { retry_after: Some(Duration::from_secs(1)), ..Self::new(e.kind, e.message) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if self.kind == ErrorKind::Internal {
            tracing::error!(error = %self.message, "internal error");
            "internal error".to_string()
        } else {
            self.message
        };
        let mut body = json!({"error": {"code": self.kind, "message": message, "field": self.field}});
        if let (Some(serde_json::Value::Object(extra)), Some(obj)) = (self.details, body.as_object_mut()) {
            obj.extend(extra);
        }
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(wait) = self.retry_after {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}
