//! `POST /api/v1/projects/{project}/query`: the analytics query engine.
//! Authorized like the read API (secret key or logged-in user); the query
//! runs in that project's scope only, in the project's time zone unless
//! the query names one.

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use bytes::Bytes;
use px_core::ProjectId;
use px_query::{Context, Query, QueryError};
use serde_json::Value;
use std::sync::Arc;

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Invalid { field, message } => ApiError::invalid(field, message),
            QueryError::Store(e) => e.into(),
            other => ApiError::new(px_core::ErrorKind::Internal, other.to_string()),
        }
    }
}

/// Decodes a query, naming the path of a bad field (`steps[2].event`).
/// The `kind` tag is read first and the rest decoded as that kind's
/// struct: decoding the tagged enum in one go would buffer the content and
/// lose the paths.
pub fn decode(body: &[u8]) -> Result<Query, ApiError> {
    let mut value: Value = serde_json::from_slice(body).map_err(|e| ApiError::invalid("body", e.to_string()))?;
    let kind = match value.as_object_mut().map(|o| o.remove("kind")) {
        Some(Some(Value::String(k))) => k,
        Some(_) => {
            return Err(ApiError::invalid(
                "kind",
                "kind is required: trend, funnel, retention, paths, stickiness, lifecycle, persons, timeline or sessions",
            ));
        }
        None => return Err(ApiError::invalid("body", "a query is a JSON object")),
    };
    Ok(match kind.as_str() {
        "trend" => Query::Trend(part(value)?),
        "funnel" => Query::Funnel(part(value)?),
        "retention" => Query::Retention(part(value)?),
        "paths" => Query::Paths(part(value)?),
        "stickiness" => Query::Stickiness(part(value)?),
        "lifecycle" => Query::Lifecycle(part(value)?),
        "persons" => Query::Persons(part(value)?),
        "timeline" => Query::Timeline(part(value)?),
        "sessions" => Query::Sessions(part(value)?),
        other => return Err(ApiError::invalid("kind", format!("unknown kind {other:?}"))),
    })
}

/// A JSON value decoded as `T`; a bad field gets a 400 naming its path.
pub fn part<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_string() } else { path };
        ApiError::invalid(field, e.inner().to_string())
    })
}

/// A JSON body decoded as `T`, naming the path of a bad field.
pub fn decode_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    part(serde_json::from_slice(body).map_err(|e| ApiError::invalid("body", e.to_string()))?)
}

pub async fn run(
    State(state): State<Arc<AppState>>,
    project: Result<Path<i64>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let Path(project) = project?;
    let scope = state.auth.read(&headers, ProjectId(project)).await?;
    let query = decode(&body)?;
    let timezone = state.meta.project(scope).await?.settings.timezone;
    let ctx = Context { scope, timezone, now: px_core::time::now_micros() };
    state.read_your_writes().await;
    let started = std::time::Instant::now();
    let answer = px_query::run(state.store.as_ref(), &ctx, &query).await?;
    tracing::debug!(project, elapsed_ms = started.elapsed().as_millis() as u64, "query answered");
    Ok(Json(answer))
}
