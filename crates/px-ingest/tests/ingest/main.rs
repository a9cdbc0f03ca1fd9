//! Ingest parser tests: property-based fuzzing of the whole stateless
//! pipeline and GeoIP enrichment against real MaxMind DB files.
//!
//! One test binary, not one per file: each binary links all of DuckDB
//! (through px-testkit).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers, not only #[test] fns

mod fuzz_parse;
mod geo;
