//! Query engine tests against a real DuckDB store: hand-written cases whose
//! every number is worked out, and property tests against the oracle.
//!
//! One test binary, not one per file: each binary links all of DuckDB.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers, not only #[test] fns

mod common;
mod oracle;
mod queries;
