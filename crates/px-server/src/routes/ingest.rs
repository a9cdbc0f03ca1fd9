//! PX's own ingestion endpoints: `POST /api/v1/events/batch`,
//! `/api/v1/events`, `/api/v1/identify`, `/api/v1/alias`. Flow per request:
//! authenticate -> admit (memory budget, capped read) -> decode -> the
//! shared [`crate::intake`] path (rate limit, pipeline, writer).
//!
//! The key comes as `Authorization: Bearer`, or as `?key=` when it is an
//! ingestion key: `navigator.sendBeacon` cannot set headers. Bodies are not
//! required to say `Content-Type: application/json`, since a beacon's
//! string body goes as `text/plain`.

use crate::AppState;
use crate::auth::{KeyAuth, bearer};
use crate::error::ApiError;
use crate::intake::{self, IngestResponse};
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::routing::{MethodRouter, post};
use px_ingest::decode::{self, RawBatch};
use px_ingest::enrich::RequestInfo;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::sync::Arc;

/// How the body of an endpoint is shaped.
#[derive(Clone, Copy)]
pub enum Shape {
    Batch,
    Single,
    Identify,
    Alias,
}

/// The query string of an ingest request.
#[derive(Debug, Deserialize)]
pub struct KeyParam {
    /// An ingestion key, for clients that cannot send headers.
    pub key: Option<String>,
}

async fn authenticate(state: &AppState, headers: &HeaderMap, key: Option<&str>) -> Result<KeyAuth, ApiError> {
    match (bearer(headers), key) {
        (None, Some(key)) => state.auth.ingest_from_url(key).await,
        (token, _) => state.auth.ingest(token).await,
    }
}

async fn ingest(
    state: Arc<AppState>,
    peer: SocketAddr,
    headers: HeaderMap,
    key: Option<String>,
    body: Body,
    shape: Shape,
) -> Result<Json<IngestResponse>, ApiError> {
    intake::measured(&state, async {
        let auth = authenticate(&state, &headers, key.as_deref()).await?;
        let (body, _budget) = intake::admit(&state, &headers, body, false).await?;
        let req = intake::client_info(&state, &headers, peer);
        let encoding = intake::content_encoding(&headers).map(str::to_string);
        let (st, a) = (Arc::clone(&state), auth.clone());
        let prepared =
            intake::blocking(move || decode_and_process(&st, &a, &body, encoding.as_deref(), shape, &req)).await?;
        Ok(Json(intake::store(&state, prepared, None, Vec::new()).await?))
    })
    .await
}

/// Decompress, parse, rate-limit and run the pipeline: the request's CPU work.
fn decode_and_process(
    state: &AppState,
    auth: &KeyAuth,
    body: &[u8],
    encoding: Option<&str>,
    shape: Shape,
    req: &RequestInfo,
) -> Result<intake::Prepared, ApiError> {
    let limits = &state.pipeline.limits;
    let raw = decode::decompress(body, encoding, limits)?;
    let rewritten;
    let batch: RawBatch = match shape {
        Shape::Batch => decode::parse_batch(&raw, limits)?,
        Shape::Single => decode::parse_single(&raw)?,
        Shape::Identify | Shape::Alias => {
            rewritten = person_call(&raw, matches!(shape, Shape::Alias))?;
            decode::parse_single(rewritten.as_bytes())?
        }
    };
    intake::process(state, auth, &batch, req)
}

/// Turns an identify or alias call into the event that carries it.
/// Identify: `{distinct_id|user_id, anonymous_id, $set|traits, $set_once}`.
/// Alias: `{distinct_id|user_id, alias|previous_id}`.
fn person_call(raw: &[u8], alias: bool) -> Result<String, ApiError> {
    let mut m: Map<String, Value> = serde_json::from_slice(raw)
        .map_err(|e| ApiError::invalid("body", format!("body must be a JSON object: {e}")))?;
    if alias {
        let target = m.remove("alias").or_else(|| m.remove("previous_id"));
        let target = target.ok_or_else(|| ApiError::invalid("alias", "alias is required"))?;
        m.entry("properties").or_insert_with(|| Value::Object(Map::new()));
        if let Some(Value::Object(p)) = m.get_mut("properties") {
            p.insert("alias".into(), target);
        }
        m.insert("event".into(), Value::String(px_core::props::EVENT_ALIAS.into()));
    } else {
        if let Some(traits) = m.remove("traits") {
            m.insert(px_core::props::SET.into(), traits);
        }
        m.insert("event".into(), Value::String(px_core::props::EVENT_IDENTIFY.into()));
    }
    Ok(Value::Object(m).to_string())
}

/// The POST route of an ingest endpoint taking bodies of `shape`.
pub fn route(shape: Shape) -> MethodRouter<Arc<AppState>> {
    post(
        move |State(state): State<Arc<AppState>>,
              ConnectInfo(peer): ConnectInfo<SocketAddr>,
              query: Result<Query<KeyParam>, QueryRejection>,
              headers: HeaderMap,
              body: Body| async move {
            let Query(KeyParam { key }) = query?;
            ingest(state, peer, headers, key, body, shape).await
        },
    )
}
