//! Ingestion limits. Each limit has a name that error messages quote, so a
//! client that hits one is told which field broke which rule.

use serde::{Deserialize, Serialize};

/// Limits applied to every ingestion request. Defaults follow what the
/// PostHog and Segment capture APIs accept, so their clients never trip them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestLimits {
    /// Request body as sent (compressed or not).
    pub max_body_bytes: usize,
    /// Request body after gzip decompression (guards against gzip bombs).
    pub max_decompressed_bytes: usize,
    pub max_events_per_batch: usize,
    /// One event's JSON, as sent.
    pub max_event_bytes: usize,
    pub max_event_name_len: usize,
    pub max_distinct_id_len: usize,
    pub max_property_key_len: usize,
    /// Top-level keys of `properties` (plus `$set` and `$set_once`).
    pub max_properties: usize,
    /// Nesting depth of objects and arrays inside `properties`.
    pub max_property_depth: usize,
    /// Client timestamps further ahead of the receive time than this are
    /// replaced by the receive time and marked `timestamp_clamped`.
    pub max_future_skew_secs: i64,
}

impl Default for IngestLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 20 * 1024 * 1024,
            max_decompressed_bytes: 64 * 1024 * 1024,
            max_events_per_batch: 5_000,
            max_event_bytes: 64 * 1024,
            max_event_name_len: 200,
            max_distinct_id_len: 200,
            max_property_key_len: 200,
            max_properties: 500,
            max_property_depth: 10,
            max_future_skew_secs: 24 * 3600,
        }
    }
}
