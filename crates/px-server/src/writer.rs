//! The writer: the one place events enter the event store.
//!
//! Request handlers send their processed events here and wait for the ack.
//! A single task takes everything queued (up to `max_commit_events`),
//! drops retries (dedupe by project + event id), assigns server-side
//! sessions, appends the group to the spool as one synced record and
//! answers: group commit, so one sync acknowledges many requests, and under
//! light load a request is written alone, without waiting for a timer.
//! The drainer then moves spooled events into the store, in appends of up
//! to `max_commit_events` and bulk transactions across them; `px_store::spool`
//! says why, and how a crash is recovered exactly once.
//!
//! Ids enter the dedupe window only once their record is synced, and a
//! failed append fails every request of the group: a 2xx always means
//! durable, a 5xx means retry, and the retry is never counted twice.
//!
//! Acknowledged events reach the store one drain later. Reads that promise
//! to see them (the events API, queries) wait for [`WriterHandle::visible`]
//! first; under light load that is one store commit.

use crate::metrics::Metrics;
use hashbrown::HashSet;
use px_core::time::{MICROS_PER_SECOND, now_micros};
use px_core::{ErrorKind, ProjectId};
use px_ingest::dedupe::{Deduper, dedupe_key, generation_ids};
use px_ingest::sessionize::Sessionizer;
use px_store::spool::{self, Encoded, RecordBuilder, Spool, Until};
use px_store::{Commit, EventStore, ScopedEvent};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};

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

/// Events for the writer, already encoded for the spool: build it where
/// the request's other CPU work runs (the blocking pool), so that encoding
/// runs in parallel across requests instead of in the writer's serial path.
pub struct Batch {
    events: Vec<ScopedEvent>,
    encoded: Encoded,
}

impl Batch {
    pub fn new(events: Vec<ScopedEvent>) -> Result<Self, WriteError> {
        let encoded = Encoded::new(&events).map_err(|e| WriteError { kind: e.kind(), message: e.to_string() })?;
        Ok(Self { events, encoded })
    }
}

struct WriteRequest {
    batch: Batch,
    ack: oneshot::Sender<Result<WriteOutcome, WriteError>>,
}

pub struct WriterConfig {
    /// Where acknowledged events wait for the store (`<data dir>/spool`).
    pub spool_dir: PathBuf,
    /// Most events one spool record, and one store transaction, takes.
    pub max_commit_events: usize,
    /// Acknowledged events not yet in the store, at most; past it the
    /// writer waits for the drainer (backpressure), bounding memory.
    pub max_backlog_events: usize,
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
    /// Spool position of the last acknowledged event.
    spooled: Arc<AtomicU64>,
    /// Spool position the store holds every event up to.
    stored: watch::Receiver<u64>,
    /// Tells the drainer a read waits: it commits at once.
    wanted: Arc<Notify>,
}

impl WriterHandle {
    /// Queues events and waits until they are durable (or failed).
    pub async fn write(&self, batch: Batch) -> Result<WriteOutcome, WriteError> {
        let n = batch.events.len() as u64;
        let (ack, rx) = oneshot::channel();
        self.metrics.queue_events.fetch_add(n, Relaxed);
        let unavailable = |m: &str| WriteError { kind: ErrorKind::Unavailable, message: m.into() };
        if self.tx.send(WriteRequest { batch, ack }).await.is_err() {
            self.metrics.queue_events.fetch_sub(n, Relaxed);
            return Err(unavailable("the writer has stopped"));
        }
        rx.await.unwrap_or_else(|_| Err(unavailable("the writer stopped before acknowledging")))
    }

    /// Waits until every event acknowledged before the call is in the
    /// store, or `limit` passes; says whether they are. A read that follows
    /// then sees them (read-your-writes).
    pub async fn visible(&self, limit: Duration) -> bool {
        let target = self.spooled.load(Acquire);
        let mut stored = self.stored.clone();
        if *stored.borrow() >= target {
            return true;
        }
        self.wanted.notify_one();
        matches!(tokio::time::timeout(limit, stored.wait_for(|s| *s >= target)).await, Ok(Ok(_)))
    }
}

/// Starts the writer and the drainer. First moves into the store whatever
/// the spool holds from before a crash, then warms the dedupe window from
/// the store, so retries of batches acknowledged before a restart are
/// still caught. The returned task ends when the writer stops: after every
/// handle is dropped and the drainer has stored everything, or on failure.
pub async fn start(
    store: Arc<dyn EventStore>,
    config: WriterConfig,
    metrics: Arc<Metrics>,
) -> Result<(WriterHandle, tokio::task::JoinHandle<()>), px_store::StoreError> {
    let through = spool::recover(&config.spool_dir, store.as_ref(), Until::End, config.max_commit_events).await?;
    let spool = {
        let dir = config.spool_dir.clone();
        tokio::task::spawn_blocking(move || Spool::open(&dir, through)).await??
    };
    let now = now_micros();
    let window = config.dedupe_window_secs as i64 * MICROS_PER_SECOND;
    let mut deduper = Deduper::new(window, config.dedupe_max_ids, now);
    // The newest generation's worth: more would only rotate out again.
    let recent = store.recent_event_ids(now - window, generation_ids(config.dedupe_max_ids)).await?;
    for (project, id) in recent.iter().rev() {
        deduper.insert(dedupe_key(*project, *id), now);
    }
    tracing::info!(ids = recent.len(), "dedupe window warmed from the store");
    let sessions = Sessionizer::new(config.session_timeout_secs as i64 * MICROS_PER_SECOND, config.session_max_entries);
    let (tx, rx) = mpsc::channel(config.queue_requests);
    let spooled = Arc::new(AtomicU64::new(spool.position()));
    let (stored_tx, stored) = watch::channel(through.max(spool.position()));
    let (drain_tx, drain_rx) = mpsc::unbounded_channel();
    let wanted = Arc::new(Notify::new());
    let drainer = Drainer {
        store,
        dir: config.spool_dir,
        rx: drain_rx,
        stored: stored_tx,
        spooled: Arc::clone(&spooled),
        wanted: Arc::clone(&wanted),
        max_events: config.max_commit_events,
        metrics: Arc::clone(&metrics),
    };
    let backlog = config.max_backlog_events.max(config.max_commit_events);
    let task = Task {
        spool: Some(spool),
        rx,
        deduper,
        sessions,
        max_events: config.max_commit_events,
        backlog: Arc::new(Semaphore::new(backlog)),
        backlog_limit: backlog,
        drain: drain_tx,
        spooled: Arc::clone(&spooled),
        metrics: Arc::clone(&metrics),
    };
    let join = tokio::spawn(async move {
        let drained = tokio::spawn(drainer.run());
        task.run().await;
        if let Err(e) = drained.await {
            tracing::error!(error = %e, "the drainer failed; the spool keeps its events for the next start");
        }
    });
    Ok((WriterHandle { tx, metrics, spooled, stored, wanted }, join))
}

struct Task {
    /// Taken out while a blocking append runs.
    spool: Option<Spool>,
    rx: mpsc::Receiver<WriteRequest>,
    deduper: Deduper,
    sessions: Sessionizer,
    max_events: usize,
    /// Room for acknowledged events the store does not hold yet.
    backlog: Arc<Semaphore>,
    backlog_limit: usize,
    drain: mpsc::UnboundedSender<Spooled>,
    spooled: Arc<AtomicU64>,
    metrics: Arc<Metrics>,
}

/// An acknowledged group on its way to the store; holds its backlog room.
struct Spooled {
    events: Vec<ScopedEvent>,
    through: u64,
    room: OwnedSemaphorePermit,
}

impl Task {
    async fn run(mut self) {
        while let Some(first) = self.rx.recv().await {
            let mut n = first.batch.events.len();
            let mut group = vec![first];
            while n < self.max_events {
                match self.rx.try_recv() {
                    Ok(req) => {
                        n += req.batch.events.len();
                        group.push(req);
                    }
                    Err(_) => break,
                }
            }
            self.metrics.queue_events.fetch_sub(n as u64, Relaxed);
            if !self.commit(group).await {
                break;
            }
        }
        tracing::info!("writer stopped");
    }

    /// Spools one group and answers its requests; false when the drainer
    /// is gone and the writer must stop.
    async fn commit(&mut self, group: Vec<WriteRequest>) -> bool {
        let mut keys: HashSet<u128> = HashSet::new();
        let mut events = Vec::new();
        // Where each kept event's encoding is: (request, index in it).
        let mut origin = Vec::new();
        let mut encoded = Vec::with_capacity(group.len());
        let mut acks = Vec::with_capacity(group.len());
        for (r, req) in group.into_iter().enumerate() {
            let mut outcome = WriteOutcome { stored: 0, duplicates: 0 };
            for (i, se) in req.batch.events.into_iter().enumerate() {
                let key = dedupe_key(se.scope.project_id, se.event.event_id);
                if self.deduper.contains(key) || !keys.insert(key) {
                    outcome.duplicates += 1;
                } else {
                    outcome.stored += 1;
                    events.push(se);
                    origin.push((r, i));
                }
            }
            encoded.push(req.batch.encoded);
            acks.push((req.ack, outcome));
        }
        let (result, alive) = if events.is_empty() {
            (Ok(()), true)
        } else {
            let assigned = self.sessionize(&mut events);
            let mut record = RecordBuilder::default();
            for (k, (r, i)) in origin.into_iter().enumerate() {
                let session = if assigned[k] { events[k].event.session_id.as_deref() } else { None };
                record.push(&encoded[r], i, session);
            }
            drop(encoded);
            match self.spool_group(events, record, keys).await {
                Ok(alive) => (Ok(()), alive),
                Err(e) => {
                    tracing::error!(error = %e, "appending to the spool failed");
                    // Nothing of the group is durable and a retry is safe:
                    // tell clients to retry (503), whatever the cause.
                    let message = "the events could not be written to disk; retry".into();
                    (Err(WriteError { kind: ErrorKind::Unavailable, message }), true)
                }
            }
        };
        for (ack, outcome) in acks {
            // A caller that went away (client disconnect) needs no answer.
            let _ = ack.send(result.clone().map(|()| outcome));
        }
        if !alive {
            tracing::error!("the drainer stopped; the writer stops too");
        }
        alive
    }

    /// Waits for backlog room, appends the events to the spool, remembers
    /// their ids and hands them to the drainer. `Ok(false)`: they are
    /// durable, but the drainer is gone (the next start stores them).
    async fn spool_group(
        &mut self,
        events: Vec<ScopedEvent>,
        record: RecordBuilder,
        keys: HashSet<u128>,
    ) -> Result<bool, px_store::StoreError> {
        let room = u32::try_from(events.len().min(self.backlog_limit)).unwrap_or(u32::MAX);
        let room = Arc::clone(&self.backlog)
            .acquire_many_owned(room)
            .await
            .map_err(|_| px_store::StoreError::Unavailable("the writer is stopping".into()))?;
        let through = self.append(record).await?;
        let now = now_micros();
        for k in keys {
            self.deduper.insert(k, now);
        }
        self.spooled.store(through, Release);
        let m = &self.metrics;
        m.spool_backlog_events.fetch_add(events.len() as u64, Relaxed);
        m.dedupe_ids.store(self.deduper.len() as u64, Relaxed);
        m.dedupe_window_secs.store((self.deduper.guaranteed_window_micros(now) / MICROS_PER_SECOND) as u64, Relaxed);
        m.sessions_active.store(self.sessions.len() as u64, Relaxed);
        Ok(self.drain.send(Spooled { events, through, room }).is_ok())
    }

    /// Appends on the blocking pool: a sync waits for the disk.
    async fn append(&mut self, record: RecordBuilder) -> Result<u64, px_store::StoreError> {
        let Some(mut spool) = self.spool.take() else {
            return Err(px_store::StoreError::Unavailable("the spool was lost by a failed append task".into()));
        };
        let started = Instant::now();
        let (spool, result) = tokio::task::spawn_blocking(move || {
            let r = spool.append_record(record);
            (spool, r)
        })
        .await?;
        self.spool = Some(spool);
        self.metrics.spool_write_latency.observe(started.elapsed().as_secs_f64());
        result
    }

    /// Gives events without a session id a server-side one, visiting them in
    /// timestamp order so late-arriving earlier events join the right
    /// session. Answers which events got one.
    fn sessionize(&mut self, events: &mut [ScopedEvent]) -> Vec<bool> {
        let mut assigned = vec![false; events.len()];
        let mut idx: Vec<usize> = (0..events.len()).filter(|&i| events[i].event.session_id.is_none()).collect();
        idx.sort_by_key(|&i| events[i].event.timestamp);
        for i in idx {
            let e = &events[i];
            let project: ProjectId = e.scope.project_id;
            let id = self.sessions.assign(project, &e.event.distinct_id, e.event.timestamp);
            events[i].event.session_id = Some(id);
            assigned[i] = true;
        }
        assigned
    }
}

/// After this long without events, the drainer lets the store do its
/// upkeep ([`EventStore::maintain`]).
const IDLE_UPKEEP: Duration = Duration::from_secs(3);

/// The longest the drainer keeps a store transaction open for more events
/// ([`Commit::WhenFull`]): how far, at worst, the store lags the acks
/// under a load too light to fill a bulk transaction sooner. Any load
/// above ~61,000 events/s fills one (122,880 events) within it.
const MAX_OPEN: Duration = Duration::from_secs(2);

/// A pause this long in the arrivals commits the open transaction, so that
/// under light load events reach the store at once.
const IDLE_COMMIT: Duration = Duration::from_millis(20);

/// Moves acknowledged events from memory into the store, recording the
/// spool position with them, and deletes the spool segments the store then
/// holds. The store keeps its transaction open across appends until it
/// holds a bulk's worth (a large transaction costs the store much less per
/// event), until arrivals pause, [`MAX_OPEN`] passes, or a read waits for
/// the events ([`WriterHandle::visible`]).
struct Drainer {
    store: Arc<dyn EventStore>,
    dir: PathBuf,
    rx: mpsc::UnboundedReceiver<Spooled>,
    stored: watch::Sender<u64>,
    spooled: Arc<AtomicU64>,
    /// A read waits for the events acknowledged so far.
    wanted: Arc<Notify>,
    max_events: usize,
    metrics: Arc<Metrics>,
}

/// The store's open transaction, as the drainer sees it.
struct OpenTransaction {
    since: Instant,
    events: usize,
}

enum Next {
    Group(Option<Spooled>),
    Commit,
    Upkeep,
}

impl Drainer {
    async fn run(mut self) {
        let mut stored = *self.stored.borrow();
        let mut open: Option<OpenTransaction> = None;
        loop {
            let wait = match &open {
                Some(o) => IDLE_COMMIT.min(MAX_OPEN.saturating_sub(o.since.elapsed())),
                None => IDLE_UPKEEP,
            };
            let next = tokio::select! {
                biased;
                group = self.rx.recv() => Next::Group(group),
                () = self.wanted.notified(), if open.is_some() => Next::Commit,
                () = tokio::time::sleep(wait) => if open.is_some() { Next::Commit } else { Next::Upkeep },
            };
            let first = match next {
                Next::Group(Some(first)) => first,
                Next::Group(None) => {
                    if open.is_some() {
                        self.commit(&mut open, stored).await;
                    }
                    break;
                }
                Next::Commit => {
                    stored = self.commit(&mut open, stored).await;
                    continue;
                }
                Next::Upkeep => {
                    if let Err(e) = self.store.maintain().await {
                        tracing::warn!(error = %e, "store upkeep failed; will retry");
                    }
                    continue;
                }
            };
            let mut n = first.events.len();
            let mut group = vec![first];
            while n < self.max_events {
                match self.rx.try_recv() {
                    Ok(s) => {
                        n += s.events.len();
                        group.push(s);
                    }
                    Err(_) => break,
                }
            }
            // A recovery after a failed commit may have stored these already.
            let (done, todo): (Vec<Spooled>, Vec<Spooled>) = group.into_iter().partition(|s| s.through <= stored);
            let skipped: usize = done.iter().map(|s| s.events.len()).sum();
            self.metrics.spool_backlog_events.fetch_sub(skipped as u64, Relaxed);
            drop(done);
            let Some(through) = todo.last().map(|s| s.through) else { continue };
            let mut events = Vec::with_capacity(todo.iter().map(|s| s.events.len()).sum());
            let mut rooms = Vec::with_capacity(todo.len());
            for s in todo {
                events.extend(s.events);
                rooms.push(s.room);
            }
            let count = events.len();
            let o = open.get_or_insert_with(|| OpenTransaction { since: Instant::now(), events: 0 });
            o.events += count;
            let started = Instant::now();
            let result = self.store.append_spooled(events, through, Commit::WhenFull).await;
            self.metrics.store_write_latency.observe(started.elapsed().as_secs_f64());
            // In the store's transaction now (or back in the spool): no
            // longer in this process's memory.
            drop(rooms);
            stored = self.settle(result, &mut open, stored).await;
            // Under a load that never pauses, the wait above never times out.
            if open.as_ref().is_some_and(|o| o.since.elapsed() >= MAX_OPEN) {
                stored = self.commit(&mut open, stored).await;
            }
        }
        tracing::info!("drainer stopped: every acknowledged event is in the store");
    }

    /// Commits the store's open transaction.
    async fn commit(&self, open: &mut Option<OpenTransaction>, stored: u64) -> u64 {
        let started = Instant::now();
        let result = self.store.commit_spooled().await;
        self.metrics.store_write_latency.observe(started.elapsed().as_secs_f64());
        self.settle(result, open, stored).await
    }

    /// Takes in what a store call answered: the position the store now
    /// holds, or a failure, after which the events of the lost transaction
    /// are stored again from the spool. Releases the spool segments the
    /// store holds; answers its position.
    async fn settle(&self, result: px_store::Result<u64>, open: &mut Option<OpenTransaction>, stored: u64) -> u64 {
        let through = match result {
            Ok(through) if through == stored => return stored,
            Ok(through) => through,
            Err(e) => {
                self.metrics.store_write_failures.fetch_add(1, Relaxed);
                self.metrics.store_failing.store(1, Relaxed);
                let events = open.as_ref().map_or(0, |o| o.events);
                tracing::error!(error = %e, events, "event store commit failed; the events stay spooled");
                let through = self.recover().await;
                self.metrics.store_failing.store(0, Relaxed);
                tracing::info!("event store commits work again; the spooled events are stored");
                through
            }
        };
        // Committed (or recovered): the whole open transaction is stored.
        if let Some(o) = open.take() {
            self.metrics.store_write_events.fetch_add(o.events as u64, Relaxed);
            self.metrics.spool_backlog_events.fetch_sub(o.events as u64, Relaxed);
        }
        self.stored.send_replace(through);
        let dir = self.dir.clone();
        match tokio::task::spawn_blocking(move || spool::release(&dir, through)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "could not delete a stored spool segment"),
            Err(e) => tracing::warn!(error = %e, "deleting stored spool segments failed"),
        }
        through
    }

    /// After a failed commit, the events that were in it are read back
    /// from the spool (the in-memory copy went into the failed call), with
    /// everything synced since; retried with backoff until the store takes
    /// them. Answers the store's position.
    async fn recover(&self) -> u64 {
        let mut wait = Duration::from_millis(100);
        loop {
            tokio::time::sleep(wait).await;
            let synced = Until::Synced(self.spooled.load(Acquire));
            match spool::recover(&self.dir, self.store.as_ref(), synced, self.max_events).await {
                Ok(through) => return through,
                Err(e) => {
                    self.metrics.store_write_failures.fetch_add(1, Relaxed);
                    tracing::error!(error = %e, retry_in_ms = wait.as_millis() as u64, "spool recovery failed");
                    wait = (wait * 2).min(Duration::from_secs(30));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use px_core::{Event, ProjectScope, TenantId};
    use px_store::{DuckDbEventStore, EventPage, EventQuery, PersonRecord, SqlParam};
    use std::sync::atomic::AtomicUsize;
    use uuid::Uuid;

    const SCOPE: ProjectScope = ProjectScope { tenant_id: TenantId(1), project_id: ProjectId(1) };

    /// The real store, whose next `failures` spooled commits fail as a full
    /// disk would make them.
    struct Failing {
        inner: DuckDbEventStore,
        failures: AtomicUsize,
        metrics: Arc<Metrics>,
        /// A commit was tried while the metrics said the store was failing.
        retried_while_failing: std::sync::atomic::AtomicBool,
    }

    #[async_trait::async_trait]
    impl EventStore for Failing {
        async fn append(&self, events: Vec<ScopedEvent>) -> px_store::Result<()> {
            self.inner.append(events).await
        }
        async fn append_spooled(
            &self,
            events: Vec<ScopedEvent>,
            through: u64,
            commit: Commit,
        ) -> px_store::Result<u64> {
            if self.metrics.store_failing.load(Relaxed) == 1 {
                self.retried_while_failing.store(true, Relaxed);
            }
            self.inner.append_spooled(events, through, commit).await
        }
        async fn commit_spooled(&self) -> px_store::Result<u64> {
            if self.failures.fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1)).is_ok() {
                // As a full disk would: the open transaction is lost.
                self.inner.discard_spooled();
                return Err(px_store::StoreError::Unavailable("no space left on device".into()));
            }
            self.inner.commit_spooled().await
        }
        async fn maintain(&self) -> px_store::Result<()> {
            self.inner.maintain().await
        }
        async fn spooled_through(&self) -> px_store::Result<u64> {
            self.inner.spooled_through().await
        }
        async fn list_events(&self, scope: ProjectScope, query: EventQuery) -> px_store::Result<EventPage> {
            self.inner.list_events(scope, query).await
        }
        async fn person(&self, scope: ProjectScope, distinct_id: &str) -> px_store::Result<Option<PersonRecord>> {
            self.inner.person(scope, distinct_id).await
        }
        async fn recent_event_ids(&self, since: i64, limit: usize) -> px_store::Result<Vec<(ProjectId, Uuid)>> {
            self.inner.recent_event_ids(since, limit).await
        }
        async fn count_events(&self, scope: ProjectScope) -> px_store::Result<u64> {
            self.inner.count_events(scope).await
        }
        async fn query(
            &self,
            scope: ProjectScope,
            sql: String,
            params: Vec<SqlParam>,
        ) -> px_store::Result<Vec<arrow::record_batch::RecordBatch>> {
            self.inner.query(scope, sql, params).await
        }
    }

    fn events(n: usize) -> Vec<ScopedEvent> {
        (0..n)
            .map(|i| {
                let distinct_id = format!("u{i}");
                let event = Event {
                    event_id: Uuid::new_v4(),
                    event: "e".into(),
                    person_id: px_core::event::person_id_for(SCOPE.project_id, &distinct_id),
                    distinct_id,
                    session_id: Some("s".into()),
                    timestamp: now_micros(),
                    received_at: now_micros(),
                    properties: serde_json::Map::new(),
                    person_set: None,
                    person_set_once: None,
                    link: None,
                    enrichment: px_core::Enrichment::default(),
                    timestamp_clamped: false,
                };
                ScopedEvent { scope: SCOPE, event }
            })
            .collect()
    }

    fn config(dir: &std::path::Path) -> WriterConfig {
        WriterConfig {
            spool_dir: dir.join("spool"),
            max_commit_events: 1000,
            max_backlog_events: 1000,
            queue_requests: 16,
            dedupe_window_secs: 3600,
            dedupe_max_ids: 10_000,
            session_timeout_secs: 1800,
            session_max_entries: 1000,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_store_commit_is_redone_from_the_spool_exactly_once() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let inner = DuckDbEventStore::open(&dir.path().join("events.duckdb"), None).unwrap_or_else(|e| panic!("{e}"));
        let metrics = Arc::new(Metrics::default());
        let store = Arc::new(Failing {
            inner,
            failures: AtomicUsize::new(2),
            metrics: Arc::clone(&metrics),
            retried_while_failing: Default::default(),
        });
        let (writer, _task) =
            start(store.clone(), config(dir.path()), Arc::clone(&metrics)).await.unwrap_or_else(|e| panic!("{e}"));
        let mut acked = 0;
        for _ in 0..5 {
            let batch = events(40);
            let retry = Batch::new(batch.clone()).unwrap_or_else(|e| panic!("{}", e.message));
            let batch = Batch::new(batch).unwrap_or_else(|e| panic!("{}", e.message));
            acked += writer.write(batch).await.unwrap_or_else(|e| panic!("{}", e.message)).stored;
            // A client retrying an acknowledged batch stores nothing.
            assert_eq!(writer.write(retry).await.unwrap_or_else(|e| panic!("{}", e.message)).duplicates, 40);
        }
        assert_eq!(acked, 200);
        assert!(writer.visible(Duration::from_secs(30)).await, "acknowledged events never reached the store");
        assert_eq!(store.count_events(SCOPE).await.unwrap_or_else(|e| panic!("{e}")), 200);
        assert_eq!(store.failures.load(Relaxed), 0, "the store never failed: the test tested nothing");
        assert!(metrics.store_write_failures.load(Relaxed) >= 2);
        // Failing shows while the drainer retries (`/ready` answers 503), and clears.
        assert!(store.retried_while_failing.load(Relaxed));
        assert_eq!(metrics.store_failing.load(Relaxed), 0);
        assert_eq!(metrics.spool_backlog_events.load(Relaxed), 0);
    }
}
