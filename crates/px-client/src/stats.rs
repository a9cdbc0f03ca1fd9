//! Delivery counters. Every captured event ends in exactly one of
//! `acknowledged`, `duplicates`, `rejected`, `dropped` or `failed`, so once
//! a flush has returned, `captured` is their sum: a test or a health check
//! can tell "nothing lost" from "lost and logged".

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of [`crate::PxClient::stats`]. Each counter is exact; read
/// together they may be a moment apart while deliveries run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events passed to `capture`, `identify` or `alias`.
    pub captured: u64,
    /// Events put on the wire, each counted once however many attempts
    /// (retries, halves after a 413) it took.
    pub sent: u64,
    /// Events PX stored.
    pub acknowledged: u64,
    /// Events PX had already stored: a retry of a request whose answer was
    /// lost (a timeout, a server killed after its commit).
    pub duplicates: u64,
    /// Events PX refused one by one (an invalid name, a property over a
    /// limit), each logged with the reason. Not retried: they would fail again.
    pub rejected: u64,
    /// Events dropped by the client: the oldest when the queue was full,
    /// those captured after shutdown, and an event too large for PX alone.
    pub dropped: u64,
    /// Requests sent again after a network error, 408, 429 or 5xx.
    pub retries: u64,
    /// Events given up on: retries exhausted, or the whole request refused
    /// (401, 403, a 400 that named no event).
    pub failed: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub captured: AtomicU64,
    pub sent: AtomicU64,
    pub acknowledged: AtomicU64,
    pub duplicates: AtomicU64,
    pub rejected: AtomicU64,
    pub dropped: AtomicU64,
    pub retries: AtomicU64,
    pub failed: AtomicU64,
}

/// Adds to a counter. Relaxed: counters order nothing else.
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Counters {
    pub fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            captured: get(&self.captured),
            sent: get(&self.sent),
            acknowledged: get(&self.acknowledged),
            duplicates: get(&self.duplicates),
            rejected: get(&self.rejected),
            dropped: get(&self.dropped),
            retries: get(&self.retries),
            failed: get(&self.failed),
        }
    }
}
