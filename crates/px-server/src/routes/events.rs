//! `GET /api/v1/projects/{project}/events`: stored events, newest first,
//! with filters, cursor paging and a total count. Used by the live-events
//! view and by tests to read back what was ingested.

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use px_core::ProjectId;
use px_core::time::parse_rfc3339;
use px_store::{Cursor, EventPage, EventQuery, PersonRecord};
use serde::Deserialize;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub event: Option<String>,
    pub distinct_id: Option<String>,
    pub person_id: Option<String>,
    /// RFC 3339; inclusive.
    pub after: Option<String>,
    /// RFC 3339; exclusive.
    pub before: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

fn time(field: &str, v: Option<&str>) -> Result<Option<i64>, ApiError> {
    v.map(|s| parse_rfc3339(s).ok_or_else(|| ApiError::invalid(field, format!("{field} must be an RFC 3339 time"))))
        .transpose()
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    project: Result<Path<i64>, PathRejection>,
    headers: HeaderMap,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<EventPage>, ApiError> {
    let Path(project) = project?;
    let Query(p) = params?;
    let scope = state.auth.read(&headers, ProjectId(project)).await?;
    let person_id = p
        .person_id
        .as_deref()
        .map(|s| Uuid::parse_str(s).map_err(|_| ApiError::invalid("person_id", "person_id must be a UUID")))
        .transpose()?;
    let cursor = p
        .cursor
        .as_deref()
        .map(|c| Cursor::decode(c).ok_or_else(|| ApiError::invalid("cursor", "cursor is not one this API returned")))
        .transpose()?;
    let limit = p.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::invalid("limit", "limit must be between 1 and 1000"));
    }
    let query = EventQuery {
        event: p.event,
        distinct_id: p.distinct_id,
        person_id,
        after: time("after", p.after.as_deref())?,
        before: time("before", p.before.as_deref())?,
        limit,
        cursor,
    };
    state.read_your_writes().await;
    Ok(Json(state.store.list_events(scope, query).await?))
}

/// `GET /api/v1/projects/{project}/persons/{distinct_id}`.
pub async fn person(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(i64, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Json<PersonRecord>, ApiError> {
    let Path((project, distinct_id)) = path?;
    let scope = state.auth.read(&headers, ProjectId(project)).await?;
    state.read_your_writes().await;
    state.store.person(scope, &distinct_id).await?.map(Json).ok_or_else(|| {
        ApiError::new(px_core::ErrorKind::NotFound, format!("no person has distinct id {distinct_id:?}"))
    })
}
