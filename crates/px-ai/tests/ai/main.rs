//! The engine's integration tests, one binary (each test binary links all
//! of DuckDB, so fewer binaries build faster and take less disk).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod engine;
mod llm;
