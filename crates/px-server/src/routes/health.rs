//! `/health` (the process is up), `/ready` (it accepts events: stores open,
//! writer running) and `/metrics` (Prometheus text).

use crate::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

pub async fn health() -> &'static str {
    "ok"
}

pub async fn ready(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    if state.ready.load(Relaxed) { (StatusCode::OK, "ready") } else { (StatusCode::SERVICE_UNAVAILABLE, "starting") }
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}
