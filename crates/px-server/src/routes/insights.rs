//! Insights of the AI engine: `GET /api/v1/projects/{p}/insights` (most
//! impact first, filterable), `GET .../insights/{id}` with its evidence,
//! `PATCH .../insights/{id}` for status and rating, and
//! `GET .../insights/stream`, a server-sent-events stream that announces
//! each new insight as the engine finds it (the dashboard listens to it),
//! and `POST .../insights/run` to run a pass now.

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use bytes::Bytes;
use futures_util::Stream;
use px_core::{ProjectId, ProjectScope};
use px_store::{Insight, InsightFilter, InsightStatus, InsightUpdate};
use serde::Deserialize;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;

/// A new insight, announced to the project's listeners.
#[derive(Debug, Clone)]
pub struct Announcement {
    pub scope: ProjectScope,
    pub insight: Insight,
}

/// Listing parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    status: Option<String>,
    #[serde(rename = "type")]
    insight_type: Option<String>,
    kind: Option<String>,
    priority: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

const MAX_LIMIT: i64 = 500;
const TYPES: [&str; 3] = ["friction", "anomaly", "opportunity"];
const PRIORITIES: [&str; 4] = ["low", "medium", "high", "critical"];

fn status(field: &str, s: &str) -> Result<InsightStatus, ApiError> {
    InsightStatus::parse(s)
        .ok_or_else(|| ApiError::invalid(field, format!("{s:?} is not one of active, dismissed, implemented")))
}

fn one_of(field: &str, value: Option<String>, allowed: &[&str]) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => {
            Err(ApiError::invalid(field, format!("{v:?} is not one of {}", allowed.join(", "))))
        }
        other => Ok(other),
    }
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    project: Result<Path<i64>, PathRejection>,
    params: Result<Query<ListParams>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let Path(project) = project?;
    let scope = state.auth.read(&headers, ProjectId(project)).await?;
    let Query(p) = params.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let limit = p.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("{limit} is not between 1 and {MAX_LIMIT}")));
    }
    let offset = p.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::invalid("offset", "must not be negative"));
    }
    let filter = InsightFilter {
        status: p.status.as_deref().map(|s| status("status", s)).transpose()?,
        insight_type: one_of("type", p.insight_type, &TYPES)?,
        kind: p.kind,
        priority: one_of("priority", p.priority, &PRIORITIES)?,
        limit,
        offset,
    };
    let (insights, total) = state.meta.list_insights(scope, &filter).await?;
    Ok(Json(json!({"insights": insights, "total": total, "limit": limit, "offset": offset})))
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(i64, i64)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Json<Insight>, ApiError> {
    let Path((project, id)) = path?;
    let scope = state.auth.read(&headers, ProjectId(project)).await?;
    let insight = state
        .meta
        .insight(scope, id)
        .await?
        .ok_or_else(|| ApiError::new(px_core::ErrorKind::NotFound, format!("insight {id} not found")))?;
    Ok(Json(insight))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Patch {
    status: Option<String>,
    rating: Option<i64>,
}

pub async fn patch(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(i64, i64)>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Insight>, ApiError> {
    let Path((project, id)) = path?;
    let scope = state.auth.write(&headers, ProjectId(project)).await?;
    let patch: Patch =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&body)).map_err(|e| {
            let path = e.path().to_string();
            ApiError::invalid(if path == "." { "body".to_string() } else { path }, e.inner().to_string())
        })?;
    if let Some(r) = patch.rating
        && !(1..=5).contains(&r)
    {
        return Err(ApiError::invalid("rating", format!("{r} is not between 1 and 5")));
    }
    let update = InsightUpdate {
        status: patch.status.as_deref().map(|s| status("status", s)).transpose()?,
        rating: patch.rating,
    };
    Ok(Json(state.meta.update_insight(scope, id, update).await?))
}

pub async fn stream(
    State(state): State<Arc<AppState>>,
    project: Result<Path<i64>, PathRejection>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let Path(project) = project?;
    let scope = state.auth.read(&headers, ProjectId(project)).await?;
    let rx = state.insights.subscribe();
    let events = futures_util::stream::unfold(rx, move |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(a) if a.scope == scope => {
                    let data = serde_json::to_string(&a.insight).unwrap_or_default();
                    return Some((Ok(Event::default().event("insight").data(data)), rx));
                }
                Ok(_) => {}
                // A slow listener missed some: say so, and go on.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    return Some((Ok(Event::default().event("lagged").data(n.to_string())), rx));
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunRequest {
    /// `full` (default: daily buckets, 28 days) or `recent` (hourly, 3 days).
    pass: Option<String>,
}

/// Runs an engine pass over the project now and answers what it found.
pub async fn run(
    State(state): State<Arc<AppState>>,
    project: Result<Path<i64>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let Path(project) = project?;
    let scope = state.auth.write(&headers, ProjectId(project)).await?;
    let request: RunRequest =
        if body.is_empty() { RunRequest { pass: None } } else { super::query::decode_body(&body)? };
    let pass = match request.pass.as_deref() {
        None | Some("full") => px_ai::engine::Pass::FULL,
        Some("recent") => px_ai::engine::Pass::RECENT,
        Some(other) => return Err(ApiError::invalid("pass", format!("{other:?} is not one of full, recent"))),
    };
    state.read_your_writes().await;
    let analysis =
        crate::ai::run_pass(&state, scope, pass, px_core::time::now_micros()).await.map_err(|e| match e {
            px_ai::engine::RunError::Query(q) => ApiError::from(q),
            px_ai::engine::RunError::Store(s) => ApiError::from(s),
        })?;
    Ok(Json(serde_json::to_value(&analysis).unwrap_or(Value::Null)))
}
