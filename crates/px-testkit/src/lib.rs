//! Test helpers shared by PX's test suites: a real `px serve` process, the
//! behaviour suites every storage backend runs, a MaxMind DB writer for geo
//! tests, and a fake OpenAI-compatible LLM.

pub mod llm;
pub mod mmdb;
pub mod server;
pub mod suites;
