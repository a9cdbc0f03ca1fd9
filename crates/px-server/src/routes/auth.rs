//! `POST /api/v1/auth/login`: exchanges e-mail and password for a session
//! token, returned in the body and as an HttpOnly cookie.

use crate::AppState;
use crate::auth::SESSION_COOKIE;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: String,
    pub password: String,
}

pub async fn login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<Login>, axum::extract::rejection::JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(body) = body?;
    // Password guessing is throttled per client address and per account,
    // before the (deliberately slow) password check runs.
    let ip = crate::intake::client_info(&state, &headers, peer).ip.map(|ip| ip.to_string()).unwrap_or_default();
    for key in [format!("ip:{ip}"), format!("email:{}", body.email.to_lowercase())] {
        if let Err(wait) = state.login_throttle.check(&key) {
            return Err(ApiError {
                retry_after: Some(wait),
                ..ApiError::new(px_core::ErrorKind::RateLimited, "too many login attempts; retry later")
            });
        }
    }
    let user = state
        .meta
        .verify_password(&body.email, &body.password)
        .await?
        .ok_or_else(|| ApiError::unauthorized("wrong e-mail or password"))?;
    let ttl = state.login_session_hours * 3600;
    let token = state.meta.create_session(user.id, ttl).await?;
    let cookie = format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={ttl}");
    Ok(([(header::SET_COOKIE, cookie)], Json(json!({"token": token, "user": user}))))
}
