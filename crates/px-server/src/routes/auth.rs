//! `POST /api/v1/auth/login`: exchanges e-mail and password for a session
//! token, returned in the body and as an HttpOnly cookie.

use crate::AppState;
use crate::auth::SESSION_COOKIE;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: String,
    pub password: String,
}

pub async fn login(
    State(state): State<Arc<AppState>>,
    body: Result<Json<Login>, axum::extract::rejection::JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(body) = body?;
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
