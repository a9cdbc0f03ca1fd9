//! Segment's HTTP Tracking API (`POST /v1/batch`, `/v1/track`,
//! `/v1/identify`, `/v1/page`, `/v1/screen`, `/v1/group`, `/v1/alias`), so
//! that Segment's libraries can send to PX by changing their host. The
//! write key is a PX project key, sent as the HTTP Basic user (Segment's
//! way) or as `writeKey` in the body. Translation is `px_ingest::compat::
//! segment`; the rest is the shared [`crate::intake`] path.

use crate::AppState;
use crate::auth::basic_user;
use crate::error::ApiError;
use crate::intake::{self, IngestResponse};
use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::routing::{MethodRouter, post};
use px_ingest::compat::segment::{self, Call};
use px_ingest::decode;
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::Arc;

/// Segment's answer (`{"success": true}`), with PX's counts beside it.
#[derive(Serialize)]
pub struct SegmentAnswer {
    pub success: bool,
    #[serde(flatten)]
    pub counts: IngestResponse,
}

async fn ingest(
    state: Arc<AppState>,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Body,
    call: Call,
) -> Result<Json<SegmentAnswer>, ApiError> {
    intake::measured(&state, async {
        // A key in the header is checked before the body is read.
        let header_auth = match basic_user(&headers) {
            Some(key) => Some(state.auth.ingest(Some(&key)).await?),
            None => None,
        };
        let (body, _budget) = intake::admit(&state, &headers, body, false).await?;
        let encoding = intake::content_encoding(&headers).map(str::to_string);
        let st = Arc::clone(&state);
        let translated = intake::blocking(move || {
            let limits = &st.pipeline.limits;
            let raw = decode::decompress(&body, encoding.as_deref(), limits)?;
            Ok(segment::translate(&raw, call, limits)?)
        })
        .await?;
        let auth = match (header_auth, translated.key.as_deref()) {
            (Some(auth), _) => auth,
            (None, Some(key)) => state.auth.ingest(Some(key)).await?,
            (None, None) => {
                return Err(ApiError::unauthorized(
                    "missing write key: send it as the HTTP Basic user (Authorization: Basic base64(key + \":\")) or as writeKey in the body",
                ));
            }
        };
        let req = intake::client_info(&state, &headers, peer);
        let counts = intake::ingest_translated(&state, auth, translated, req).await?;
        Ok(Json(SegmentAnswer { success: true, counts }))
    })
    .await
}

/// The POST route of the endpoint receiving `call`.
pub fn route(call: Call) -> MethodRouter<Arc<AppState>> {
    post(
        move |State(state): State<Arc<AppState>>,
              ConnectInfo(peer): ConnectInfo<SocketAddr>,
              headers: HeaderMap,
              body: Body| ingest(state, peer, headers, body, call),
    )
}
