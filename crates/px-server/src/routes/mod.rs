//! HTTP routes, one module per area.

pub mod auth;
pub mod events;
pub mod health;
pub mod ingest;
pub mod query;
