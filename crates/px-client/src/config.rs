//! [`Config`]: where PX is, how events are batched, how long delivery keeps
//! trying. Defaults are in code; every field is public so a caller overrides
//! only what it needs: `Config { batch_size: 500, ..Config::new(host, key) }`.

use crate::ClientError;
use reqwest::Url;
use std::time::Duration;

/// The batch endpoint, below [`Config::host`].
const BATCH_PATH: &str = "/api/v1/events/batch";

/// How a [`crate::PxClient`] reaches PX and delivers events.
#[derive(Clone)]
pub struct Config {
    /// Where PX runs, e.g. `http://127.0.0.1:8000`. A path is kept as a
    /// prefix (`http://gateway.internal/px`), for PX behind a proxy.
    pub host: String,
    /// The project's ingestion key (`pxi_...`) or secret key (`pxs_...`),
    /// sent as `Authorization: Bearer`.
    pub api_key: String,
    /// Events per request. Keep it at most the server's
    /// `ingest.limits.max_events_per_batch` (5000 by default): above it every
    /// batch is refused with 413 first and sent again in halves.
    pub batch_size: usize,
    /// Waiting events are sent at least this often, even when fewer than
    /// `batch_size` wait.
    pub flush_interval: Duration,
    /// Events waiting to be sent, at most; past it the oldest are dropped
    /// (and counted). The batch being sent is not part of the queue.
    pub max_queue: usize,
    /// Gzip request bodies (`Content-Encoding: gzip`): JSON events shrink
    /// about tenfold, for a little CPU in the background task.
    pub gzip: bool,
    /// Attempts after the first for one batch before its events count as
    /// failed. With the default backoff, 10 retries span about 1.5 minutes
    /// on average: long enough to ride out a server restart.
    pub max_retries: u32,
    /// Ceiling of the first retry's random wait; it doubles with each
    /// failure in a row, up to `max_backoff`.
    pub backoff_base: Duration,
    pub max_backoff: Duration,
    /// One request, from connecting to reading the answer.
    pub timeout: Duration,
}

impl Config {
    /// The defaults, for PX at `host` with `api_key`.
    pub fn new(host: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            api_key: api_key.into(),
            batch_size: 100,
            flush_interval: Duration::from_secs(1),
            max_queue: 10_000,
            gzip: true,
            max_retries: 10,
            backoff_base: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }

    /// The batch endpoint's URL, or every problem of the config at once.
    pub(crate) fn validate(&self) -> Result<Url, ClientError> {
        let mut problems = Vec::new();
        let url = match Url::parse(&format!("{}{BATCH_PATH}", self.host.trim_end_matches('/'))) {
            Ok(url) if url.scheme() == "http" => Some(url),
            // reqwest is built without TLS in this workspace (its TLS
            // backends compile C code); PX behind HTTPS is reached through
            // a local proxy or sidecar that terminates TLS.
            Ok(url) => {
                problems.push(format!("host: scheme {} is not supported, only http", url.scheme()));
                None
            }
            Err(e) => {
                problems.push(format!("host: {:?} is not a URL: {e}", self.host));
                None
            }
        };
        if self.api_key.trim().is_empty() {
            problems.push("api_key is required".into());
        }
        if self.batch_size == 0 {
            problems.push("batch_size must be at least 1".into());
        }
        if self.max_queue == 0 {
            problems.push("max_queue must be at least 1".into());
        }
        if self.flush_interval.is_zero() {
            problems.push("flush_interval must be more than zero".into());
        }
        if self.timeout.is_zero() {
            problems.push("timeout must be more than zero".into());
        }
        if self.backoff_base.is_zero() {
            problems.push("backoff_base must be more than zero".into());
        }
        if self.max_backoff < self.backoff_base {
            problems.push("max_backoff must be at least backoff_base".into());
        }
        match url {
            Some(url) if problems.is_empty() => Ok(url),
            _ => Err(ClientError::InvalidConfig(problems)),
        }
    }
}

/// Shows everything but the key: configs end up in logs and panics.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("api_key", &"<redacted>")
            .field("batch_size", &self.batch_size)
            .field("flush_interval", &self.flush_interval)
            .field("max_queue", &self.max_queue)
            .field("gzip", &self.gzip)
            .field("max_retries", &self.max_retries)
            .field("backoff_base", &self.backoff_base)
            .field("max_backoff", &self.max_backoff)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_keeps_a_path_prefix() {
        let url = Config::new("http://gateway.internal/px/", "pxi_k").validate().unwrap();
        assert_eq!(url.as_str(), "http://gateway.internal/px/api/v1/events/batch");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let bad = Config { batch_size: 0, max_backoff: Duration::ZERO, ..Config::new("https://px.example", " ") };
        let Err(ClientError::InvalidConfig(problems)) = bad.validate() else { panic!("accepted") };
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].starts_with("host: scheme https"));
        let Err(ClientError::InvalidConfig(problems)) = Config::new("not a url", "k").validate() else {
            panic!("accepted")
        };
        assert!(problems[0].contains("not a URL"), "{problems:?}");
    }

    #[test]
    fn debug_hides_the_key() {
        assert!(!format!("{:?}", Config::new("http://h", "pxs_secret")).contains("pxs_secret"));
    }
}
