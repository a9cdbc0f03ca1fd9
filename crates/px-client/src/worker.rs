//! The background task: takes batches from the queue and delivers each one
//! before the next, so events arrive in the order they were captured and a
//! flush knows that nothing older is still in flight.
//!
//! Delivery rules (the browser SDK's, for the same reasons):
//! - network errors, 408, 429 and 5xx are retried with the same events (so
//!   the same ids: PX drops what it already stored), after `Retry-After`
//!   when the server sent one, else after a jittered exponential backoff;
//!   after `max_retries` the batch's events count as failed;
//! - 413 splits the batch in halves, each delivered on its own; a single
//!   event still too large is dropped;
//! - other 4xx (400 malformed, 401 bad key, 403) are final: the same bytes
//!   cannot succeed later;
//! - events rejected one by one in a 2xx are counted and logged, not sent
//!   again.

use crate::Event;
use crate::Shared;
use crate::backoff::Backoff;
use crate::queue::Next;
use crate::stats::add;
use crate::transport::{Answer, Outcome, Rejection, Transport};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) struct Worker<T> {
    pub shared: Arc<Shared>,
    pub transport: T,
    pub backoff: Backoff,
    pub max_retries: u32,
    pub flush_interval: Duration,
}

impl<T: Transport> Worker<T> {
    /// Runs until the client closes and everything queued is settled.
    pub async fn run(self) {
        loop {
            match self.shared.queue.next(Instant::now(), self.flush_interval) {
                Next::Idle => self.shared.queue.woken().await,
                Next::Until(due) => {
                    tokio::select! {
                        () = self.shared.queue.woken() => {}
                        () = tokio::time::sleep_until(due.into()) => {}
                    }
                }
                Next::Send(batch) => self.deliver(batch).await,
                Next::Stop => return,
            }
        }
    }

    /// Delivers one batch, settling each of its events exactly once.
    pub async fn deliver(&self, batch: Vec<Event>) {
        let stats = &self.shared.stats;
        add(&stats.sent, batch.len() as u64);
        let events: Vec<String> = batch.into_iter().map(Event::into_json).collect();
        // A stack of parts still to send, the next on top: halves after a
        // 413 go out in order, first half first.
        let mut parts = vec![events];
        while let Some(mut part) = parts.pop() {
            let n = part.len() as u64;
            match self.send_with_retries(&part).await {
                Outcome::Stored(answer) => self.count_stored(answer),
                Outcome::TooLarge if part.len() > 1 => {
                    let second = part.split_off(part.len() / 2);
                    tracing::debug!(events = n, "px refused the batch as too large; sending it in halves");
                    parts.push(second);
                    parts.push(part);
                }
                Outcome::TooLarge => {
                    add(&stats.dropped, n);
                    tracing::warn!(
                        bytes = part.first().map_or(0, String::len),
                        "event dropped: larger than px accepts on its own"
                    );
                }
                Outcome::Refused { status, message, rejected } => {
                    let r = rejected.len() as u64;
                    log_rejections(&rejected);
                    add(&stats.rejected, r);
                    add(&stats.failed, n.saturating_sub(r));
                    tracing::error!(status, message, events = n, "px refused the batch; its events are lost");
                }
                Outcome::Retry { cause, .. } => {
                    add(&stats.failed, n);
                    tracing::error!(
                        cause,
                        events = n,
                        retries = self.max_retries,
                        "px unreachable after every retry; the batch's events are lost"
                    );
                }
            }
        }
    }

    /// Sends `events` until an outcome other than [`Outcome::Retry`], or
    /// `max_retries` retries; returns the last outcome.
    async fn send_with_retries(&self, events: &[String]) -> Outcome {
        let mut failures = 0;
        loop {
            let outcome = self.transport.send(events).await;
            let Outcome::Retry { after, cause } = &outcome else {
                return outcome;
            };
            failures += 1;
            if failures > self.max_retries {
                return outcome;
            }
            add(&self.shared.stats.retries, 1);
            let wait = self.backoff.delay(failures, *after, &mut rand::rng());
            tracing::warn!(cause, wait_ms = wait.as_millis() as u64, attempt = failures, "px request failed; retrying");
            tokio::time::sleep(wait).await;
        }
    }

    fn count_stored(&self, answer: Answer) {
        let stats = &self.shared.stats;
        add(&stats.acknowledged, answer.accepted);
        add(&stats.duplicates, answer.duplicates);
        add(&stats.rejected, answer.rejected.len() as u64);
        log_rejections(&answer.rejected);
    }
}

/// One warning per rejected event: each is a bug in what the caller
/// captured (a missing name, a property over a limit), worth seeing.
fn log_rejections(rejected: &[Rejection]) {
    for r in rejected {
        tracing::warn!(index = r.index, code = r.code, field = r.field, message = r.message, "px rejected an event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::Queue;
    use crate::stats::{Counters, Stats};
    use crate::transport::FnTransport;
    use parking_lot::Mutex;

    /// A worker whose transport answers with `answer` and records what it
    /// was sent.
    fn worker<F>(answer: F) -> (Worker<impl Transport>, Arc<Mutex<Vec<Vec<String>>>>)
    where
        F: Fn(usize, &[String]) -> Outcome + Send + Sync + 'static,
    {
        let seen = Arc::new(Mutex::new(Vec::<Vec<String>>::new()));
        let log = Arc::clone(&seen);
        let transport = FnTransport(move |events: &[String]| {
            let mut log = log.lock();
            log.push(events.to_vec());
            answer(log.len(), events)
        });
        let shared = Arc::new(Shared { queue: Queue::new(100, 100), stats: Counters::default() });
        let backoff = Backoff { base: Duration::from_millis(1), max: Duration::from_millis(2) };
        (Worker { shared, transport, backoff, max_retries: 3, flush_interval: Duration::from_secs(1) }, seen)
    }

    fn stored(n: usize) -> Outcome {
        Outcome::Stored(Answer { accepted: n as u64, ..Answer::default() })
    }

    fn retry(after: Option<Duration>) -> Outcome {
        Outcome::Retry { after, cause: "503".into() }
    }

    fn events(n: usize) -> Vec<Event> {
        (0..n).map(|i| Event::new(if i == 6 { "huge" } else { "e" }, "u")).collect()
    }

    fn stats<T>(w: &Worker<T>) -> Stats {
        w.shared.stats.snapshot()
    }

    #[tokio::test]
    async fn a_413_splits_the_batch_in_halves_in_order_and_drops_a_lone_oversized_event() {
        // PX takes at most 3 events, and never the one named "huge".
        let (w, seen) = worker(|_, events| {
            if events.len() > 3 || events.iter().any(|e| e.contains("huge")) {
                Outcome::TooLarge
            } else {
                stored(events.len())
            }
        });
        let batch = events(10);
        let expected: Vec<String> =
            batch.iter().enumerate().filter(|(i, _)| *i != 6).map(|(_, e)| e.clone().into_json()).collect();
        w.deliver(batch).await;
        let sizes: Vec<usize> = seen.lock().iter().map(Vec::len).collect();
        assert_eq!(sizes, [10, 5, 2, 3, 5, 2, 1, 1, 3]);
        let stored: Vec<String> = seen
            .lock()
            .iter()
            .filter(|p| p.len() <= 3 && !p.iter().any(|e| e.contains("huge")))
            .flatten()
            .cloned()
            .collect();
        assert_eq!(stored, expected, "every other event arrives once, in capture order");
        assert_eq!(stats(&w), Stats { sent: 10, acknowledged: 9, dropped: 1, ..Stats::default() });
    }

    #[tokio::test]
    async fn transient_failures_resend_the_same_events() {
        let (w, seen) = worker(|call, events| if call < 3 { retry(None) } else { stored(events.len()) });
        w.deliver(events(4)).await;
        let seen = seen.lock();
        assert_eq!(seen.len(), 3);
        assert!(seen.iter().all(|attempt| *attempt == seen[0]), "a retry carries the same event ids");
        assert_eq!(stats(&w), Stats { sent: 4, acknowledged: 4, retries: 2, ..Stats::default() });
    }

    #[tokio::test]
    async fn the_servers_retry_after_is_waited_for() {
        let (w, _) = worker(
            |call, events| if call == 1 { retry(Some(Duration::from_millis(300))) } else { stored(events.len()) },
        );
        let start = Instant::now();
        w.deliver(events(2)).await;
        assert!(start.elapsed() >= Duration::from_millis(300), "{:?}", start.elapsed());
        assert_eq!(stats(&w).retries, 1);
    }

    #[tokio::test]
    async fn after_max_retries_the_events_fail() {
        let (w, seen) = worker(|_, _| retry(None));
        w.deliver(events(5)).await;
        assert_eq!(seen.lock().len(), 4, "the first attempt and 3 retries");
        assert_eq!(stats(&w), Stats { sent: 5, retries: 3, failed: 5, ..Stats::default() });
    }

    #[tokio::test]
    async fn refusals_and_rejections_are_final() {
        let (w, seen) =
            worker(|_, _| Outcome::Refused { status: 401, message: "unknown key".into(), rejected: vec![] });
        w.deliver(events(3)).await;
        assert_eq!((seen.lock().len(), stats(&w).failed), (1, 3));

        let reject = |index| Rejection { index, code: "invalid".into(), field: "event".into(), message: "bad".into() };
        let (w, seen) = worker(move |_, events| {
            Outcome::Stored(Answer {
                accepted: events.len() as u64 - 2,
                duplicates: 0,
                rejected: vec![reject(0), reject(2)],
            })
        });
        w.deliver(events(5)).await;
        assert_eq!(seen.lock().len(), 1, "rejected events are not sent again");
        assert_eq!(stats(&w), Stats { sent: 5, acknowledged: 3, rejected: 2, ..Stats::default() });

        // A 400 because no event was valid: the events are rejected, not failed.
        let (w, _) = worker(move |_, _| Outcome::Refused {
            status: 400,
            message: "no valid event".into(),
            rejected: vec![reject(0), reject(1)],
        });
        w.deliver(events(2)).await;
        assert_eq!(stats(&w), Stats { sent: 2, rejected: 2, ..Stats::default() });
    }
}
