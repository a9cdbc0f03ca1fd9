//! `GET /sdk/px.js`: the browser SDK, so that a page needs nothing but PX
//! (`<script src="https://px.example.com/sdk/px.js">`). The committed
//! bundle `sdk/js/dist/px.js` is compiled into the binary: building PX
//! never needs Node, and the SDK served always matches the server it
//! came with. A short cache lifetime lets an upgrade reach pages within
//! minutes.

use axum::http::header;
use axum::response::IntoResponse;

/// The IIFE bundle (global `PX`).
pub const BUNDLE: &str = include_str!("../../../../sdk/js/dist/px.js");

pub async fn bundle() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=300")], BUNDLE)
}
