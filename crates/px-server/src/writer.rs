//! The writer: the one place events enter the event store.
//!
//! Request handlers send their processed events here and wait for the ack.
//! A single task takes everything queued (up to `max_commit_events`),
//! drops retries (dedupe by project + event id), assigns server-side
//! sessions, and commits the group in one store append: group commit, so
//! one fsync acknowledges many requests, and under light load a request is
//! committed alone, without waiting for a timer.
//!
//! Ids enter the dedupe window only after their commit succeeded, and a
//! failed commit fails every request of the group: a 2xx always means
//! stored, a 5xx means retry, and the retry is never counted twice.

use crate::metrics::Metrics;
use hashbrown::HashSet;
use px_core::time::{MICROS_PER_SECOND, now_micros};
use px_core::{ErrorKind, ProjectId};
use px_ingest::dedupe::{Deduper, dedupe_key};
use px_ingest::sessionize::Sessionizer;
use px_store::{EventStore, ScopedEvent};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// What a commit did for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOutcome {
    pub stored: usize,
    pub duplicates: usize,
}

/// A failed commit, shared by every request of its group.
#[derive(Debug, Clone)]
pub struct WriteError {
    pub kind: ErrorKind,
    pub message: String,
}

struct WriteRequest {
    events: Vec<ScopedEvent>,
    ack: oneshot::Sender<Result<WriteOutcome, WriteError>>,
}

pub struct WriterConfig {
    pub max_commit_events: usize,
    pub queue_requests: usize,
    pub dedupe_window_secs: u64,
    pub dedupe_max_ids: usize,
    pub session_timeout_secs: u64,
    pub session_max_entries: usize,
}

#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<WriteRequest>,
    metrics: Arc<Metrics>,
}

impl WriterHandle {
    /// Queues events and waits until they are durable (or failed).
    pub async fn write(&self, events: Vec<ScopedEvent>) -> Result<WriteOutcome, WriteError> {
        let n = events.len() as u64;
        let (ack, rx) = oneshot::channel();
        self.metrics.queue_events.fetch_add(n, Relaxed);
        let unavailable = |m: &str| WriteError { kind: ErrorKind::Unavailable, message: m.into() };
        if self.tx.send(WriteRequest { events, ack }).await.is_err() {
            self.metrics.queue_events.fetch_sub(n, Relaxed);
            return Err(unavailable("the writer has stopped"));
        }
        rx.await.unwrap_or_else(|_| Err(unavailable("the writer stopped before acknowledging")))
    }
}

/// Starts the writer task. Warms the dedupe window from the store first,
/// so retries of batches acknowledged before a restart are still caught.
pub async fn start(
    store: Arc<dyn EventStore>,
    config: WriterConfig,
    metrics: Arc<Metrics>,
) -> Result<(WriterHandle, tokio::task::JoinHandle<()>), px_store::StoreError> {
    let now = now_micros();
    let window = config.dedupe_window_secs as i64 * MICROS_PER_SECOND;
    let mut deduper = Deduper::new(window, config.dedupe_max_ids, now);
    let recent = store.recent_event_ids(now - window, config.dedupe_max_ids / 2).await?;
    for (project, id) in recent.iter().rev() {
        deduper.insert(dedupe_key(*project, *id), now);
    }
    tracing::info!(ids = recent.len(), "dedupe window warmed from the store");
    let sessions = Sessionizer::new(config.session_timeout_secs as i64 * MICROS_PER_SECOND, config.session_max_entries);
    let (tx, rx) = mpsc::channel(config.queue_requests);
    let task =
        Task { store, rx, deduper, sessions, max_events: config.max_commit_events, metrics: Arc::clone(&metrics) };
    let join = tokio::spawn(task.run());
    Ok((WriterHandle { tx, metrics }, join))
}

struct Task {
    store: Arc<dyn EventStore>,
    rx: mpsc::Receiver<WriteRequest>,
    deduper: Deduper,
    sessions: Sessionizer,
    max_events: usize,
    metrics: Arc<Metrics>,
}

impl Task {
    async fn run(mut self) {
        while let Some(first) = self.rx.recv().await {
            let mut n = first.events.len();
            let mut group = vec![first];
            while n < self.max_events {
                match self.rx.try_recv() {
                    Ok(req) => {
                        n += req.events.len();
                        group.push(req);
                    }
                    Err(_) => break,
                }
            }
            self.metrics.queue_events.fetch_sub(n as u64, Relaxed);
            self.commit(group).await;
        }
        tracing::info!("writer stopped: every sender is gone");
    }

    async fn commit(&mut self, group: Vec<WriteRequest>) {
        let mut keys: HashSet<u128> = HashSet::new();
        let mut events = Vec::new();
        let mut acks = Vec::with_capacity(group.len());
        for req in group {
            let mut outcome = WriteOutcome { stored: 0, duplicates: 0 };
            for se in req.events {
                let key = dedupe_key(se.scope.project_id, se.event.event_id);
                if self.deduper.contains(key) || !keys.insert(key) {
                    outcome.duplicates += 1;
                } else {
                    outcome.stored += 1;
                    events.push(se);
                }
            }
            acks.push((req.ack, outcome));
        }
        self.sessionize(&mut events);

        let stored = events.len();
        let started = Instant::now();
        let result = self.store.append(events).await;
        self.metrics.store_write_latency.observe(started.elapsed().as_secs_f64());
        let result = match result {
            Ok(()) => {
                let now = now_micros();
                for k in keys {
                    self.deduper.insert(k, now);
                }
                self.metrics.store_write_events.fetch_add(stored as u64, Relaxed);
                self.metrics.dedupe_ids.store(self.deduper.len() as u64, Relaxed);
                self.metrics
                    .dedupe_window_secs
                    .store((self.deduper.guaranteed_window_micros(now) / MICROS_PER_SECOND) as u64, Relaxed);
                self.metrics.sessions_active.store(self.sessions.len() as u64, Relaxed);
                Ok(())
            }
            Err(e) => {
                self.metrics.store_write_failures.fetch_add(1, Relaxed);
                tracing::error!(error = %e, events = stored, "event store commit failed");
                // Nothing of the group was stored and a retry is safe: tell
                // clients to retry (503), whatever the store's cause.
                Err(WriteError {
                    kind: ErrorKind::Unavailable,
                    message: "the event store could not commit the batch; retry".into(),
                })
            }
        };
        for (ack, outcome) in acks {
            // A caller that went away (client disconnect) needs no answer.
            let _ = ack.send(result.clone().map(|()| outcome));
        }
    }

    /// Gives events without a session id a server-side one, visiting them in
    /// timestamp order so late-arriving earlier events join the right session.
    fn sessionize(&mut self, events: &mut [ScopedEvent]) {
        let mut idx: Vec<usize> = (0..events.len()).filter(|&i| events[i].event.session_id.is_none()).collect();
        idx.sort_by_key(|&i| events[i].event.timestamp);
        for i in idx {
            let e = &events[i];
            let project: ProjectId = e.scope.project_id;
            let id = self.sessions.assign(project, &e.event.distinct_id, e.event.timestamp);
            events[i].event.session_id = Some(id);
        }
    }
}
