//! HTTP routes, one module per area.

pub mod auth;
pub mod events;
pub mod health;
pub mod ingest;
pub mod insights;
pub mod posthog;
pub mod query;
pub mod sdk;
pub mod segment;
