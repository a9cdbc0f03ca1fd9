//! Ingestion endpoints: `POST /api/v1/events/batch`, `/api/v1/events`,
//! `/api/v1/identify`, `/api/v1/alias`. Flow per request: authenticate ->
//! read the body through the capped reader -> decode -> rate-limit ->
//! pipeline -> writer (durable) -> answer with per-event rejections.

use crate::AppState;
use crate::auth::KeyAuth;
use crate::error::ApiError;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::routing::{MethodRouter, post};
use px_core::time::now_micros;
use px_core::{ErrorKind, IngestLimits};
use px_ingest::Processed;
use px_ingest::decode::{self, DecodeError, RawBatch};
use px_ingest::enrich::RequestInfo;
use px_store::ScopedEvent;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

#[derive(Debug, Serialize)]
pub struct RejectedEvent {
    pub index: usize,
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct IngestResponse {
    /// Events stored by this request.
    pub accepted: usize,
    /// Events already stored by an earlier request (retries), not stored again.
    pub duplicates: usize,
    pub rejected: Vec<RejectedEvent>,
}

/// Reads a body, refusing with 413 past `limit` bytes (the one capped
/// reader every body goes through).
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    #[allow(clippy::disallowed_methods)] // this is the capped reader
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        // axum reports the cap as a LengthLimitError inside its own error type.
        if format!("{e:?}").contains("LengthLimitError") {
            ApiError::new(ErrorKind::TooLarge, format!("body is larger than the limit of {limit} bytes"))
                .with_field("body")
        } else {
            ApiError::invalid("body", format!("could not read the body: {e}"))
        }
    })
}

fn decode_error(e: DecodeError) -> ApiError {
    let kind = match e {
        DecodeError::TooLarge { .. } | DecodeError::TooManyEvents { .. } => ErrorKind::TooLarge,
        _ => ErrorKind::Invalid,
    };
    ApiError::new(kind, e.to_string()).with_field(e.field())
}

fn client_info(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> RequestInfo {
    let forwarded = state
        .trust_forwarded_for
        .then(|| headers.get("x-forwarded-for")?.to_str().ok()?.rsplit(',').next()?.trim().parse().ok())
        .flatten();
    RequestInfo {
        ip: Some(forwarded.unwrap_or(peer.ip())),
        user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string),
    }
}

/// How the body of an endpoint is shaped.
#[derive(Clone, Copy)]
pub enum Shape {
    Batch,
    Single,
    Identify,
    Alias,
}

async fn ingest(
    state: Arc<AppState>,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Body,
    shape: Shape,
) -> Result<Json<IngestResponse>, ApiError> {
    let started = Instant::now();
    let result = ingest_inner(&state, peer, &headers, body, shape).await;
    match &result {
        Ok(_) => state.metrics.batch_latency.observe(started.elapsed().as_secs_f64()),
        Err(e) => {
            let counter = match e.kind {
                ErrorKind::Unauthorized => &state.metrics.requests_unauthorized,
                ErrorKind::RateLimited => &state.metrics.requests_rate_limited,
                _ => &state.metrics.requests_refused,
            };
            counter.fetch_add(1, Relaxed);
        }
    }
    result
}

/// Memory a request may need at most, in KiB permits of the ingest budget:
/// the body, what it decompresses to, and the parsed events (about twice
/// the JSON), bounded by the limits.
fn budget_kib(declared_body: usize, gzip: bool, limits: &IngestLimits) -> u32 {
    let body = declared_body.min(limits.max_body_bytes);
    let json = if gzip { body.saturating_mul(20).min(limits.max_decompressed_bytes) } else { body };
    let bytes = body.saturating_add(json.saturating_mul(3));
    u32::try_from(bytes / 1024 + 1).unwrap_or(u32::MAX)
}

async fn ingest_inner(
    state: &Arc<AppState>,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
    shape: Shape,
) -> Result<Json<IngestResponse>, ApiError> {
    let auth = state.auth.ingest(crate::auth::bearer(headers)).await?;
    let limits: &IngestLimits = &state.pipeline.limits;
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).map(str::to_string);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .unwrap_or(limits.max_body_bytes);
    let gzip = encoding.as_deref().is_some_and(|e| e.to_ascii_lowercase().contains("gzip"));
    // Waits (backpressure) while other requests hold the memory budget, so
    // concurrent large bodies cannot exhaust memory.
    let permits = budget_kib(declared, gzip, limits).min(state.ingest_budget_kib);
    let _budget = state
        .ingest_budget
        .acquire_many(permits)
        .await
        .map_err(|_| ApiError::new(ErrorKind::Unavailable, "server is shutting down"))?;
    let body = read_body(body, limits.max_body_bytes).await?;
    let req = client_info(state, headers, peer);

    // Decoding, validation and enrichment are CPU work: they run on the
    // blocking pool so that async workers keep serving other connections
    // and the writer's acknowledgements.
    let st = Arc::clone(state);
    let a = auth.clone();
    let processed =
        tokio::task::spawn_blocking(move || decode_and_process(&st, &a, &body, encoding.as_deref(), shape, &req))
            .await
            .map_err(|e| ApiError::new(ErrorKind::Internal, format!("ingest task failed: {e}")))??;

    let rejected: Vec<RejectedEvent> = processed
        .rejected
        .into_iter()
        .map(|(index, r)| {
            state.metrics.rejected(r.code);
            RejectedEvent { index, code: r.code.as_str(), field: r.field, message: r.message }
        })
        .collect();
    if processed.events.is_empty() && !rejected.is_empty() {
        let first = &rejected[0];
        let mut e = ApiError::invalid(first.field.clone(), format!("no event was valid; first: {}", first.message));
        e.details = Some(json!({ "rejected": rejected }));
        return Err(e);
    }
    let events: Vec<ScopedEvent> =
        processed.events.into_iter().map(|event| ScopedEvent { scope: auth.scope, event }).collect();
    let outcome = state.writer.write(events).await?;
    state.metrics.events_accepted.fetch_add(outcome.stored as u64, Relaxed);
    state.metrics.events_duplicate.fetch_add(outcome.duplicates as u64, Relaxed);
    Ok(Json(IngestResponse { accepted: outcome.stored, duplicates: outcome.duplicates, rejected }))
}

/// Decompress, parse, rate-limit and run the pipeline: the request's CPU work.
fn decode_and_process(
    state: &AppState,
    auth: &KeyAuth,
    body: &[u8],
    encoding: Option<&str>,
    shape: Shape,
    req: &RequestInfo,
) -> Result<Processed, ApiError> {
    let limits = &state.pipeline.limits;
    let raw = decode::decompress(body, encoding, limits).map_err(decode_error)?;
    let rewritten;
    let batch: RawBatch = match shape {
        Shape::Batch => decode::parse_batch(&raw, limits).map_err(decode_error)?,
        Shape::Single => decode::parse_single(&raw).map_err(decode_error)?,
        Shape::Identify | Shape::Alias => {
            rewritten = person_call(&raw, matches!(shape, Shape::Alias))?;
            decode::parse_single(rewritten.as_bytes()).map_err(decode_error)?
        }
    };
    if let Err(wait) = state.limiter.check(auth.scope.project_id, &auth.plan, batch.events.len()) {
        let mut e =
            ApiError::new(ErrorKind::RateLimited, "project is over its plan's event rate; retry after the delay");
        e.retry_after = Some(wait);
        return Err(e);
    }
    Ok(state.pipeline.process(auth.scope.project_id, &auth.settings, &batch, req, now_micros()))
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
              headers: HeaderMap,
              body: Body| ingest(state, peer, headers, body, shape),
    )
}
