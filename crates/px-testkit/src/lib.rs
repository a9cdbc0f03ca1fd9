//! Test helpers shared by PX's test suites: a real `px serve` process, the
//! behaviour suites every storage backend runs, and a MaxMind DB writer for
//! geo tests.

pub mod mmdb;
pub mod server;
pub mod suites;
