//! PostHog's capture API (`POST /e/`, `/i/v0/e/`, `/batch/`, `/capture/`,
//! `/track/`, `/engage/`) and flag calls (`/decide/`, `/flags/`), so that
//! posthog-js, posthog-node and PostHog's other clients can send to PX by
//! changing their host. The key is a PX project key, sent where PostHog
//! clients put their project token (`api_key` or `token` in the body).
//! Translation is `px_ingest::compat::posthog`; the rest is the shared
//! [`crate::intake`] path.
//!
//! PX has no feature flags yet: flag calls authenticate the key and answer
//! that no flag is set, in the shape both PostHog clients read.

use crate::AppState;
use crate::error::ApiError;
use crate::intake::{self, IngestResponse};
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, header};
use axum::routing::{MethodRouter, post};
use px_core::time::now_micros;
use px_ingest::compat::posthog::{self, Call, Encoding};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;

/// Flag calls are small: a distinct id and a few properties. Their bodies
/// are read outside the ingest memory budget, so decompression gets a cap
/// of its own as well.
const FLAGS_MAX_BODY: usize = 64 * 1024;
const FLAGS_MAX_DECOMPRESSED: usize = 1024 * 1024;

/// The query parameters PostHog clients add to their calls.
#[derive(Debug, Deserialize)]
pub struct Params {
    /// `gzip-js` or `base64`.
    pub compression: Option<String>,
    /// posthog-js's clock when it sent the request, in epoch milliseconds.
    #[serde(rename = "_")]
    pub sent_at_ms: Option<String>,
}

/// PostHog's answer (`{"status": 1}`), with PX's counts beside it.
#[derive(Serialize)]
pub struct PostHogAnswer {
    pub status: u8,
    #[serde(flatten)]
    pub counts: IngestResponse,
}

fn missing_key() -> ApiError {
    ApiError::unauthorized("missing project key: send api_key (or token) in the body")
}

fn encoding<'a>(headers: &'a HeaderMap, params: &'a Params) -> Encoding<'a> {
    Encoding {
        content_type: headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        content_encoding: intake::content_encoding(headers),
        compression: params.compression.as_deref(),
    }
}

async fn capture(
    state: Arc<AppState>,
    peer: SocketAddr,
    headers: HeaderMap,
    params: Params,
    body: Body,
    call: Call,
) -> Result<Json<PostHogAnswer>, ApiError> {
    intake::measured(&state, async {
        let compressed = params.compression.as_deref().is_some_and(|c| c.contains("gzip"));
        let (body, _budget) = intake::admit(&state, &headers, body, compressed).await?;
        let (st, h) = (Arc::clone(&state), headers.clone());
        let translated = intake::blocking(move || {
            let limits = &st.pipeline.limits;
            let json = posthog::decode_body(&body, encoding(&h, &params), limits)?;
            Ok(posthog::translate(&json, call, params.sent_at_ms.as_deref(), limits, now_micros())?)
        })
        .await?;
        let auth = state.auth.ingest(Some(translated.key.as_deref().ok_or_else(missing_key)?)).await?;
        let req = intake::client_info(&state, &headers, peer);
        let counts = intake::ingest_translated(&state, auth, translated, req).await?;
        Ok(Json(PostHogAnswer { status: 1, counts }))
    })
    .await
}

/// The POST route of a capture endpoint.
pub fn route(call: Call) -> MethodRouter<Arc<AppState>> {
    post(
        move |State(state): State<Arc<AppState>>,
              ConnectInfo(peer): ConnectInfo<SocketAddr>,
              params: Result<Query<Params>, QueryRejection>,
              headers: HeaderMap,
              body: Body| async move {
            let Query(params) = params?;
            capture(state, peer, headers, params, body, call).await
        },
    )
}

/// `POST /decide/` and `/flags/`: no flag is set for anyone. The key must
/// be a live key of a project, as PostHog requires of its token.
pub async fn flags(
    State(state): State<Arc<AppState>>,
    params: Result<Query<Params>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params?;
    let body = intake::read_body(body, FLAGS_MAX_BODY).await?;
    let limits = px_core::IngestLimits {
        max_body_bytes: FLAGS_MAX_BODY,
        max_decompressed_bytes: FLAGS_MAX_DECOMPRESSED,
        ..state.pipeline.limits.clone()
    };
    let key = intake::blocking(move || {
        let json = posthog::decode_body(&body, encoding(&headers, &params), &limits)?;
        Ok(posthog::flags_key(&json))
    })
    .await?;
    state.auth.ingest(Some(key.as_deref().ok_or_else(missing_key)?)).await?;
    Ok(Json(json!({
        // What posthog-node reads (v2 `flags`, and v1's maps).
        "flags": {},
        "featureFlags": {},
        "featureFlagPayloads": {},
        "errorsWhileComputingFlags": false,
        "requestId": uuid::Uuid::new_v4(),
        // What posthog-js reads from /decide: nothing to turn on besides
        // event capture, and which compressions PX takes.
        "config": {"enable_collect_everything": true},
        "supportedCompression": ["gzip", "gzip-js"],
        "sessionRecording": false,
        "heatmaps": false,
        "surveys": false,
        "siteApps": [],
        "capturePerformance": false,
        "autocapture_opt_out": false,
        "toolbarParams": {},
        "isAuthenticated": false,
    })))
}
