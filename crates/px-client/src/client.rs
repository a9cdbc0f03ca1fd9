//! [`PxClient`], the handle callers hold: cheap to clone, safe to call from
//! any thread. It only touches the queue; one background Tokio task per
//! client (see `worker`) does all network work.

use crate::backoff::Backoff;
use crate::queue::{Pushed, Queue};
use crate::stats::{Counters, Stats, add};
use crate::transport::{HttpTransport, Transport};
use crate::worker::Worker;
use crate::{ClientError, Config, Event};
use parking_lot::Mutex;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

/// What the handles and the background task share.
pub(crate) struct Shared {
    pub queue: Queue,
    pub stats: Counters,
}

/// PX's server SDK client. Clones share one queue and one background task;
/// when the last clone is dropped the task sends what waits and stops.
#[derive(Clone)]
pub struct PxClient {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    task: Mutex<Option<JoinHandle<()>>>,
    max_queue: usize,
}

impl Drop for Inner {
    /// Best effort only: the task keeps sending after this, but a runtime
    /// that shuts down (the end of `main`) cancels it. Call
    /// [`PxClient::shutdown`] to know the events left.
    fn drop(&mut self) {
        self.shared.queue.close();
    }
}

impl PxClient {
    /// Checks `config` and starts the background task on the current Tokio
    /// runtime.
    pub fn new(config: Config) -> Result<Self, ClientError> {
        let url = config.validate()?;
        let runtime = Handle::try_current().map_err(|_| ClientError::NoRuntime)?;
        let transport = HttpTransport::new(&config, url)?;
        Ok(Self::start(&config, transport, &runtime))
    }

    pub(crate) fn start(config: &Config, transport: impl Transport, runtime: &Handle) -> Self {
        let shared =
            Arc::new(Shared { queue: Queue::new(config.max_queue, config.batch_size), stats: Counters::default() });
        let worker = Worker {
            shared: Arc::clone(&shared),
            transport,
            backoff: Backoff { base: config.backoff_base, max: config.max_backoff },
            max_retries: config.max_retries,
            flush_interval: config.flush_interval,
        };
        let task = runtime.spawn(worker.run());
        Self { inner: Arc::new(Inner { shared, task: Mutex::new(Some(task)), max_queue: config.max_queue }) }
    }

    /// Queues `event` for delivery and returns at once: never blocks, never
    /// fails. When the queue is full the oldest waiting event is dropped;
    /// after [`Self::shutdown`], `event` itself is. Both are counted in
    /// [`Stats::dropped`].
    pub fn capture(&self, event: Event) {
        let stats = &self.inner.shared.stats;
        add(&stats.captured, 1);
        match self.inner.shared.queue.push(event, Instant::now()) {
            Pushed::Queued => {}
            Pushed::DroppedOldest { first } => {
                add(&stats.dropped, 1);
                if first {
                    tracing::warn!(
                        max_queue = self.inner.max_queue,
                        "px-client queue full: dropping the oldest events until px takes more"
                    );
                }
            }
            Pushed::Closed => {
                add(&stats.dropped, 1);
                tracing::warn!("event captured after px-client shutdown dropped");
            }
        }
    }

    /// Says `distinct_id` is a known user: with `anonymous_id`, the
    /// anonymous visitor's events (past and future) join the user's person;
    /// `set` becomes person properties (`$set`). Sent in order with the
    /// events around it.
    pub fn identify<K: Into<String>, V: Into<Value>>(
        &self,
        distinct_id: impl Into<String>,
        anonymous_id: Option<&str>,
        set: impl IntoIterator<Item = (K, V)>,
    ) {
        self.capture(Event::identify(distinct_id.into(), anonymous_id.map(str::to_string)).set_all(set));
    }

    /// Makes `alias` another id of `distinct_id`'s person (a CRM id, an
    /// id from another system).
    pub fn alias(&self, distinct_id: impl Into<String>, alias: impl Into<String>) {
        self.capture(Event::alias(distinct_id.into(), alias.into()));
    }

    /// Sends what waits now and resolves once every event captured before
    /// the call is settled: stored, rejected, dropped or failed after its
    /// retries (see [`Self::stats`]). While PX is unreachable that takes
    /// as long as the retries do.
    pub async fn flush(&self) {
        if let Some(done) = self.inner.shared.queue.flush() {
            // An error means the task is gone (its runtime ended): nothing
            // is in flight any more either.
            let _ = done.await;
        }
    }

    /// Flushes, then stops the background task. Events captured afterwards
    /// are dropped. Other clones of this client stop too.
    pub async fn shutdown(&self) {
        self.inner.shared.queue.close();
        self.flush().await;
        let task = self.inner.task.lock().take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    pub fn stats(&self) -> Stats {
        self.inner.shared.stats.snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{Answer, FnTransport, Outcome};
    use std::time::Duration;

    /// A client whose transport stores everything, counting the events.
    fn client(config: Config) -> (PxClient, Arc<Mutex<usize>>) {
        let received = Arc::new(Mutex::new(0));
        let count = Arc::clone(&received);
        let transport = FnTransport(move |events: &[String]| {
            *count.lock() += events.len();
            Outcome::Stored(Answer { accepted: events.len() as u64, ..Answer::default() })
        });
        (PxClient::start(&config, transport, &Handle::current()), received)
    }

    fn config() -> Config {
        // A long interval: only full batches and flushes send.
        Config { flush_interval: Duration::from_secs(3600), ..Config::new("http://unused", "pxi_k") }
    }

    #[tokio::test]
    async fn flush_waits_for_every_earlier_event_and_shutdown_stops() {
        let (c, received) = client(config());
        for i in 0..250 {
            c.capture(Event::new("e", format!("u{i}")));
        }
        c.identify("user-1", Some("anon-1"), [("plan", "pro")]);
        c.alias("user-1", "crm-1");
        c.flush().await;
        assert_eq!(*received.lock(), 252, "the partial last batch went out with the flush");
        c.capture(Event::new("last", "u"));
        c.shutdown().await;
        assert_eq!(*received.lock(), 253);
        c.capture(Event::new("too_late", "u"));
        c.flush().await; // returns at once: nothing can be pending
        let stats = c.stats();
        assert_eq!((stats.captured, stats.acknowledged, stats.dropped), (254, 253, 1));
    }

    #[tokio::test]
    async fn the_flush_interval_sends_a_partial_batch() {
        let (c, received) = client(Config { flush_interval: Duration::from_millis(50), ..config() });
        c.capture(Event::new("e", "u"));
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(*received.lock(), 1);
    }

    #[tokio::test]
    async fn dropping_the_last_clone_sends_what_waits() {
        let (c, received) = client(config());
        let other = c.clone();
        c.capture(Event::new("e", "u"));
        drop(c);
        other.capture(Event::new("e", "u"));
        drop(other);
        for _ in 0..100 {
            if *received.lock() == 2 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("dropped client did not send: {} events", *received.lock());
    }

    #[test]
    fn outside_a_runtime_new_says_so() {
        let err = PxClient::new(Config::new("http://127.0.0.1:1", "pxi_k")).err().unwrap();
        assert!(matches!(err, ClientError::NoRuntime), "{err}");
    }
}
