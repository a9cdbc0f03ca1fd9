//! The AI engine: finds where users struggle, says for whom, what it costs
//! and what to do.
//!
//! The flow is `features -> detect -> root cause -> impact -> recommend`:
//! - [`stats`]: the statistics every stage shares (medians, tests,
//!   multiple-comparison corrections).
//! - [`detect`]: detectors over time series and feature vectors (robust
//!   z-score against a seasonal baseline, CUSUM change points, isolation
//!   forest).
//! - [`text`]: feedback texts in English and Brazilian Portuguese clustered
//!   into themes, with sentiment.
//! - [`recommend`] and [`llm`]: what to do, by rule, then optionally
//!   rewritten by an LLM for the insight's facts.

pub mod analyze;
pub mod anomaly;
pub mod detect;
pub mod engine;
pub mod features;
pub mod insight;
pub mod llm;
pub mod recommend;
pub mod signals;
pub mod stats;
pub mod text;
