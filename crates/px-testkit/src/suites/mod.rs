//! Behaviour suites: one per storage trait, each an async fn taking the
//! trait object, so every backend runs the same cases.

pub mod event_store;
pub mod meta_store;
