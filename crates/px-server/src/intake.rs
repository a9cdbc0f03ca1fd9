//! The one path every ingestion API takes once it knows its events: the
//! memory budget and the capped body read, the rate limit, the pipeline
//! (on the blocking pool), the writer, the per-event answer and the request
//! metrics. PX's own endpoints and the PostHog and Segment ones differ only
//! in how a body becomes wire events and where the key is, so limits,
//! dedupe, rate limits and durability are the same for all of them.

use crate::AppState;
use crate::auth::KeyAuth;
use crate::error::ApiError;
use crate::writer::Batch;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use px_core::time::now_micros;
use px_core::{ErrorKind, IngestLimits};
use px_ingest::Processed;
use px_ingest::compat::Translated;
use px_ingest::decode::RawBatch;
use px_ingest::enrich::RequestInfo;
use px_store::ScopedEvent;
use serde::Serialize;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;
use tokio::sync::SemaphorePermit;

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

/// Runs an ingest request, recording its latency or the cause of its refusal.
pub async fn measured<T>(
    state: &AppState,
    request: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    let started = Instant::now();
    let result = request.await;
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

/// Memory a request may need at most, in KiB permits of the ingest budget:
/// the body, what it decompresses to, and the parsed events (about twice
/// the JSON), bounded by the limits.
fn budget_kib(declared_body: usize, gzip: bool, limits: &IngestLimits) -> u32 {
    let body = declared_body.min(limits.max_body_bytes);
    let json = if gzip { body.saturating_mul(20).min(limits.max_decompressed_bytes) } else { body };
    let bytes = body.saturating_add(json.saturating_mul(3));
    u32::try_from(bytes / 1024 + 1).unwrap_or(u32::MAX)
}

/// Takes the request's share of the ingest memory budget, waiting
/// (backpressure) while other requests hold it so that concurrent large
/// bodies cannot exhaust memory, then reads the body through the capped
/// reader. The permit must live until the request's events are written.
/// `compressed` says the body may be compressed although `Content-Encoding`
/// does not say so (PostHog's `?compression=gzip-js`).
pub async fn admit<'s>(
    state: &'s AppState,
    headers: &HeaderMap,
    body: Body,
    compressed: bool,
) -> Result<(Bytes, SemaphorePermit<'s>), ApiError> {
    let limits = &state.pipeline.limits;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .unwrap_or(limits.max_body_bytes);
    let gzip = compressed || content_encoding(headers).is_some_and(|e| e.to_ascii_lowercase().contains("gzip"));
    let permits = budget_kib(declared, gzip, limits).min(state.ingest_budget_kib);
    let permit = state
        .ingest_budget
        .acquire_many(permits)
        .await
        .map_err(|_| ApiError::new(ErrorKind::Unavailable, "server is shutting down"))?;
    Ok((read_body(body, limits.max_body_bytes).await?, permit))
}

pub fn content_encoding(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok())
}

/// The client's address (from `X-Forwarded-For` behind a trusted proxy)
/// and User-Agent, for enrichment.
pub fn client_info(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> RequestInfo {
    let forwarded = state
        .trust_forwarded_for
        .then(|| headers.get("x-forwarded-for")?.to_str().ok()?.rsplit(',').next()?.trim().parse().ok())
        .flatten();
    RequestInfo {
        ip: Some(forwarded.unwrap_or(peer.ip())),
        user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string),
    }
}

/// Runs CPU work (decompression, parsing, the pipeline) on the blocking
/// pool, so that async workers keep serving other connections and the
/// writer's acknowledgements.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::new(ErrorKind::Internal, format!("ingest task failed: {e}")))?
}

/// A request's events, ready for the writer, and its rejected ones (each an
/// index into the pipeline's batch).
pub struct Prepared {
    pub batch: Batch,
    pub stored: usize,
    pub rejected: Vec<(usize, px_core::Reject)>,
}

/// Rate-limits the batch, runs the pipeline over it and encodes the valid
/// events for the spool (CPU work: call it from [`blocking`]).
pub fn process(
    state: &AppState,
    auth: &KeyAuth,
    batch: &RawBatch<'_>,
    req: &RequestInfo,
) -> Result<Prepared, ApiError> {
    if let Err(wait) = state.limiter.check(auth.scope.project_id, &auth.plan, batch.events.len()) {
        let mut e =
            ApiError::new(ErrorKind::RateLimited, "project is over its plan's event rate; retry after the delay");
        e.retry_after = Some(wait);
        return Err(e);
    }
    let Processed { events, rejected } =
        state.pipeline.process(auth.scope.project_id, &auth.settings, batch, req, now_micros());
    let stored = events.len();
    let events: Vec<ScopedEvent> = events.into_iter().map(|event| ScopedEvent { scope: auth.scope, event }).collect();
    let batch = Batch::new(events).map_err(|e| ApiError::new(e.kind, e.message))?;
    Ok(Prepared { batch, stored, rejected })
}

/// Writes the valid events (durably: the answer waits for the commit) and
/// answers with the rejected ones. A request none of whose events is valid
/// is refused as a whole (400 with the list). `rejected` are rejections
/// found before the pipeline; each entry of `processed.rejected` is an
/// index into the pipeline's batch, which `origin` maps back to the
/// request's message when translation reshaped the batch.
pub async fn store(
    state: &AppState,
    prepared: Prepared,
    origin: Option<&[usize]>,
    rejected: Vec<(usize, px_core::Reject)>,
) -> Result<IngestResponse, ApiError> {
    let mut all: Vec<(usize, px_core::Reject)> = rejected;
    all.extend(prepared.rejected.into_iter().map(|(i, r)| (origin.and_then(|o| o.get(i).copied()).unwrap_or(i), r)));
    all.sort_by_key(|(i, _)| *i);
    let rejected: Vec<RejectedEvent> = all
        .into_iter()
        .map(|(index, r)| {
            state.metrics.rejected(r.code);
            RejectedEvent { index, code: r.code.as_str(), field: r.field, message: r.message }
        })
        .collect();
    if prepared.stored == 0
        && let Some(first) = rejected.first()
    {
        let mut e = ApiError::invalid(first.field.clone(), format!("no event was valid; first: {}", first.message));
        e.details = Some(json!({ "rejected": rejected }));
        return Err(e);
    }
    let outcome = state.writer.write(prepared.batch).await?;
    state.metrics.events_accepted.fetch_add(outcome.stored as u64, Relaxed);
    state.metrics.events_duplicate.fetch_add(outcome.duplicates as u64, Relaxed);
    Ok(IngestResponse { accepted: outcome.stored, duplicates: outcome.duplicates, rejected })
}

/// The rest of the path for events translated from another API: pipeline,
/// then [`store`].
pub async fn ingest_translated(
    state: &std::sync::Arc<AppState>,
    auth: KeyAuth,
    mut translated: Translated,
    req: RequestInfo,
) -> Result<IngestResponse, ApiError> {
    let early = std::mem::take(&mut translated.rejected);
    let origin = std::mem::take(&mut translated.origin);
    let (st, a) = (std::sync::Arc::clone(state), auth.clone());
    let prepared = blocking(move || process(&st, &a, &translated.batch(), &req)).await?;
    store(state, prepared, Some(&origin), early).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_covers_the_body_and_its_parse_within_the_limits() {
        let limits = IngestLimits { max_body_bytes: 1 << 20, max_decompressed_bytes: 4 << 20, ..Default::default() };
        assert_eq!(budget_kib(10 * 1024, false, &limits), 41);
        assert_eq!(budget_kib(usize::MAX, true, &limits), 1024 + 3 * 4096 + 1);
    }
}
