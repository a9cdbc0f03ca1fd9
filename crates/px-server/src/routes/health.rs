//! `/health` (the process is up), `/ready` (it accepts events: stores open,
//! writer running, store commits succeeding) and `/metrics` (Prometheus text).

use crate::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

pub async fn health() -> &'static str {
    "ok"
}

/// 503 while starting, and while event store commits fail: events are
/// still acknowledged from the spool until its backlog is full, but an
/// instance that cannot store them should get no new traffic and be seen.
pub async fn ready(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    if !state.ready.load(Relaxed) {
        (StatusCode::SERVICE_UNAVAILABLE, "starting")
    } else if state.metrics.store_failing.load(Relaxed) == 1 {
        (StatusCode::SERVICE_UNAVAILABLE, "the event store is failing; acknowledged events wait in the spool")
    } else {
        (StatusCode::OK, "ready")
    }
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}
