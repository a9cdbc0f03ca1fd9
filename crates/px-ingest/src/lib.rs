//! Ingestion pipeline stages, one module each, in the order an event meets
//! them: [`decode`] (body, gzip, envelope) -> [`validate`] (limits, identity)
//! -> [`timestamp`] (skew, clamping) -> [`enrich`] (URL, user agent, geo) ->
//! [`privacy`] (PII masking, IP anonymisation) -> [`dedupe`] ->
//! [`sessionize`]. [`pipeline`] chains the stateless stages for the request
//! path; the stateful last two run in the single writer that feeds the store.
//! [`compat`] comes before all of them for PostHog's and Segment's APIs: it
//! rewrites their bodies as PX wire events.

pub mod compat;
pub mod decode;
pub mod dedupe;
pub mod enrich;
pub mod pipeline;
pub mod privacy;
pub mod sessionize;
pub mod timestamp;
pub mod validate;

pub use pipeline::{Pipeline, Processed};
