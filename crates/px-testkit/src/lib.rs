//! Test helpers shared by PX's test suites: a real `px serve` process, and
//! a MaxMind DB writer for geo tests.

pub mod mmdb;
pub mod server;
