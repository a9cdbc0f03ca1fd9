//! PX's server SDK for Rust: capture events in a web server or a job and
//! deliver them to PX's batch endpoint in the background.
//!
//! ```no_run
//! use px_client::{Config, Event, PxClient};
//! # async fn run() -> Result<(), px_client::ClientError> {
//! let px = PxClient::new(Config::new("http://127.0.0.1:8000", "pxi_..."))?;
//! px.capture(Event::new("signup", "user-1").property("plan", "pro"));
//! px.identify("user-1", Some("anon-42"), [("email_domain", "example.com")]);
//! px.shutdown().await; // before the runtime ends
//! # Ok(()) }
//! ```
//!
//! `capture` only queues (bounded; the oldest events go first when full);
//! one Tokio task per client batches, gzips and posts, retrying with the
//! same event ids so that PX stores each event once. What became of every
//! event is counted in [`Stats`]. docs/sdk.md ("Rust server SDK") has the
//! delivery rules; docs/ingestion.md the wire format.
//!
//! Modules: `event` (builder, wire JSON), `queue` (bound, flush
//! bookkeeping), `worker` (batching and delivery rules), `transport` (one
//! HTTP request), `backoff` (retry waits), `stats`, `config`.

mod backoff;
mod client;
mod config;
mod error;
mod event;
mod queue;
mod stats;
mod transport;
mod worker;

pub use client::PxClient;
pub(crate) use client::Shared;
pub use config::Config;
pub use error::ClientError;
pub use event::Event;
pub use stats::Stats;
