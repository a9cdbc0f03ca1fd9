//! End-to-end tests of the `px` binary: real `px serve` processes on
//! loopback, driven over HTTP, by the Rust client and by PostHog's and
//! Segment's own npm packages.
//!
//! They are modules of one test binary, not one binary each: every binary
//! that links PX links all of DuckDB, and one link instead of seven keeps a
//! clean build's time and disk use down.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers, not only #[test] fns

mod ai;
mod client;
mod compat;
mod crash;
mod ingest;
mod query_api;
mod tenancy;

/// The `px` binary cargo built for these tests.
fn bin() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_px"))
}
